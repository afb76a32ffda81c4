/* The fast paths' per-page loops in C (tracer/tokenization/wordloop.py holds the same functions in Python,
 * and the tests hold both to the same output on every shared page).
 *
 *   scan(text, flags)              -> (OR of flags[c] over the text's characters, set of those whose flags are 0)
 *   chars_with(text, flags, bits)  -> set of the text's characters c with flags[c] & bits
 *   translate(text, flags, bit, table)    -> text.translate(table), the table holding the characters with the bit
 *   expansions(text, flags, bit, table)   -> where each character the table expands stands, before and after
 *   space_runs(text)               -> the text with runs of spaces collapsed, and where each run was
 *   metaspace_words(text, marker)  -> (words, starts): every space or marker starts a word, written with the
 *                                     marker first; a text that does not start with one gets it prepended
 *   separated_words(text, flags, separator, alone) -> (words, starts): BertPreTokenizer's split, by flags
 *   cluster_candidates(text, flags, risky, prepend) -> the grapheme clusters of several characters to prove
 *   lookup(words, cache, extra)    -> (ids, entries, missing): each word's ids from cache (or extra), all ids
 *                                     concatenated; when some word is in neither, (None, None, distinct missing)
 *
 * and the models, which have no Python twin (their reference is the tokenizer's own model):
 *
 *   unigram_model(...), wordpiece_model(...) -> a compiled model
 *   model_ids(model, words)        -> each word's ids
 *   token_span(model, word, j)     -> the j-th token's characters in the word
 *   encode_words(words, cache, model, max_cache) -> (ids, ends): lookup and the model on the misses, in one pass
 *
 * flags is a bytes-like object of 0x110000 bytes, one per code point (see wordloop.py for the bits); positions
 * (starts, ends, ...) come back as native int64 bytes (wordloop.positions reads them).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#define CODE_POINTS 0x110000

static int
flags_buffer(PyObject *flags, Py_buffer *view)
{
    if (PyObject_GetBuffer(flags, view, PyBUF_SIMPLE) < 0)
        return -1;
    if (view->len < CODE_POINTS) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "flags must hold one byte per code point (0x110000)");
        return -1;
    }
    return 0;
}

static int
add_char(PyObject **set, Py_UCS4 c)
{
    if (*set == NULL && (*set = PySet_New(NULL)) == NULL)
        return -1;
    PyObject *ch = PyUnicode_FromOrdinal((int)c);
    if (ch == NULL)
        return -1;
    int err = PySet_Add(*set, ch);
    Py_DECREF(ch);
    return err;
}

static PyObject *
scan(PyObject *self, PyObject *args)
{
    PyObject *text, *flags, *unknown = NULL;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "UO:scan", &text, &flags) || flags_buffer(flags, &view) < 0)
        return NULL;
    const unsigned char *f = view.buf;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    unsigned int seen = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        unsigned char bits = f[c];
        if (bits == 0 && add_char(&unknown, c) < 0) {
            PyBuffer_Release(&view);
            Py_XDECREF(unknown);
            return NULL;
        }
        seen |= bits;
    }
    PyBuffer_Release(&view);
    if (unknown == NULL && (unknown = PySet_New(NULL)) == NULL)
        return NULL;
    return Py_BuildValue("(IN)", seen, unknown);
}

static PyObject *
chars_with(PyObject *self, PyObject *args)
{
    PyObject *text, *flags, *found = NULL;
    unsigned int wanted;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "UOI:chars_with", &text, &flags, &wanted) || flags_buffer(flags, &view) < 0)
        return NULL;
    const unsigned char *f = view.buf;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if ((f[c] & wanted) && add_char(&found, c) < 0) {
            PyBuffer_Release(&view);
            Py_XDECREF(found);
            return NULL;
        }
    }
    PyBuffer_Release(&view);
    if (found == NULL)
        return PySet_New(NULL);
    return found;
}

/* Rows of `width` positions, grown as they come; returned as one native int64 bytes object per column. */
typedef struct {
    Py_ssize_t *at;
    Py_ssize_t count, room;
    int width;
} Rows;

