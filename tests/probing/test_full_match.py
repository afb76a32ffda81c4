"""Full-match with batching, bucketing and the mask-only head equals a naive one-query-at-a-time loop."""

from __future__ import annotations

import pytest
import torch

from probing.batching import token_batches
from probing.full_match import full_match
from probing.masked import mask_logits
from probing.models import load_masked_lm
from probing.passes import QueryResults, run_queries
from probing.probe import prepare
from probing.queries import Prompt, masked_text
from tests.probing.mlama import mlama_facts, naive_full_match, naive_marker

pytestmark = pytest.mark.probing


def test_token_batches_cover_every_query_once_within_budget():
    lengths = [3, 17, 9, 9, 40, 1, 8, 16]
    batches = list(token_batches(lengths, max_tokens=48))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len(b) * max(-(-lengths[i] // 8) * 8 for i in b) <= 48 or len(b) == 1 for b in batches)


@pytest.mark.shared_data
@pytest.mark.parametrize(("model", "per_relation"), [("tiny_bert", 25), ("tiny_xlmr", 12)])
def test_full_match_equals_naive_reference_on_real_mlama_queries(model, per_relation, request, shared_data):
    loaded = load_masked_lm(str(request.getfixturevalue(model)))
    japanese = [{**f, "uuid": f"ja-{f['uuid']}"} for f in mlama_facts(shared_data, "ja", ("P36",), per_relation)]
    facts = mlama_facts(shared_data, "en", ("P36", "P37", "P103", "P1412"), per_relation) + japanese
    prompts, unusable = prepare(loaded, facts)
    assert not unusable and len(prompts) == len(facts)
    tok = loaded.tokenizer
    for prompt, fact in zip(prompts, facts, strict=True):  # tokenized once, k masks spliced in: exact
        for k in range(1, prompt.max_masks + 1):
            text = masked_text(fact["template"], fact["subject_label"], k, tok.mask_token)
            assert prompt.ids(k) == tok(text)["input_ids"]
    expected_pred, expected_correct = naive_full_match(loaded, facts)
    small = run_queries(loaded, prompts, max_tokens=64)  # many small, padded batches
    large = run_queries(loaded, prompts, max_tokens=4096)  # a few large ones
    assert small.predicted == large.predicted
    assert {(prompts[p].uuid, k): ids for (p, k), ids in small.predicted.items()} == expected_pred
    results = full_match(prompts, large, naive_marker(loaded))
    assert {r.uuid: r.correct for r in results} == expected_correct
    gold_length = {p.uuid: len(p.gold_ids) for p in prompts}
    for r in results:  # shown: the matched k, else the gold's own length
        shown = r.matched_masks if r.correct else gold_length[r.uuid]
        assert r.predicted_ids == expected_pred[(r.uuid, shown)]


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
    fact = {"uuid": "f", "relation": "P36", "subject_label": "France", "object_label": "Paris",
            "template": "The capital of [X] is [Y] ."}  # fmt: skip
    [prompt], _ = prepare(loaded, [fact])
    head = loaded.model.get_output_embeddings()
    with torch.no_grad():  # make the decoder's bias prefer the gold token everywhere
        head.bias.zero_()
        head.bias[prompt.gold_ids[0]] = 1e4
    [result] = full_match([prompt], run_queries(loaded, [prompt]), None)
    assert result.correct and result.matched_masks == 1 and result.predicted_ids == list(prompt.gold_ids)


def test_when_several_mask_counts_match_default_keeps_the_smallest_and_fact_cl_the_last():
    marker = 6  # XLM-R's lone "▁": ignored on both sides when comparing
    prompt = Prompt("f", "P36", base_ids=(0, 250001, 2), mask_at=1, gold_ids=(900,), max_masks=3)
    results = QueryResults(predicted={(0, 1): [900], (0, 2): [marker, 900], (0, 3): [marker, 900, 5]})
    [smallest] = full_match([prompt], results, marker)
    [last] = full_match([prompt], results, marker, last_match=True)
    assert (smallest.matched_masks, smallest.predicted_ids) == (1, [900])
    assert (last.matched_masks, last.predicted_ids) == (2, [marker, 900])
    assert smallest.correct and last.correct
