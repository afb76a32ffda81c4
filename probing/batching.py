"""Batches by tokens: queries sorted by length, cut so that each batch pads to a similar size.

Sorting puts queries of equal length together (little padding); the token budget keeps batch memory
flat whether queries are short or long; lengths pad to a multiple of 8 for the tensor cores.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
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


def padded(rows: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(input ids, attention mask) for id lists, right-padded to a multiple of 8, on ``device``."""
    width = pad_to(max(len(r) for r in rows))
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    attention = np.zeros((len(rows), width), dtype=np.int64)
    for n, row in enumerate(rows):
        ids[n, : len(row)] = row
        attention[n, : len(row)] = 1
    return torch.from_numpy(ids).to(device), torch.from_numpy(attention).to(device)


def padded_batches(
    id_lists: Sequence[Sequence[int]], pad_id: int, max_tokens: int, device: torch.device
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """(indices into ``id_lists``, input ids, attention mask) per batch, padded, on ``device``."""
    for batch in token_batches([len(ids) for ids in id_lists], max_tokens):
        yield (batch, *padded([id_lists[i] for i in batch], pad_id, device))
