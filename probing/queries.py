"""Masked queries from facts and templates: ``[X]`` → subject, ``[Y]`` → k mask tokens.

K for a (language, relation) is the longest object of that relation in that language, in tokens of
the probed model's tokenizer. With XLM-R, a lone ``▁`` piece at the start of an object's ids is
dropped before counting and comparing (the authors' code drops the same piece, id 6), because
SentencePiece writes it before a word of a script without spaces when the word stands alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from probing.families import Family


@dataclass(frozen=True, slots=True)
class Query:
    uuid: str
    relation: str
    n_masks: int
    text: str
    gold_ids: tuple[int, ...]


def gold_ids(tokenizer: Any, family: Family, label: str) -> tuple[int, ...]:
    """The object's ids as the model must predict them (no special tokens, no leading lone marker)."""
    ids = tokenizer(label, add_special_tokens=False)["input_ids"]
    if family.bare_marker is not None:
        marker = tokenizer.convert_tokens_to_ids(family.bare_marker)
        if len(ids) > 1 and ids[0] == marker:
            ids = ids[1:]
    return tuple(ids)


def masked_text(template: str, subject: str, n_masks: int, mask_token: str) -> str:
    """The template with the subject in and ``n_masks`` of the tokenizer's own mask token, adjacent."""
    return template.replace("[X]", subject).replace("[Y]", mask_token * n_masks)


def max_masks(tokenizer: Any, family: Family, facts: Sequence[dict]) -> dict[str, int]:
    """K per relation: the longest object, in tokens, among these facts (one language)."""
    longest: dict[str, int] = defaultdict(int)
    for fact in facts:
        longest[fact["relation"]] = max(
            longest[fact["relation"]], len(gold_ids(tokenizer, family, fact["object_label"]))
        )
    return dict(longest)


def build_queries(tokenizer: Any, family: Family, facts: Sequence[dict]) -> list[Query]:
    """Every fact with a template, at every mask count 1..K of its relation."""
    k_of = max_masks(tokenizer, family, facts)
    queries = []
    for fact in facts:
        if not fact.get("template"):
            continue
        gold = gold_ids(tokenizer, family, fact["object_label"])
        for n in range(1, k_of[fact["relation"]] + 1):
            text = masked_text(fact["template"], fact["subject_label"], n, tokenizer.mask_token)
            queries.append(Query(fact["uuid"], fact["relation"], n, text, gold))
    return queries
