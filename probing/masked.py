"""Forward passes that apply the LM head only at mask positions.

The vocabulary projection at every position costs more than the encoder (250k × hidden per token for
XLM-R); masked-LM probing only needs it where ``[MASK]`` is. So the base model runs on the batch,
the hidden states at mask positions are gathered on the device, and only those go through the head.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from probing.batching import padded_batches
from probing.models import LoadedModel


def hidden_at_masks(loaded: LoadedModel, ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """``[masks in batch, hidden]`` last hidden states at the masks, in row-major (row, position) order."""
    hidden = loaded.model.base_model(input_ids=ids, attention_mask=attention).last_hidden_state  # [b, t, h]
    return hidden[ids == loaded.tokenizer.mask_token_id]


def lm_head(loaded: LoadedModel, hidden: torch.Tensor) -> torch.Tensor:
    """The model's own LM head (transform and vocabulary projection) on some hidden states."""
    return getattr(loaded.model, loaded.family.lm_head)(hidden)


def logits_at_masks(loaded: LoadedModel, ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """``[masks in batch, vocab]`` logits on the device, masks in row-major (row, position) order."""
    return lm_head(loaded, hidden_at_masks(loaded, ids, attention))


def mask_logits(loaded: LoadedModel, texts: Sequence[str], max_tokens: int = 4096) -> list[torch.Tensor]:
    """For each text, the logits at its mask positions, in order: ``[n_masks, vocab]`` float32 on CPU."""
    tok = loaded.tokenizer
    encoded = tok(list(texts), add_special_tokens=True)["input_ids"]
    out: list[torch.Tensor | None] = [None] * len(texts)
    with torch.inference_mode():
        for batch, ids, attention in padded_batches(encoded, tok.pad_token_id, max_tokens, loaded.device):
            logits = logits_at_masks(loaded, ids, attention).float().cpu()
            counts = (ids == tok.mask_token_id).sum(dim=1).tolist()
            for i, part in zip(batch, torch.split(logits, counts), strict=True):
                out[i] = part
    return out  # type: ignore[return-value]
