/* The word cache in C: word -> the model's ids, keyed by the word's characters.
 *
 * word_cache(max_words) -> cache; cache_size(cache) -> words held. The pages' words never become str objects to
 * be looked up: metaspace_encode and separated_encode split a page, hash each word's characters where they lie,
 * and find it here (or run the model and add it, while fewer than max_words are held). A Python dict of str keys
 * cost a str per word met and a probe through three objects. */

#include "_wordloop.h"

#include <string.h>

typedef struct {
    uint64_t hash; /* 0: an empty slot */
    size_t key;    /* where its characters start in the arena */
    Py_ssize_t length;
    PyObject *ids; /* the model's ids, a list the cache owns */
} CacheSlot;

typedef struct {
    CacheSlot *slots;
    size_t mask;
    Py_ssize_t words, max_words;
    Py_UCS4 *arena;
    size_t arena_used, arena_room;
} WordCache;

static void
word_cache_free(PyObject *capsule)
{
    WordCache *wc = PyCapsule_GetPointer(capsule, "factrace.wordcache");
    if (wc == NULL)
        return;
    for (size_t h = 0; wc->slots != NULL && h <= wc->mask; h++)
        Py_XDECREF(wc->slots[h].ids);
    PyMem_Free(wc->slots);
    PyMem_Free(wc->arena);
    PyMem_Free(wc);
}

INTERNAL PyObject *
word_cache(PyObject *self, PyObject *args)
{
    Py_ssize_t max_words;
    if (!PyArg_ParseTuple(args, "n:word_cache", &max_words))
        return NULL;
    WordCache *wc = PyMem_Calloc(1, sizeof(WordCache));
    if (wc == NULL || (wc->slots = PyMem_Calloc(1024, sizeof(CacheSlot))) == NULL) {
        PyMem_Free(wc);
        return PyErr_NoMemory();
    }
    wc->mask = 1023;
    wc->max_words = max_words;
    PyObject *capsule = PyCapsule_New(wc, "factrace.wordcache", word_cache_free);
    if (capsule == NULL) {
        PyMem_Free(wc->slots);
        PyMem_Free(wc);
    }
    return capsule;
}

static WordCache *
cache_of(PyObject *capsule)
{
    if (!PyCapsule_IsValid(capsule, "factrace.wordcache")) {
        PyErr_SetString(PyExc_TypeError, "cache must come from word_cache");
        return NULL;
    }
    return PyCapsule_GetPointer(capsule, "factrace.wordcache");
}

INTERNAL PyObject *
cache_size(PyObject *self, PyObject *capsule)
{
    WordCache *wc = cache_of(capsule);
    return wc == NULL ? NULL : PyLong_FromSsize_t(wc->words);
}

