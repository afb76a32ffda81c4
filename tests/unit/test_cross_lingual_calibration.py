"""The cross-lingual test keeps its false-positive rate whatever the number of languages a fact is correct in.

Neuron sets are drawn under the null: every (fact, language) set is an independent draw of the same
relation's neuron profile (a Zipf popularity over 400 of its neurons), so the same fact is no closer
across languages than two different facts. A fact of language L correct in m other languages is then
cross-lingual only by chance. The rule this replaces (the best match over m languages against the 99th
percentile of single-pair Jaccards) drifts upwards with m; the permutation null of the max does not.
"""

import math

import numpy as np
import pyarrow as pa
import pytest

from tracer.classify.neuron_sets import NeuronSets, jaccard, pair_overlap
from tracer.classify.similarity import cross_lingual_similarity

RELATIONS, FACTS, TOP_K, PROFILE = 8, 60, 30, 400
NOMINAL = 0.01


def null_language(lang: str, rng: np.random.Generator, profiles: list[np.ndarray]) -> NeuronSets:
    weights = 1.0 / np.arange(1, PROFILE + 1)
    weights /= weights.sum()
    uuids, relations, ids = [], [], []
    for r, profile in enumerate(profiles):
        for f in range(FACTS):
            uuids.append(f"r{r}-f{f:03d}")
            relations.append(f"P{r}")
            ids.append(np.sort(profile[rng.choice(PROFILE, TOP_K, replace=False, p=weights)]).tolist())
    table = pa.table({"uuid": uuids, "relation": relations, "neuron_ids": pa.array(ids, pa.list_(pa.int32()))})
    return NeuronSets.from_table(lang, table)


def single_pair_threshold(mine: NeuronSets, others: list[NeuronSets], percentile: float = 99) -> float:
    """The replaced rule's cut-off: nearest-rank percentile of different-fact, same-relation Jaccards."""
    values = []
    for other in others:
        for relation in np.unique(mine.relations):
            a, b = np.flatnonzero(mine.relations == relation), np.flatnonzero(other.relations == relation)
            rows_a, rows_b = np.repeat(a, len(b)), np.tile(b, len(a))
            different = mine.uuids[rows_a] != other.uuids[rows_b]
            values.append(jaccard(*pair_overlap(mine, rows_a[different], other, rows_b[different])))
    ordered = np.sort(np.concatenate(values))
    return float(ordered[max(1, math.ceil(percentile / 100 * len(ordered))) - 1])


@pytest.mark.parametrize("languages", [1, 5, 20, 50])
def test_false_positive_rate_holds_at_every_number_of_languages(languages):
    rng = np.random.default_rng(languages)
    profiles = [np.random.default_rng(1000 + r).permutation(36_864)[:PROFILE] for r in range(RELATIONS)]
    mine, *others = [null_language(f"l{i:02d}", rng, profiles) for i in range(languages + 1)]
    found = cross_lingual_similarity(mine, others)
    assert np.all(found.partners == languages)
    calibrated = float(np.mean(found.p_value <= NOMINAL))
    replaced = float(np.mean(found.best > single_pair_threshold(mine, others)))
    print(f"{languages} languages: calibrated {calibrated:.2%}, single-pair threshold {replaced:.2%}")
    assert abs(calibrated - NOMINAL) <= 0.01
    if languages >= 20:  # the bug this replaces: a max tested against a single-pair null
        assert replaced > NOMINAL + 0.05


def test_facts_that_share_neurons_across_languages_are_found():
    """The alternative: in every partner, a fact keeps half of its own top neurons from language L."""
    rng = np.random.default_rng(3)
    profiles = [np.random.default_rng(1000 + r).permutation(36_864)[:PROFILE] for r in range(RELATIONS)]
    mine, *drawn = [null_language(f"l{i:02d}", rng, profiles) for i in range(6)]
    others = []
    for other in drawn:
        ids = other.ids.copy()
        ids[:, : TOP_K // 2] = mine.ids[:, : TOP_K // 2]  # rows are the same facts in the same order
        rows = [sorted(set(r.tolist())) for r in ids]
        table = pa.table({"uuid": other.uuids.tolist(), "relation": other.relations.tolist(),
                          "neuron_ids": pa.array(rows, pa.list_(pa.int32()))})  # fmt: skip
        others.append(NeuronSets.from_table(other.lang, table))
    found = cross_lingual_similarity(mine, others)
    assert np.mean(found.p_value <= NOMINAL) > 0.9
