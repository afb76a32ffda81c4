"""FFN neuron activations at mask positions: every layer's ``intermediate`` output (after the
activation function), gathered at the masks on the device, averaged over a query's masks, and
flattened across layers as ``layer * d_ff + unit``.

The activations that feed PROBELESS are computed in fp32 even when probing runs in bf16 or fp16 (CUDA):
the neuron pass, a small second pass over one query per correct fact, runs on the model's weights
loaded in fp32. bf16 rounds the weights and every activation, and that swaps near-tied neurons in
the top 50 (docs/probing.md gives the measured effect). ``exact=False`` reads them from the model as
loaded instead, saving the fp32 copy's memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from probing.batching import padded_batches
from probing.hooks import forward_hooks
from probing.models import LoadedModel, in_fp32


def mask_activations(
    loaded: LoadedModel, id_lists: Sequence[Sequence[int]], max_tokens: int = 4096, exact: bool = True
) -> torch.Tensor:
    """``[queries, layers * d_ff]`` float32 on the model's device: mean FFN activation over each query's masks,
    computed in fp32 (``exact``) or in the model's own dtype."""
    if exact:
        loaded = in_fp32(loaded)
    tok, model = loaded.tokenizer, loaded.model
    layers = model.config.num_hidden_layers
    d_ff = model.config.intermediate_size
    out = torch.zeros((len(id_lists), layers * d_ff), dtype=torch.float32, device=loaded.device)
    captured: dict[int, torch.Tensor] = {}
    where: list[torch.Tensor] = []

    def keep(layer: int) -> Callable[[torch.nn.Module, tuple, torch.Tensor], None]:
        def hook(_module: torch.nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            captured[layer] = output[where[0]]  # [masks in batch, d_ff], gathered on the device

        return hook

    paths = {loaded.family.ffn_activation.format(i=i): keep(i) for i in range(layers)}
    with torch.inference_mode(), forward_hooks(model, paths):
        for batch, ids, attention in padded_batches(id_lists, tok.pad_token_id, max_tokens, loaded.device):
            where[:] = [ids == tok.mask_token_id]  # [b, t]
            model.base_model(input_ids=ids, attention_mask=attention)
            stacked = torch.cat([captured[layer] for layer in range(layers)], dim=1)  # [masks, layers * d_ff]
            counts = where[0].sum(dim=1)
            owner = torch.repeat_interleave(torch.arange(len(batch), device=stacked.device), counts)
            sums = torch.zeros((len(batch), stacked.shape[1]), device=stacked.device, dtype=torch.float32)
            sums.index_add_(0, owner, stacked.float())
            out[torch.tensor(batch, device=out.device)] = sums / counts.clamp(min=1).unsqueeze(1)
    return out


def mask_activations_of_texts(
    loaded: LoadedModel, texts: Sequence[str], max_tokens: int = 4096, exact: bool = True
) -> torch.Tensor:
    """As :func:`mask_activations`, tokenizing ``texts`` first (tests and one-off use)."""
    return mask_activations(loaded, loaded.tokenizer(list(texts))["input_ids"], max_tokens, exact)
