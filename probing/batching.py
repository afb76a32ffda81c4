"""Batches by tokens: queries sorted by length, cut so that each batch pads to a similar size.

Sorting puts queries of equal length together (little padding); the token budget keeps batch memory
flat whether queries are short or long; lengths pad to a multiple of 8 for the tensor cores.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch


def pad_to(length: int, multiple: int = 8) -> int:
    return -(-length // multiple) * multiple


def token_batches(lengths: Sequence[int], max_tokens: int = 4096, multiple: int = 8) -> Iterator[list[int]]:
    """Index lists into ``lengths``: longest first, each batch at most ``max_tokens`` padded tokens."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batch: list[int] = []
    width = 0
    for i in order:
        padded = pad_to(lengths[i], multiple)
        if batch and max(width, padded) * (len(batch) + 1) > max_tokens:
            yield batch
            batch, width = [], 0
        batch.append(i)
        width = max(width, padded)
    if batch:
        yield batch


def padded_batches(
    tokenizer: Any, texts: Sequence[str], max_tokens: int, device: torch.device
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """(indices into ``texts``, input ids, attention mask) per batch, tokenized once, padded, on ``device``."""
    encoded = tokenizer(list(texts), add_special_tokens=True)["input_ids"]
    for batch in token_batches([len(ids) for ids in encoded], max_tokens):
        width = pad_to(max(len(encoded[i]) for i in batch))
        ids = torch.full((len(batch), width), tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
            attention[row, : len(encoded[i])] = 1
        yield batch, ids.to(device), attention.to(device)
