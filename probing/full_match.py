"""The paper's ``full-match`` protocol: for k = 1..K one query with k masks, independent argmax per mask;
a fact is correct iff the predicted ids equal the gold ids for some k. With XLM-R the lone ``▁``
piece is removed from predictions and gold before comparing, as the authors' code does."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from probing.masked import mask_logits
from probing.models import LoadedModel
from probing.queries import Query


@dataclass(slots=True)
class FullMatch:
    uuid: str
    relation: str
    n_masks_tried: int
    correct: bool
    matched_masks: int | None  # the k whose prediction equalled the gold ids
    predicted_ids: list[int]  # at the matched k, else at the gold's own length
    predicted_text: str


def without_marker(ids: Sequence[int], marker: int | None) -> list[int]:
    return [i for i in ids if i != marker] if marker is not None else list(ids)


def full_match(loaded: LoadedModel, queries: Sequence[Query], max_tokens: int = 4096) -> list[FullMatch]:
    """One result per fact (queries of the same uuid are its k = 1..K variants)."""
    marker = None
    if loaded.family.bare_marker is not None:
        marker = loaded.tokenizer.convert_tokens_to_ids(loaded.family.bare_marker)
    logits = mask_logits(loaded, [q.text for q in queries], max_tokens)
    by_fact: dict[str, list[tuple[Query, list[int]]]] = defaultdict(list)
    for query, scores in zip(queries, logits, strict=True):
        by_fact[query.uuid].append((query, scores.argmax(dim=-1).tolist()))
    results = []
    for uuid, variants in by_fact.items():
        variants.sort(key=lambda v: v[0].n_masks)
        gold = without_marker(variants[0][0].gold_ids, marker)
        matched = next((q.n_masks for q, pred in variants if without_marker(pred, marker) == gold), None)
        shown_k = matched if matched is not None else min(len(variants[0][0].gold_ids), len(variants))
        predicted = next(pred for q, pred in variants if q.n_masks == shown_k)
        results.append(
            FullMatch(
                uuid=uuid,
                relation=variants[0][0].relation,
                n_masks_tried=len(variants),
                correct=matched is not None,
                matched_masks=matched,
                predicted_ids=predicted,
                predicted_text=loaded.tokenizer.decode(predicted).strip(),
            )
        )
    return results
