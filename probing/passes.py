"""The forward passes of a probing run: every (fact, k) query once, in token batches.

Each batch is reduced on the device to what the protocols need: the argmax id at every mask and,
for the candidates protocol, the mean log-probability of each of the relation's k-token candidates
at the query with k masks. Only these small arrays leave the device; no ``[masks, vocab]`` tensor
is ever copied to the host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from probing.batching import padded, token_batches
from probing.masked import hidden_at_masks, lm_head
from probing.models import LoadedModel
from probing.queries import Prompt


@dataclass(frozen=True, slots=True)
class SameLength:
    """The candidates of one relation with k tokens, laid out for one gather per query."""

    pool_indices: np.ndarray  # [n] positions in the relation's pool
    tokens: np.ndarray  # [n * k] candidate ids, candidate after candidate
    rows: np.ndarray  # [n * k] mask offset of each id (0..k-1, repeated)
    slots: np.ndarray  # [n * k] candidate number of each id (0..n-1, each k times)


@dataclass
class CandidateIndex:
    """Per relation its pool (sorted distinct gold ids), split by length for the batched gather."""

    pools: dict[str, list[tuple[int, ...]]]
    by_length: dict[tuple[str, int], SameLength] = field(default_factory=dict)

    @classmethod
    def build(cls, pools: dict[str, list[tuple[int, ...]]]) -> CandidateIndex:
        index = cls(pools)
        for relation, pool in pools.items():
            for k in sorted({len(c) for c in pool}):
                where = np.array([i for i, c in enumerate(pool) if len(c) == k], dtype=np.int64)
                n = len(where)
                index.by_length[(relation, k)] = SameLength(
                    pool_indices=where,
                    tokens=np.array([t for i in where for t in pool[i]], dtype=np.int64),
                    rows=np.tile(np.arange(k, dtype=np.int64), n),
                    slots=np.repeat(np.arange(n, dtype=np.int64), k),
                )
        return index


@dataclass
class QueryResults:
    """Per (prompt number, k): the argmax ids at its masks, and its candidates' mean log-probs."""

    predicted: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    scores: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    queries: int = 0
    tokens: int = 0


def query_units(prompts: Sequence[Prompt]) -> list[tuple[int, int]]:
    """Every (prompt number, k) for k = 1..K of its relation."""
    return [(p, k) for p, prompt in enumerate(prompts) for k in range(1, prompt.max_masks + 1)]


def run_queries(
    loaded: LoadedModel,
    prompts: Sequence[Prompt],
    index: CandidateIndex | None = None,
    max_tokens: int = 4096,
    progress: Callable[[int], None] | None = None,
) -> QueryResults:
    """One forward pass over every query; ``index`` turns on candidate scoring."""
    units = query_units(prompts)
    lengths = [prompts[p].length(k) for p, k in units]
    results = QueryResults(queries=len(units), tokens=sum(lengths))
    pad = loaded.tokenizer.pad_token_id
    with torch.inference_mode():
        for batch in token_batches(lengths, max_tokens):
            members = [units[i] for i in batch]
            ids, attention = padded([prompts[p].ids(k) for p, k in members], pad, loaded.device)
            hidden = hidden_at_masks(loaded, ids, attention)  # [sum of k, hidden], query after query
            reduce_masks(loaded, hidden, members, prompts, index, results)
            if progress is not None:
                progress(len(batch))
    return results


