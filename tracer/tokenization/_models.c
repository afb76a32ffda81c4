/* The tokenizers' models in C, for the words not cached yet: Unigram (SentencePiece) and WordPiece, each by the
 * model's own rules (its reference is the tokenizer's own model: tests/realdata/test_fast_paths.py). */
#include "_wordloop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

/* ---- Unigram (SentencePiece) model: the tokenizer's encode_optimized, over a byte trie ---------------------
 *
 * unigram_model(pieces, scores, unk_id) -> capsule; model_ids(capsule, words) -> list of id lists.
 * Viterbi over the word's UTF-8 bytes exactly as tokenizers' Unigram::encode_optimized: starts in character
 * order, pieces from each start in increasing length (the trie's common-prefix order), a candidate replaces the
 * best path only when strictly better, a character no one-character piece covers becomes <unk> scored
 * min_score - 10, and consecutive <unk> are fused into one. A piece listed twice keeps its last id, as the
 * tokenizer's token_to_ids does. */

/* A trie over UTF-8 bytes: its edges in one open-addressing table of slots keyed by (node << 8 | byte) + 1, each
 * slot holding the child and the child's value (-1: none), so that a step reads one slot: the table is tens of MB
 * for a 250,000-piece vocabulary, and a step that read three arrays took three cache misses. Up to 2^24 nodes. */
typedef struct {
    uint32_t key;
    int32_t child;
    int32_t value;
} Edge;

typedef struct {
    Edge *edges;
    size_t mask;
    int shift; /* 64 - log2(slots) */
    int32_t nodes;
} Trie;

/* A key's first slot: Fibonacci hashing, the high bits of the product (the low bits of a key, its byte and its
 * node's low bits, must not pick the slot alone, or nodes that share them pile up in one run). */
static inline size_t
trie_hash(const Trie *t, uint32_t key)
{
    return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> t->shift);
}

static size_t
trie_slot(const Trie *t, uint32_t key)
{
    size_t h = trie_hash(t, key);
    while (t->edges[h].key != 0 && t->edges[h].key != key)
        h = (h + 1) & t->mask;
    return h;
}

/* The edge from node by byte, or NULL. */
static const Edge *
trie_step(const Trie *t, int32_t node, unsigned char byte)
{
    const Edge *e = &t->edges[trie_slot(t, ((uint32_t)node << 8 | byte) + 1)];
    return e->key == 0 ? NULL : e;
}

/* A zeroed table of edges, on huge pages where the system lends them (Linux's transparent huge pages, when asked):
 * a step is a random access into tens of MB, and with 4 KB pages nearly every one missed the TLB as well. */
static Edge *
edges_alloc(size_t capacity)
{
    size_t size = capacity * sizeof(Edge), huge = (size_t)2 << 20;
    size = (size + huge - 1) / huge * huge;
    Edge *edges = aligned_alloc(huge, size);
    if (edges == NULL)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(edges, size, MADV_HUGEPAGE);
#endif
    memset(edges, 0, size);
    return edges;
}

static void
trie_free(Trie *t)
{
    free(t->edges);
    t->edges = NULL;
}

