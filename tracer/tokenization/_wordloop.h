/* What the compiled loops' files share (_wordloop.c: the text loops and the module; _models.c: the models;
 * _wordcache.c: the word cache and the page encodes). */
#ifndef FACTRACE_WORDLOOP_H
#define FACTRACE_WORDLOOP_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define CODE_POINTS 0x110000

#if defined(__GNUC__) || defined(__clang__)
#define INTERNAL __attribute__((visibility("hidden"))) /* shared between the files, not exported */
#else
#define INTERNAL
#endif

/* ---- _wordloop.c ---- */

/* Rows of `width` positions, grown as they come; returned as one native int64 bytes object per column. */
typedef struct {
    Py_ssize_t *at;
    Py_ssize_t count, room;
    int width;
} Rows;

/* SentencePiece's words of a normalized text, one at a time: every space or marker starts one; a text that does not
 * start with one gets the marker prepended. */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n, start, at;
    Py_UCS4 marker;
} MetaspaceSplit;

/* BertPreTokenizer's words by character flags, one at a time: the runs of characters with neither bit, and each
 * character with the alone bit as a word of its own (it separates too). */
typedef struct {
    int kind;
    const void *data;
    const unsigned char *flags;
    Py_ssize_t n, at, start, alone_at;
    unsigned int separator, alone;
} SeparatedSplit;

INTERNAL int flags_buffer(PyObject *flags, Py_buffer *view);
INTERNAL PyObject *concatenated(PyObject *const *entries, Py_ssize_t n, Py_ssize_t total);
INTERNAL int rows_add(Rows *r, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c);
INTERNAL PyObject *rows_column(const Rows *r, int column);
INTERNAL void rows_free(Rows *r);
INTERNAL PyObject *rows_tuple(Rows *r, PyObject *first);
INTERNAL int metaspace_begin(MetaspaceSplit *it, PyObject *text, PyObject *marker);
INTERNAL int metaspace_next(MetaspaceSplit *it, Py_ssize_t *a, Py_ssize_t *b);
INTERNAL void separated_begin(SeparatedSplit *it, PyObject *text, const unsigned char *flags, unsigned int separator,
                              unsigned int alone);
INTERNAL int separated_next(SeparatedSplit *it, Py_ssize_t *a, Py_ssize_t *b);

/* ---- _models.c ---- */

/* Per-call working memory of a model, grown to the longest word met: the word's UTF-8 bytes; per byte, Viterbi's
 * arrays and the walks from each start; the word's tokens as the model cut them (id and first byte, or first
 * character); and the pieces found from each start (room for `longest` each). */
typedef struct {
    Py_UCS4 *chars; /* a str word's characters */
    unsigned char *bytes;
    double *score;
    int32_t *from, *id;
    int32_t *walk_node, *walk_at, *walking, *found;
    int32_t *token_id, *token_start;
    int32_t *piece_end, *piece_id;
    Py_ssize_t room, piece_room;
} Scratch;

/* A model's tokens of one word's UTF-8 bytes (chars: its length in characters), into s->token_id and
 * s->token_start (first byte); their count. */
typedef Py_ssize_t (*Tokens)(const void *model, const unsigned char *b, Py_ssize_t size, Py_ssize_t chars, Scratch *s);

/* The model behind a capsule of unigram_model or wordpiece_model. */
typedef struct {
    const void *model;
    Tokens tokens;
    Py_ssize_t pieces; /* the room its tokens need in s->piece_end / s->piece_id */
} Model;

INTERNAL PyObject *unigram_model(PyObject *self, PyObject *args);
INTERNAL PyObject *wordpiece_model(PyObject *self, PyObject *args);
INTERNAL void scratch_free(Scratch *s);
INTERNAL int model_of(PyObject *capsule, Model *m);
INTERNAL Py_ssize_t chars_tokens(const Model *m, const Py_UCS4 *c, Py_ssize_t n, Scratch *s, int char_starts);
INTERNAL PyObject *ids_list(const Scratch *s, Py_ssize_t count);
INTERNAL PyObject *model_ids(PyObject *self, PyObject *args);
INTERNAL PyObject *token_span(PyObject *self, PyObject *args);

/* ---- _wordcache.c ---- */

INTERNAL PyObject *word_cache(PyObject *self, PyObject *args);
INTERNAL PyObject *cache_size(PyObject *self, PyObject *capsule);
INTERNAL PyObject *encode_words(PyObject *self, PyObject *args);
INTERNAL PyObject *metaspace_encode(PyObject *self, PyObject *args);
INTERNAL PyObject *separated_encode(PyObject *self, PyObject *args);

#endif