/* Append a row: 0, or -1 (MemoryError). */
static int
rows_add(Rows *r, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c)
{
    if (r->count == r->room) {
        Py_ssize_t room = r->room ? 2 * r->room : 64;
        Py_ssize_t *grown = PyMem_Realloc(r->at, (size_t)(room * r->width) * sizeof(Py_ssize_t));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        r->at = grown, r->room = room;
    }
    Py_ssize_t row[3] = {a, b, c}, *to = r->at + r->count++ * r->width;
    for (int k = 0; k < r->width; k++)
        to[k] = row[k];
    return 0;
}

static PyObject *
rows_column(const Rows *r, int column)
{
    PyObject *out = PyBytes_FromStringAndSize(NULL, r->count * (Py_ssize_t)sizeof(int64_t));
    if (out == NULL)
        return NULL;
    int64_t *p = (int64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t k = 0; k < r->count; k++)
        p[k] = r->at[k * r->width + column];
    return out;
}

static void
rows_free(Rows *r)
{
    PyMem_Free(r->at);
    r->at = NULL;
}

/* The return of the functions that give positions: (first, the rows' columns...), or only the columns when first
 * is NULL; the rows freed, first's reference taken. */
static PyObject *
rows_tuple(Rows *r, PyObject *first)
{
    int skip = first == NULL ? 1 : 0;
    PyObject *out = PyTuple_New(1 + r->width - skip);
    if (out != NULL && first != NULL)
        PyTuple_SET_ITEM(out, 0, first);
    else
        Py_XDECREF(first);
    for (int k = 0; k < r->width && out != NULL; k++) {
        PyObject *column = rows_column(r, k);
        if (column == NULL)
            Py_CLEAR(out);
        else
            PyTuple_SET_ITEM(out, 1 + k - skip, column);
    }
    rows_free(r);
    return out;
}

static PyObject *
one_word(PyObject *text, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, Py_UCS4 marker)
{
    /* The word's widest character picks its storage (a str must be stored as narrow as it can be, or it equals
     * no other). A marker above 0xFF makes a word of a one- or two-byte text two-byte: no need to look. */
    Py_UCS4 widest = marker;
    if (kind == PyUnicode_4BYTE_KIND || marker < 0x100) {
        for (Py_ssize_t j = start; j < end; j++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, j);
            if (c > widest)
                widest = c;
        }
    }
    PyObject *word = PyUnicode_New(end - start + 1, widest);
    if (word == NULL)
        return NULL;
    PyUnicode_WRITE(PyUnicode_KIND(word), PyUnicode_DATA(word), 0, marker);
    if (end > start && PyUnicode_CopyCharacters(word, 1, text, start, end - start) < 0) {
        Py_DECREF(word);
        return NULL;
    }
    return word;
}

static PyObject *
metaspace_words(PyObject *self, PyObject *args)
{
    PyObject *text, *marker_text, *words;
    if (!PyArg_ParseTuple(args, "UU:metaspace_words", &text, &marker_text))
        return NULL;
    if (PyUnicode_GET_LENGTH(marker_text) != 1) {
        PyErr_SetString(PyExc_ValueError, "the marker must be one character");
        return NULL;
    }
    Py_UCS4 marker = PyUnicode_READ_CHAR(marker_text, 0);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Rows starts = {NULL, 0, 0, 1};
    if ((words = PyList_New(0)) == NULL)
        return NULL;
    int prepended = n == 0 || (PyUnicode_READ(kind, data, 0) != ' ' && PyUnicode_READ(kind, data, 0) != marker);
    Py_ssize_t start = prepended ? 0 : 1;
    for (Py_ssize_t i = start; i <= n; i++) {
        Py_UCS4 c = i < n ? PyUnicode_READ(kind, data, i) : ' ';
        if (c != ' ' && c != marker)
            continue;
        PyObject *word = one_word(text, kind, data, start, i, marker);
        int failed = word == NULL || PyList_Append(words, word) < 0 || rows_add(&starts, start - 1, 0, 0) < 0;
        Py_XDECREF(word); /* its marker's place: -1 for the one prepended */
        if (failed) {
            Py_DECREF(words);
            rows_free(&starts);
            return NULL;
        }
        start = i + 1;
    }
    return rows_tuple(&starts, words);
}