static int
trie_alloc(Trie *t, size_t capacity)
{
    if ((t->edges = edges_alloc(capacity)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    t->mask = capacity - 1;
    t->shift = 64;
    while (capacity > 1)
        capacity >>= 1, t->shift--;
    return 0;
}

/* A table with room for a trie of keys totalling `bytes` (at most one node per byte); trie_fit shrinks it once
 * they are in. */
static int
trie_init(Trie *t, size_t bytes)
{
    if (bytes >= (1u << 24)) {
        PyErr_SetString(PyExc_ValueError, "vocabulary too large for the trie");
        return -1;
    }
    size_t capacity = 1;
    while (capacity < 2 * bytes + 2)
        capacity <<= 1;
    t->nodes = 1;
    return trie_alloc(t, capacity);
}

/* Move the edges into a table sized to the nodes there are (an eighth to a quarter full): prefixes are shared, so
 * XLM-R's pieces, 2.6 MB, make 0.8 M nodes, and the smaller table is the fewer cache and TLB misses. */
static int
trie_fit(Trie *t)
{
    size_t capacity = 1;
    while (capacity < 4 * (size_t)t->nodes + 2)
        capacity <<= 1;
    if (capacity > t->mask)
        return 0;
    Trie fitted = {NULL, 0, 0, t->nodes};
    if (trie_alloc(&fitted, capacity) < 0)
        return -1;
    for (size_t h = 0; h <= t->mask; h++)
        if (t->edges[h].key != 0)
            fitted.edges[trie_slot(&fitted, t->edges[h].key)] = t->edges[h];
    trie_free(t);
    *t = fitted;
    return 0;
}

/* Insert a key; a key inserted twice keeps the last value. */
static void
trie_insert(Trie *t, const unsigned char *b, Py_ssize_t size, int32_t value)
{
    int32_t node = 0;
    Edge *e = NULL;
    for (Py_ssize_t j = 0; j < size; j++) {
        uint32_t key = ((uint32_t)node << 8 | b[j]) + 1;
        e = &t->edges[trie_slot(t, key)];
        if (e->key == 0) {
            e->key = key;
            e->child = t->nodes++;
            e->value = -1;
        }
        node = e->child;
    }
    if (e != NULL)
        e->value = value;
}

static size_t
utf8_total(PyObject *strings, Py_ssize_t skip)
{
    size_t bytes = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(strings); i++) {
        Py_ssize_t size;
        if (PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(strings, i), &size) == NULL)
            return (size_t)-1;
        bytes += (size_t)(size > skip ? size - skip : 0);
    }
    return bytes;
}

typedef struct {
    Trie trie;        /* piece -> id */
    double *scores;   /* per piece id */
    int32_t unk_id;
    double unk_score;
    int longest; /* the longest piece, in bytes: the most pieces that start at one place of a word */
} Unigram;

static void
unigram_free(PyObject *capsule)
{
    Unigram *u = PyCapsule_GetPointer(capsule, "factrace.unigram");
    if (u == NULL)
        return;
    trie_free(&u->trie);
    PyMem_Free(u->scores);
    PyMem_Free(u);
}

INTERNAL PyObject *
unigram_model(PyObject *self, PyObject *args)
{
    PyObject *pieces, *scores;
    int unk_id;
    if (!PyArg_ParseTuple(args, "O!O!i:unigram_model", &PyList_Type, &pieces, &PyList_Type, &scores, &unk_id))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(pieces);
    if (PyList_GET_SIZE(scores) != n || unk_id < 0 || unk_id >= n) {
        PyErr_SetString(PyExc_ValueError, "one score per piece, and unk_id among them");
        return NULL;
    }
    size_t bytes = utf8_total(pieces, 0);
    if (bytes == (size_t)-1)
        return NULL;
    Unigram *u = PyMem_Calloc(1, sizeof(Unigram));
    if (u == NULL)
        return PyErr_NoMemory();
    if (trie_init(&u->trie, bytes) < 0) {
        PyMem_Free(u);
        return NULL;
    }
    if ((u->scores = PyMem_Malloc((size_t)n * sizeof(double))) == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    u->unk_id = unk_id;
    double min_score = INFINITY;
    for (Py_ssize_t i = 0; i < n; i++) {
        double score = PyFloat_AsDouble(PyList_GET_ITEM(scores, i));
        if (score == -1.0 && PyErr_Occurred())
            goto error;
        u->scores[i] = score;
        if (score < min_score)
            min_score = score;
        Py_ssize_t size;
        const char *b = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(pieces, i), &size);
        trie_insert(&u->trie, (const unsigned char *)b, size, (int32_t)i); /* twice listed: the last id wins */
        if (size > u->longest)
            u->longest = (int)size;
    }
    u->unk_score = min_score - 10.0;
    if (trie_fit(&u->trie) < 0)
        goto error;
    PyObject *capsule = PyCapsule_New(u, "factrace.unigram", unigram_free);
    if (capsule != NULL)
        return capsule;
error:
    trie_free(&u->trie);
    PyMem_Free(u->scores);
    PyMem_Free(u);
    return NULL;
}

/* ---- WordPiece model: greedy longest match first, as tokenizers' WordPiece::tokenize ----------------------
 *
 * wordpiece_model(tokens, ids, unk_id, prefix, max_chars) -> capsule; model_ids(capsule, words) -> id lists.
 * From each start, the longest vocabulary entry (with the continuing prefix after the first): the tokenizer tries
 * ends from the longest down and stops at the first in the vocabulary, which is the longest. A word with a start
 * where nothing matches, or longer than max_chars characters, is one unk. */

