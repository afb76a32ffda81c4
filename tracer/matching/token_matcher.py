"""``tokens`` mode: labels as token-id sequences, found in the segments' stored ids (no re-tokenizing).

Token ids become a self-synchronizing two-byte code, so one byte-wise Aho-Corasick pass covers a
whole file of segments and every match starts on a token:

* each token id that occurs in some label gets a symbol ``s`` (most frequent in labels first),
  written as ``0x80 | s >> 7`` then ``s & 0x7F``: a high byte ≥ 0x80 always opens a token;
* every other id is ``00 00``, which no pattern contains;
* past 16,383 symbols the rarest label tokens share one *escape* symbol, and matches of the
  patterns that contain it are verified against the real ids (exact, and rare).

Segments are concatenated without separators; a match whose first and last token lie in different
segments is dropped, so nothing crosses a segment boundary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from tokenizers import Tokenizer

from tracer.matching.engines import build_automaton, sorted_unique
from tracer.matching.token_boundaries import TokenBoundaries

MAX_SYMBOLS = 1 << 14
ESCAPE = MAX_SYMBOLS - 1


def label_token_keys(tokenizer: Tokenizer, labels: list[str], bare_marker: int | None) -> list[tuple[int, ...]]:
    """Each label's ids without special tokens; a leading lone ``▁`` piece is dropped (see module doc)."""
    keys = []
    for encoding in tokenizer.encode_batch(labels, add_special_tokens=False):
        ids = encoding.ids
        if bare_marker is not None and len(ids) > 1 and ids[0] == bare_marker:
            ids = ids[1:]
        elif bare_marker is not None and ids == [bare_marker]:
            ids = []
        keys.append(tuple(ids))
    return keys


class TokenMatcher:
    """Finds every key (token-id sequence) in every segment; yields unique (segment row, key) pairs."""

    def __init__(self, keys: Sequence[tuple[int, ...]], boundaries: TokenBoundaries, engine: str) -> None:
        vocab = len(boundaries.continues)
        self.boundaries = boundaries
        self.vocab = vocab
        self.key_count = len(keys)
        frequency = Counter(token for key in keys for token in key if 0 <= token < vocab)
        ranked = sorted(frequency, key=lambda token: (-frequency[token], token))
        symbols = np.minimum(np.arange(len(ranked)), ESCAPE)
        # One extra slot at the end stands for any id outside the vocabulary: code 00 00, starts a word.
        self.code = np.zeros(vocab + 1, dtype=">u2")
        if ranked:
            self.code[ranked] = ((0x80 | (symbols >> 7)) << 8) | (symbols & 0x7F)
        self.continues = np.append(boundaries.continues, False)
        self.open_end = np.append(boundaries.open_end, True)
        escaped = set(ranked[ESCAPE:])
        usable = [i for i, key in enumerate(keys) if key and all(0 <= t < vocab for t in key)]
        self.key_numbers = np.array(usable, dtype=np.int64)
        longest = max((len(keys[i]) for i in usable), default=0)
        self.padded_keys = np.full((len(usable), longest), -1, dtype=np.int64)
        for row, i in enumerate(usable):
            self.padded_keys[row, : len(keys[i])] = keys[i]
        self.verify = np.array([bool(escaped.intersection(keys[i])) for i in usable], dtype=bool)
        patterns = [self.code[np.array(keys[i])].tobytes() for i in usable]
        self.automaton = build_automaton(engine, patterns) if patterns else None

    def match(self, token_ids: pa.ListArray) -> tuple[np.ndarray, np.ndarray]:
        """(segment row, key index) of every key found in each row's ids, unique and sorted."""
        if self.automaton is None or len(token_ids) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        ids = token_ids.flatten().to_numpy(zero_copy_only=False)
        if len(ids) and (ids.min() < 0 or ids.max() >= self.vocab):
            ids = np.where((ids >= 0) & (ids < self.vocab), ids, self.vocab)
        offsets = token_ids.offsets.to_numpy().astype(np.int64)
        offsets -= offsets[0]
        found = self.automaton.find(self.code[ids].tobytes())
        pattern, first, stop = found[:, 0], found[:, 1] >> 1, found[:, 2] >> 1
        last = stop - 1
        segment = np.searchsorted(offsets, first, side="right") - 1
        keep = offsets[segment + 1] >= stop  # the match ends in the segment it starts in
        following = np.minimum(stop, len(ids) - 1)
        at_segment_end = offsets[segment + 1] == stop
        keep &= at_segment_end | ~self.continues[ids[following]] | self.open_end[ids[last]]
        keep &= self._verified(pattern, first, ids)
        pairs = sorted_unique(segment[keep] * self.key_count + self.key_numbers[pattern[keep]])
        return pairs // self.key_count, pairs % self.key_count

    def _verified(self, pattern: np.ndarray, first: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """False for matches of escaped patterns whose real ids differ from the key (all checked at once)."""
        ok = np.ones(len(pattern), dtype=bool)
        rows = np.flatnonzero(self.verify[pattern])
        if len(rows) == 0:
            return ok
        keys = self.padded_keys[pattern[rows]]  # [rows, longest key], -1 past each key's end
        positions = np.minimum(first[rows, None] + np.arange(keys.shape[1]), len(ids) - 1)
        ok[rows] = np.all((keys < 0) | (ids[positions] == keys), axis=1)
        return ok
