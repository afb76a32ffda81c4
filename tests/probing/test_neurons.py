"""FFN activations at masks: batched and gathered equals one text at a time; hooks are always removed."""

from __future__ import annotations

import pytest
import torch

from probing.hooks import forward_hooks
from probing.models import load_masked_lm
from probing.neurons import mask_activations_of_texts

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
