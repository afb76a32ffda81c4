"""Exact, memoized encoding: the tokenizer's own pipeline with the model step cached per word.

A Hugging Face tokenizer runs normalizer → pre-tokenizer → model → post-processor.
Without special tokens the post-processor adds nothing, and the model sees one
pre-tokenized word at a time, so the ids of a word never depend on its
neighbours. For SentencePiece and WordPiece tokenizers a table-driven fast path
(``fast_paths``) normalizes and splits pages itself, with the model called only
for words not seen before on this executor; a page it declines (one in a
thousand of the shared pages) goes through ``Tokenizer.encode``. Any other
tokenizer goes through its own normalizer and pre-tokenizer (Rust), with the
same word cache; its offsets follow ``offsets.place``, exact unless the
normalizer changes a word's length. Text that contains an added token's
literal content (``<mask>``, ``[SEP]``) takes the plain ``encode`` path,
since added tokens are cut out before normalization.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from tokenizers import PreTokenizedString, Tokenizer

from tracer.tokenization.fast_paths import fast_path_for
from tracer.tokenization.loops import LOOPS
from tracer.tokenization.offsets import Span, token_offsets
from tracer.tokenization.word_ids import WordIds


@dataclass(slots=True)
class Encoded:
    ids: list[int]
    offset: Callable[[int], Span]  # token index -> code points in the original text


class FastEncoder:
    def __init__(
        self, tokenizer: Tokenizer, max_cache: int = 2_000_000, fast_path: bool = True, loops: ModuleType = LOOPS
    ) -> None:
        self.tokenizer = tokenizer
        self.normalizer = tokenizer.normalizer
        self.pre_tokenizer = tokenizer.pre_tokenizer
        self.added = added_tokens(tokenizer)
        config = json.loads(tokenizer.to_str())  # 0.16 s for XLM-R's: read once, for both
        self.words = WordIds(tokenizer, config.get("model") or {}, loops, max_cache)  # loops: compiled or Python
        self.fast = fast_path_for(tokenizer, config, self.words, loops) if fast_path else None
        self.pages_fast = 0
        self.pages_reference = 0

    def encode(self, text: str) -> Encoded:
        if any(first in text and any(token in text for token in tokens) for first, tokens in self.added):
            return self._encode_plain(text)
        if self.fast is not None:
            done = self.fast.encode(text)
            if done is not None:
                self.pages_fast += 1
                return Encoded(*done)
            self.pages_reference += 1
            return self._encode_plain(text)  # a page the fast path declines: rare, so the tokenizer's own pipeline
        self.pages_reference += 1
        return self._encode_reference(text)

    def _encode_plain(self, text: str) -> Encoded:
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        return Encoded(list(enc.ids), [tuple(o) for o in enc.offsets].__getitem__)

    def _encode_reference(self, text: str) -> Encoded:
        pretok = PreTokenizedString(text)
        if self.normalizer is not None:
            pretok.normalize(self.normalizer.normalize)
        if self.pre_tokenizer is not None:
            self.pre_tokenizer.pre_tokenize(pretok)
        splits = pretok.get_splits(offset_referential="original", offset_type="char")
        words = [w for w, _, _ in splits]
        ids, ends = self.words.page(words)
        return Encoded(ids, token_offsets(words, ends, lambda k: splits[k][1], self.words.span))


def added_tokens(tokenizer: Tokenizer) -> list[tuple[str, list[str]]]:
    """The added tokens' literal contents, by first character: a page without ``<`` (or ``[``) is checked once."""
    by_first: dict[str, list[str]] = {}
    for token in tokenizer.get_added_tokens_decoder().values():
        if token.content:
            by_first.setdefault(token.content[0], []).append(token.content)
    return sorted(by_first.items())
