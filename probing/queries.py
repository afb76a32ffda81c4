"""Masked queries from facts and templates: ``[X]`` → subject, ``[Y]`` → k mask tokens.

K for a (language, relation) is the longest object of that relation in that language, in tokens of
the probed model's tokenizer, as the tokenizer writes the label on its own: with XLM-R that counts the
lone ``▁`` piece SentencePiece writes before a word of a script without spaces (``東京`` → ``▁`` ``東京``),
as the authors' code does (``len(tokenizer.tokenize(obj))``). The comparison ignores that piece on
both sides (full-match), so a prediction ``▁ 東京`` at k = 2 counts; K must let it be tried. The gold
ids themselves drop a leading lone ``▁`` (it is no part of the answer; candidates are scored at that
length).

Each fact is tokenized once, with one mask: the tokenizer cuts its input at special tokens and
tokenizes the pieces apart, so the query with k adjacent masks is exactly those ids with the mask
repeated k times (a test checks this against tokenizing every k).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from probing.families import Family


@dataclass(frozen=True, slots=True)
class Prompt:
    """One fact's query, tokenized once with a single mask; ``ids(k)`` gives the k-mask variant."""

    uuid: str
    relation: str
    base_ids: tuple[int, ...]  # with special tokens and exactly one mask token
    mask_at: int
    gold_ids: tuple[int, ...]
    max_masks: int  # K of its (language, relation)

    def ids(self, n_masks: int) -> list[int]:
        at = self.mask_at
        return [*self.base_ids[:at], *[self.base_ids[at]] * n_masks, *self.base_ids[at + 1 :]]

    def length(self, n_masks: int) -> int:
        return len(self.base_ids) + n_masks - 1


@dataclass(frozen=True, slots=True)
class Unusable:
    """A fact that cannot be probed, and why (written to ``quarantine``)."""

    uuid: str
    relation: str
    reason: str
    detail: str


def gold_ids(tokenizer: Any, family: Family, label: str) -> tuple[int, ...]:
    """The object's ids as the model must predict them (no special tokens, no leading lone marker)."""
    return _strip_marker(tokenizer, family, tokenizer(label, add_special_tokens=False)["input_ids"])


def _strip_marker(tokenizer: Any, family: Family, ids: Sequence[int]) -> tuple[int, ...]:
    if family.bare_marker is not None and len(ids) > 1:
        if ids[0] == tokenizer.convert_tokens_to_ids(family.bare_marker):
            return tuple(ids[1:])
    return tuple(ids)


def masked_text(template: str, subject: str, n_masks: int, mask_token: str) -> str:
    """The template with the subject in and ``n_masks`` of the tokenizer's own mask token, adjacent."""
    return template.replace("[X]", subject).replace("[Y]", mask_token * n_masks)


def build_prompts(
    tokenizer: Any, family: Family, facts: Sequence[dict], max_length: int = 512
) -> tuple[list[Prompt], list[Unusable]]:
    """Prompts for the facts that can be probed, and the rest with a reason; K is set per relation.

    ``facts`` are rows of one language (uuid, relation, subject_label, object_label, template).
    """
    unusable: list[Unusable] = []
    usable = []
    for fact in facts:
        template = fact.get("template")
        if not template or template.count("[Y]") != 1 or "[X]" not in template:
            reason = "no_template" if not template else "bad_template"
            unusable.append(Unusable(fact["uuid"], fact["relation"], reason, f"template {template!r}"))
        else:
            usable.append(fact)
    mask = tokenizer.mask_token
    texts = [masked_text(f["template"], f["subject_label"], 1, mask) for f in usable]
    encoded = tokenizer(texts, add_special_tokens=True)["input_ids"] if texts else []
    objects = tokenizer([f["object_label"] for f in usable], add_special_tokens=False)["input_ids"] if texts else []
    kept: list[tuple[dict, list[int], tuple[int, ...]]] = []
    kept_object_ids: list[list[int]] = []
    for fact, ids, object_ids in zip(usable, encoded, objects, strict=True):
        gold = _strip_marker(tokenizer, family, object_ids)
        problem = _problem(fact, ids, gold, tokenizer.mask_token_id)
        if problem:
            unusable.append(Unusable(fact["uuid"], fact["relation"], *problem))
        else:
            kept.append((fact, ids, gold))
            kept_object_ids.append(object_ids)
    longest: Counter = Counter()
    for (fact, _, _), object_ids in zip(kept, kept_object_ids, strict=True):
        longest[fact["relation"]] = max(longest[fact["relation"]], len(object_ids))
    prompts = []
    for fact, ids, gold in kept:
        k = longest[fact["relation"]]
        if len(ids) + k - 1 > max_length:
            unusable.append(
                Unusable(fact["uuid"], fact["relation"], "too_long", f"{len(ids) + k - 1} tokens > {max_length}")
            )
            continue
        prompts.append(Prompt(fact["uuid"], fact["relation"], tuple(ids), ids.index(tokenizer.mask_token_id), gold, k))
    return prompts, unusable


def _problem(fact: dict, ids: list[int], gold: tuple[int, ...], mask_id: int) -> tuple[str, str] | None:
    if not gold:
        return "empty_object", f"object {fact['object_label']!r} yields no tokens"
    if mask_id in gold:
        return "mask_in_label", f"object {fact['object_label']!r} contains the mask token"
    if ids.count(mask_id) != 1:
        return "mask_in_label", f"subject {fact['subject_label']!r} contains the mask token"
    return None


def candidate_pools(prompts: Sequence[Prompt]) -> dict[str, list[tuple[int, ...]]]:
    """Per relation, its candidates: the distinct gold ids of its facts, sorted (the tie order)."""
    pools: dict[str, set[tuple[int, ...]]] = defaultdict(set)
    for prompt in prompts:
        pools[prompt.relation].add(prompt.gold_ids)
    return {relation: sorted(pool) for relation, pool in sorted(pools.items())}
