"""The candidates protocol equals a naive loop: each candidate scored in its own query, full LM head."""

from __future__ import annotations

import pytest
import torch

from probing.candidates import candidates
from probing.models import load_masked_lm
from probing.queries import build_queries, masked_text
from tests.probing.test_full_match import mlama_facts

pytestmark = [pytest.mark.probing, pytest.mark.shared_data]


def naive_scores(loaded, fact: dict, pool: list[tuple[int, ...]]) -> list[float]:
    tok = loaded.tokenizer
    scores = []
    with torch.inference_mode():
        for candidate in pool:
            text = masked_text(fact["template"], fact["subject_label"], len(candidate), tok.mask_token)
            ids = tok(text, return_tensors="pt")["input_ids"]
            log_probs = torch.log_softmax(loaded.model(input_ids=ids).logits[0].float(), dim=-1)
            positions = [i for i, t in enumerate(ids[0].tolist()) if t == tok.mask_token_id]
            scores.append(
                sum(float(log_probs[p, c]) for p, c in zip(positions, candidate, strict=True)) / len(candidate)
            )
    return scores


def test_candidates_equal_the_naive_loop(tiny_bert, shared_data):
    loaded = load_masked_lm(str(tiny_bert))
    facts = mlama_facts(shared_data, "en", ("P36", "P103"), 15)
    queries = build_queries(loaded.tokenizer, loaded.family, facts)
    results = {r.uuid: r for r in candidates(loaded, queries, max_tokens=256)}
    assert set(results) == {f["uuid"] for f in facts}
    gold_of = {q.uuid: q.gold_ids for q in queries}
    for relation in ("P36", "P103"):
        pool = sorted({gold_of[f["uuid"]] for f in facts if f["relation"] == relation})
        for fact in (f for f in facts if f["relation"] == relation):
            scores = naive_scores(loaded, fact, pool)
            gold = pool.index(gold_of[fact["uuid"]])
            rank = sum(s > scores[gold] for s in scores) + sum(s == scores[gold] for s in scores[:gold])
            got = results[fact["uuid"]]
            assert got.gold_rank == rank and got.correct == (rank == 0)
            assert got.gold_log_prob == pytest.approx(scores[gold], abs=1e-4)
