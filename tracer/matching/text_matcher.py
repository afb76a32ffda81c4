"""``text`` mode: normalized labels found in normalized segment text.

Segments are normalized one by one (the same function as the labels), joined with NUL (which no
normalized text contains) and searched as UTF-8 in one Aho-Corasick pass. UTF-8 is
self-synchronizing, so every match starts on a character. A match may not start or end inside a
word of a spaced script (``scripts.joins_word``); in scripts written without spaces (zh, ja, th,
km, lo, my, bo) that leaves plain substring matching, in every language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tracer.matching.engines import build_automaton, sorted_unique
from tracer.matching.scripts import SPACED_WORD, char_class, class_table, classes_around

SEPARATOR = "\x00"


class TextMatcher:
    """Finds every key (normalized label) in every segment; yields unique (segment row, key) pairs."""

    def __init__(self, keys: Sequence[str], normalize: Callable[[str], str], engine: str) -> None:
        self.normalize = normalize
        self.key_count = len(keys)
        usable = [i for i, key in enumerate(keys) if len(key) > 1 and SEPARATOR not in key]
        single = sorted((ord(key), i) for i, key in enumerate(keys) if len(key) == 1 and key != SEPARATOR)
        self.single_codes = np.array([code for code, _ in single], dtype=np.int64)
        self.single_numbers = np.array([i for _, i in single], dtype=np.int64)
        self.is_single = np.zeros(0x110000, dtype=bool)
        self.is_single[self.single_codes] = True
        self.key_numbers = np.array(usable, dtype=np.int64)
        self.keys = [keys[i] for i in usable]
        self.first_class = np.array([char_class(key[0]) for key in self.keys], dtype=np.uint8)
        self.last_class = np.array([char_class(key[-1]) for key in self.keys], dtype=np.uint8)
        patterns = [key.encode("utf-8") for key in self.keys]
        self.automaton = build_automaton(engine, patterns) if patterns else None

    def match(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(segment row, key index) of every key found in each text, unique and sorted."""
        if (self.automaton is None and not len(self.single_codes)) or not texts:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        text = SEPARATOR.join(self.normalize(t) for t in texts)
        pairs = np.concatenate([self._multi_character(text), self._single_character(text)])
        pairs = sorted_unique(pairs)
        return pairs // self.key_count, pairs % self.key_count

    def _single_character(self, text: str) -> np.ndarray:
        """Keys of one character, found in the code points with the same boundary rule: the automaton would report
        every letter of every word for them (three quarters of its matches in English: r, l, c, w)."""
        if not len(self.single_codes):
            return np.empty(0, np.int64)
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        at = np.flatnonzero(self.is_single[codes])
        if not len(at):
            return np.empty(0, np.int64)
        table = class_table()
        padded = np.concatenate([[0], codes, [0]])  # NUL is OTHER, as the text's ends are
        own, before, after = table[codes[at]], table[padded[at]], table[padded[at + 2]]
        inside = (own == SPACED_WORD) & ((before == SPACED_WORD) | (after == SPACED_WORD))
        at = at[~inside]
        segment = np.searchsorted(np.flatnonzero(codes == 0), at)
        key = self.single_numbers[np.searchsorted(self.single_codes, codes[at])]
        return segment * self.key_count + key

    def _multi_character(self, text: str) -> np.ndarray:
        if self.automaton is None:
            return np.empty(0, np.int64)
        haystack = text.encode("utf-8")
        separators = np.flatnonzero(np.frombuffer(haystack, dtype=np.uint8) == 0)
        found = self.automaton.find(haystack)
        pattern, start, end = found[:, 0], found[:, 1], found[:, 2]
        segment = np.searchsorted(separators, start)
        before, after = classes_around(haystack, start, end)
        starts_inside = (before == SPACED_WORD) & (self.first_class[pattern] == SPACED_WORD)
        ends_inside = (after == SPACED_WORD) & (self.last_class[pattern] == SPACED_WORD)
        keep = ~(starts_inside | ends_inside)
        return segment[keep] * self.key_count + self.key_numbers[pattern[keep]]
