"""PROBELESS neuron ranking (Antverg & Belinkov 2022), exact and vectorized.

For classes z with mean activations q(z) (here: one class per correctly predicted fact, so q(z) is
that fact's activation vector), neuron d scores r_z[d] = mean over z' ≠ z of |q(z)[d] − q(z')[d]|.
Per neuron, sorting the N values and taking prefix sums gives every class's sum of absolute
differences in O(N log N) instead of the O(N²) pairs. Runs in float64 on whatever device ``q``
is on, a block of neurons at a time, keeping only each block's best ``k``.
"""

from __future__ import annotations

import torch

TOP_K = 50


def probeless_scores(q: torch.Tensor) -> torch.Tensor:
    """``q``: [classes, neurons] → r: [classes, neurons] float64, r[z, d] = mean_{z'≠z} |q[z, d] − q[z', d]|."""
    n = q.shape[0]
    values = q.to(torch.float64)
    if n < 2:
        return torch.zeros_like(values)
    ranked, order = torch.sort(values, dim=0, stable=True)  # [n, d]
    prefix = torch.cumsum(ranked, dim=0)
    total = prefix[-1]
    k = torch.arange(n, device=q.device, dtype=torch.float64)[:, None]
    below = ranked * k - (prefix - ranked)  # sum over smaller values of (v - u)
    above = (total - prefix) - ranked * (n - 1 - k)  # sum over larger values of (u - v)
    sums = torch.empty_like(values).scatter_(0, order, below + above)
    return sums / (n - 1)


def top_neurons(scores: torch.Tensor, k: int = TOP_K) -> tuple[torch.Tensor, torch.Tensor]:
    """Per class, the ``k`` best neurons (highest score; ties to the lower index) and their scores."""
    k = min(k, scores.shape[1])
    ordered, order = torch.sort(scores, dim=1, descending=True, stable=True)
    return order[:, :k], ordered[:, :k]


def probeless_top(q: torch.Tensor, k: int = TOP_K, block: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` neuron ids (int64) and scores (float64) per class, ``block`` neurons at a time.

    Each block's candidates are already in (score desc, index asc) order and blocks come in index
    order, so a stable sort of their concatenation keeps ties on the lower index, as one sort would.
    """
    ids, scores = [], []
    for start in range(0, q.shape[1], block):
        part_ids, part_scores = top_neurons(probeless_scores(q[:, start : start + block]), k)
        ids.append(part_ids + start)
        scores.append(part_scores)
    merged_ids, merged_scores = torch.cat(ids, dim=1), torch.cat(scores, dim=1)
    best, order = torch.sort(merged_scores, dim=1, descending=True, stable=True)
    return torch.gather(merged_ids, 1, order[:, :k]), best[:, :k]