/* The lists of ids, one after the other (total: their summed length), as a new list. */
static PyObject *
concatenated(PyObject *entries, Py_ssize_t total)
{
    PyObject *ids = PyList_New(total);
    if (ids == NULL)
        return NULL;
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(entries); k++) {
        PyObject *entry = PyList_GET_ITEM(entries, k);
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(entry); j++) {
            PyObject *id = PyList_GET_ITEM(entry, j);
            Py_INCREF(id);
            PyList_SET_ITEM(ids, at++, id);
        }
    }
    return ids;
}

static PyObject *
lookup(PyObject *self, PyObject *args)
{
    PyObject *words, *cache, *extra = Py_None;
    if (!PyArg_ParseTuple(args, "O!O!|O:lookup", &PyList_Type, &words, &PyDict_Type, &cache, &extra))
        return NULL;
    if (extra != Py_None && !PyDict_Check(extra)) {
        PyErr_SetString(PyExc_TypeError, "extra must be a dict or None");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(words), total = 0;
    PyObject *entries = PyList_New(n), *missing = NULL, *missed = NULL;
    if (entries == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *word = PyList_GET_ITEM(words, k);
        PyObject *entry = PyDict_GetItemWithError(cache, word);
        if (entry == NULL && !PyErr_Occurred() && extra != Py_None)
            entry = PyDict_GetItemWithError(extra, word);
        if (entry == NULL) {
            if (PyErr_Occurred())
                goto error;
            if (missed == NULL && ((missed = PySet_New(NULL)) == NULL || (missing = PyList_New(0)) == NULL))
                goto error;
            int known = PySet_Contains(missed, word);
            if (known < 0 || (!known && (PySet_Add(missed, word) < 0 || PyList_Append(missing, word) < 0)))
                goto error;
            continue;
        }
        if (!PyList_Check(entry)) {
            PyErr_SetString(PyExc_TypeError, "cache values must be lists of ids");
            goto error;
        }
        Py_INCREF(entry);
        PyList_SET_ITEM(entries, k, entry);
        total += PyList_GET_SIZE(entry);
    }
    if (missing != NULL) {
        Py_DECREF(entries);
        Py_DECREF(missed);
        return Py_BuildValue("(OON)", Py_None, Py_None, missing);
    }
    PyObject *ids = concatenated(entries, total);
    if (ids == NULL)
        goto error;
    return Py_BuildValue("(NNN)", ids, entries, PyList_New(0));
error:
    Py_DECREF(entries); /* unset items are NULL, which list_dealloc skips */
    Py_XDECREF(missed);
    Py_XDECREF(missing);
    return NULL;
}

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

static PyObject *
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

static PyObject *
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

/* Per-call working memory of a model, grown to the longest word met: the word's UTF-8 bytes; per byte, Viterbi's
 * arrays and the walks from each start; the word's tokens as the model cut them (id and first byte, or first
 * character); and the pieces found from each start (room for `longest` each). */
typedef struct {
    unsigned char *bytes;
    double *score;
    int32_t *from, *id;
    int32_t *walk_node, *walk_at, *walking, *found;
    int32_t *token_id, *token_start;
    int32_t *piece_end, *piece_id;
    Py_ssize_t room, piece_room;
} Scratch;

static void
scratch_free(Scratch *s)
{
    int32_t **arrays[] = {&s->from, &s->id, &s->walk_node, &s->walk_at, &s->walking, &s->found,
                          &s->token_id, &s->token_start, &s->piece_end, &s->piece_id};
    for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++) {
        PyMem_Free(*arrays[k]);
        *arrays[k] = NULL;
    }
    PyMem_Free(s->bytes);
    PyMem_Free(s->score);
    s->bytes = NULL, s->score = NULL, s->room = 0, s->piece_room = 0;
}

