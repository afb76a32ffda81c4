"""Cross-lingual similarity of facts, and the null distribution its threshold is calibrated on.

For a fact correct in language L, its similarity is the best Jaccard of its top neurons with the
same fact's in any other language where that fact is also correct (ties: the smallest language
code). The null distribution is the Jaccard of *different* facts of the same relation, correct in
the same pair of languages; the threshold is a percentile of it, pooled over every pair and relation.
Jaccard values of two top-k sets are ratios of small integers, so the null is kept exactly as a
histogram of (intersection, union) counts.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from tracer.classify.neuron_sets import NeuronSets, jaccard, pair_overlap, same_fact_rows

NULL_PAIRS_PER_RELATION = 2000


@dataclass
class PairStats:
    """Same-fact Jaccards of one ordered language pair: how many and their sum."""

    pairs: int = 0
    jaccard_sum: float = 0.0


@dataclass
class LanguageSimilarity:
    """What one language's task finds: best match per fact, pair statistics, its share of the null."""

    lang: str
    best: np.ndarray  # [n] float64, NaN when the fact is correct in no other language
    best_lang: np.ndarray  # [n] object, None when NaN
    pairs: dict[str, PairStats] = field(default_factory=dict)
    null: Counter = field(default_factory=Counter)  # (intersection, union) -> pairs


def best_matches(mine: NeuronSets, others: list[NeuronSets]) -> LanguageSimilarity:
    """Best same-fact Jaccard of every fact of ``mine`` over ``others`` (taken in language-code order)."""
    best = np.full(len(mine), np.nan)
    best_lang = np.full(len(mine), None, dtype=object)
    out = LanguageSimilarity(mine.lang, best, best_lang)
    for other in sorted(others, key=lambda o: o.lang):
        ia, ib = same_fact_rows(mine, other)
        if not len(ia):
            continue
        values = jaccard(*pair_overlap(mine, ia, other, ib))
        out.pairs[other.lang] = PairStats(len(ia), float(values.sum()))
        better = np.isnan(best[ia]) | (values > best[ia])  # strictly greater: ties keep the earlier code
        best[ia[better]] = values[better]
        best_lang[ia[better]] = other.lang
    return out


def null_sample(a: NeuronSets, b: NeuronSets, per_relation: int = NULL_PAIRS_PER_RELATION) -> Counter:
    """Overlaps of different facts of the same relation, one in ``a`` and one in ``b``.

    All pairs when a relation has at most ``per_relation`` of them; otherwise a deterministic
    sample: fact i of ``a`` (uuid order) with facts i, i+1, ... of ``b``, cyclically.
    """
    counts: Counter = Counter()
    for relation in sorted(set(a.relations) & set(b.relations)):
        ra = np.flatnonzero(a.relations == relation)
        rb = np.flatnonzero(b.relations == relation)
        if len(ra) * len(rb) <= per_relation:
            pa_rows, pb_rows = np.repeat(ra, len(rb)), np.tile(rb, len(ra))
        else:
            shifts = min(len(rb), math.ceil(per_relation / len(ra)))
            i = np.repeat(np.arange(len(ra)), shifts)
            j = (i + np.tile(np.arange(shifts), len(ra))) % len(rb)
            pa_rows, pb_rows = ra[i], rb[j]
        different = a.uuids[pa_rows] != b.uuids[pb_rows]
        inter, union = pair_overlap(a, pa_rows[different], b, pb_rows[different])
        pairs, n = np.unique(np.stack([inter, union], axis=1), axis=0, return_counts=True)
        counts.update({(int(i_), int(u)): int(c) for (i_, u), c in zip(pairs, n, strict=True)})
    return counts


def percentile_threshold(null: Counter, percentile: float) -> float:
    """The nearest-rank ``percentile`` of the null Jaccards (0.0 for an empty null: then any overlap counts)."""
    if not null:
        return 0.0
    values = sorted((i / u if u else 0.0, n) for (i, u), n in null.items())
    total = sum(n for _, n in values)
    rank = max(1, math.ceil(percentile / 100 * total))
    seen = 0
    for value, n in values:
        seen += n
        if seen >= rank:
            return value
    return values[-1][0]
