"""LRP2's layer search: the predictions of every pair ``i < j`` of one language's queries, sharing what pairs
share instead of probing each pair from scratch.

Per batch of queries: one plain forward pass gives every layer's hidden states (and the baseline's
predictions). For each ``i``, LIRP is added to ``hidden_states[i]`` and the layers after ``i`` run once;
for each ``j > i`` LSRP is added to that path's state after layer ``j`` and only the layers after ``j``
run, then the LM head at the masks. With L layers that is ``L + Σ(L − i) + Σ_{i<j}(L − j)`` layer passes
instead of ``L`` per pair: 298 instead of 792 for 12 layers (2.66×). The embeddings, the tokenization
and batching, and the LM head at mask positions only are shared as well. The layers are called with the
arguments the model itself gave them in the plain pass (captured by a pre-hook), so the padding mask and
the attention implementation are the model's own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import torch

from probing.batching import padded, token_batches
from probing.lrp2 import Projection
from probing.models import LoadedModel
from probing.passes import QueryResults, query_units, reduce_masks
from probing.queries import Prompt

Pair = tuple[int, int]


def all_pairs(layers: int) -> list[Pair]:
    """Every ``(i, j)`` with ``1 <= i < j <= layers``: 66 for 12 layers."""
    return [(i, j) for i in range(1, layers + 1) for j in range(i + 1, layers + 1)]


def layer_passes(layers: int, pairs: Sequence[Pair]) -> int:
    """Encoder layer evaluations per batch: the plain pass, one LIRP path per ``i``, one tail per pair."""
    return layers + sum(layers - i for i in {i for i, _ in pairs}) + sum(layers - j for _, j in pairs)


def _plain_pass(loaded: LoadedModel, ids: torch.Tensor, attention: torch.Tensor):
    """Every layer's hidden states, and a function that runs encoder layer ``k`` (1-based) on new states with
    the other arguments the model passed it."""
    base = loaded.model.base_model
    layers = base.encoder.layer
    captured: dict[int, tuple[tuple, dict]] = {}

    def keep(k: int) -> Callable:
        def hook(_module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
            captured[k] = (args[1:], {key: v for key, v in kwargs.items() if key != "hidden_states"})

        return hook

    handles = [layer.register_forward_pre_hook(keep(k), with_kwargs=True) for k, layer in enumerate(layers, 1)]
    try:
        states = base(input_ids=ids, attention_mask=attention, output_hidden_states=True).hidden_states
    finally:
        for handle in handles:
            handle.remove()

    def run_layer(k: int, hidden: torch.Tensor) -> torch.Tensor:
        args, kwargs = captured[k]
        out = layers[k - 1](hidden, *args, **kwargs)
        return out[0] if isinstance(out, tuple) else out

    return states, run_layer


def grid_predictions(
    loaded: LoadedModel,
    prompts: Sequence[Prompt],
    lirp: dict[int, torch.Tensor],
    lsrp: dict[int, torch.Tensor],
    pairs: Sequence[Pair],
    max_tokens: int = 4096,
) -> tuple[QueryResults, dict[Pair, QueryResults]]:
    """The baseline's and every pair's argmax ids at the masks of every (prompt, k) query. ``lirp[i]`` and
    ``lsrp[j]`` are the shifts (``v_en^i − v_l^i``, ``v_l^j − v_en^j``) for this language."""
    layers = loaded.model.config.num_hidden_layers
    for i, j in pairs:
        Projection(i, j).check(layers)
    units = query_units(prompts)
    lengths = [prompts[p].length(k) for p, k in units]
    baseline = QueryResults(queries=len(units), tokens=sum(lengths))
    results = {pair: QueryResults(queries=len(units), tokens=sum(lengths)) for pair in pairs}
    mask, pad = loaded.tokenizer.mask_token_id, loaded.tokenizer.pad_token_id
    by_start: dict[int, list[int]] = {}
    for i, j in pairs:
        by_start.setdefault(i, []).append(j)
    with torch.inference_mode():
        for batch in token_batches(lengths, max_tokens):
            members = [units[n] for n in batch]
            ids, attention = padded([prompts[p].ids(k) for p, k in members], pad, loaded.device)
            at_masks = ids == mask
            states, run_layer = _plain_pass(loaded, ids, attention)
            reduce_masks(loaded, states[layers][at_masks], members, prompts, None, baseline)
            for i, ends in sorted(by_start.items()):
                path = {i: states[i] + lirp[i].to(states[i].dtype)}
                for k in range(i + 1, layers + 1):
                    path[k] = run_layer(k, path[k - 1])
                for j in sorted(ends):
                    hidden = path[j] + lsrp[j].to(path[j].dtype)
                    for k in range(j + 1, layers + 1):
                        hidden = run_layer(k, hidden)
                    reduce_masks(loaded, hidden[at_masks], members, prompts, None, results[(i, j)])
    return baseline, results


def split_of(uuid: str) -> str:
    """``dev`` or ``test``: half of the facts each, by a hash of the uuid, the same in every language."""
    return "dev" if hashlib.sha1(f"lrp2-split:{uuid}".encode()).digest()[0] < 128 else "test"


def shifts_for(vectors: dict[str, torch.Tensor], lang: str, english: str = "en") -> tuple[dict, dict]:
    """The LIRP and LSRP shift of ``lang`` at every layer, from ``[layers + 1, hidden]`` language vectors."""
    en, own = vectors[english].float(), vectors[lang].float()
    layers = en.shape[0] - 1
    return (
        {i: en[i] - own[i] for i in range(1, layers + 1)},
        {j: own[j] - en[j] for j in range(1, layers + 1)},
    )