/* FNV-1a over the characters, never 0. */
static uint64_t
chars_hash(const Py_UCS4 *c, Py_ssize_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (Py_ssize_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211ull;
    return h | 1;
}

/* Where a hash's probe starts. */
static size_t
first_slot(uint64_t hash, size_t mask)
{
    return (size_t)(hash ^ hash >> 29) & mask;
}

/* The slot that holds the word, or the empty one where it would go. */
static CacheSlot *
cache_find(const WordCache *wc, uint64_t hash, const Py_UCS4 *c, Py_ssize_t n)
{
    for (size_t h = first_slot(hash, wc->mask);; h = (h + 1) & wc->mask) {
        CacheSlot *slot = &wc->slots[h];
        if (slot->hash == 0 ||
            (slot->hash == hash && slot->length == n && memcmp(wc->arena + slot->key, c, (size_t)n * 4) == 0))
            return slot;
    }
}

/* Room for one more word: the table kept at most half full, the arena grown by doubling. */
static int
cache_reserve(WordCache *wc, Py_ssize_t n)
{
    if ((size_t)(wc->words + 1) * 2 > wc->mask + 1) {
        size_t capacity = 2 * (wc->mask + 1);
        CacheSlot *grown = PyMem_Calloc(capacity, sizeof(CacheSlot)), *old = wc->slots;
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        size_t old_mask = wc->mask;
        wc->slots = grown, wc->mask = capacity - 1;
        for (size_t h = 0; h <= old_mask; h++)
            if (old[h].hash != 0) {
                size_t at = first_slot(old[h].hash, wc->mask);
                while (grown[at].hash != 0)
                    at = (at + 1) & wc->mask;
                grown[at] = old[h];
            }
        PyMem_Free(old);
    }
    if (wc->arena == NULL || wc->arena_used + (size_t)n > wc->arena_room) {
        size_t room = wc->arena_room ? 2 * wc->arena_room : 1 << 16;
        while (room < wc->arena_used + (size_t)n)
            room *= 2;
        Py_UCS4 *grown = PyMem_Realloc(wc->arena, room * sizeof(Py_UCS4));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        wc->arena = grown, wc->arena_room = room;
    }
    return 0;
}

/* A page's ids as they are found: each word's list (held by the cache, or by `held` when the cache is full), the
 * running count after each word. */
typedef struct {
    PyObject **entries;
    Py_ssize_t count, room, total;
    PyObject *held;
    Rows ends;
    Py_UCS4 *chars; /* the word being looked up */
    Py_ssize_t chars_room;
    Scratch scratch;
} PageIds;

static void
page_free(PageIds *p)
{
    PyMem_Free(p->entries);
    Py_XDECREF(p->held);
    rows_free(&p->ends);
    PyMem_Free(p->chars);
    scratch_free(&p->scratch);
}

/* Room for a word of n characters in p->chars (never none: an empty word still has a buffer to point at). */
static int
page_fit(PageIds *p, Py_ssize_t n)
{
    if (n <= p->chars_room && p->chars != NULL)
        return 0;
    n = n > 0 ? n : 1;
    Py_UCS4 *grown = PyMem_Realloc(p->chars, (size_t)(2 * n) * sizeof(Py_UCS4));
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    p->chars = grown, p->chars_room = 2 * n;
    return 0;
}

/* Add the word in p->chars[0:n]: its ids from the cache, or from the model (then cached, or held). */
static int
page_add(PageIds *p, WordCache *wc, const Model *m, Py_ssize_t n)
{
    const Py_UCS4 *c = p->chars;
    uint64_t hash = chars_hash(c, n);
    CacheSlot *slot = cache_find(wc, hash, c, n);
    PyObject *ids = slot->ids;
    if (slot->hash == 0) {
        Py_ssize_t count = chars_tokens(m, c, n, &p->scratch, 0);
        if (count < 0 || (ids = ids_list(&p->scratch, count)) == NULL)
            return -1;
        if (wc->words < wc->max_words) {
            if (cache_reserve(wc, n) < 0) {
                Py_DECREF(ids);
                return -1;
            }
            slot = cache_find(wc, hash, c, n); /* the table may have grown */
            memcpy(wc->arena + wc->arena_used, c, (size_t)n * 4);
            *slot = (CacheSlot){hash, wc->arena_used, n, ids};
            wc->arena_used += (size_t)n;
            wc->words++;
        } else { /* full: kept for this page only */
            int failed = (p->held == NULL && (p->held = PyList_New(0)) == NULL) || PyList_Append(p->held, ids) < 0;
            Py_DECREF(ids);
            if (failed)
                return -1;
        }
    }
    if (p->count == p->room) {
        Py_ssize_t room = p->room ? 2 * p->room : 256;
        PyObject **grown = PyMem_Realloc(p->entries, (size_t)room * sizeof(PyObject *));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        p->entries = grown, p->room = room;
    }
    p->entries[p->count++] = ids;
    p->total += PyList_GET_SIZE(ids);
    return rows_add(&p->ends, p->total, 0, 0);
}

/* The page's (ids, ends, columns...), everything freed. */
static PyObject *
page_result(PageIds *p, Rows *columns)
{
    PyObject *ids = concatenated(p->entries, p->count, p->total), *out = NULL;
    if (ids != NULL) {
        PyObject *ends = rows_column(&p->ends, 0), *rest = columns ? rows_tuple(columns, NULL) : PyTuple_New(0);
        if (ends != NULL && rest != NULL) {
            PyObject *head = Py_BuildValue("(NN)", ids, ends);
            ids = ends = NULL;
            if (head != NULL)
                out = PySequence_Concat(head, rest);
            Py_XDECREF(head);
        }
        Py_XDECREF(ends);
        Py_XDECREF(rest);
        Py_XDECREF(ids);
    }
    if (columns != NULL)
        rows_free(columns);
    page_free(p);
    return out;
}

/* The characters of text[start:end], after `marker` when marked, into p->chars: their count, or -1. */
static Py_ssize_t
page_word(PageIds *p, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, int marked, Py_UCS4 marker)
{
    Py_ssize_t n = end - start + marked;
    if (page_fit(p, n) < 0)
        return -1;
    Py_UCS4 *c = p->chars;
    if (marked)
        *c++ = marker;
    if (kind == PyUnicode_1BYTE_KIND)
        for (Py_ssize_t j = start; j < end; j++)
            *c++ = ((const Py_UCS1 *)data)[j];
    else if (kind == PyUnicode_2BYTE_KIND)
        for (Py_ssize_t j = start; j < end; j++)
            *c++ = ((const Py_UCS2 *)data)[j];
    else
        memcpy(c, (const Py_UCS4 *)data + start, (size_t)(end - start) * 4);
    return n;
}

/* The compiled model and the word cache of an encode call's arguments. */
static int
model_and_cache(PyObject *model, PyObject *cache, Model *m, WordCache **wc)
{
    return model_of(model, m) < 0 || (*wc = cache_of(cache)) == NULL ? -1 : 0;
}

/* encode_words(words, cache, model) -> (ids, ends): each word's ids from the cache, or from the model (then cached
 * while there is room); all ids concatenated, and the running count of ids after each word. */
INTERNAL PyObject *
encode_words(PyObject *self, PyObject *args)
{
    PyObject *words, *cache, *model;
    Model m;
    WordCache *wc;
    if (!PyArg_ParseTuple(args, "O!OO:encode_words", &PyList_Type, &words, &cache, &model) ||
        model_and_cache(model, cache, &m, &wc) < 0)
        return NULL;
    PageIds p = {0};
    p.ends.width = 1;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(words); k++) {
        PyObject *word = PyList_GET_ITEM(words, k);
        if (!PyUnicode_Check(word)) {
            PyErr_SetString(PyExc_TypeError, "words must be str");
            page_free(&p);
            return NULL;
        }
        Py_ssize_t n = page_word(&p, PyUnicode_KIND(word), PyUnicode_DATA(word), 0, PyUnicode_GET_LENGTH(word), 0, 0);
        if (n < 0 || page_add(&p, wc, &m, n) < 0) {
            page_free(&p);
            return NULL;
        }
    }
    return page_result(&p, NULL);
}