/* Room for a word of size bytes, and for pieces found per start: 0 on success, -1 (MemoryError) otherwise. */
static int
scratch_fit(Scratch *s, Py_ssize_t size, Py_ssize_t pieces)
{
    if (size <= s->room && pieces <= s->piece_room)
        return 0;
    Py_ssize_t room = size > s->room ? 2 * size : s->room, piece_room = pieces > s->piece_room ? 2 * pieces : s->piece_room;
    scratch_free(s);
    s->bytes = PyMem_Malloc(room);
    s->score = PyMem_Malloc(room * sizeof(double));
    int32_t **arrays[] = {&s->from, &s->id, &s->walk_node, &s->walk_at, &s->walking, &s->found,
                          &s->token_id, &s->token_start};
    int failed = s->bytes == NULL || s->score == NULL;
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

/* A model's tokens of one word's UTF-8 bytes (chars: its length in characters), into s->token_id and
 * s->token_start (first byte); their count. */
typedef Py_ssize_t (*Tokens)(const void *model, const unsigned char *b, Py_ssize_t size, Py_ssize_t chars, Scratch *s);

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

/* The model behind a capsule of unigram_model or wordpiece_model. */
typedef struct {
    const void *model;
    Tokens tokens;
    Py_ssize_t pieces; /* the room its tokens need in s->piece_end / s->piece_id */
} Model;

static int
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

/* One word's tokens into scratch, with their starts in characters when char_starts: their count, or -1. The word
 * is encoded to UTF-8 here, into scratch (no bytes object per word). */
static Py_ssize_t
word_tokens(const Model *m, PyObject *word, Scratch *s, int char_starts)
{
    if (!PyUnicode_Check(word)) {
        PyErr_SetString(PyExc_TypeError, "words must be str");
        return -1;
    }
    int kind = PyUnicode_KIND(word);
    const void *data = PyUnicode_DATA(word);
    Py_ssize_t chars = PyUnicode_GET_LENGTH(word), size = 0;
    if (scratch_fit(s, 4 * chars + 1, m->pieces) < 0)
        return -1;
    unsigned char *b = s->bytes;
    for (Py_ssize_t i = 0; i < chars; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x80) {
            b[size++] = (unsigned char)c;
        } else if (c < 0x800) {
            b[size++] = (unsigned char)(0xC0 | c >> 6);
            b[size++] = (unsigned char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            if (c >= 0xD800 && c < 0xE000) {
                PyErr_Format(PyExc_ValueError, "word %R holds a lone surrogate: not UTF-8", word);
                return -1;
            }
            b[size++] = (unsigned char)(0xE0 | c >> 12);
            b[size++] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
            b[size++] = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            b[size++] = (unsigned char)(0xF0 | c >> 18);
            b[size++] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
            b[size++] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
            b[size++] = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    Py_ssize_t count = m->tokens(m->model, b, size, chars, s);
    if (char_starts && size != chars) { /* byte -> character: count the lead bytes before each start */
        Py_ssize_t at = 0, in_chars = 0;
        for (Py_ssize_t k = 0; k < count; k++) {
            for (; at < s->token_start[k]; at++)
                in_chars += (b[at] & 0xC0) != 0x80;
            s->token_start[k] = (int32_t)in_chars;
        }
    }
    return count;
}

/* The ids of a word's tokens, as a list the GC does not track: it holds ints only and is never mutated, so it is
 * in no cycle, and no collection need walk the millions of them a word cache holds. */
static PyObject *
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
static PyObject *
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
 * with the working memory (the GIL is held throughout). */
static struct {
    Scratch scratch;
    PyObject *word, *model; /* the word whose tokens the scratch holds, and by which model */
    Py_ssize_t count;
} last_span;

static PyObject *
token_span(PyObject *self, PyObject *args)
{
    PyObject *capsule, *word;
    Py_ssize_t j;
    Model m;
    if (!PyArg_ParseTuple(args, "OUn:token_span", &capsule, &word, &j) || model_of(capsule, &m) < 0)
        return NULL;
    if (word != last_span.word || capsule != last_span.model) {
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

/* encode_words(words, cache, model, max_cache) -> (ids, ends): each word's ids from the cache, or from the model,
 * then cached while the cache holds fewer than max_cache words; all ids concatenated, and the running count of ids
 * after each word (native int64 bytes). lookup's work and the model's in one pass. */
static PyObject *
encode_words(PyObject *self, PyObject *args)
{
    PyObject *words, *cache, *capsule, *ids = NULL, *ends = NULL, *uncached = NULL;
    Py_ssize_t max_cache;
    Model m;
    if (!PyArg_ParseTuple(args, "O!O!On:encode_words", &PyList_Type, &words, &PyDict_Type, &cache, &capsule,
                          &max_cache) ||
        model_of(capsule, &m) < 0)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(words), total = 0;
    PyObject *entries = PyList_New(n);
    if (entries == NULL || (ends = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t))) == NULL)
        goto error;
    int64_t *end = (int64_t *)PyBytes_AS_STRING(ends);
    Scratch scratch = {0};
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *word = PyList_GET_ITEM(words, k);
        PyObject *entry = PyDict_GetItemWithError(cache, word); /* borrowed */
        if (entry == NULL && !PyErr_Occurred() && uncached != NULL)
            entry = PyDict_GetItemWithError(uncached, word);
        if (entry == NULL) {
            if (PyErr_Occurred() || (entry = word_ids(&m, word, &scratch)) == NULL)
                goto error_scratch;
            PyObject *into = cache;
            if (PyDict_GET_SIZE(cache) >= max_cache) { /* full: kept for this page only */
                if (uncached == NULL && (uncached = PyDict_New()) == NULL) {
                    Py_DECREF(entry);
                    goto error_scratch;
                }
                into = uncached;
            }
            int failed = PyDict_SetItem(into, word, entry);
            Py_DECREF(entry); /* the dict holds it */
            if (failed < 0)
                goto error_scratch;
        } else if (!PyList_Check(entry)) {
            PyErr_SetString(PyExc_TypeError, "cache values must be lists of ids");
            goto error_scratch;
        }
        Py_INCREF(entry);
        PyList_SET_ITEM(entries, k, entry);
        total += PyList_GET_SIZE(entry);
        end[k] = total;
    }
    scratch_free(&scratch);
    Py_XDECREF(uncached);
    uncached = NULL;
    if ((ids = concatenated(entries, total)) == NULL)
        goto error;
    Py_DECREF(entries);
    return Py_BuildValue("(NN)", ids, ends);
error_scratch:
    scratch_free(&scratch);
error:
    Py_XDECREF(entries); /* unset items are NULL, which list_dealloc skips */
    Py_XDECREF(ends);
    Py_XDECREF(uncached);
    return NULL;
}

/* separated_words(text, flags, separator, alone) -> (words, starts): the runs of characters without either bit,
 * and each character with the alone bit as a word of its own (a separator too); starts as native int64 bytes.
 * WordPiece's BertPreTokenizer, by character flags. */
static PyObject *
separated_words(PyObject *self, PyObject *args)
{
    PyObject *text, *flags, *words;
    unsigned int separator, alone;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "UOII:separated_words", &text, &flags, &separator, &alone) ||
        flags_buffer(flags, &view) < 0)
        return NULL;
    const unsigned char *f = view.buf;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), start = -1;
    Rows starts = {NULL, 0, 0, 1};
    if ((words = PyList_New(0)) == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    for (Py_ssize_t i = 0; i <= n; i++) {
        unsigned char bits = i < n ? f[PyUnicode_READ(kind, data, i)] : (unsigned char)separator;
        if (!(bits & (separator | alone))) {
            if (start < 0)
                start = i;
            continue;
        }
        for (int pass = 0; pass < 2; pass++) { /* the run before it, then the character itself when alone */
            Py_ssize_t a = pass == 0 ? start : (bits & alone ? i : -1), b = pass == 0 ? i : i + 1;
            if (a < 0)
                continue;
            PyObject *word = PyUnicode_Substring(text, a, b);
            int failed = word == NULL || PyList_Append(words, word) < 0 || rows_add(&starts, a, 0, 0) < 0;
            Py_XDECREF(word);
            if (failed) {
                Py_DECREF(words);
                rows_free(&starts);
                PyBuffer_Release(&view);
                return NULL;
            }
        }
        start = -1;
    }
    PyBuffer_Release(&view);
    return rows_tuple(&starts, words);
}

