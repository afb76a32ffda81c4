"""Sentences sampled from text, the same ones on every machine: what language vectors are averaged over.

A sample is chosen by a seeded 64-bit mix of each unit's position (splitmix64), never by file or task
order, so the same segments and seed give the same sentences however the files were cut.
"""

from __future__ import annotations

import re

import numpy as np

# A sentence ends at . ! ? (and their full-width, Devanagari and Arabic forms) followed by space, or at a
# full-width end mark followed by anything (Chinese and Japanese put no space after a sentence).
_END = re.compile(r"(?<=[.!?։।۔])\s+|(?<=[。！？])")
MIN_CHARS = 10  # shorter pieces are headings, list items or abbreviations cut loose


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, stripped, each at least ``MIN_CHARS`` characters long."""
    return [s for s in (piece.strip() for piece in _END.split(text)) if len(s) >= MIN_CHARS]


def mix(keys: np.ndarray, seed: int) -> np.ndarray:
    """splitmix64 of ``keys`` (uint64) and ``seed``: a reproducible, well-spread score per key."""
    with np.errstate(over="ignore"):
        z = keys.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def chosen(keys: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of the ``n`` keys with the lowest scores (all of them when there are fewer), lowest first."""
    scores = mix(keys, seed)
    order = np.lexsort((keys.astype(np.uint64), scores))
    return order[:n]


def segment_key(page_ids: np.ndarray, seg_nos: np.ndarray) -> np.ndarray:
    """One uint64 per segment: page id and segment number, mixed so that neighbours score apart."""
    with np.errstate(over="ignore"):
        return page_ids.astype(np.uint64) * np.uint64(1_000_003) + seg_nos.astype(np.uint64)