typedef struct {
    Trie whole;         /* every token -> id: the word's first piece */
    Trie continuation;  /* tokens that start with the prefix, without it -> id: the pieces after */
    int32_t unk_id;
    Py_ssize_t max_chars;
} WordPiece;

static void
wordpiece_free(PyObject *capsule)
{
    WordPiece *w = PyCapsule_GetPointer(capsule, "factrace.wordpiece");
    if (w == NULL)
        return;
    trie_free(&w->whole);
    trie_free(&w->continuation);
    PyMem_Free(w);
}

INTERNAL PyObject *
wordpiece_model(PyObject *self, PyObject *args)
{
    PyObject *tokens, *ids, *prefix_text;
    int unk_id;
    Py_ssize_t max_chars;
    if (!PyArg_ParseTuple(args, "O!O!iUn:wordpiece_model", &PyList_Type, &tokens, &PyList_Type, &ids, &unk_id,
                          &prefix_text, &max_chars))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(tokens), prefix_size;
    const char *prefix = PyUnicode_AsUTF8AndSize(prefix_text, &prefix_size);
    if (prefix == NULL)
        return NULL;
    if (PyList_GET_SIZE(ids) != n) {
        PyErr_SetString(PyExc_ValueError, "one id per token");
        return NULL;
    }
    size_t bytes = utf8_total(tokens, 0);
    if (bytes == (size_t)-1)
        return NULL;
    WordPiece *w = PyMem_Calloc(1, sizeof(WordPiece));
    if (w == NULL)
        return PyErr_NoMemory();
    if (trie_init(&w->whole, bytes) < 0) {
        PyMem_Free(w);
        return NULL;
    }
    if (trie_init(&w->continuation, bytes) < 0) {
        trie_free(&w->whole);
        PyMem_Free(w);
        return NULL;
    }
    w->unk_id = unk_id;
    w->max_chars = max_chars;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t size;
        const char *b = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(tokens, i), &size);
        long id = PyLong_AsLong(PyList_GET_ITEM(ids, i));
        if (b == NULL || (id == -1 && PyErr_Occurred()))
            goto error;
        trie_insert(&w->whole, (const unsigned char *)b, size, (int32_t)id);
        if (size > prefix_size && memcmp(b, prefix, (size_t)prefix_size) == 0)
            trie_insert(&w->continuation, (const unsigned char *)b + prefix_size, size - prefix_size, (int32_t)id);
    }
    if (trie_fit(&w->whole) < 0 || trie_fit(&w->continuation) < 0)
        goto error;
    PyObject *capsule = PyCapsule_New(w, "factrace.wordpiece", wordpiece_free);
    if (capsule != NULL)
        return capsule;
error:
    trie_free(&w->whole);
    trie_free(&w->continuation);
    PyMem_Free(w);
    return NULL;
}

static int
utf8_length(unsigned char lead)
{
    return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}


INTERNAL void
scratch_free(Scratch *s)
{
    int32_t **arrays[] = {&s->from, &s->id, &s->walk_node, &s->walk_at, &s->walking, &s->found,
                          &s->token_id, &s->token_start, &s->piece_end, &s->piece_id};
    for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++) {
        PyMem_Free(*arrays[k]);
        *arrays[k] = NULL;
    }
    PyMem_Free(s->chars);
    PyMem_Free(s->bytes);
    PyMem_Free(s->score);
    s->chars = NULL, s->bytes = NULL, s->score = NULL, s->room = 0, s->piece_room = 0;
}

