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

typedef struct {
    uint32_t *keys;   /* node << 8 | byte, + 1 (0: empty slot) */
    int32_t *children;
    int32_t *piece;   /* per node: piece id or -1 */
    double *scores;   /* per piece id */
    size_t mask;
    int32_t nodes;
    int32_t unk_id;
    double unk_score;
} Unigram;

static size_t
edge_slot(const Unigram *u, uint32_t key)
{
    size_t h = (size_t)(key * 2654435761u) & u->mask;
    while (u->keys[h] != 0 && u->keys[h] != key)
        h = (h + 1) & u->mask;
    return h;
}

static void
unigram_free(PyObject *capsule)
{
    Unigram *u = PyCapsule_GetPointer(capsule, "factrace.unigram");
    if (u == NULL)
        return;
    PyMem_Free(u->keys);
    PyMem_Free(u->children);
    PyMem_Free(u->piece);
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
    size_t bytes = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t size;
        if (PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(pieces, i), &size) == NULL)
            return NULL;
        bytes += (size_t)size;
    }
    if (bytes >= (1u << 24)) {
        PyErr_SetString(PyExc_ValueError, "vocabulary too large for the trie");
        return NULL;
    }
    Unigram *u = PyMem_Calloc(1, sizeof(Unigram));
    size_t capacity = 1;
    while (capacity < 2 * bytes + 2)
        capacity <<= 1;
    if (u == NULL || (u->keys = PyMem_Calloc(capacity, sizeof(uint32_t))) == NULL ||
        (u->children = PyMem_Calloc(capacity, sizeof(int32_t))) == NULL ||
        (u->piece = PyMem_Malloc((bytes + 1) * sizeof(int32_t))) == NULL ||
        (u->scores = PyMem_Malloc((size_t)n * sizeof(double))) == NULL) {
        if (u != NULL) {
            PyMem_Free(u->keys);
            PyMem_Free(u->children);
            PyMem_Free(u->piece);
            PyMem_Free(u);
        }
        return PyErr_NoMemory();
    }
    u->mask = capacity - 1;
    u->nodes = 1;
    u->piece[0] = -1;
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
        const unsigned char *b = (const unsigned char *)PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(pieces, i), &size);
        int32_t node = 0;
        for (Py_ssize_t j = 0; j < size; j++) {
            uint32_t key = ((uint32_t)node << 8 | b[j]) + 1;
            size_t h = edge_slot(u, key);
            if (u->keys[h] == 0) {
                u->keys[h] = key;
                u->children[h] = u->nodes;
                u->piece[u->nodes++] = -1;
            }
            node = u->children[h];
        }
        if (size > 0)
            u->piece[node] = (int32_t)i; /* a piece listed twice: the last id, as token_to_ids keeps */
    }
    u->unk_score = min_score - 10.0;
    PyObject *capsule = PyCapsule_New(u, "factrace.unigram", unigram_free);
    if (capsule == NULL)
        goto error;
    return capsule;
error:
    PyMem_Free(u->keys);
    PyMem_Free(u->children);
    PyMem_Free(u->piece);
    PyMem_Free(u->scores);
    PyMem_Free(u);
    return NULL;
}

static int
utf8_length(unsigned char lead)
{
    return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

/* The ids of one word, appended to a new list. */
static PyObject *
unigram_word(const Unigram *u, const unsigned char *b, Py_ssize_t size, double *score, int32_t *from, int32_t *id)
{
    for (Py_ssize_t i = 0; i <= size; i++)
        from[i] = -1;
    score[0] = 0.0;
    for (Py_ssize_t start = 0; start < size; start += utf8_length(b[start])) {
        double here = score[start];
        int single = 0, mblen = utf8_length(b[start]);
        int32_t node = 0;
        for (Py_ssize_t j = start; j < size; j++) {
            size_t h = edge_slot(u, ((uint32_t)node << 8 | b[j]) + 1);
            if (u->keys[h] == 0)
                break;
            node = u->children[h];
            int32_t piece = u->piece[node];
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
unigram_ids(PyObject *self, PyObject *args)
{
    PyObject *capsule, *words;
    if (!PyArg_ParseTuple(args, "OO!:unigram_ids", &capsule, &PyList_Type, &words))
        return NULL;
    Unigram *u = PyCapsule_GetPointer(capsule, "factrace.unigram");
    if (u == NULL)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(words);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    Py_ssize_t room = 0;
    double *score = NULL;
    int32_t *from = NULL, *id = NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *encoded = PyUnicode_AsUTF8String(PyList_GET_ITEM(words, k));
        if (encoded == NULL)
            goto error;
        Py_ssize_t size = PyBytes_GET_SIZE(encoded);
        if (size + 1 > room) {
            room = 2 * (size + 1);
            PyMem_Free(score);
            PyMem_Free(from);
            PyMem_Free(id);
            score = PyMem_Malloc(room * sizeof(double));
            from = PyMem_Malloc(room * sizeof(int32_t));
            id = PyMem_Malloc(room * sizeof(int32_t));
            if (score == NULL || from == NULL || id == NULL) {
                Py_DECREF(encoded);
                PyErr_NoMemory();
                goto error;
            }
        }
        PyObject *ids = unigram_word(u, (const unsigned char *)PyBytes_AS_STRING(encoded), size, score, from, id);
        Py_DECREF(encoded);
        if (ids == NULL)
            goto error;
        PyList_SET_ITEM(out, k, ids);
    }
    PyMem_Free(score);
    PyMem_Free(from);
    PyMem_Free(id);
    return out;
error:
    PyMem_Free(score);
    PyMem_Free(from);
    PyMem_Free(id);
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
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
