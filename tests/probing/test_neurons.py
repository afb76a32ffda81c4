"""FFN activations at masks: batched and gathered equals one text at a time; hooks are always removed."""

from __future__ import annotations

import copy

import pytest
import torch

from probing.hooks import forward_hooks
from probing.models import LoadedModel, load_masked_lm
from probing.neurons import mask_activations_of_texts
from probing.probeless import probeless_top
from probing.random_model import Size, save_random_bert
from tests.helpers import train_wordpiece
from tests.probing.conftest import FIXTURE_TEXT

pytestmark = pytest.mark.probing


def test_batched_activations_equal_one_at_a_time(tiny_bert):
    loaded = load_masked_lm(str(tiny_bert))
    m = loaded.tokenizer.mask_token
    texts = [f"Paris is the capital of {m} .", f"The official language of {m}{m} is French .", f"{m} {m} {m} Tokyo"]
    batched = mask_activations_of_texts(loaded, texts, max_tokens=4096)
    layers, d_ff = loaded.model.config.num_hidden_layers, loaded.model.config.intermediate_size
    assert batched.shape == (3, layers * d_ff)
    for row, text in enumerate(texts):
        ids = loaded.tokenizer(text, return_tensors="pt")["input_ids"]
        masks = ids[0] == loaded.tokenizer.mask_token_id
        per_layer = []
        with torch.inference_mode():
            hidden = loaded.model.base_model.embeddings(input_ids=ids)
            for layer in loaded.model.base_model.encoder.layer:
                attention = layer.attention(hidden)[0]
                inter = layer.intermediate(attention)  # [1, t, d_ff] after the activation
                hidden = layer.output(inter, attention)
                per_layer.append(inter[0][masks].mean(dim=0))
        torch.testing.assert_close(batched[row], torch.cat(per_layer), rtol=1e-4, atol=1e-5)


def test_hooks_are_removed_even_when_the_block_fails(tiny_bert):
    model = load_masked_lm(str(tiny_bert)).model
    path = "bert.encoder.layer.0.intermediate"
    with pytest.raises(RuntimeError), forward_hooks(model, {path: lambda *_: None}):
        raise RuntimeError("boom")
    assert not dict(model.named_modules())[path]._forward_hooks
    with pytest.raises(KeyError, match="no module"), forward_hooks(model, {"nope": lambda *_: None}):
        pass


def test_neurons_are_captured_in_fp32_when_the_model_runs_in_bf16(tmp_path):
    """bf16 simulated on the CPU: the model cast to bf16 (as loading with ``dtype=bf16`` does on CUDA)."""
    tokenizer = tmp_path / "tokenizer.json"
    train_wordpiece(FIXTURE_TEXT, vocab_size=200).save(str(tokenizer))
    directory = save_random_bert(tmp_path / "model", tokenizer, Size(64, 2, 2, 512, 64))
    fp32 = load_masked_lm(str(directory))
    bf16 = LoadedModel(copy.deepcopy(fp32.model).to(torch.bfloat16), fp32.tokenizer, fp32.family, fp32.device,
                       torch.bfloat16, fp32.source)  # fmt: skip
    m = fp32.tokenizer.mask_token
    texts = [f"{line.split(' is ')[0]} is {m} ." for line in FIXTURE_TEXT[:4]]
    texts += [f"{m} is the capital of {country} ." for country in ("France", "Japan", "Germany", "Texas")]
    texts += [f"The official language of {m}{m} is French {n} ." for n in ("a", "b", "c", "d")]

    def top50(loaded, exact):
        ids, _ = probeless_top(mask_activations_of_texts(loaded, texts, exact=exact), 50)
        return [set(row) for row in ids.tolist()]

    reference = mask_activations_of_texts(fp32, texts)
    assert torch.equal(mask_activations_of_texts(bf16, texts), reference)  # the fp32 twin: the same numbers
    assert bf16.fp32_twin is not None and bf16.fp32_twin.dtype == torch.float32
    expected = top50(fp32, True)
    rounded = top50(bf16, exact=False)
    swapped = sum(50 - len(a & b) for a, b in zip(expected, rounded, strict=True))
    print(f"bf16 activations: {sum(a != b for a, b in zip(expected, rounded, strict=True))} of 12 classes "
          f"differ, {swapped} neurons swapped")  # fmt: skip
    assert top50(bf16, exact=True) == expected and swapped > 0
