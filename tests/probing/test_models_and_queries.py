"""Model loading (local, safetensors only, clear errors) and masked-query building."""

from __future__ import annotations

import shutil

import pytest

from probing.families import BERT, XLM_ROBERTA
from probing.models import load_masked_lm, select_device
from probing.queries import build_queries, gold_ids, max_masks
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
    k = max_masks(tok, BERT, FACTS[:2])
    assert k == {"P36": len(gold_ids(tok, BERT, "Tokyo Paris"))} and k["P36"] >= 2
    queries = build_queries(tok, BERT, FACTS)
    assert {q.uuid for q in queries} == {"a", "b"}  # no template: not probed
    assert [q.n_masks for q in queries if q.uuid == "a"] == list(range(1, k["P36"] + 1))
    for q in queries:
        ids = tok(q.text)["input_ids"]
        assert ids.count(tok.mask_token_id) == q.n_masks


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
    [query] = build_queries(tok, XLM_ROBERTA, [fact])
    assert tok(query.text)["input_ids"].count(tok.mask_token_id) == 1
