"""LRP2's hooks and language vectors on the tiny random BERT and XLM-R: the projections add exactly Δ after
layers i and j and nowhere else (checked against a layer-by-layer forward), equal vectors change nothing
bit for bit, a mixed-language batch shifts each example by its own language, and the vectors equal a naive
per-sentence loop."""

from __future__ import annotations

import pytest
import torch

from probing.lrp2 import ENGLISH, Pooling, Projection, Shifts, language_vectors, projected
from probing.masked import logits_at_masks
from probing.models import LoadedModel, load_masked_lm

SENTENCES = ["Paris is the capital of France .", "Tokyo is the capital of Japan .", "Berlin is in Germany ."]


@pytest.fixture(scope="module", params=["bert", "xlmr"])
def loaded(request, tiny_bert, tiny_xlmr) -> LoadedModel:
    return load_masked_lm(str(tiny_bert if request.param == "bert" else tiny_xlmr), "cpu")


def _ids(loaded: LoadedModel, texts: list[str]) -> list[list[int]]:
    return loaded.tokenizer(texts)["input_ids"]


def _vectors(loaded: LoadedModel, seed: int) -> torch.Tensor:
    config = loaded.model.config
    return torch.randn(config.num_hidden_layers + 1, config.hidden_size, generator=torch.Generator().manual_seed(seed))


def _layer_by_layer(loaded: LoadedModel, ids: torch.Tensor, deltas: dict[int, torch.Tensor]) -> list[torch.Tensor]:
    """Embeddings, then each encoder layer called by hand, ``deltas[k]`` added after layer k."""
    base = loaded.model.base_model
    hidden = base.embeddings(input_ids=ids)
    states = [hidden]
    for k, layer in enumerate(base.encoder.layer, start=1):
        out = layer(hidden)
        hidden = out[0] if isinstance(out, tuple) else out
        if k in deltas:
            hidden = hidden + deltas[k].unsqueeze(1)
        states.append(hidden)
    return states


def test_the_projections_add_exactly_delta_after_layers_i_and_j(loaded):
    layers = loaded.model.config.num_hidden_layers
    assert layers == 2
    vectors = {ENGLISH: _vectors(loaded, 0), "xx": _vectors(loaded, 1)}
    shifts = Shifts(vectors, Projection(1, 2), loaded.device)
    ids = torch.tensor(_ids(loaded, ["Paris is the capital of France ."]))
    with torch.inference_mode():
        with projected(loaded, shifts):
            shifts.set(["xx"])
            hooked = loaded.model.base_model(input_ids=ids, output_hidden_states=True).hidden_states
        plain = loaded.model.base_model(input_ids=ids, output_hidden_states=True).hidden_states
        lirp = vectors[ENGLISH][1] - vectors["xx"][1]
        lsrp = vectors["xx"][2] - vectors[ENGLISH][2]
        manual = _layer_by_layer(loaded, ids, {1: lirp.unsqueeze(0), 2: lsrp.unsqueeze(0)})
    assert torch.equal(hooked[0], plain[0])  # nothing before layer i
    assert torch.equal(hooked[1], plain[1] + lirp)  # exactly Δ after layer i
    for got, want in zip(hooked, manual, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(hooked[2], plain[2])


def test_equal_language_vectors_change_no_prediction_bit_for_bit(loaded):
    same = _vectors(loaded, 3)
    shifts = Shifts({ENGLISH: same, "xx": same.clone()}, Projection(1, 2), loaded.device)
    mask = loaded.tokenizer.mask_token
    ids = torch.tensor(_ids(loaded, [f"Paris is the capital of {mask} .", f"Tokyo is the capital of {mask} ."]))
    attention = torch.ones_like(ids)
    with torch.inference_mode():
        plain = logits_at_masks(loaded, ids, attention)
        with projected(loaded, shifts):
            shifts.set(["xx", "xx"])
            shifted = logits_at_masks(loaded, ids, attention)
    assert torch.equal(plain, shifted)


def test_a_mixed_batch_shifts_each_example_by_its_own_language(loaded):
    vectors = {ENGLISH: _vectors(loaded, 4), "xx": _vectors(loaded, 5)}
    shifts = Shifts(vectors, Projection(1, 2), loaded.device)
    ids = torch.tensor(_ids(loaded, [SENTENCES[0], SENTENCES[0]]))
    with torch.inference_mode(), projected(loaded, shifts):
        shifts.set([ENGLISH, "xx"])
        both = loaded.model.base_model(input_ids=ids).last_hidden_state
        shifts.set(["xx"])
        alone = loaded.model.base_model(input_ids=ids[1:]).last_hidden_state
    plain = loaded.model.base_model(input_ids=ids[:1]).last_hidden_state
    torch.testing.assert_close(both[0], plain[0], rtol=1e-5, atol=1e-5)  # English is untouched
    torch.testing.assert_close(both[1], alone[0], rtol=1e-5, atol=1e-5)


def test_language_vectors_equal_a_naive_per_sentence_loop(loaded):
    id_lists = _ids(loaded, SENTENCES)
    for pooling in (Pooling(), Pooling(special_tokens=True)):
        got, tokens = language_vectors(loaded, id_lists, pooling, max_tokens=32)  # several padded batches
        special = set(loaded.tokenizer.all_special_ids)
        means, pooled = [], 0
        with torch.inference_mode():
            for ids in id_lists:
                states = loaded.model.base_model(input_ids=torch.tensor([ids]), output_hidden_states=True)
                keep = [n for n, t in enumerate(ids) if pooling.special_tokens or t not in special]
                pooled += len(keep)
                means.append(torch.stack([h[0, keep].double().mean(dim=0) for h in states.hidden_states]))
        torch.testing.assert_close(got, torch.stack(means).mean(dim=0), rtol=1e-5, atol=1e-6)
        assert tokens == pooled
        assert got.shape == (loaded.model.config.num_hidden_layers + 1, loaded.model.config.hidden_size)


def test_bad_layers_and_missing_vectors_are_clear_errors(loaded):
    with pytest.raises(ValueError, match=r"need 1 <= i < j <= 2"):
        Projection(2, 2).check(2)
    with pytest.raises(ValueError, match=r"need 1 <= i < j <= 2"):
        Projection(1, 3).check(2)
    with pytest.raises(ValueError, match="needs English language vectors"):
        Shifts({"xx": _vectors(loaded, 0)}, Projection(1, 2), loaded.device)
    shifts = Shifts({ENGLISH: _vectors(loaded, 0)}, Projection(1, 2), loaded.device)
    with pytest.raises(ValueError, match="no language vectors for yy"):
        shifts.set(["yy"])
