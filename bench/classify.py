"""Cross-lingual similarity throughput: NumPy best matches and p-values against Python sets, same run.

Synthetic neuron sets shaped like mBERT's (top 50 of 12 x 3072 FFN units) for ``--langs``
languages of ``--facts`` correct facts each in ``--relations`` relations, most facts correct in
every language. Timed: ``cross_lingual_similarity`` for one language against all others (what one
similarity task does: best matches and their p-values under the permutation null of the max),
against the same work with Python ``set`` intersections and per-(relation, partner) caches (the
baseline). Both must agree exactly.

    python bench/classify.py [--langs 10] [--facts 1000]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pyarrow as pa
from _common import Timer, emit

from tracer.classify.neuron_sets import NeuronSets
from tracer.classify.similarity import NULL_FACTS, cross_lingual_similarity, spread

NEURONS = 12 * 3072
TOP_K = 50


def synthetic(langs: int, facts: int, relations: int, seed: int = 0) -> list[NeuronSets]:
    """Each fact has a 'core' of neurons shared across languages plus language-specific ones."""
    rng = np.random.default_rng(seed)
    cores = [rng.choice(NEURONS, 30, replace=False) for _ in range(facts)]
    out = []
    for lang in range(langs):
        keep = rng.random(facts) < 0.8
        rows = {"uuid": [], "relation": [], "neuron_ids": []}
        for i in np.flatnonzero(keep):
            own = rng.choice(NEURONS, TOP_K, replace=False)
            ids = list(dict.fromkeys([*cores[i][: rng.integers(0, 30)].tolist(), *own.tolist()]))[:TOP_K]
            rows["uuid"].append(f"f{i:07d}")
            rows["relation"].append(f"P{i % relations}")
            rows["neuron_ids"].append(ids)
        table = pa.table({**rows, "neuron_ids": pa.array(rows["neuron_ids"], pa.list_(pa.int32()))})
        out.append(NeuronSets.from_table(f"l{lang:02d}", table))
    return out


def python_similarity(mine: NeuronSets, others: list[NeuronSets], null_facts: int) -> dict[str, tuple]:
    """The baseline: dicts of Python sets; per (relation, partner) the null Jaccards of every g, computed once."""

    def as_sets(s: NeuronSets) -> list[set[int]]:
        return [set(row[row >= 0].tolist()) for row in s.ids]

    own = as_sets(mine)
    theirs = {o.lang: as_sets(o) for o in others}
    rows_of = {o.lang: {u: i for i, u in enumerate(o.uuids)} for o in others}
    best: dict[str, tuple[float, str, int]] = {}
    for i, uuid in enumerate(mine.uuids):
        for other in sorted(others, key=lambda o: o.lang):
            j = rows_of[other.lang].get(uuid)
            if j is None:
                continue
            x, y = own[i], theirs[other.lang][j]
            value = len(x & y) / len(x | y)
            old = best.get(uuid)
            if old is None or value > old[0]:
                best[uuid] = (value, other.lang, (old[2] if old else 0) + 1)
            else:
                best[uuid] = (old[0], old[1], old[2] + 1)
    draws: dict[tuple[str, str], list[tuple[int, list[float]]]] = {}
    out = {}
    for i, uuid in enumerate(mine.uuids):
        if uuid not in best:
            continue
        relation = mine.relations[i]
        g_rows = spread(np.flatnonzero(mine.relations == relation), null_facts).tolist()
        log_f = [0.0] * len(g_rows)
        for other in others:
            if uuid not in rows_of[other.lang]:
                continue
            key = (relation, other.lang)
            if key not in draws:
                h_rows = spread(np.flatnonzero(other.relations == relation), null_facts).tolist()
                draws[key] = [
                    (g, [len(own[g] & theirs[other.lang][h]) / len(own[g] | theirs[other.lang][h])
                         for h in h_rows if other.uuids[h] != mine.uuids[g]])
                    for g in g_rows
                ]  # fmt: skip
            for n, (_, values) in enumerate(draws[key]):
                below = sum(v < best[uuid][0] for v in values)
                log_f[n] += math.log(below / len(values)) if below else -math.inf
        p = sum(1 - math.exp(v) for v in log_f) / len(log_f)
        out[uuid] = (*best[uuid], p)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", type=int, default=10)
    parser.add_argument("--facts", type=int, default=1000)
    parser.add_argument("--relations", type=int, default=40)
    parser.add_argument("--null-facts", type=int, default=NULL_FACTS)
    args = parser.parse_args()
    sets = synthetic(args.langs, args.facts, args.relations)
    mine, others = sets[0], sets[1:]
    with Timer() as fast:
        found = cross_lingual_similarity(mine, others, args.null_facts)
    with Timer() as slow:
        baseline = python_similarity(mine, others, args.null_facts)
    agree = all(
        abs(found.best[i] - baseline[u][0]) < 1e-12
        and found.best_lang[i] == baseline[u][1]
        and found.partners[i] == baseline[u][2]
        and abs(found.p_value[i] - baseline[u][3]) < 1e-9
        for i, u in enumerate(mine.uuids)
        if u in baseline
    ) and len(baseline) == int(np.sum(found.partners > 0))
    emit(
        {
            "benchmark": "classify_similarity",
            "languages": args.langs,
            "facts_in_language": len(mine),
            "facts_with_partners": len(baseline),
            "numpy_seconds": round(fast.seconds, 3),
            "python_sets_seconds": round(slow.seconds, 3),
            "numpy_facts_per_second": round(len(baseline) / fast.seconds),
            "speedup_vs_python_sets": round(slow.seconds / fast.seconds, 2),
            "results_agree": agree,
        }
    )


if __name__ == "__main__":
    main()
