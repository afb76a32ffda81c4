"""One language's ``fact_classes`` rows: correctness, presence, cross-lingual similarity, pattern, absent type.

``classify_fact`` holds the rules for one fact; ``classify_language`` joins a language's tables and
applies them to every probed fact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from schemas.arrow import arrow_schema
from schemas.tables import FACT_CLASSES
from tracer.classify.absent import GROUPS, NAMING_CUE_RELATIONS, Tokenize, absent_type

INDEPENDENT = "language-independent"
SHARED = "shared"
TRANSFERRED = "transferred"
PATTERNS = (INDEPENDENT, SHARED, TRANSFERRED)


@dataclass(frozen=True, slots=True)
class Verdict:
    cross_lingual: bool | None
    pattern: str | None
    undecided: str | None
    coarse_class: str | None


def classify_fact(
    correct: bool, present: bool | None, has_neurons: bool, similarity: float | None, threshold: float
) -> Verdict:
    """The pattern of one fact.

    Not correct: nothing to explain. Correct without neurons (its relation had a single correct fact
    in this language, so PROBELESS ranked nothing): undecided. Correct in no other language: not
    cross-lingual. Cross-lingual facts are ``shared`` when present, ``transferred`` when absent,
    undecided when the corpus cannot say.
    """
    if not correct:
        return Verdict(None, None, None, None)
    coarse = {True: "correct-present", False: "correct-absent", None: "correct-untraced"}[present]
    if not has_neurons:
        return Verdict(None, None, "no_neurons", coarse)
    cross = similarity is not None and similarity > threshold
    if not cross:
        return Verdict(False, INDEPENDENT, None, coarse)
    if present is None:
        return Verdict(True, None, "no_presence", coarse)
    return Verdict(True, SHARED if present else TRANSFERRED, None, coarse)


def _by_uuid(table: pa.Table | None, columns: Iterable[str]) -> dict[str, dict]:
    if table is None:
        return {}
    names = ["uuid", *columns]
    return {row["uuid"]: row for row in table.select(names).to_pylist()}


def classify_language(
    lang: str,
    predictions: pa.Table,
    facts: pa.Table,
    presence: pa.Table | None,
    similarity: pa.Table,
    neuron_uuids: set[str],
    threshold: float,
    tokenize: Tokenize,
    naming_cues: Iterable[str] = NAMING_CUE_RELATIONS,
) -> pa.Table:
    """``fact_classes`` rows of one language, in uuid order.

    ``presence`` is None for a language without corpus; ``similarity`` has ``uuid``, ``similarity``
    (NaN when correct nowhere else) and ``similar_lang`` for the facts with neurons.
    """
    labels = _by_uuid(facts, ["subject_label", "object_label"])
    traced = _by_uuid(presence, ["present", "cooccurrence_segments", "evidence"])
    similar = _by_uuid(similarity, ["similarity", "similar_lang"])
    cues = frozenset(naming_cues)
    rows = []
    for pred in sorted(predictions.select(["uuid", "relation", "correct"]).to_pylist(), key=lambda r: r["uuid"]):
        uuid, relation = pred["uuid"], pred["relation"]
        label = labels[uuid]
        evidence = traced.get(uuid)
        present = evidence["present"] if evidence else None
        match = similar.get(uuid)
        value = match["similarity"] if match else None
        value = None if value is None or math.isnan(value) else value
        verdict = classify_fact(pred["correct"], present, uuid in neuron_uuids, value, threshold)
        kind = None
        if pred["correct"] and present is False:
            kind = absent_type(label["subject_label"], label["object_label"], relation, lang, tokenize, cues)
        rows.append(
            {
                "uuid": uuid,
                "relation": relation,
                "subject_label": label["subject_label"],
                "object_label": label["object_label"],
                "correct": pred["correct"],
                "present": present,
                "cooccurrence_segments": evidence["cooccurrence_segments"] if evidence else None,
                "evidence": evidence["evidence"] if evidence else [],
                "similarity": value,
                "similar_lang": match["similar_lang"] if value is not None else None,
                "threshold": threshold,
                "cross_lingual": verdict.cross_lingual,
                "pattern": verdict.pattern,
                "undecided": verdict.undecided,
                "coarse_class": verdict.coarse_class,
                "absent_type": kind,
                "absent_group": GROUPS[kind] if kind else None,
            }
        )
    return pa.Table.from_pylist(rows, schema=arrow_schema(FACT_CLASSES))
