"""The labels of one language's facts, deduplicated into match keys, with the facts that use them.

A *key* is what the matcher looks for: a token-id sequence (``tokens`` mode) or a normalized
string (``text`` mode). Labels that give the same key share one pattern. Labels that would match
almost everywhere, or cannot match at all, are *flagged*; the policy (docs/tracing.md) is that
they are still matched and counted, but the facts using them get ``present = null``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from tracer.matching.scripts import SPACED_WORD, char_class

SUBJECT, OBJECT = "subject", "object"


def label_flag(normalized: str, key_is_empty: bool) -> str | None:
    """Why a label cannot decide presence, or None. Checked on the normalized label."""
    if key_is_empty or not normalized:
        return "no_tokens" if normalized else "empty"
    categories = [unicodedata.category(ch)[0] for ch in normalized if not ch.isspace()]
    if "L" not in categories:
        return "digits_only" if "N" in categories else "punctuation_only"
    if len(normalized) == 1 and char_class(normalized) == SPACED_WORD:
        return "single_char"
    return None


@dataclass(slots=True)
class LabelSet:
    """Unique keys, their flags, and for every fact the index of its subject and object key (-1: none)."""

    keys: list[Hashable]
    key_flags: list[str | None]
    subject: np.ndarray  # [facts] int32
    obj: np.ndarray  # [facts] int32
    uuids: list[str]
    relations: list[str]

    @property
    def fact_count(self) -> int:
        return len(self.uuids)

    def fact_flags(self, fact: int) -> list[str]:
        flags = []
        for role, index in ((SUBJECT, self.subject[fact]), (OBJECT, self.obj[fact])):
            flag = self.key_flags[index] if index >= 0 else "no_tokens"
            if flag:
                flags.append(f"{role}:{flag}")
        return flags


def build_label_set(
    uuids: Sequence[str],
    relations: Sequence[str],
    subjects: Sequence[str],
    objects: Sequence[str],
    keys_of: Callable[[list[str]], list[Hashable]],
    normalize: Callable[[str], str],
) -> LabelSet:
    """Deduplicate labels into keys (sorted, so indices are deterministic) and index every fact."""
    distinct = sorted(set(subjects) | set(objects))
    label_keys = dict(zip(distinct, keys_of(distinct), strict=True))
    flag_of_key: dict[Hashable, str | None] = {}
    for label, key in label_keys.items():
        flag = label_flag(normalize(label), len(key) == 0)
        if key not in flag_of_key or flag_of_key[key] is None:
            flag_of_key[key] = flag
    keys = sorted(flag_of_key, key=_sort_key)
    index = {key: i for i, key in enumerate(keys)}
    return LabelSet(
        keys=keys,
        key_flags=[flag_of_key[k] for k in keys],
        subject=np.array([index[label_keys[s]] for s in subjects], dtype=np.int32),
        obj=np.array([index[label_keys[o]] for o in objects], dtype=np.int32),
        uuids=list(uuids),
        relations=list(relations),
    )


def _sort_key(key: Hashable) -> tuple:
    return (0, key) if isinstance(key, str) else (1, tuple(key))  # type: ignore[arg-type]
