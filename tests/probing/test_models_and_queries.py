"""Model loading (local, safetensors only, clear errors) and masked-query building."""

from __future__ import annotations

import shutil

import pytest

from probing.families import BERT, XLM_ROBERTA
from probing.models import load_masked_lm, select_device
from probing.queries import build_prompts, gold_ids
from tracer.errors import ConfigError, InputNotFound

pytestmark = pytest.mark.probing

FACTS = [
    {"uuid": "a", "relation": "P36", "subject_label": "France", "object_label": "Paris",
     "template": "The capital of [X] is [Y] ."},
    {"uuid": "b", "relation": "P36", "subject_label": "Japan", "object_label": "Tokyo Paris",
     "template": "The capital of [X] is [Y] ."},
    {"uuid": "c", "relation": "P37", "subject_label": "France", "object_label": "French", "template": None},
]  # fmt: skip


def test_loads_a_local_model_on_cpu_in_fp32(tiny_bert):
    loaded = load_masked_lm(str(tiny_bert))
    assert loaded.family is BERT and loaded.device.type == "cpu" and str(loaded.dtype) == "torch.float32"
    assert select_device("cpu")[1] == loaded.dtype


def test_missing_model_and_pickled_weights_are_clear_errors(tiny_bert, tmp_path):
    with pytest.raises(InputNotFound, match="never downloads"):
        load_masked_lm("no-such-org/no-such-model")
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_bert, pickled)
    for weights in pickled.glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(ConfigError, match="does not unpickle"):
        load_masked_lm(str(pickled))


def test_queries_use_k_from_the_longest_object_and_the_tokenizers_mask(tiny_bert):
    loaded = load_masked_lm(str(tiny_bert))
    tok = loaded.tokenizer
    prompts, unusable = build_prompts(tok, BERT, FACTS)
    assert [p.uuid for p in prompts] == ["a", "b"]
    assert [(u.uuid, u.reason) for u in unusable] == [("c", "no_template")]
    k = len(gold_ids(tok, BERT, "Tokyo Paris"))
    assert k >= 2 and all(p.max_masks == k for p in prompts)
    for p in prompts:
        for n in range(1, k + 1):
            assert p.ids(n).count(tok.mask_token_id) == n and p.length(n) == len(p.ids(n))
        assert p.ids(1)[0] == tok.cls_token_id and p.ids(1)[-1] == tok.sep_token_id


def test_unprobeable_facts_are_set_aside_with_a_reason(tiny_bert):
    loaded = load_masked_lm(str(tiny_bert))
    tok = loaded.tokenizer
    base = {"relation": "P36", "subject_label": "France", "object_label": "Paris", "template": "[X] is [Y] ."}
    facts = [
        {**base, "uuid": "ok"},
        {**base, "uuid": "empty", "object_label": " "},
        {**base, "uuid": "mask-subject", "subject_label": f"France {tok.mask_token}"},
        {**base, "uuid": "mask-object", "object_label": tok.mask_token},
        {**base, "uuid": "two-y", "template": "[X] [Y] [Y]"},
        {**base, "uuid": "long", "subject_label": "France " * 80},
    ]
    prompts, unusable = build_prompts(tok, BERT, facts, max_length=64)
    assert [p.uuid for p in prompts] == ["ok"]
    assert {u.uuid: u.reason for u in unusable} == {
        "empty": "empty_object", "mask-subject": "mask_in_label", "mask-object": "mask_in_label",
        "two-y": "bad_template", "long": "too_long",
    }  # fmt: skip


@pytest.mark.shared_data
def test_xlmr_gold_drops_the_lone_marker_and_masks_tokenize_as_masks(tiny_xlmr):
    loaded = load_masked_lm(str(tiny_xlmr))
    tok = loaded.tokenizer
    assert loaded.family is XLM_ROBERTA
    assert tok.convert_ids_to_tokens(list(gold_ids(tok, XLM_ROBERTA, "フランス"))) == ["フランス"]
    assert tok.convert_ids_to_tokens(list(gold_ids(tok, XLM_ROBERTA, "Paris"))) == ["▁Paris"]
    fact = {
        "uuid": "x",
        "relation": "P36",
        "subject_label": "日本",
        "object_label": "東京",
        "template": "[X]の首都は[Y]です。",
    }
    [prompt], _ = build_prompts(tok, XLM_ROBERTA, [fact])
    assert tok.tokenize("東京") == ["▁", "東京"]
    assert prompt.gold_ids == tuple(tok.convert_tokens_to_ids(["東京"])) and prompt.max_masks == 2  # K counts "▁"
    text = f"日本の首都は{tok.mask_token * 2}です。"
    assert prompt.ids(2) == tok(text)["input_ids"] and prompt.ids(2).count(tok.mask_token_id) == 2
