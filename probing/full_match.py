"""The paper's ``full-match`` protocol: for k = 1..K one query with k masks, independent argmax per mask;
a fact is correct iff the predicted ids equal the gold ids for some k. With XLM-R the lone ``▁``
piece is removed from predictions and gold before comparing, as the authors' code does.

When several k match (only possible with a ``▁`` among the predictions), the default rules keep the
smallest: the query whose masks hold exactly the object. The authors' code keeps the last (its loop
overwrites the match at every k), which ``--rules fact-cl`` reproduces; the neurons are read at that k.
A WordPiece model (mBERT) can match at one k only, so there the two agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from probing.passes import QueryResults
from probing.queries import Prompt


@dataclass(slots=True)
class FullMatch:
    uuid: str
    relation: str
    n_masks_tried: int
    correct: bool
    matched_masks: int | None  # the k whose prediction equalled the gold ids (smallest, or last under fact-cl)
    predicted_ids: list[int]  # at the matched k, else at the gold's own length


def without_marker(ids: Sequence[int], marker: int | None) -> list[int]:
    return [i for i in ids if i != marker] if marker is not None else list(ids)


def full_match(
    prompts: Sequence[Prompt], results: QueryResults, marker: int | None, last_match: bool = False
) -> list[FullMatch]:
    """One result per prompt, from the argmax ids of its K queries; ``last_match``: keep the largest matching k."""
    out = []
    for p, prompt in enumerate(prompts):
        gold = without_marker(prompt.gold_ids, marker)
        tried = range(prompt.max_masks, 0, -1) if last_match else range(1, prompt.max_masks + 1)
        matched = next((k for k in tried if without_marker(results.predicted[(p, k)], marker) == gold), None)
        shown = matched if matched is not None else len(prompt.gold_ids)
        out.append(
            FullMatch(
                uuid=prompt.uuid,
                relation=prompt.relation,
                n_masks_tried=prompt.max_masks,
                correct=matched is not None,
                matched_masks=matched,
                predicted_ids=results.predicted[(p, shown)],
            )
        )
    return out
