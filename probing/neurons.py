"""FFN neuron activations at mask positions: every layer's ``intermediate`` output (after the
activation function), gathered at the masks on the device, averaged over a query's masks, and
flattened across layers as ``layer * d_ff + unit``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from probing.batching import padded_batches
from probing.hooks import forward_hooks
from probing.models import LoadedModel


def mask_activations(loaded: LoadedModel, texts: Sequence[str], max_tokens: int = 4096) -> torch.Tensor:
    """[texts, layers * d_ff] float32 on CPU: the mean FFN activation over each text's mask positions."""
    tok, model = loaded.tokenizer, loaded.model
    layers = model.config.num_hidden_layers
    d_ff = model.config.intermediate_size
    out = torch.zeros((len(texts), layers * d_ff), dtype=torch.float32)
    captured: dict[int, torch.Tensor] = {}
    where: list[torch.Tensor] = []

    def keep(layer: int) -> Callable[[torch.nn.Module, tuple, torch.Tensor], None]:
        def hook(_module: torch.nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            captured[layer] = output[where[0]]  # [masks in batch, d_ff], gathered on the device

        return hook

    paths = {loaded.family.ffn_activation.format(i=i): keep(i) for i in range(layers)}
    with torch.inference_mode(), forward_hooks(model, paths):
        for batch, ids, attention in padded_batches(tok, texts, max_tokens, loaded.device):
            where[:] = [ids == tok.mask_token_id]  # [b, t]
            model.base_model(input_ids=ids, attention_mask=attention)
            stacked = torch.cat([captured[layer] for layer in range(layers)], dim=1)  # [masks, layers * d_ff]
            counts = where[0].sum(dim=1)
            owner = torch.repeat_interleave(torch.arange(len(batch), device=stacked.device), counts)
            sums = torch.zeros((len(batch), stacked.shape[1]), device=stacked.device, dtype=torch.float32)
            sums.index_add_(0, owner, stacked.float())
            means = (sums / counts.clamp(min=1).unsqueeze(1)).cpu()
            out[torch.tensor(batch)] = means
    return out
