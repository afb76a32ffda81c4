/* The fast paths' per-page loops in C (tracer/tokenization/wordloop.py holds the same functions in Python,
 * and the tests hold both to the same output on every shared page).
 *
 *   scan(text, flags)              -> (OR of flags[c] over the text's characters, set of those whose flags are 0)
 *   chars_with(text, flags, bits)  -> set of the text's characters c with flags[c] & bits
 *   metaspace_words(text, marker)  -> (words, prepended): every space or marker starts a word, written with the
 *                                     marker first; a text that does not start with one gets it prepended
 *   lookup(words, cache, extra)    -> (ids, entries, missing): each word's ids from cache (or extra), all ids
 *                                     concatenated; when some word is in neither, (None, None, distinct missing)
 *
 * flags is a bytes-like object of 0x110000 bytes, one per code point (see wordloop.py for the bits).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

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
    PyObject *text, *marker_text;
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
    PyObject *words = PyList_New(0);
    if (words == NULL)
        return NULL;
    int prepended = n == 0 || (PyUnicode_READ(kind, data, 0) != ' ' && PyUnicode_READ(kind, data, 0) != marker);
    Py_ssize_t start = prepended ? 0 : 1;
    for (Py_ssize_t i = start; i <= n; i++) {
        Py_UCS4 c = i < n ? PyUnicode_READ(kind, data, i) : ' ';
        if (c != ' ' && c != marker)
            continue;
        PyObject *word = one_word(text, kind, data, start, i, marker);
        if (word == NULL || PyList_Append(words, word) < 0) {
            Py_XDECREF(word);
            Py_DECREF(words);
            return NULL;
        }
        Py_DECREF(word);
        start = i + 1;
    }
    return Py_BuildValue("(NO)", words, prepended ? Py_True : Py_False);
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
    PyObject *ids = PyList_New(total);
    if (ids == NULL)
        goto error;
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *entry = PyList_GET_ITEM(entries, k);
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(entry); j++) {
            PyObject *id = PyList_GET_ITEM(entry, j);
            Py_INCREF(id);
            PyList_SET_ITEM(ids, at++, id);
        }
    }
    return Py_BuildValue("(NNN)", ids, entries, PyList_New(0));
error:
    Py_DECREF(entries); /* unset items are NULL, which list_dealloc skips */
    Py_XDECREF(missed);
    Py_XDECREF(missing);
    return NULL;
}

/* ---- Unigram (SentencePiece) model: the tokenizer's encode_optimized, over a byte trie ---------------------
 *
 * unigram_model(pieces, scores, unk_id) -> capsule; unigram_ids(capsule, words) -> list of id lists.
 * Viterbi over the word's UTF-8 bytes exactly as tokenizers' Unigram::encode_optimized: starts in character
 * order, pieces from each start in increasing length (the trie's common-prefix order), a candidate replaces the
 * best path only when strictly better, a character no one-character piece covers becomes <unk> scored
 * min_score - 10, and consecutive <unk> are fused into one. A piece listed twice keeps its last id, as the
 * tokenizer's token_to_ids does. */

/* A trie over UTF-8 bytes: edges in one open-addressing table keyed by (node << 8 | byte) + 1, a value per node
 * (-1: none). Up to 2^24 nodes. */
typedef struct {
    uint32_t *keys;
    int32_t *children;
    int32_t *value;
    size_t mask;
    int32_t nodes;
} Trie;

static size_t
trie_slot(const Trie *t, uint32_t key)
{
    size_t h = (size_t)(key * 2654435761u) & t->mask;
    while (t->keys[h] != 0 && t->keys[h] != key)
        h = (h + 1) & t->mask;
    return h;
}

static int32_t
trie_step(const Trie *t, int32_t node, unsigned char byte)
{
    size_t h = trie_slot(t, ((uint32_t)node << 8 | byte) + 1);
    return t->keys[h] == 0 ? -1 : t->children[h];
}

static void
trie_free(Trie *t)
{
    PyMem_Free(t->keys);
    PyMem_Free(t->children);
    PyMem_Free(t->value);
}

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
    t->keys = PyMem_Calloc(capacity, sizeof(uint32_t));
    t->children = PyMem_Calloc(capacity, sizeof(int32_t));
    t->value = PyMem_Malloc((bytes + 1) * sizeof(int32_t));
    if (t->keys == NULL || t->children == NULL || t->value == NULL) {
        trie_free(t);
        PyErr_NoMemory();
        return -1;
    }
    t->mask = capacity - 1;
    t->nodes = 1;
    t->value[0] = -1;
    return 0;
}