/* translate(text, flags, mapped, table) -> text.translate(table), visiting the table only for the characters
 * whose flags have the mapped bit (the table must map exactly those: code point -> str). */
static PyObject *
translate(PyObject *self, PyObject *args)
{
    PyObject *text, *flags, *table, *out = NULL;
    unsigned int mapped;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "UOIO!:translate", &text, &flags, &mapped, &PyDict_Type, &table) ||
        flags_buffer(flags, &view) < 0)
        return NULL;
    const unsigned char *f = view.buf;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), size = 0;
    Py_UCS4 widest = 0;
    for (int pass = 0; pass < 2; pass++) { /* the size and widest character, then the characters */
        if (pass == 1 && (out = PyUnicode_New(size, widest)) == NULL)
            goto done;
        Py_ssize_t written = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (!(f[c] & mapped)) {
                if (pass == 0) {
                    size++;
                    widest = c > widest ? c : widest;
                } else {
                    PyUnicode_WRITE(PyUnicode_KIND(out), PyUnicode_DATA(out), written++, c);
                }
                continue;
            }
            PyObject *key = PyLong_FromLong((long)c);
            PyObject *to = key == NULL ? NULL : PyDict_GetItemWithError(table, key);
            Py_XDECREF(key);
            if (to == NULL || !PyUnicode_Check(to)) {
                if (!PyErr_Occurred())
                    PyErr_Format(PyExc_ValueError, "the table does not map U+%04X to a str", (unsigned int)c);
                Py_XDECREF(out);
                out = NULL;
                goto done;
            }
            if (pass == 0) {
                size += PyUnicode_GET_LENGTH(to);
                Py_UCS4 top = PyUnicode_MAX_CHAR_VALUE(to);
                widest = top > widest ? top : widest;
            } else {
                PyUnicode_CopyCharacters(out, written, to, 0, PyUnicode_GET_LENGTH(to));
                written += PyUnicode_GET_LENGTH(to);
            }
        }
    }
