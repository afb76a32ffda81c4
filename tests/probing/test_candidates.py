"""The candidates protocol equals a naive loop: each candidate scored in its own query, full LM head."""

from __future__ import annotations

import pytest

from probing.candidates import rank_candidates
from probing.models import load_masked_lm
from probing.passes import CandidateIndex, run_queries
from probing.probe import prepare
from probing.queries import candidate_pools
from tests.probing.mlama import mlama_facts, naive_gold, naive_log_probs

pytestmark = [pytest.mark.probing, pytest.mark.shared_data]


def naive_scores(loaded, fact: dict, pool: list[tuple[int, ...]]) -> list[float]:
    scores = []
    for candidate in pool:
        log_probs = naive_log_probs(loaded, fact, len(candidate))
        scores.append(sum(float(log_probs[j, c]) for j, c in enumerate(candidate)) / len(candidate))
    return scores


@pytest.mark.parametrize(("model", "relations", "per_relation"), [
    ("tiny_bert", ("P36", "P103"), 15), ("tiny_xlmr", ("P36", "P1412"), 8),
])  # fmt: skip
def test_candidates_equal_the_naive_loop(model, relations, per_relation, request, shared_data):
    loaded = load_masked_lm(str(request.getfixturevalue(model)))
    facts = mlama_facts(shared_data, "en", relations, per_relation)
    prompts, _ = prepare(loaded, facts)
    index = CandidateIndex.build(candidate_pools(prompts))
    results = {r.uuid: r for r in rank_candidates(prompts, run_queries(loaded, prompts, index, 256), index)}
    assert set(results) == {f["uuid"] for f in facts}
    for relation in relations:
        members = [f for f in facts if f["relation"] == relation]
        pool = sorted({tuple(naive_gold(loaded, f["object_label"])) for f in members})
        assert index.pools[relation] == pool
        for fact in members:
            scores = naive_scores(loaded, fact, pool)
            gold = pool.index(tuple(naive_gold(loaded, fact["object_label"])))
            rank = sum(s > scores[gold] for s in scores) + sum(s == scores[gold] for s in scores[:gold])
            got = results[fact["uuid"]]
            assert got.gold_rank == rank and got.correct == (rank == 0)
            assert got.gold_log_prob == pytest.approx(scores[gold], abs=1e-4)
            assert got.predicted_ids == list(pool[scores.index(max(scores))])
