"""Cross-lingual similarity throughput: the NumPy pair Jaccard against Python sets, same run.

Synthetic neuron sets shaped like mBERT's (top 50 of 12 x 3072 FFN units) for ``--langs``
languages of ``--facts`` correct facts each in ``--relations`` relations, most facts correct in
every language. Timed: ``best_matches`` for one language against all others (what one similarity
task does) and its share of the null sample, against the same work with Python ``set``
intersections (the baseline). Both must agree exactly.

    python bench/classify.py [--langs 10] [--facts 5000]
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import pyarrow as pa
from _common import Timer, emit

from tracer.classify.neuron_sets import NeuronSets
from tracer.classify.similarity import best_matches, null_sample

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


def python_best(mine: NeuronSets, others: list[NeuronSets]) -> dict[str, tuple[float, str]]:
    """The baseline: dicts of Python sets, one intersection per pair."""
    own = {u: set(row[row >= 0].tolist()) for u, row in zip(mine.uuids, mine.ids, strict=True)}
    best: dict[str, tuple[float, str]] = {}
    for other in sorted(others, key=lambda o: o.lang):
        theirs = {u: set(row[row >= 0].tolist()) for u, row in zip(other.uuids, other.ids, strict=True)}
        for uuid, neurons in own.items():
            if uuid in theirs:
                j = len(neurons & theirs[uuid]) / len(neurons | theirs[uuid])
                if uuid not in best or j > best[uuid][0]:
                    best[uuid] = (j, other.lang)
    return best


def python_null(a: NeuronSets, b: NeuronSets, per_relation: int) -> Counter:
    counts: Counter = Counter()
    for relation in sorted(set(a.relations) & set(b.relations)):
        ra, rb = np.flatnonzero(a.relations == relation), np.flatnonzero(b.relations == relation)
        shifts = min(len(rb), -(-per_relation // len(ra)))
        pairs = (
            [(i, j) for i in ra for j in rb]
            if len(ra) * len(rb) <= per_relation
            else [(ra[i], rb[(i + s) % len(rb)]) for i in range(len(ra)) for s in range(shifts)]
        )
        for i, j in pairs:
            if a.uuids[i] != b.uuids[j]:
                x, y = set(a.ids[i][a.ids[i] >= 0].tolist()), set(b.ids[j][b.ids[j] >= 0].tolist())
                counts[(len(x & y), len(x | y))] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", type=int, default=10)
    parser.add_argument("--facts", type=int, default=5000)
    parser.add_argument("--relations", type=int, default=40)
    args = parser.parse_args()
    sets = synthetic(args.langs, args.facts, args.relations)
    mine, others = sets[0], sets[1:]
    with Timer() as fast:
        found = best_matches(mine, others)
        null: Counter = Counter()
        for other in others:
            null.update(null_sample(mine, other))
    with Timer() as slow:
        baseline = python_best(mine, others)
        baseline_null: Counter = Counter()
        for other in others:
            baseline_null.update(python_null(mine, other, 2000))
    agree = null == baseline_null and all(
        abs(found.best[i] - baseline[u][0]) < 1e-12 and found.best_lang[i] == baseline[u][1]
        for i, u in enumerate(mine.uuids)
        if u in baseline
    )
    pairs = sum(p.pairs for p in found.pairs.values()) + sum(null.values())
    emit(
        {
            "benchmark": "classify_similarity",
            "languages": args.langs,
            "facts_in_language": len(mine),
            "jaccard_pairs": pairs,
            "numpy_seconds": round(fast.seconds, 3),
            "python_sets_seconds": round(slow.seconds, 3),
            "numpy_pairs_per_second": round(pairs / fast.seconds),
            "speedup_vs_python_sets": round(slow.seconds / fast.seconds, 2),
            "results_agree": agree,
        }
    )


if __name__ == "__main__":
    main()