done:
    PyBuffer_Release(&view);
    return out;
}

/* expansions(text, flags, bit, table) -> (at, origin, grown), native int64 bytes: for each character of the text
 * whose flags have the bit (the table maps it to grown > 1 characters), where its expansion starts in the text the
 * table makes of this one, and where the character stands in this one. */
static PyObject *
expansions(PyObject *self, PyObject *args)
{
    PyObject *text, *flags, *table;
    unsigned int bit;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "UOIO!:expansions", &text, &flags, &bit, &PyDict_Type, &table) ||
        flags_buffer(flags, &view) < 0)
        return NULL;
    const unsigned char *f = view.buf;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), extra = 0;
    Rows rows = {NULL, 0, 0, 3};
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (!(f[c] & bit))
            continue;
        PyObject *key = PyLong_FromLong((long)c);
        PyObject *to = key == NULL ? NULL : PyDict_GetItemWithError(table, key);
        Py_XDECREF(key);
        if (to == NULL || !PyUnicode_Check(to) || rows_add(&rows, i + extra, i, PyUnicode_GET_LENGTH(to)) < 0) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError, "the table does not map U+%04X to a str", (unsigned int)c);
            rows_free(&rows);
            PyBuffer_Release(&view);
            return NULL;
        }
        extra += PyUnicode_GET_LENGTH(to) - 1;
    }
    PyBuffer_Release(&view);
    return rows_tuple(&rows, NULL);
}

/* space_runs(text) -> (collapsed, at, removed_before, length): the text with each run of two spaces or more as one
 * space, and per run (native int64 bytes) where its space stands in the collapsed text, how many spaces the runs
 * before it lost, and its length. */
static PyObject *
space_runs(PyObject *self, PyObject *args)
{
    PyObject *text, *collapsed = NULL;
    if (!PyArg_ParseTuple(args, "U:space_runs", &text))
        return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), removed = 0;
    Rows runs = {NULL, 0, 0, 3};
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t j = i;
        while (j < n && PyUnicode_READ(kind, data, j) == ' ')
            j++;
        if (j - i < 2) {
            i = j > i ? j : i + 1;
            continue;
        }
        if (rows_add(&runs, i - removed, removed, j - i) < 0) {
            rows_free(&runs);
            return NULL;
        }
        removed += j - i - 1;
        i = j;
    }
    if ((collapsed = PyUnicode_New(n - removed, PyUnicode_MAX_CHAR_VALUE(text))) == NULL) {
        rows_free(&runs);
        return NULL;
    }
    Py_ssize_t written = 0, from = 0;
    for (Py_ssize_t k = 0; k < runs.count; k++) { /* the text up to the run, then its one space */
        const Py_ssize_t *run = runs.at + 3 * k, start = run[0] + run[1];
        PyUnicode_CopyCharacters(collapsed, written, text, from, start - from);
        written += start - from;
        PyUnicode_WRITE(PyUnicode_KIND(collapsed), PyUnicode_DATA(collapsed), written++, ' ');
        from = start + run[2];
    }
    PyUnicode_CopyCharacters(collapsed, written, text, from, n - from);
    return rows_tuple(&runs, collapsed);
}

