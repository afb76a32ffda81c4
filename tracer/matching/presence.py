"""From matched (segment, key) pairs to per-fact counts and evidence, and from partials to the table.

A task turns one file's pairs into a ``Partial``: segments per key, co-occurrence segments per fact
and each fact's first ``k`` evidence segments. Partials of one partition merge by summing counts
and keeping the ``k`` smallest ``(page_id, seg_no)``, so the result does not depend on how the
segments were split into files or in which order tasks finished.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from schemas.arrow import EVIDENCE_STRUCT, arrow_schema
from schemas.tables import FACT_PRESENCE
from tracer import storage
from tracer.matching.labels import LabelSet


class FactIndex:
    """Facts grouped by subject key (CSR), to expand a matched subject into its facts at once."""

    def __init__(self, labels: LabelSet) -> None:
        self.labels = labels
        self.by_subject = np.argsort(labels.subject, kind="stable")
        subjects = labels.subject[self.by_subject]
        keys = np.arange(len(labels.keys) + 1)
        self.start = np.searchsorted(subjects, keys[:-1], side="left")
        self.count = np.searchsorted(subjects, keys[:-1], side="right") - self.start

    def cooccurrences(self, segment: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(fact, segment) for every fact whose subject and object keys both matched in a segment.

        ``segment``/``key`` are unique pairs sorted by ``segment * key_count + key``."""
        width = len(self.labels.keys)
        count = self.count[key]
        total = int(count.sum())
        if total == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        first = np.repeat(self.start[key], count)
        within = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        fact = self.by_subject[first + within]
        fact_segment = np.repeat(segment, count)
        wanted = fact_segment * width + self.labels.obj[fact]
        present = segment * width + key
        position = np.minimum(np.searchsorted(present, wanted), len(present) - 1)
        hit = present[position] == wanted
        return fact[hit], fact_segment[hit]


@dataclass(slots=True)
class Partial:
    key_segments: np.ndarray  # [keys] int64
    cooccurrence: np.ndarray  # [facts] int64
    evidence: np.ndarray  # [n, 3] int64: fact, page_id, seg_no (at most k per fact, sorted)

    def save(self, path: str) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, key_segments=self.key_segments, cooccurrence=self.cooccurrence, evidence=self.evidence)
        storage.write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str) -> Partial:
        with np.load(io.BytesIO(storage.read_bytes(path))) as data:
            return cls(data["key_segments"], data["cooccurrence"], data["evidence"])


def first_k(evidence: np.ndarray, k: int) -> np.ndarray:
    """Rows (fact, page_id, seg_no) sorted, at most ``k`` per fact: the smallest (page_id, seg_no)."""
    if len(evidence) == 0:
        return evidence.reshape(0, 3)
    order = np.lexsort((evidence[:, 2], evidence[:, 1], evidence[:, 0]))
    rows = evidence[order]
    fact = rows[:, 0]
    group_start = np.flatnonzero(np.r_[True, fact[1:] != fact[:-1]])
    rank = np.arange(len(rows)) - np.repeat(group_start, np.diff(np.r_[group_start, len(rows)]))
    return rows[rank < k]


def partial_of(
    index: FactIndex, segment: np.ndarray, key: np.ndarray, page_id: np.ndarray, seg_no: np.ndarray, k: int
) -> Partial:
    """Counts and evidence of one batch of segments from its unique matched (segment row, key) pairs."""
    labels = index.labels
    fact, fact_segment = index.cooccurrences(segment, key)
    evidence = np.column_stack([fact, page_id[fact_segment], seg_no[fact_segment]]).astype(np.int64)
    return Partial(
        key_segments=np.bincount(key, minlength=len(labels.keys)).astype(np.int64),
        cooccurrence=np.bincount(fact, minlength=labels.fact_count).astype(np.int64),
        evidence=first_k(evidence, k),
    )


def merge(partials: list[Partial], labels: LabelSet, k: int) -> Partial:
    key_segments = np.zeros(len(labels.keys), dtype=np.int64)
    cooccurrence = np.zeros(labels.fact_count, dtype=np.int64)
    for p in partials:
        key_segments += p.key_segments
        cooccurrence += p.cooccurrence
    evidence = np.concatenate([p.evidence for p in partials]) if partials else np.empty((0, 3), np.int64)
    return Partial(key_segments, cooccurrence, first_k(evidence, k))


INCOMPLETE = "corpus:incomplete"


def presence_table(
    labels: LabelSet,
    merged: Partial,
    matcher: str,
    complete: bool = True,
    flags_decide: bool = True,
    self_contained: list[bool] | None = None,
) -> pa.Table:
    """One ``fact_presence`` row per fact, in the facts table's order. A flagged label makes its fact
    undecided (``flags_decide``; not under the authors' rules, which only record the flags). When part
    of the corpus could not be read (``complete=False``), a fact without co-occurrence is undecided, not
    absent, under every rule."""
    subject_segments = np.where(labels.subject >= 0, merged.key_segments[labels.subject], 0)
    object_segments = np.where(labels.obj >= 0, merged.key_segments[labels.obj], 0)
    flags = [labels.fact_flags(f) for f in range(labels.fact_count)]
    deciding = flags if flags_decide else [[] for _ in flags]
    if not complete:
        cooccur = merged.cooccurrence >= 1
        flags = [f if c else [*f, INCOMPLETE] for f, c in zip(flags, cooccur, strict=True)]
        deciding = [f if c else [*f, INCOMPLETE] for f, c in zip(deciding, cooccur, strict=True)]
    present = [None if f else bool(c) for f, c in zip(deciding, merged.cooccurrence >= 1, strict=True)]
    ev = merged.evidence
    per_fact = np.bincount(ev[:, 0], minlength=labels.fact_count) if len(ev) else np.zeros(labels.fact_count, int)
    offsets = np.r_[0, np.cumsum(per_fact)].astype(np.int32)
    structs = pa.StructArray.from_arrays(
        [pa.array(ev[:, 1], pa.int64()), pa.array(ev[:, 2], pa.int32())], fields=list(EVIDENCE_STRUCT)
    )
    schema = arrow_schema(FACT_PRESENCE)
    columns = {
        "uuid": pa.array(labels.uuids, pa.string()),
        "relation": pa.array(labels.relations, pa.string()),
        "subject_segments": pa.array(subject_segments, pa.int64()),
        "object_segments": pa.array(object_segments, pa.int64()),
        "cooccurrence_segments": pa.array(merged.cooccurrence, pa.int64()),
        "present": pa.array(present, pa.bool_()),
        "evidence": pa.ListArray.from_arrays(pa.array(offsets), structs, type=schema.field("evidence").type),
        "flags": pa.array(flags, schema.field("flags").type),
        "matcher": pa.array([matcher] * labels.fact_count, pa.string()),
        "self_contained": pa.array(self_contained or [False] * labels.fact_count, pa.bool_()),
    }
    return pa.Table.from_pydict(columns, schema=schema)
