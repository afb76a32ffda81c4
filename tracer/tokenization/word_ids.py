"""Word → the model's ids, cached on this executor: the one place the model meets a pre-tokenized word.

The model sees one word at a time, so a word's ids never depend on its neighbours and a cache of them is exact.
With the compiled loops the model runs in C as well (``compiled_model``), the cache is a C table keyed by the
words' characters, and a page's split, lookup and the model's work on its new words are one call
(``metaspace_encode``, ``separated_encode``); otherwise the cache is a dict, the words it misses go to
``model.tokenize`` together, and it is looked up again.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Sequence
from types import ModuleType

from tokenizers import Tokenizer

from tracer.tokenization.offsets import Span, WordEntry, word_offsets_for
from tracer.tokenization.wordloop import positions


class WordIds:
    """A tokenizer's model behind a per-executor word cache; pages in, ids and word boundaries out."""

    def __init__(self, tokenizer: Tokenizer, model_config: dict, loops: ModuleType, max_cache: int) -> None:
        self.loops = loops
        self.model = tokenizer.model
        self.compiled = compiled_model(model_config, loops)  # the model in C, or None: model.tokenize
        self.max_cache = max_cache
        # word -> ids, at most max_cache words: in C with the compiled model (no str per word met), else a dict
        self.cache = loops.word_cache(max_cache) if self.compiled is not None else {}
        self._model_span = word_offsets_for(tokenizer)

    def cached_words(self) -> int:
        return self.loops.cache_size(self.cache) if self.compiled is not None else len(self.cache)

    def page(self, words: list[str]) -> tuple[list[int], Sequence[int]]:
        """The ids of a page's words, concatenated, and the running count of ids after each word."""
        if self.compiled is not None:
            ids, ends = self.loops.encode_words(words, self.cache, self.compiled)
            return ids, positions(ends)
        ids, entries, missing = self.loops.lookup(words, self.cache)
        if missing:
            found = dict(zip(missing, self.tokenize(missing), strict=True))
            ids, entries, _ = self.loops.lookup(words, self.cache, found)
        return ids, array("q", itertools.accumulate(map(len, entries)))

    def metaspace(self, text: str, marker: str) -> tuple[list[int], Sequence[int], Sequence[int]]:
        """The ids of a normalized text's SentencePiece words (``metaspace_words``), the running count of ids after
        each word, and where each word's marker stands (-1: prepended)."""
        if self.compiled is not None:
            ids, ends, starts = self.loops.metaspace_encode(text, marker, self.cache, self.compiled)
            return ids, positions(ends), positions(starts)
        words, starts = self.loops.metaspace_words(text, marker)
        return *self.page(words), positions(starts)

    def separated(
        self, text: str, flags: bytearray, separator: int, alone: int
    ) -> tuple[list[int], Sequence[int], Sequence[int], Sequence[int]]:
        """The ids of a text's words split by character flags (``separated_words``), the running count of ids after
        each word, and where each word starts and stops in the text."""
        if self.compiled is not None:
            ids, ends, starts, stops = self.loops.separated_encode(
                text, flags, separator, alone, self.cache, self.compiled
            )
            return ids, positions(ends), positions(starts), positions(stops)
        words, packed = self.loops.separated_words(text, flags, separator, alone)
        starts = positions(packed)
        return *self.page(words), starts, [a + len(w) for a, w in zip(starts, words, strict=True)]

    def tokenize(self, words: list[str]) -> list[WordEntry]:
        """``model.tokenize``'s ids for each (distinct, uncached) word, cached while there is room: 5.3 µs a word
        for XLM-R here, where ``encode_batch`` of the model alone takes 8.9 and ``encode_batch_fast`` 6.9 (the
        compiled model, about 1.3)."""
        tokenize = self.model.tokenize
        entries = [[t.id for t in tokenize(word)] for word in words]
        room = self.max_cache - len(self.cache)
        if room > 0:
            self.cache.update(zip(words[:room], entries[:room], strict=True))
        return entries

    def span(self, word: str, j: int) -> Span:
        """The model's ``j``-th token of ``word``: its start and end, in code points of the word."""
        if self.compiled is not None:
            return self.loops.token_span(self.compiled, word, j)
        return self._model_span(word, j)


def compiled_model(model: dict, loops: ModuleType) -> object | None:
    """The tokenizer's model (its JSON ``model``) in the compiled loops (``_wordloop.c``: Unigram's Viterbi,
    WordPiece's longest match first, each by the model's own rules), or None: another model, Unigram's byte
    fallback (not reproduced), or no compiled loops."""
    if not hasattr(loops, "unigram_model"):
        return None
    if model.get("type") == "Unigram" and not model.get("byte_fallback") and model.get("unk_id") is not None:
        vocab = model["vocab"]
        return loops.unigram_model([piece for piece, _ in vocab], [float(s) for _, s in vocab], model["unk_id"])
    if model.get("type") == "WordPiece" and model.get("unk_token") in model.get("vocab", {}):
        vocab = model["vocab"]
        tokens = list(vocab)
        return loops.wordpiece_model(
            tokens, [vocab[t] for t in tokens], vocab[model["unk_token"]], model.get("continuing_subword_prefix") or "",
            int(model.get("max_input_chars_per_word", 100)),
        )  # fmt: skip
    return None