/* cluster_candidates(text, flags, risky, prepend) -> set: the candidates fast_paths.cluster_pattern finds, by the
 * same scan: at each position, Prepends then one base (neither extending nor Prepend, or the start of the text)
 * then one or more extending characters; else one or more Prepends, at most one base, extending characters; else
 * CR LF. risky and prepend are wordloop.py's bits: a character is extending when risky and not prepend. */

static PyObject *
cluster_candidates(PyObject *self, PyObject *args)
{
    PyObject *text, *flags, *found;
    unsigned int risky, prepend;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "UOII:cluster_candidates", &text, &flags, &risky, &prepend) ||
        flags_buffer(flags, &view) < 0)
        return NULL;
    if ((found = PySet_New(NULL)) == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    const unsigned char *f = view.buf;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
#define CH(k) PyUnicode_READ(kind, data, (k))
#define IS_P(k) (f[CH(k)] & prepend)
#define IS_E(k) ((f[CH(k)] & (risky | prepend)) == risky && CH(k) != '\r')
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t end = -1, j = i;
        while (j < n && IS_P(j))
            j++;
        if (j < n && !IS_P(j) && !IS_E(j)) { /* Prepends, a base, extending characters */
            Py_ssize_t m = j + 1;
            while (m < n && IS_E(m))
                m++;
            if (m > j + 1)
                end = m;
        }
        if (end < 0 && j == 0) { /* at the start of the text: extending characters with no base */
            Py_ssize_t m = 0;
            while (m < n && IS_E(m))
                m++;
            if (m > 0)
                end = m;
        }
        if (end < 0 && j > i) { /* Prepends, at most one base, extending characters */
            Py_ssize_t m = j;
            if (m < n && !IS_P(m) && !IS_E(m))
                m++;
            while (m < n && IS_E(m))
                m++;
            end = m;
        }
        if (end < 0 && CH(i) == '\r' && i + 1 < n && CH(i + 1) == '\n')
            end = i + 2;
        if (end < 0) {
            i++;
            continue;
        }
        PyObject *candidate = PyUnicode_Substring(text, i, end);
        if (candidate == NULL || PySet_Add(found, candidate) < 0) {
            Py_XDECREF(candidate);
            Py_DECREF(found);
            PyBuffer_Release(&view);
            return NULL;
        }
        Py_DECREF(candidate);
        i = end;
    }
#undef CH
#undef IS_P
#undef IS_E
    PyBuffer_Release(&view);
    return found;
}

static PyMethodDef methods[] = {
    {"cluster_candidates", cluster_candidates, METH_VARARGS, "the grapheme cluster candidates of a text"},
    {"separated_words", separated_words, METH_VARARGS, "(words, starts) split at characters with flag bits"},
    {"expansions", expansions, METH_VARARGS, "(at, origin, grown) of the characters a table expands"},
    {"space_runs", space_runs, METH_VARARGS, "(collapsed, at, removed_before, length) of the runs of spaces"},
    {"translate", translate, METH_VARARGS, "text.translate(table), for the characters with a flag bit"},
    {"wordpiece_model", wordpiece_model, METH_VARARGS, "a WordPiece model's tries, for model_ids"},
    {"unigram_model", unigram_model, METH_VARARGS, "a Unigram model's trie, for model_ids"},
    {"model_ids", model_ids, METH_VARARGS, "a compiled model's ids of each word"},
    {"token_span", token_span, METH_VARARGS, "(start, end) of a word's j-th token, in characters"},
    {"encode_words", encode_words, METH_VARARGS, "(ids, entries, ends) of words, cached or from a compiled model"},
    {"scan", scan, METH_VARARGS, "(OR of the text's character flags, set of its characters with flags 0)"},
    {"chars_with", chars_with, METH_VARARGS, "set of the text's characters whose flags have any of the bits"},
    {"metaspace_words", metaspace_words, METH_VARARGS, "(SentencePiece words of a normalized text, prepended)"},
    {"lookup", lookup, METH_VARARGS, "(ids, entries, missing) of words in a word -> ids cache"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_wordloop", "The fast paths' per-page loops in C.", -1,
                                    methods};

PyMODINIT_FUNC
PyInit__wordloop(void)
{
    return PyModule_Create(&module);
}