/* Room for a word of size bytes, and for pieces found per start: 0 on success, -1 (MemoryError) otherwise. */
static int
scratch_fit(Scratch *s, Py_ssize_t size, Py_ssize_t pieces)
{
    if (size <= s->room && pieces <= s->piece_room)
        return 0;
    Py_ssize_t room = size > s->room ? 2 * size : s->room, piece_room = pieces > s->piece_room ? 2 * pieces : s->piece_room;
    scratch_free(s);
    s->chars = PyMem_Malloc(room * sizeof(Py_UCS4));
    s->bytes = PyMem_Malloc(room);
    s->score = PyMem_Malloc(room * sizeof(double));
    int32_t **arrays[] = {&s->from, &s->id, &s->walk_node, &s->walk_at, &s->walking, &s->found,
                          &s->token_id, &s->token_start};
    int failed = s->chars == NULL || s->bytes == NULL || s->score == NULL;
    for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++)
        failed |= (*arrays[k] = PyMem_Malloc(room * sizeof(int32_t))) == NULL;
    s->piece_end = PyMem_Malloc((piece_room + 1) * sizeof(int32_t));
    s->piece_id = PyMem_Malloc((piece_room + 1) * sizeof(int32_t));
    if (failed || s->piece_end == NULL || s->piece_id == NULL) {
        scratch_free(s);
        PyErr_NoMemory();
        return -1;
    }
    s->room = room, s->piece_room = piece_room;
    return 0;
}


#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(address) __builtin_prefetch(address)
#else
#define PREFETCH(address) ((void)0)
#endif

/* The starts walked together (unigram_pieces): enough to overlap the misses, few enough that their pieces fit in
 * a fixed buffer whatever the word's length. */
#define WALKED 64

/* Every piece that starts at each of up to WALKED starts (character boundaries from byte `first`), in order of
 * length, into s->found (count per start) and s->piece_end / s->piece_id (`longest` places per start); returns the
 * byte after the last start taken. Each step down the trie is a cache miss (the table is tens of MB), and a walk's
 * steps depend on each other: so the walks from all these starts go down together, one step each per round, each
 * next slot prefetched, and their misses overlap. */
static Py_ssize_t
unigram_pieces(const Unigram *u, const unsigned char *b, Py_ssize_t size, Py_ssize_t first, Scratch *s)
{
    Py_ssize_t at = first, walking = 0;
    for (int32_t w = 0; w < WALKED && at < size; w++, at += utf8_length(b[at])) {
        s->walk_node[w] = 0;
        s->walk_at[w] = (int32_t)at;
        s->found[w] = 0;
        s->walking[walking++] = w;
    }
    while (walking > 0) {
        Py_ssize_t still = 0;
        for (Py_ssize_t k = 0; k < walking; k++) {
            int32_t w = s->walking[k], next = s->walk_at[w];
            const Edge *e = trie_step(&u->trie, s->walk_node[w], b[next]);
            if (e == NULL)
                continue;
            next = ++s->walk_at[w];
            if (e->value >= 0) {
                Py_ssize_t place = (Py_ssize_t)w * u->longest + s->found[w]++;
                s->piece_end[place] = next;
                s->piece_id[place] = e->value;
            }
            if (next == size)
                continue;
            s->walk_node[w] = e->child;
            PREFETCH(&u->trie.edges[trie_hash(&u->trie, ((uint32_t)e->child << 8 | b[next]) + 1)]);
            s->walking[still++] = w;
        }
        walking = still;
    }
    return at;
}

static Py_ssize_t
unigram_tokens(const void *model, const unsigned char *b, Py_ssize_t size, Py_ssize_t chars, Scratch *s)
{
    const Unigram *u = model;
    double *score = s->score;
    int32_t *from = s->from, *id = s->id;
    for (Py_ssize_t i = 0; i <= size; i++)
        from[i] = -1;
    score[0] = 0.0;
    for (Py_ssize_t first = 0, last; first < size; first = last) {
        last = unigram_pieces(u, b, size, first, s);
        Py_ssize_t w = 0;
        for (Py_ssize_t start = first; start < last; start += utf8_length(b[start]), w++) {
            double here = score[start];
            int single = 0, mblen = utf8_length(b[start]);
            for (int32_t m = 0; m < s->found[w]; m++) {
                Py_ssize_t place = w * u->longest + m, end = s->piece_end[place];
                int32_t piece = s->piece_id[place];
                double candidate = u->scores[piece] + here;
                if (from[end] < 0 || candidate > score[end]) {
                    score[end] = candidate;
                    from[end] = (int32_t)start;
                    id[end] = piece;
                }
                if (end - start == mblen)
                    single = 1;
            }
            if (!single && start + mblen <= size) {
                Py_ssize_t end = start + mblen;
                double candidate = u->unk_score + here;
                if (from[end] < 0 || candidate > score[end]) {
                    score[end] = candidate;
                    from[end] = (int32_t)start;
                    id[end] = u->unk_id;
                }
            }
        }
    }
    Py_ssize_t count = 0;
    int previous_unk = 0;
    for (Py_ssize_t end = size; end > 0; end = from[end]) { /* count, fusing runs of <unk> */
        int unk = id[end] == u->unk_id;
        count += !(unk && previous_unk);
        previous_unk = unk;
    }
    Py_ssize_t k = count;
    previous_unk = 0;
    for (Py_ssize_t end = size; end > 0; end = from[end]) {
        int unk = id[end] == u->unk_id;
        if (!(unk && previous_unk))
            s->token_id[--k] = id[end];
        s->token_start[k] = from[end]; /* a fused <unk> starts where the first of its run does */
        previous_unk = unk;
    }
    return count;
}

