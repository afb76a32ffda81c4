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
 * and in the other files, with no Python twin:
 *
 *   _models.c     unigram_model(...), wordpiece_model(...) -> a compiled model (its reference is the tokenizer's own)
 *                 model_ids(model, words)     -> each word's ids
 *                 token_span(model, word, j)  -> the j-th token's characters in the word
 *   _wordcache.c  word_cache(max_words)       -> a word -> ids cache keyed by characters; cache_size(cache)
 *                 encode_words(words, cache, model)   -> (ids, ends): cached ids, or the model's, concatenated
 *                 metaspace_encode(text, marker, cache, model), separated_encode(text, flags, separator, alone,
 *                 cache, model)               -> the split and encode_words in one pass, no str per word
 *
 * flags is a bytes-like object of 0x110000 bytes, one per code point (see wordloop.py for the bits); positions
 * (starts, ends, ...) come back as native int64 bytes (wordloop.positions reads them).
 */
#include "_wordloop.h"

#include <string.h>

INTERNAL int
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


/* Append a row: 0, or -1 (MemoryError). */
INTERNAL int
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

INTERNAL PyObject *
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

INTERNAL void
rows_free(Rows *r)
{
    PyMem_Free(r->at);
    r->at = NULL;
}

/* The return of the functions that give positions: (first, the rows' columns...), or only the columns when first
 * is NULL; the rows freed, first's reference taken. */
INTERNAL PyObject *
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


INTERNAL int
metaspace_begin(MetaspaceSplit *it, PyObject *text, PyObject *marker)
{
    if (PyUnicode_GET_LENGTH(marker) != 1) {
        PyErr_SetString(PyExc_ValueError, "the marker must be one character");
        return -1;
    }
    it->kind = PyUnicode_KIND(text);
    it->data = PyUnicode_DATA(text);
    it->n = PyUnicode_GET_LENGTH(text);
    it->marker = PyUnicode_READ_CHAR(marker, 0);
    Py_UCS4 first = it->n ? PyUnicode_READ(it->kind, it->data, 0) : 0;
    it->start = it->at = it->n == 0 || (first != ' ' && first != it->marker) ? 0 : 1; /* prepended: from 0 */
    return 0;
}

/* The next word, text[*a:*b] after the marker (at *a - 1 in the text, -1 for the one prepended); 0 at the end. */
INTERNAL int
metaspace_next(MetaspaceSplit *it, Py_ssize_t *a, Py_ssize_t *b)
{
    for (; it->at <= it->n; it->at++) {
        Py_UCS4 c = it->at < it->n ? PyUnicode_READ(it->kind, it->data, it->at) : ' ';
        if (c != ' ' && c != it->marker)
            continue;
        *a = it->start, *b = it->at;
        it->start = ++it->at;
        return 1;
    }
    return 0;
}


INTERNAL void
separated_begin(SeparatedSplit *it, PyObject *text, const unsigned char *flags, unsigned int separator,
                unsigned int alone)
{
    it->kind = PyUnicode_KIND(text);
    it->data = PyUnicode_DATA(text);
    it->n = PyUnicode_GET_LENGTH(text);
    it->flags = flags;
    it->separator = separator, it->alone = alone;
    it->at = 0, it->start = -1, it->alone_at = -1;
}

/* The next word, text[*a:*b]; 0 at the end. */
INTERNAL int
separated_next(SeparatedSplit *it, Py_ssize_t *a, Py_ssize_t *b)
{
    if (it->alone_at >= 0) { /* a character alone, right after the run it ended */
        *a = it->alone_at, *b = it->alone_at + 1;
        it->alone_at = -1;
        return 1;
    }
    for (; it->at <= it->n; it->at++) {
        unsigned int bits = it->at < it->n ? it->flags[PyUnicode_READ(it->kind, it->data, it->at)] : it->separator;
        if (!(bits & (it->separator | it->alone))) {
            if (it->start < 0)
                it->start = it->at;
            continue;
        }
        if (it->start < 0 && !(bits & it->alone))
            continue; /* a separator after a separator */
        Py_ssize_t here = it->at++;
        if (it->start >= 0) {
            *a = it->start, *b = here;
            it->start = -1;
            it->alone_at = bits & it->alone ? here : -1;
        } else {
            *a = here, *b = here + 1;
        }
        return 1;
    }
    return 0;
}

static PyObject *
metaspace_words(PyObject *self, PyObject *args)
{
    PyObject *text, *marker_text, *words;
    if (!PyArg_ParseTuple(args, "UU:metaspace_words", &text, &marker_text))
        return NULL;
    MetaspaceSplit it;
    if (metaspace_begin(&it, text, marker_text) < 0)
        return NULL;
    Rows starts = {NULL, 0, 0, 1};
    if ((words = PyList_New(0)) == NULL)
        return NULL;
    for (Py_ssize_t a, b; metaspace_next(&it, &a, &b);) {
        PyObject *word = one_word(text, it.kind, it.data, a, b, it.marker);
        int failed = word == NULL || PyList_Append(words, word) < 0 || rows_add(&starts, a - 1, 0, 0) < 0;
        Py_XDECREF(word); /* a - 1: its marker's place, -1 for the one prepended */
        if (failed) {
            Py_DECREF(words);
            rows_free(&starts);
            return NULL;
        }
    }
    return rows_tuple(&starts, words);
}

/* The lists of ids, one after the other (total: their summed length), as a new list. */
INTERNAL PyObject *
concatenated(PyObject *const *entries, Py_ssize_t n, Py_ssize_t total)
{
    PyObject *ids = PyList_New(total);
    if (ids == NULL)
        return NULL;
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < n; k++)
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(entries[k]); j++) {
            PyObject *id = PyList_GET_ITEM(entries[k], j);
            Py_INCREF(id);
            PyList_SET_ITEM(ids, at++, id);
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
    PyObject *ids = concatenated(PySequence_Fast_ITEMS(entries), n, total);
    if (ids == NULL)
        goto error;
    return Py_BuildValue("(NNN)", ids, entries, PyList_New(0));
error:
    Py_DECREF(entries); /* unset items are NULL, which list_dealloc skips */
    Py_XDECREF(missed);
    Py_XDECREF(missing);
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
    SeparatedSplit it;
    separated_begin(&it, text, view.buf, separator, alone);
    Rows starts = {NULL, 0, 0, 1};
    if ((words = PyList_New(0)) == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    for (Py_ssize_t a, b; separated_next(&it, &a, &b);) {
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
    {"word_cache", word_cache, METH_VARARGS, "a word -> ids cache for the encode functions"},
    {"cache_size", cache_size, METH_O, "how many words a word cache holds"},
    {"encode_words", encode_words, METH_VARARGS, "(ids, ends) of words, cached or from a compiled model"},
    {"metaspace_encode", metaspace_encode, METH_VARARGS, "(ids, ends, starts): metaspace_words, encode_words"},
    {"separated_encode", separated_encode, METH_VARARGS, "(ids, ends, starts, stops): separated_words, encode_words"},
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
