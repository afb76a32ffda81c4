"""Per-language and cross-language statistics over ``fact_classes``: the paper's analyses as numbers."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from tracer.classify.absent import ABSENT_TYPES
from tracer.classify.patterns import INDEPENDENT, SHARED, TRANSFERRED

PARTNER_BUCKETS = ((1, 1), (2, 4), (5, 9), (10, 19), (20, 49), (50, 10**6))


@dataclass(frozen=True, slots=True)
class Corpus:
    """Size of one language's corpus in one dump (all zero when untraced)."""

    traced: bool = False
    pages: int = 0
    segments: int = 0
    tokens: int = 0
    text_bytes: int = 0


def language_row(lang: str, classes: pa.Table, corpus: Corpus, mean_object_tokens: float) -> dict:
    """One ``language_stats`` row from a language's ``fact_classes`` rows."""
    columns = ["correct", "present", "pattern", "undecided", "absent_type", "similarity", "cross_lingual"]
    rows = classes.select(columns).to_pylist()
    correct = [r for r in rows if r["correct"]]
    present = sum(r["present"] is True for r in rows)
    absent = sum(r["present"] is False for r in rows)
    correct_present = sum(r["present"] is True for r in correct)
    correct_absent = sum(r["present"] is False for r in correct)
    patterns = Counter(r["pattern"] for r in correct)
    kinds = Counter(r["absent_type"] for r in correct if r["absent_type"])
    similarities = [r["similarity"] for r in correct if r["similarity"] is not None]
    return {
        "lang": lang,
        "traced": corpus.traced,
        "pages": corpus.pages,
        "segments": corpus.segments,
        "tokens": corpus.tokens,
        "text_bytes": corpus.text_bytes,
        "queries": len(rows),
        "correct": len(correct),
        "p_at_1": len(correct) / len(rows) if rows else 0.0,
        "mean_object_tokens": mean_object_tokens,
        "present": present,
        "absent": absent,
        "absence_rate": ratio(absent, present + absent),
        "correct_present": correct_present,
        "correct_absent": correct_absent,
        "correct_absence_rate": ratio(correct_absent, correct_present + correct_absent),
        "language_independent": patterns[INDEPENDENT],
        "shared": patterns[SHARED],
        "transferred": patterns[TRANSFERRED],
        "undecided": sum(r["undecided"] is not None for r in correct),
        "cross_lingual": sum(r["cross_lingual"] is True for r in correct),
        "transferred_cross_lingual": sum(r["cross_lingual"] is True and r["pattern"] == TRANSFERRED for r in correct),
        **{kind: kinds[kind] for kind in ABSENT_TYPES},
        "mean_similarity": sum(similarities) / len(similarities) if similarities else None,
    }


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; None with fewer than 3 points or no spread."""
    if len(xs) < 3:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None


def correlations(stats: list[dict]) -> dict:
    """P@1 against corpus size (log10 tokens, traced languages) and against mean object length (all)."""
    traced = [s for s in stats if s["traced"] and s["tokens"] > 0]
    return {
        "p_at_1_vs_log10_tokens": {
            "r": pearson([math.log10(s["tokens"]) for s in traced], [s["p_at_1"] for s in traced]),
            "languages": len(traced),
        },
        "p_at_1_vs_mean_object_tokens": {
            "r": pearson([s["mean_object_tokens"] for s in stats], [s["p_at_1"] for s in stats]),
            "languages": len(stats),
        },
    }


def pair_rows(
    probed: dict[str, set[str]],
    correct_sets: dict[str, set[str]],
    neuron_pairs: dict[tuple[str, str], tuple[int, float]],
) -> list[dict]:
    """``language_pairs`` rows for every ordered pair of distinct languages.

    ``correct_jaccard`` compares the correct sets among the facts probed in both languages, as the
    authors' ``calculate_langsim_by_objectwise_p1_without_rel`` does for the paper's Fig. 3.
    """
    rows = []
    for lang in sorted(correct_sets):
        for other in sorted(correct_sets):
            if other == lang:
                continue
            common = probed[lang] & probed[other]
            a, b = correct_sets[lang] & common, correct_sets[other] & common
            n, total = neuron_pairs.get((lang, other), (0, 0.0))
            rows.append(
                {
                    "lang": lang,
                    "other_lang": other,
                    "both_probed": len(common),
                    "both_correct": len(a & b),
                    "correct_jaccard": ratio(len(a & b), len(a | b)),
                    "neuron_pairs": n,
                    "neuron_jaccard": total / n if n else None,
                }
            )
    return rows


def _bucket(partners: int) -> str:
    for low, high in PARTNER_BUCKETS:
        if low <= partners <= high:
            return f"{low}" if low == high else (f"{low}+" if high >= 10**6 else f"{low}-{high}")
    return "0"


def calibration_summary(partners: np.ndarray, p_value: np.ndarray, alpha: float) -> dict:
    """How many facts had a partner language, and how many were significant, by number of partners."""
    by: dict[str, list[int]] = {}
    for m, p in zip(partners.tolist(), p_value.tolist(), strict=True):
        if m < 1:
            continue
        cell = by.setdefault(_bucket(m), [0, 0])
        cell[0] += 1
        cell[1] += p <= alpha
    return {
        "tested": sum(c[0] for c in by.values()),
        "significant": sum(c[1] for c in by.values()),
        "by_partners": by,
    }


def merge_calibration(parts: list[dict]) -> dict:
    """The languages' calibration summaries added up, buckets in partner order."""
    by: dict[str, list[int]] = {}
    for part in parts:
        for bucket, (tested, significant) in part["by_partners"].items():
            cell = by.setdefault(bucket, [0, 0])
            cell[0] += tested
            cell[1] += significant
    order = [_bucket(low) for low, _ in PARTNER_BUCKETS]
    return {
        "tested": sum(c[0] for c in by.values()),
        "significant": sum(c[1] for c in by.values()),
        "by_partners": {b: by[b] for b in order if b in by},
    }