static Py_ssize_t
wordpiece_tokens(const void *model, const unsigned char *b, Py_ssize_t size, Py_ssize_t chars, Scratch *s)
{
    const WordPiece *w = model;
    Py_ssize_t count = 0;
    if (chars > w->max_chars)
        goto unknown;
    for (Py_ssize_t start = 0; start < size;) {
        const Trie *t = start == 0 ? &w->whole : &w->continuation;
        int32_t node = 0, best = -1;
        Py_ssize_t best_end = -1;
        for (Py_ssize_t j = start; j < size; j++) {
            const Edge *e = trie_step(t, node, b[j]);
            if (e == NULL)
                break;
            node = e->child;
            if (e->value >= 0) {
                best = e->value;
                best_end = j + 1;
            }
        }
        if (best_end < 0)
            goto unknown;
        s->token_id[count] = best;
        s->token_start[count++] = (int32_t)start;
        start = best_end;
    }
    return count;
unknown: /* the whole word is one unk */
    s->token_id[0] = w->unk_id;
    s->token_start[0] = 0;
    return 1;
}


INTERNAL int
model_of(PyObject *capsule, Model *m)
{
    if (PyCapsule_IsValid(capsule, "factrace.unigram")) {
        m->model = PyCapsule_GetPointer(capsule, "factrace.unigram");
        m->tokens = unigram_tokens;
        m->pieces = WALKED * (Py_ssize_t)((const Unigram *)m->model)->longest;
        return 0;
    }
    if (PyCapsule_IsValid(capsule, "factrace.wordpiece")) {
        m->model = PyCapsule_GetPointer(capsule, "factrace.wordpiece");
        m->tokens = wordpiece_tokens;
        m->pieces = 0;
        return 0;
    }
    PyErr_SetString(PyExc_TypeError, "model must come from unigram_model or wordpiece_model");
    return -1;
}

/* The tokens of a word of n characters into scratch, with their starts in characters when char_starts: their
 * count, or -1. The word is encoded to UTF-8 here, into scratch. c must not be scratch's own buffer unless scratch
 * already fits the word (word_tokens). */
INTERNAL Py_ssize_t
chars_tokens(const Model *m, const Py_UCS4 *c, Py_ssize_t n, Scratch *s, int char_starts)
{
    if (scratch_fit(s, 4 * n + 1, m->pieces) < 0)
        return -1;
    unsigned char *b = s->bytes;
    Py_ssize_t size = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = c[i];
        if (ch < 0x80) {
            b[size++] = (unsigned char)ch;
        } else if (ch < 0x800) {
            b[size++] = (unsigned char)(0xC0 | ch >> 6);
            b[size++] = (unsigned char)(0x80 | (ch & 0x3F));
        } else if (ch < 0x10000) {
            if (ch >= 0xD800 && ch < 0xE000) {
                PyErr_Format(PyExc_ValueError, "a word holds a lone surrogate (U+%04X): not UTF-8", (unsigned int)ch);
                return -1;
            }
            b[size++] = (unsigned char)(0xE0 | ch >> 12);
            b[size++] = (unsigned char)(0x80 | (ch >> 6 & 0x3F));
            b[size++] = (unsigned char)(0x80 | (ch & 0x3F));
        } else {
            b[size++] = (unsigned char)(0xF0 | ch >> 18);
            b[size++] = (unsigned char)(0x80 | (ch >> 12 & 0x3F));
            b[size++] = (unsigned char)(0x80 | (ch >> 6 & 0x3F));
            b[size++] = (unsigned char)(0x80 | (ch & 0x3F));
        }
    }
    Py_ssize_t count = m->tokens(m->model, b, size, n, s);
    if (char_starts && size != n) { /* byte -> character: count the lead bytes before each start */
        Py_ssize_t at = 0, in_chars = 0;
        for (Py_ssize_t k = 0; k < count; k++) {
            for (; at < s->token_start[k]; at++)
                in_chars += (b[at] & 0xC0) != 0x80;
            s->token_start[k] = (int32_t)in_chars;
        }
    }
    return count;
}