/* Insert a key; a key inserted twice keeps the last value. */
static void
trie_insert(Trie *t, const unsigned char *b, Py_ssize_t size, int32_t value)
{
    int32_t node = 0;
    for (Py_ssize_t j = 0; j < size; j++) {
        uint32_t key = ((uint32_t)node << 8 | b[j]) + 1;
        size_t h = trie_slot(t, key);
        if (t->keys[h] == 0) {
            t->keys[h] = key;
            t->children[h] = t->nodes;
            t->value[t->nodes++] = -1;
        }
        node = t->children[h];
    }
    if (size > 0)
        t->value[node] = value;
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
    }
    u->unk_score = min_score - 10.0;
    PyObject *capsule = PyCapsule_New(u, "factrace.unigram", unigram_free);
    if (capsule != NULL)
        return capsule;
error:
    trie_free(&u->trie);
    PyMem_Free(u->scores);
    PyMem_Free(u);
    return NULL;
}

static int
utf8_length(unsigned char lead)
{
    return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

/* Per-call working memory of a model: Viterbi's arrays, grown to the longest word met. */
typedef struct {
    double *score;
    int32_t *from, *id;
    Py_ssize_t room;
} Scratch;

static void
scratch_free(Scratch *s)
{
    PyMem_Free(s->score);
    PyMem_Free(s->from);
    PyMem_Free(s->id);
}

static int
scratch_fit(Scratch *s, Py_ssize_t size)
{
    if (size <= s->room)
        return 0;
    scratch_free(s);
    s->room = 2 * size;
    s->score = PyMem_Malloc(s->room * sizeof(double));
    s->from = PyMem_Malloc(s->room * sizeof(int32_t));
    s->id = PyMem_Malloc(s->room * sizeof(int32_t));
    if (s->score == NULL || s->from == NULL || s->id == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* The ids of one word, in a new list. */
static PyObject *
unigram_viterbi(const Unigram *u, const unsigned char *b, Py_ssize_t size, double *score, int32_t *from, int32_t *id)
{
    for (Py_ssize_t i = 0; i <= size; i++)
        from[i] = -1;
    score[0] = 0.0;
    for (Py_ssize_t start = 0; start < size; start += utf8_length(b[start])) {
        double here = score[start];
        int single = 0, mblen = utf8_length(b[start]);
        int32_t node = 0;
        for (Py_ssize_t j = start; j < size; j++) {
            if ((node = trie_step(&u->trie, node, b[j])) < 0)
                break;
            int32_t piece = u->trie.value[node];
            if (piece < 0)
                continue;
            Py_ssize_t end = j + 1;
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
    Py_ssize_t count = 0;
    int previous_unk = 0;
    for (Py_ssize_t end = size; end > 0; end = from[end]) { /* count, fusing runs of <unk> */
        int unk = id[end] == u->unk_id;
        count += !(unk && previous_unk);
        previous_unk = unk;
    }
    PyObject *ids = PyList_New(count);
    if (ids == NULL)
        return NULL;
    previous_unk = 0;
    for (Py_ssize_t end = size; end > 0; end = from[end]) {
        int unk = id[end] == u->unk_id;
        if (!(unk && previous_unk)) {
            PyObject *value = PyLong_FromLong(id[end]);
            if (value == NULL) {
                Py_DECREF(ids);
                return NULL;
            }
            PyList_SET_ITEM(ids, --count, value);
        }
        previous_unk = unk;
    }
    return ids;
}

static PyObject *
unigram_word(const void *model, PyObject *word, Scratch *scratch)
{
    PyObject *encoded = PyUnicode_AsUTF8String(word); /* not AsUTF8AndSize: that keeps a copy in every cached word */
    if (encoded == NULL)
        return NULL;
    Py_ssize_t size = PyBytes_GET_SIZE(encoded);
    PyObject *ids = NULL;
    if (scratch_fit(scratch, size + 1) == 0)
        ids = unigram_viterbi(model, (const unsigned char *)PyBytes_AS_STRING(encoded), size, scratch->score,
                              scratch->from, scratch->id);
    Py_DECREF(encoded);
    return ids;
}

typedef PyObject *(*WordIds)(const void *model, PyObject *word, Scratch *scratch);

/* A model's ids of each word of a list: the one loop behind unigram_ids and wordpiece_ids. */
static PyObject *
map_words(PyObject *args, const char *format, const char *capsule_name, WordIds word_ids)
{
    PyObject *capsule, *words;
    if (!PyArg_ParseTuple(args, format, &capsule, &PyList_Type, &words))
        return NULL;
    const void *model = PyCapsule_GetPointer(capsule, capsule_name);
    if (model == NULL)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(words);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    Scratch scratch = {NULL, NULL, NULL, 0};
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *ids = word_ids(model, PyList_GET_ITEM(words, k), &scratch);
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

static PyObject *
unigram_ids(PyObject *self, PyObject *args)
{
    return map_words(args, "OO!:unigram_ids", "factrace.unigram", unigram_word);
}

/* ---- WordPiece model: greedy longest match first, as tokenizers' WordPiece::tokenize ----------------------
 *
 * wordpiece_model(tokens, ids, unk_id, prefix, max_chars) -> capsule; wordpiece_ids(capsule, words) -> id lists.
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
    PyObject *capsule = PyCapsule_New(w, "factrace.wordpiece", wordpiece_free);
    if (capsule != NULL)
        return capsule;
error:
    trie_free(&w->whole);
    trie_free(&w->continuation);
    PyMem_Free(w);
    return NULL;
}

static PyObject *
wordpiece_word(const void *model, PyObject *word, Scratch *scratch)
{
    const WordPiece *w = model;
    PyObject *encoded = PyUnicode_AsUTF8String(word); /* not AsUTF8AndSize: that keeps a copy in every cached word */
    if (encoded == NULL)
        return NULL;
    Py_ssize_t size = PyBytes_GET_SIZE(encoded);
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(encoded);
    PyObject *ids = PyList_New(0);
    if (ids == NULL) {
        Py_DECREF(encoded);
        return NULL;
    }
    int bad = PyUnicode_GET_LENGTH(word) > w->max_chars;
    for (Py_ssize_t start = 0; start < size && !bad;) {
        const Trie *t = start == 0 ? &w->whole : &w->continuation;
        int32_t node = 0, best = -1;
        Py_ssize_t best_end = -1;
        for (Py_ssize_t j = start; j < size; j++) {
            if ((node = trie_step(t, node, b[j])) < 0)
                break;
            if (t->value[node] >= 0) {
                best = t->value[node];
                best_end = j + 1;
            }
        }
        if (best_end < 0) {
            bad = 1;
            break;
        }
        PyObject *value = PyLong_FromLong(best);
        if (value == NULL || PyList_Append(ids, value) < 0) {
            Py_XDECREF(value);
            Py_DECREF(ids);
            Py_DECREF(encoded);
            return NULL;
        }
        Py_DECREF(value);
        start = best_end;
    }
    Py_DECREF(encoded);
    if (bad) {
        Py_DECREF(ids);
        return Py_BuildValue("[l]", (long)w->unk_id);
    }
    return ids;
}

static PyObject *
wordpiece_ids(PyObject *self, PyObject *args)
{
    return map_words(args, "OO!:wordpiece_ids", "factrace.wordpiece", wordpiece_word);
}

static PyObject *
place_words(PyObject *self, PyObject *args)
{
    PyObject *text, *words;
    if (!PyArg_ParseTuple(args, "UO!:place_words", &text, &PyList_Type, &words))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(words), end = PyUnicode_GET_LENGTH(text), pos = 0;
    PyObject *starts = PyList_New(n);
    if (starts == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *word = PyList_GET_ITEM(words, k);
        if (!PyUnicode_Check(word)) {
            PyErr_SetString(PyExc_TypeError, "words must be str");
            goto error;
        }
        Py_ssize_t at = PyUnicode_Find(text, word, pos, end, 1);
        if (at == -2)
            goto error;
        if (at < 0) {
            PyErr_Format(PyExc_ValueError, "word %R is not in the text after the words before it", word);
            goto error;
        }
        PyObject *value = PyLong_FromSsize_t(at);
        if (value == NULL)
            goto error;
        PyList_SET_ITEM(starts, k, value);
        pos = at + PyUnicode_GET_LENGTH(word);
    }
    return starts;
error:
    Py_DECREF(starts);
    return NULL;
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
    {"place_words", place_words, METH_VARARGS, "where each word starts, each the next occurrence after the last"},
    {"wordpiece_model", wordpiece_model, METH_VARARGS, "a WordPiece model's tries, for wordpiece_ids"},
    {"wordpiece_ids", wordpiece_ids, METH_VARARGS, "the WordPiece model's ids of each word"},
    {"unigram_model", unigram_model, METH_VARARGS, "a Unigram model's trie, for unigram_ids"},
    {"unigram_ids", unigram_ids, METH_VARARGS, "the Unigram model's ids of each word"},
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
