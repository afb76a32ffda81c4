"""One language's ``fact_classes`` rows: correctness, presence, cross-lingual neuron evidence, pattern, absent type.

``classify_fact`` holds the rules for one fact; ``classify_language`` joins a language's tables and
applies them to every probed fact. The pattern follows the paper's definition (Zhao et al. 2024, Fig. 1):
a correct fact absent from the language's corpus is *transferred*, whatever its neurons; a present one is
*shared* when its neurons match the same fact's in another language, else *language-independent*. The
neuron evidence stays in its own columns (``cross_lingual``, ``p_value``, ``best_match_lang``), so
"transferred with cross-lingual neuron support" remains a query.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from schemas.arrow import arrow_schema
from schemas.tables import FACT_CLASSES
from tracer.classify.absent import DEFAULT, GROUPS, NAMING_CUE_RELATIONS, Tokenize, absent_type
from tracer.classify.label_tokens import gold_length
from tracer.classify.similarity import is_cross_lingual

INDEPENDENT = "language-independent"
SHARED = "shared"
TRANSFERRED = "transferred"
PATTERNS = (INDEPENDENT, SHARED, TRANSFERRED)
NO_NEURONS = "no_neurons"
NO_PRESENCE = "no_presence"
COARSE = {True: "correct-present", False: "correct-absent", None: "correct-untraced"}


@dataclass(frozen=True, slots=True)
class Verdict:
    cross_lingual: bool | None
    pattern: str | None
    undecided: str | None
    coarse_class: str | None


def classify_fact(correct: bool, present: bool | None, has_neurons: bool, cross_lingual: bool) -> Verdict:
    """The pattern of one fact.

    Not correct: nothing to explain. Absent from the corpus: transferred (the paper counts every such
    fact). Untraced or flagged (``present`` null): undecided, ``no_presence``. Present: shared when its
    neurons match another language's (calibrated test), language-independent when they do not, and
    undecided (``no_neurons``) when PROBELESS ranked nothing for it (its relation had one correct fact).
    ``cross_lingual`` is reported for every correct fact that has neurons.
    """
    if not correct:
        return Verdict(None, None, None, None)
    coarse = COARSE[present]
    evidence = cross_lingual if has_neurons else None
    if present is False:
        return Verdict(evidence, TRANSFERRED, None, coarse)
    if present is None:
        return Verdict(evidence, None, NO_PRESENCE, coarse)
    if not has_neurons:
        return Verdict(None, None, NO_NEURONS, coarse)
    return Verdict(evidence, SHARED if cross_lingual else INDEPENDENT, None, coarse)


def _by_uuid(table: pa.Table | None, columns: Iterable[str]) -> dict[str, dict]:
    if table is None:
        return {}
    names = ["uuid", *columns]
    return {row["uuid"]: row for row in table.select(names).to_pylist()}


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def classify_language(
    lang: str,
    predictions: pa.Table,
    facts: pa.Table,
    presence: pa.Table | None,
    similarity: pa.Table,
    alpha: float,
    tokenize: Tokenize,
    naming_cues: Iterable[str] = NAMING_CUE_RELATIONS,
    rules: str = DEFAULT,
) -> pa.Table:
    """``fact_classes`` rows of one language, in uuid order.

    ``presence`` is None for a language without corpus. ``similarity`` has a row per fact with neurons:
    ``uuid``, ``similarity`` and ``p_value`` (NaN when correct in no other language), ``best_match_lang``
    and ``partners``.
    """
    labels = _by_uuid(facts, ["subject_label", "object_label", "object_uri"])
    traced = _by_uuid(presence, ["present", "cooccurrence_segments", "evidence"])
    similar = _by_uuid(similarity, ["similarity", "best_match_lang", "partners", "p_value"])
    cues = frozenset(naming_cues)
    rows = []
    for pred in sorted(predictions.select(["uuid", "relation", "correct"]).to_pylist(), key=lambda r: r["uuid"]):
        uuid, relation = pred["uuid"], pred["relation"]
        label = labels[uuid]
        evidence = traced.get(uuid)
        present = evidence["present"] if evidence else None
        match = similar.get(uuid)
        value = _number(match["similarity"]) if match else None
        p_value = _number(match["p_value"]) if match else None
        verdict = classify_fact(pred["correct"], present, match is not None, is_cross_lingual(p_value, alpha))
        kind = None
        if pred["correct"] and present is False:
            kind = absent_type(label["subject_label"], label["object_label"], relation, lang, tokenize, cues, rules)
        rows.append(
            {
                "uuid": uuid,
                "relation": relation,
                "subject_label": label["subject_label"],
                "object_label": label["object_label"],
                "object_uri": label["object_uri"],
                "object_tokens": gold_length(tokenize(label["object_label"])),
                "correct": pred["correct"],
                "present": present,
                "cooccurrence_segments": evidence["cooccurrence_segments"] if evidence else None,
                "evidence": evidence["evidence"] if evidence else [],
                "similarity": value,
                "best_match_lang": match["best_match_lang"] if value is not None else None,
                "partners": match["partners"] if match else None,
                "p_value": p_value,
                "cross_lingual": verdict.cross_lingual,
                "pattern": verdict.pattern,
                "undecided": verdict.undecided,
                "coarse_class": verdict.coarse_class,
                "absent_type": kind,
                "absent_group": GROUPS[kind] if kind else None,
            }
        )
    return pa.Table.from_pylist(rows, schema=arrow_schema(FACT_CLASSES))