/* The tokens of a str word (chars_tokens). */
static Py_ssize_t
word_tokens(const Model *m, PyObject *word, Scratch *s, int char_starts)
{
    if (!PyUnicode_Check(word)) {
        PyErr_SetString(PyExc_TypeError, "words must be str");
        return -1;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(word);
    if (scratch_fit(s, 4 * n + 1, m->pieces) < 0 || PyUnicode_AsUCS4(word, s->chars, s->room, 0) == NULL)
        return -1;
    return chars_tokens(m, s->chars, n, s, char_starts);
}

/* The ids of a word's tokens, as a list the GC does not track: it holds ints only and is never mutated, so it is
 * in no cycle, and no collection need walk the millions of them a word cache holds. */
INTERNAL PyObject *
ids_list(const Scratch *s, Py_ssize_t count)
{
    PyObject *ids = PyList_New(count);
    if (ids == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *value = PyLong_FromLong(s->token_id[k]);
        if (value == NULL) {
            Py_DECREF(ids);
            return NULL;
        }
        PyList_SET_ITEM(ids, k, value);
    }
    PyObject_GC_UnTrack(ids);
    return ids;
}

static PyObject *
word_ids(const Model *m, PyObject *word, Scratch *s)
{
    Py_ssize_t count = word_tokens(m, word, s, 0);
    return count < 0 ? NULL : ids_list(s, count);
}

/* model_ids(model, words) -> the model's ids of each word. */
INTERNAL PyObject *
model_ids(PyObject *self, PyObject *args)
{
    PyObject *capsule, *words;
    Model m;
    if (!PyArg_ParseTuple(args, "OO!:model_ids", &capsule, &PyList_Type, &words) || model_of(capsule, &m) < 0)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(words);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    Scratch scratch = {0};
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *ids = word_ids(&m, PyList_GET_ITEM(words, k), &scratch);
        if (ids == NULL) {
            scratch_free(&scratch);
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, ids);
    }
    scratch_free(&scratch);
    return out;
}

/* token_span(model, word, j) -> (start, end) of the word's j-th token, in characters of the word. Asked a few times
 * a page (segment edges), mostly twice in a row of the same word (one segment's last token and the next one's
 * first), which can be a whole paragraph of a language written without spaces: so the last word's tokens are kept,
 * with the working memory (the GIL is held throughout). The same word: equal, not only the same str. */
static struct {
    Scratch scratch;
    PyObject *word, *model; /* the word whose tokens the scratch holds, and by which model */
    Py_ssize_t count;
} last_span;

INTERNAL PyObject *
token_span(PyObject *self, PyObject *args)
{
    PyObject *capsule, *word;
    Py_ssize_t j;
    Model m;
    if (!PyArg_ParseTuple(args, "OUn:token_span", &capsule, &word, &j) || model_of(capsule, &m) < 0)
        return NULL;
    int same = last_span.word != NULL && capsule == last_span.model ? PyUnicode_Compare(word, last_span.word) : 1;
    if (same == -1 && PyErr_Occurred())
        return NULL;
    if (same != 0) {
        Py_CLEAR(last_span.word);
        Py_CLEAR(last_span.model);
        if ((last_span.count = word_tokens(&m, word, &last_span.scratch, 1)) < 0)
            return NULL;
        Py_INCREF(word);
        Py_INCREF(capsule);
        last_span.word = word, last_span.model = capsule;
    }
    const int32_t *starts = last_span.scratch.token_start;
    Py_ssize_t count = last_span.count;
    if (j < 0 || j >= count)
        return PyErr_Format(PyExc_IndexError, "word %R has %zd tokens, not %zd", word, count, j + 1);
    return Py_BuildValue("(nn)", (Py_ssize_t)starts[j], j + 1 < count ? (Py_ssize_t)starts[j + 1] : PyUnicode_GET_LENGTH(word));
}

