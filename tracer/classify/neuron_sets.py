"""Top-neuron sets of one language as a padded matrix, and the Jaccard of many pairs of rows at once.

A fact's top-k neurons are a set of ids; ``NeuronSets`` keeps a language's sets as one ``[facts, k]``
int32 matrix sorted by uuid, rows padded with -1. The Jaccard of two rows is found by sorting their
concatenation and counting equal neighbours, so millions of pairs cost a few NumPy calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PAD = -1
CHUNK_PAIRS = 1 << 17


@dataclass(frozen=True, slots=True)
class NeuronSets:
    """One language's neuron sets, rows in ascending uuid order."""

    lang: str
    uuids: np.ndarray  # [n] str
    relations: np.ndarray  # [n] str
    ids: np.ndarray  # [n, k] int32, PAD after the set's ids
    sizes: np.ndarray  # [n] int32

    @classmethod
    def from_table(cls, lang: str, table: pa.Table) -> NeuronSets:
        """From ``neurons`` rows (``uuid``, ``relation``, ``neuron_ids``)."""
        table = table.sort_by("uuid")
        lists = table.column("neuron_ids").combine_chunks()
        sizes = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int32)
        width = int(sizes.max()) if len(sizes) else 0
        ids = np.full((len(sizes), width), PAD, dtype=np.int32)
        flat = pc.list_flatten(lists).to_numpy(zero_copy_only=False).astype(np.int32)
        rows = np.repeat(np.arange(len(sizes)), sizes)
        cols = np.arange(len(flat)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        ids[rows, cols] = flat
        uuids = np.asarray(table.column("uuid").to_pylist(), dtype=object)
        relations = np.asarray(table.column("relation").to_pylist(), dtype=object)
        return cls(lang, uuids, relations, ids, sizes)

    def __len__(self) -> int:
        return len(self.uuids)


def pair_overlap(a: NeuronSets, a_rows: np.ndarray, b: NeuronSets, b_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(intersection, union) sizes of ``a``'s rows ``a_rows`` with ``b``'s rows ``b_rows``, pairwise."""
    inter = np.empty(len(a_rows), dtype=np.int32)
    for start in range(0, len(a_rows), CHUNK_PAIRS):
        ra, rb = a_rows[start : start + CHUNK_PAIRS], b_rows[start : start + CHUNK_PAIRS]
        both = np.sort(np.concatenate([a.ids[ra], b.ids[rb]], axis=1), axis=1)  # [pairs, ka + kb]
        inter[start : start + len(ra)] = ((both[:, 1:] == both[:, :-1]) & (both[:, 1:] != PAD)).sum(axis=1)
    union = a.sizes[a_rows] + b.sizes[b_rows] - inter
    return inter, union


def jaccard(inter: np.ndarray, union: np.ndarray) -> np.ndarray:
    """Intersection over union; two empty sets count as 0."""
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)


def same_fact_rows(a: NeuronSets, b: NeuronSets) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``a`` and of ``b`` holding the same uuid, in uuid order."""
    _, ia, ib = np.intersect1d(a.uuids.astype(str), b.uuids.astype(str), assume_unique=True, return_indices=True)
    return ia, ib
