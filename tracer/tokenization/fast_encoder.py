"""Exact, memoized encoding: the tokenizer's own pipeline with the model step cached per word.

A Hugging Face tokenizer runs normalizer → pre-tokenizer → model → post-processor.
Without special tokens the post-processor adds nothing, and the model sees one
pre-tokenized word at a time, so the ids of a word never depend on its
neighbours. We run the tokenizer's own normalizer and pre-tokenizer (Rust), and
call the model only for words not seen before on this executor. Text that
contains an added token's literal content (``<mask>``, ``[SEP]``) takes the
plain ``encode`` path, since added tokens are cut out before normalization.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenizers import PreTokenizedString, Tokenizer


@dataclass(slots=True)
class Encoded:
    ids: list[int]
    offsets: list[tuple[int, int]]  # per token, code points in the original text


class FastEncoder:
    def __init__(self, tokenizer: Tokenizer, max_cache: int = 2_000_000) -> None:
        self.tokenizer = tokenizer
        self.normalizer = tokenizer.normalizer
        self.pre_tokenizer = tokenizer.pre_tokenizer
        self.model = tokenizer.model
        self.max_cache = max_cache
        self.cache: dict[str, tuple[tuple[int, ...], tuple[tuple[int, int], ...]]] = {}
        self.added = [t.content for t in tokenizer.get_added_tokens_decoder().values() if t.content]
        self.hits = 0
        self.misses = 0

    def _needs_plain_path(self, text: str) -> bool:
        return any(token in text for token in self.added)

    def encode(self, text: str) -> Encoded:
        if self._needs_plain_path(text):
            enc = self.tokenizer.encode(text, add_special_tokens=False)
            return Encoded(list(enc.ids), [tuple(o) for o in enc.offsets])
        pretok = PreTokenizedString(text)
        if self.normalizer is not None:
            pretok.normalize(self.normalizer.normalize)
        if self.pre_tokenizer is not None:
            self.pre_tokenizer.pre_tokenize(pretok)
        ids: list[int] = []
        offsets: list[tuple[int, int]] = []
        cache = self.cache
        for word, (start, end), _ in pretok.get_splits(offset_referential="original", offset_type="char"):
            entry = cache.get(word)
            if entry is None:
                entry = self._tokenize_word(word)
                self.misses += 1
            else:
                self.hits += 1
            word_ids, rel = entry
            ids.extend(word_ids)
            offsets.extend(_place(rel, start, end, len(word)))
        return Encoded(ids, offsets)

    def _tokenize_word(self, word: str) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
        tokens = self.model.tokenize(word)
        offsets = tuple(t.offsets for t in tokens)  # UTF-8 byte offsets inside the word
        if not word.isascii():
            char_at = _byte_to_char(word)
            offsets = tuple((char_at[a], char_at[b]) for a, b in offsets)
        entry = (tuple(t.id for t in tokens), offsets)
        if len(self.cache) < self.max_cache:
            self.cache[word] = entry
        return entry


def _byte_to_char(word: str) -> list[int]:
    """For each UTF-8 byte position of ``word`` (and its end), the code point index it falls in."""
    char_at = []
    for i, ch in enumerate(word):
        char_at.extend([i] * len(ch.encode("utf-8")))
    char_at.append(len(word))
    return char_at


def _place(rel: tuple[tuple[int, int], ...], start: int, end: int, norm_len: int) -> list[tuple[int, int]]:
    """Map token offsets inside a normalized word back onto the original text.

    When normalization kept the word's length (the usual case, including a
    SentencePiece ``▁`` that replaced a space) offsets shift directly; a
    prepended ``▁`` is absorbed at the start; otherwise every token of the word
    gets the word's whole original span.
    """
    orig_len = end - start
    shift = norm_len - orig_len
    if shift == 0:
        return [(start + a, start + b) for a, b in rel]
    if shift > 0 and rel and all(a >= 0 for a, _ in rel):
        return [(start + max(0, a - shift), start + max(0, b - shift)) for a, b in rel]
    return [(start, end)] * len(rel)