/* metaspace_encode(text, marker, cache, model) -> (ids, ends, starts): metaspace_words and encode_words in one
 * pass, the words never made into str. */
INTERNAL PyObject *
metaspace_encode(PyObject *self, PyObject *args)
{
    PyObject *text, *marker_text, *cache, *model;
    Model m;
    WordCache *wc;
    if (!PyArg_ParseTuple(args, "UUOO:metaspace_encode", &text, &marker_text, &cache, &model) ||
        model_and_cache(model, cache, &m, &wc) < 0)
        return NULL;
    MetaspaceSplit it;
    if (metaspace_begin(&it, text, marker_text) < 0)
        return NULL;
    PageIds p = {0};
    p.ends.width = 1;
    Rows starts = {NULL, 0, 0, 1};
    for (Py_ssize_t a, b; metaspace_next(&it, &a, &b);) {
        Py_ssize_t n = page_word(&p, it.kind, it.data, a, b, 1, it.marker);
        if (n < 0 || page_add(&p, wc, &m, n) < 0 || rows_add(&starts, a - 1, 0, 0) < 0) {
            rows_free(&starts);
            page_free(&p);
            return NULL;
        }
    }
    return page_result(&p, &starts);
}

/* separated_encode(text, flags, separator, alone, cache, model) -> (ids, ends, starts, stops): separated_words and
 * encode_words in one pass, the words never made into str; each word is text[start:stop]. */
INTERNAL PyObject *
separated_encode(PyObject *self, PyObject *args)
{
    PyObject *text, *flags, *cache, *model;
    unsigned int separator, alone;
    Model m;
    WordCache *wc;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "UOIIOO:separated_encode", &text, &flags, &separator, &alone, &cache, &model) ||
        model_and_cache(model, cache, &m, &wc) < 0 || flags_buffer(flags, &view) < 0)
        return NULL;
    SeparatedSplit it;
    separated_begin(&it, text, view.buf, separator, alone);
    PageIds p = {0};
    p.ends.width = 1;
    Rows bounds = {NULL, 0, 0, 2};
    for (Py_ssize_t a, b; separated_next(&it, &a, &b);) {
        Py_ssize_t n = page_word(&p, it.kind, it.data, a, b, 0, 0);
        if (n < 0 || page_add(&p, wc, &m, n) < 0 || rows_add(&bounds, a, b, 0) < 0) {
            rows_free(&bounds);
            page_free(&p);
            PyBuffer_Release(&view);
            return NULL;
        }
    }
    PyBuffer_Release(&view);
    return page_result(&p, &bounds);
}

