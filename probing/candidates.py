"""mLAMA's typed-querying ``candidates`` protocol: every object of the relation (in that language) is
a candidate; its score is the mean log-probability of its tokens at its own number of masks; the
fact is correct iff the gold object ranks first. Ties rank by the candidates' sorted order, so the
rank is deterministic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from probing.passes import CandidateIndex, QueryResults
from probing.queries import Prompt


@dataclass(slots=True)
class CandidateResult:
    uuid: str
    relation: str
    n_masks_tried: int
    gold_rank: int
    gold_log_prob: float
    correct: bool
    predicted_ids: list[int]  # the best-scoring candidate


def rank_candidates(prompts: Sequence[Prompt], results: QueryResults, index: CandidateIndex) -> list[CandidateResult]:
    """One result per prompt: the gold's rank among its relation's pool, from the scored queries."""
    positions = {rel: {c: i for i, c in enumerate(pool)} for rel, pool in index.pools.items()}
    out = []
    for p, prompt in enumerate(prompts):
        pool = index.pools[prompt.relation]
        scores = np.full(len(pool), -np.inf)
        for k in range(1, prompt.max_masks + 1):
            same = index.by_length.get((prompt.relation, k))
            if same is not None:
                scores[same.pool_indices] = results.scores[(p, k)]
        gold = positions[prompt.relation][prompt.gold_ids]
        g = scores[gold]
        rank = int((scores > g).sum() + (scores[:gold] == g).sum())
        out.append(
            CandidateResult(
                uuid=prompt.uuid,
                relation=prompt.relation,
                n_masks_tried=prompt.max_masks,
                gold_rank=rank,
                gold_log_prob=float(g),
                correct=rank == 0,
                predicted_ids=list(pool[int(np.argmax(scores))]),
            )
        )
    return out
