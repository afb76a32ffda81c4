"""Aho-Corasick engines behind one interface: bytes patterns in, ``[n, 3]`` (pattern, start, end) out.

All matches are reported, overlapping ones included (a subject that contains its object must
count both). ``daachorse`` is the default: it was the fastest on the real mLAMA label sets
(bench/trace.py, docs/benchmarks.md); the others stay for comparison and as fallbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Protocol

import numpy as np

from tracer.errors import DependencyMissing


class Automaton(Protocol):
    def find(self, haystack: bytes) -> np.ndarray: ...


def _as_array(triples: list[tuple[int, int, int]]) -> np.ndarray:
    flat = np.fromiter(chain.from_iterable(triples), dtype=np.int64, count=3 * len(triples))
    return flat.reshape(-1, 3)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` for int64 keys by sort and compare (numpy 2's hash-based unique is ~20× slower here)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


class DaachorseAutomaton:
    """Rust double-array Aho-Corasick (``daachorse``), byte-wise."""

    def __init__(self, patterns: list[bytes]) -> None:
        import daachorse

        self._pma = daachorse.DoubleArrayAhoCorasick(patterns, use_prefilter=False)

    def find(self, haystack: bytes) -> np.ndarray:
        found = _as_array(self._pma.find_overlapping(haystack))  # (start, end, pattern)
        return found[:, [2, 0, 1]]


class AhoCorasickRsAutomaton:
    """Rust ``aho-corasick`` crate (``ahocorasick-rs``), byte-wise."""

    def __init__(self, patterns: list[bytes]) -> None:
        import ahocorasick_rs

        self._ac = ahocorasick_rs.BytesAhoCorasick(patterns)

    def find(self, haystack: bytes) -> np.ndarray:
        return _as_array(self._ac.find_matches_as_indexes(haystack, overlapping=True))


class PyAhoCorasickAutomaton:
    """C ``pyahocorasick``; bytes go through latin-1 so every byte is one character."""

    def __init__(self, patterns: list[bytes]) -> None:
        import ahocorasick

        self._ac = ahocorasick.Automaton()
        for number, pattern in enumerate(patterns):
            self._ac.add_word(pattern.decode("latin-1"), (number, len(pattern)))
        self._ac.make_automaton()

    def find(self, haystack: bytes) -> np.ndarray:
        text = haystack.decode("latin-1")
        return _as_array([(n, end + 1 - length, end + 1) for end, (n, length) in self._ac.iter(text)])


ENGINES: dict[str, tuple[str, Callable[[list[bytes]], Automaton]]] = {
    "daachorse": ("daachorse", DaachorseAutomaton),
    "ahocorasick-rs": ("ahocorasick_rs", AhoCorasickRsAutomaton),
    "pyahocorasick": ("ahocorasick", PyAhoCorasickAutomaton),
}


def build_automaton(engine: str, patterns: list[bytes]) -> Automaton:
    """Build an automaton with a named engine; a missing package is one clear error naming it."""
    try:
        package, cls = ENGINES[engine]
    except KeyError:
        raise ValueError(f"unknown matching engine {engine!r}; known: {', '.join(ENGINES)}") from None
    try:
        return cls(patterns)
    except ImportError as err:
        raise DependencyMissing(f"engine {engine!r} needs the {package!r} package: pip install {engine}") from err
