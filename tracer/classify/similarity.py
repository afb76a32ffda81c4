"""Cross-lingual neuron similarity of facts, tested against a permutation null of the same statistic.

For a fact f correct in language L (with neurons there), its *partners* are the other languages where
f is also correct and has neurons. The statistic is the best same-fact Jaccard of f's top neurons over
its m partners (ties: the smallest language code).

The null hypothesis is that the same fact is no closer across languages than two different facts of
the same relation: the uuids of a relation are exchangeable within each language. Permuting them (in L
and, independently, in every partner) turns f's statistic into the max over the same m partners of
Jaccard(g in L, h_O in O) for a random fact g of the relation in L and a random other fact h_O in each
partner O. Its tail probability is the p-value:

    p(f) = mean over g of [1 - prod over partners O of F_gO(best)],
    F_gO(x) = share of the relation's facts h != g in O with Jaccard(g in L, h in O) < x.

The product over partners keeps the m draws tied to the same g, as in the statistic, so a fact correct
in 50 languages is held to the null max over 50 languages. (Testing that max against the distribution
of a single pair makes facts known in many languages look cross-lingual by construction.) Ties count
against the fact, so the test is exact up to them and conservative where Jaccards tie.

A relation with more than ``null_facts`` facts in a language is represented by ``null_facts`` of them,
evenly spaced in uuid order, so the p-value stays deterministic and its cost bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tracer.classify.neuron_sets import NeuronSets, jaccard, pair_overlap, same_fact_rows

NULL_FACTS = 200
ALPHA = 0.01
_ROW = 3.0  # row offset in the flattened null: larger than any Jaccard (and than the 2.0 that marks "same fact")


@dataclass
class PairStats:
    """Same-fact Jaccards of one ordered language pair: how many and their sum."""

    pairs: int = 0
    jaccard_sum: float = 0.0


@dataclass
class LanguageSimilarity:
    """What one language's task finds for each of its facts (rows in uuid order) and per partner language."""

    lang: str
    best: np.ndarray  # [n] float64, NaN when the fact has no partner
    best_lang: np.ndarray  # [n] object, None when NaN
    partners: np.ndarray  # [n] int32, languages where the fact is also correct with neurons
    p_value: np.ndarray  # [n] float64, NaN when the fact has no partner
    pairs: dict[str, PairStats] = field(default_factory=dict)


def best_matches(mine: NeuronSets, others: list[NeuronSets]) -> LanguageSimilarity:
    """Best same-fact Jaccard of every fact of ``mine`` over ``others`` (taken in language-code order)."""
    n = len(mine)
    out = LanguageSimilarity(
        mine.lang, np.full(n, np.nan), np.full(n, None, dtype=object), np.zeros(n, np.int32), np.full(n, np.nan)
    )
    for other in sorted(others, key=lambda o: o.lang):
        ia, ib = same_fact_rows(mine, other)
        if not len(ia):
            continue
        values = jaccard(*pair_overlap(mine, ia, other, ib))
        out.pairs[other.lang] = PairStats(len(ia), float(values.sum()))
        out.partners[ia] += 1
        better = np.isnan(out.best[ia]) | (values > out.best[ia])  # strictly greater: ties keep the earlier code
        out.best[ia[better]] = values[better]
        out.best_lang[ia[better]] = other.lang
    return out


def spread(rows: np.ndarray, cap: int) -> np.ndarray:
    """All of ``rows``, or ``cap`` of them evenly spaced (deterministic)."""
    return rows if len(rows) <= cap else rows[(np.arange(cap) * len(rows)) // cap]


def null_below(
    mine: NeuronSets, g: np.ndarray, other: NeuronSets, h: np.ndarray, best: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For facts with statistic ``best``: (below[f, g], valid[g]), the count of null facts h != g of
    ``other`` with Jaccard(g in mine, h) < best[f], and how many h != g there are."""
    a, b = np.repeat(g, len(h)), np.tile(h, len(g))
    values = jaccard(*pair_overlap(mine, a, other, b)).reshape(len(g), len(h))
    same = (mine.uuids[a] == other.uuids[b]).reshape(len(g), len(h))
    values[same] = 2.0  # the same fact is no null draw: sorts after every Jaccard, never counted below
    values.sort(axis=1)
    offsets = _ROW * np.arange(len(g))
    flat = (values + offsets[:, None]).ravel()  # rows stay apart and sorted: one searchsorted for all
    found = np.searchsorted(flat, best[:, None] + offsets[None, :], side="left")  # [facts, g]
    below = found - (np.arange(len(g)) * len(h))[None, :]
    return below, len(h) - same.sum(axis=1)


def max_null_p_values(
    mine: NeuronSets, others: list[NeuronSets], best: np.ndarray, null_facts: int = NULL_FACTS
) -> np.ndarray:
    """P(null max over the fact's partners >= its best Jaccard), per fact of ``mine``; NaN without partners."""
    members = {r: np.flatnonzero(mine.relations == r) for r in np.unique(mine.relations)}
    draws = {r: spread(rows, null_facts) for r, rows in members.items()}
    log_f = {r: np.zeros((len(members[r]), len(draws[r]))) for r in members}  # [facts, g] sum of log F_gO
    partnered = np.zeros(len(mine), dtype=bool)
    for other in others:
        ia, _ = same_fact_rows(mine, other)
        partnered[ia] = True
        for relation in np.unique(mine.relations[ia]):
            facts = ia[mine.relations[ia] == relation]
            h = spread(np.flatnonzero(other.relations == relation), null_facts)
            below, valid = null_below(mine, draws[relation], other, h, best[facts])
            with np.errstate(divide="ignore"):
                log_f[relation][np.searchsorted(members[relation], facts)] += np.log(below / valid[None, :])
    p = np.full(len(mine), np.nan)
    for relation, rows in members.items():
        p[rows] = -np.expm1(log_f[relation]).mean(axis=1)
    return np.where(partnered, p, np.nan)


def cross_lingual_similarity(
    mine: NeuronSets, others: list[NeuronSets], null_facts: int = NULL_FACTS
) -> LanguageSimilarity:
    """Best matches of ``mine`` and their p-values under the permutation null of the max."""
    found = best_matches(mine, others)
    found.p_value = max_null_p_values(mine, others, found.best, null_facts)
    return found


def is_cross_lingual(p_value: float | None, alpha: float) -> bool:
    """The calibrated verdict: significant at ``alpha``; a fact with no partner language never is."""
    return p_value is not None and not np.isnan(p_value) and p_value <= alpha
