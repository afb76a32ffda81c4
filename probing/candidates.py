"""mLAMA's typed-querying ``candidates`` protocol: every object of the relation (in that language) is
a candidate; its score is the mean log-probability of its tokens at its own number of masks; the
fact is correct iff the gold object ranks first. Ties rank by the candidates' sorted order, so the
rank is deterministic."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from probing.masked import mask_logits
from probing.models import LoadedModel
from probing.queries import Query


@dataclass(slots=True)
class CandidateResult:
    uuid: str
    relation: str
    gold_rank: int
    gold_log_prob: float
    correct: bool
    top_ids: list[int]


def candidates(loaded: LoadedModel, queries: Sequence[Query], max_tokens: int = 4096) -> list[CandidateResult]:
    """One result per fact; the candidate set of a relation is the distinct gold ids of its queries."""
    logits = mask_logits(loaded, [q.text for q in queries], max_tokens)
    per_fact: dict[str, dict[int, torch.Tensor]] = defaultdict(dict)
    first: dict[str, Query] = {}
    for query, scores in zip(queries, logits, strict=True):
        per_fact[query.uuid][query.n_masks] = torch.log_softmax(scores.float(), dim=-1)  # [n, vocab]
        first.setdefault(query.uuid, query)
    pools: dict[str, set[tuple[int, ...]]] = defaultdict(set)
    for query in first.values():
        if query.gold_ids:
            pools[query.relation].add(query.gold_ids)
    ordered = {relation: sorted(pool) for relation, pool in pools.items()}
    results = []
    for uuid, log_probs in per_fact.items():
        query = first[uuid]
        pool = ordered.get(query.relation, [])
        scores = torch.tensor([_score(log_probs, c) for c in pool])
        gold = pool.index(query.gold_ids) if query.gold_ids in pool else -1
        if gold < 0 or len(scores) == 0:
            continue
        better = int((scores > scores[gold]).sum()) + int((scores[:gold] == scores[gold]).sum())
        results.append(
            CandidateResult(
                uuid=uuid,
                relation=query.relation,
                gold_rank=better,
                gold_log_prob=float(scores[gold]),
                correct=better == 0,
                top_ids=list(pool[int(torch.argmax(scores))]),
            )
        )
    return results


def _score(log_probs: dict[int, torch.Tensor], candidate: tuple[int, ...]) -> float:
    """Mean log-prob of the candidate's tokens at its own mask count (-inf when no query has that many)."""
    at = log_probs.get(len(candidate))
    if at is None:
        return float("-inf")
    return float(at[torch.arange(len(candidate)), torch.tensor(candidate)].mean())
