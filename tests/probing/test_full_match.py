"""Full-match with batching, bucketing and the mask-only head equals a naive one-query-at-a-time loop."""

from __future__ import annotations

import json

import pytest
import torch

from probing.batching import token_batches
from probing.full_match import full_match, without_marker
from probing.masked import mask_logits
from probing.models import load_masked_lm
from probing.queries import build_queries

pytestmark = pytest.mark.probing


def mlama_facts(shared, lang: str, relations: tuple[str, ...], per_relation: int) -> list[dict]:
    templates = {}
    for line in (shared / "mlama1.1" / lang / "templates.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        templates[row["relation"]] = row["template"]
    facts = []
    for relation in relations:
        lines = (shared / "mlama1.1" / lang / f"{relation}.jsonl").read_text(encoding="utf-8").splitlines()
        for line in lines[:per_relation]:
            row = json.loads(line)
            facts.append({"uuid": row["uuid"], "relation": relation, "subject_label": row["sub_label"],
                          "object_label": row["obj_label"], "template": templates[relation]})  # fmt: skip
    return facts


def naive(loaded, queries):
    """One query at a time, the full LM head at every position, plain loops."""
    tok, marker = loaded.tokenizer, None
    if loaded.family.bare_marker:
        marker = tok.convert_tokens_to_ids(loaded.family.bare_marker)
    predictions = {}
    with torch.inference_mode():
        for q in queries:
            ids = tok(q.text, return_tensors="pt")["input_ids"]
            logits = loaded.model(input_ids=ids).logits[0]
            positions = [i for i, t in enumerate(ids[0].tolist()) if t == tok.mask_token_id]
            predictions[(q.uuid, q.n_masks)] = [int(logits[p].argmax()) for p in positions]
    correct = {}
    for q in queries:
        hit = without_marker(predictions[(q.uuid, q.n_masks)], marker) == without_marker(q.gold_ids, marker)
        correct[q.uuid] = correct.get(q.uuid, False) or hit
    return predictions, correct


def test_token_batches_cover_every_query_once_within_budget():
    lengths = [3, 17, 9, 9, 40, 1, 8, 16]
    batches = list(token_batches(lengths, max_tokens=48))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len(b) * max(-(-lengths[i] // 8) * 8 for i in b) <= 48 or len(b) == 1 for b in batches)


@pytest.mark.shared_data
@pytest.mark.parametrize(("model", "per_relation"), [("tiny_bert", 25), ("tiny_xlmr", 12)])
def test_full_match_equals_naive_reference_on_real_mlama_queries(model, per_relation, request, shared_data):
    loaded = load_masked_lm(str(request.getfixturevalue(model)))
    facts = mlama_facts(shared_data, "en", ("P36", "P37", "P103", "P1412"), per_relation) + mlama_facts(
        shared_data, "ja", ("P36",), per_relation
    )
    queries = build_queries(loaded.tokenizer, loaded.family, facts)
    assert len(queries) > 6 * per_relation
    expected_pred, expected_correct = naive(loaded, queries)
    logits = mask_logits(loaded, [q.text for q in queries], max_tokens=64)  # many small, padded batches
    got = {(q.uuid, q.n_masks): s.argmax(-1).tolist() for q, s in zip(queries, logits, strict=True)}
    assert got == expected_pred
    results = full_match(loaded, queries, max_tokens=4096)  # a few large ones
    assert {r.uuid: r.correct for r in results} == expected_correct


def test_mask_only_head_gives_the_full_heads_logits(tiny_bert):
    loaded = load_masked_lm(str(tiny_bert))
    text = f"Paris is the capital of {loaded.tokenizer.mask_token}{loaded.tokenizer.mask_token} ."
    [ours] = mask_logits(loaded, [text])
    ids = loaded.tokenizer(text, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        full = loaded.model(input_ids=ids).logits[0]
    positions = (ids[0] == loaded.tokenizer.mask_token_id).nonzero().flatten()
    torch.testing.assert_close(ours, full[positions].float(), rtol=1e-5, atol=1e-5)


def test_a_model_that_knows_the_answer_is_correct(tiny_bert):
    loaded = load_masked_lm(str(tiny_bert))
    tok = loaded.tokenizer
    fact = {"uuid": "f", "relation": "P36", "subject_label": "France", "object_label": "Paris",
            "template": "The capital of [X] is [Y] ."}  # fmt: skip
    [query] = build_queries(tok, loaded.family, [fact])
    head = loaded.model.get_output_embeddings()
    with torch.no_grad():  # make the decoder's bias prefer the gold token everywhere
        head.bias.zero_()
        head.bias[query.gold_ids[0]] = 1e4
    [result] = full_match(loaded, [query])
    assert result.correct and result.matched_masks == 1 and result.predicted_text == "Paris"