def reduce_masks(
    loaded: LoadedModel,
    hidden: torch.Tensor,
    members: list[tuple[int, int]],
    prompts: Sequence[Prompt],
    index: CandidateIndex | None,
    results: QueryResults,
) -> None:
    """The LM head on a batch's mask states (query after query), in groups that bound the logits' memory."""
    vocab = loaded.model.config.vocab_size
    for group, rows in _head_groups(members, head_budget(loaded.device) // vocab):
        _reduce(loaded, hidden[rows], members[group], prompts, index, results)


def head_budget(device: torch.device) -> int:
    """Logit elements per head call: small on CPU (stays in cache, no huge allocations), large on GPU."""
    return (1 << 27) if device.type == "cuda" else (1 << 22)


def _head_groups(members: list[tuple[int, int]], max_masks: int) -> list[tuple[slice, slice]]:
    """Consecutive runs of queries with at most ``max_masks`` masks in all (at least one query each):
    (the queries, their mask rows)."""
    groups, start, first, row = [], 0, 0, 0
    for i, (_, k) in enumerate(members):
        if i > start and row + k - first > max_masks:
            groups.append((slice(start, i), slice(first, row)))
            start, first = i, row
        row += k
    groups.append((slice(start, len(members)), slice(first, row)))
    return groups


def _reduce(
    loaded: LoadedModel,
    hidden: torch.Tensor,
    members: list[tuple[int, int]],
    prompts: Sequence[Prompt],
    index: CandidateIndex | None,
    results: QueryResults,
) -> None:
    """The LM head on these queries' masks, reduced to argmax ids and candidate scores."""
    logits = lm_head(loaded, hidden)  # [sum of k, vocab]
    offsets = np.cumsum([0] + [k for _, k in members])
    top = row_argmax(logits)
    for (p, k), start in zip(members, offsets[:-1], strict=False):
        results.predicted[(p, k)] = top[start : start + k]
    if index is not None:
        results.scores.update(_candidate_scores(logits, members, offsets, prompts, index))


def row_argmax(logits: torch.Tensor) -> list[int]:
    """First index of each row's maximum. On CPU through NumPy, whose vectorized argmax is ~5× torch's
    there; both return the first maximum, so the result is the same."""
    if logits.device.type == "cpu" and logits.dtype == torch.float32:
        return logits.numpy().argmax(axis=-1).tolist()
    return logits.argmax(dim=-1).tolist()


def row_logsumexp(logits: torch.Tensor) -> torch.Tensor:
    """log Σ exp per row, in float32. Overwrites ``logits`` when it is float32 (saves a copy on CPU)."""
    if logits.dtype != torch.float32:
        return torch.logsumexp(logits.float(), dim=-1)
    top = logits.amax(dim=-1, keepdim=True)
    return logits.sub_(top).exp_().sum(dim=-1).log_() + top.squeeze(-1)


def _candidate_scores(
    logits: torch.Tensor,
    members: list[tuple[int, int]],
    offsets: np.ndarray,
    prompts: Sequence[Prompt],
    index: CandidateIndex,
) -> dict[tuple[int, int], np.ndarray]:
    """Mean log-prob of every same-length candidate of every query in the batch, by one gather."""
    rows, tokens, slots, counts, ks = [], [], [], [], []
    used = 0
    for (p, k), start in zip(members, offsets[:-1], strict=False):
        same = index.by_length.get((prompts[p].relation, k))
        n = 0 if same is None else len(same.pool_indices)
        counts.append(n)
        if n:
            rows.append(same.rows + start)
            tokens.append(same.tokens)
            slots.append(same.slots + used)
            ks.append(np.full(n, k))
            used += n
    if not used:
        return {unit: np.empty(0, dtype=np.float32) for unit in members}
    device = logits.device
    at_rows = torch.from_numpy(np.concatenate(rows)).to(device)
    picked = logits[at_rows, torch.from_numpy(np.concatenate(tokens)).to(device)].float()
    picked -= row_logsumexp(logits)[at_rows]  # logits are spent after this
    sums = torch.zeros(used, dtype=torch.float32, device=device)
    sums.index_add_(0, torch.from_numpy(np.concatenate(slots)).to(device), picked)
    means = (sums / torch.from_numpy(np.concatenate(ks)).to(device)).cpu().numpy()
    return dict(zip(members, np.split(means, np.cumsum(counts)[:-1]), strict=True))
