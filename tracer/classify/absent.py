"""Why a correct fact the corpus never showed could still be predicted: the absent-type rules.

The first rule that applies wins (Zhao et al. 2024, section 5):

1. ``object_in_subject``: the object is a substring of the subject after lowercasing (Chinese: both
   converted to simplified characters, not lowercased), e.g. *Split Airport* / *Split*.
2. ``shared_token``: subject and object share a subword token of the model's tokenizer. Tokens that
   carry no letter or digit (a bare ``▁``, punctuation) do not count.
3. ``naming_cue``: the relation names the object in the subject's usual context (country,
   citizenship, languages spoken, religion, native language).
4. ``other``.

The first two together are "shared entity tokens".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tracer.matching.normalize import CHINESE, to_simplified

OBJECT_IN_SUBJECT = "object_in_subject"
SHARED_TOKEN = "shared_token"
NAMING_CUE = "naming_cue"
OTHER = "other"
ABSENT_TYPES = (OBJECT_IN_SUBJECT, SHARED_TOKEN, NAMING_CUE, OTHER)
GROUPS = {
    OBJECT_IN_SUBJECT: "shared_entity_tokens",
    SHARED_TOKEN: "shared_entity_tokens",
    NAMING_CUE: "naming_cue",
    OTHER: "other",
}
NAMING_CUE_RELATIONS = ("P17", "P27", "P1412", "P140", "P103")

Tokenize = Callable[[str], list[str]]


def object_in_subject(subject: str, obj: str, lang: str) -> bool:
    """Rule 1; an empty object never counts."""
    if lang in CHINESE:
        subject, obj = to_simplified(subject), to_simplified(obj)
    else:
        subject, obj = subject.lower(), obj.lower()
    return bool(obj) and obj in subject


def _content_tokens(tokens: Iterable[str]) -> set[str]:
    """Tokens with at least one letter or digit, as the tokenizer spells them (``##`` and ``▁`` kept)."""
    return {t for t in tokens if any(c.isalnum() for c in t)}


def share_token(subject_tokens: Iterable[str], object_tokens: Iterable[str]) -> bool:
    """Rule 2 on the two labels' tokens."""
    return bool(_content_tokens(subject_tokens) & _content_tokens(object_tokens))


def absent_type(
    subject: str,
    obj: str,
    relation: str,
    lang: str,
    tokenize: Tokenize,
    naming_cues: Iterable[str] = NAMING_CUE_RELATIONS,
) -> str:
    """The first absent-type rule that applies to a correct, absent fact."""
    if object_in_subject(subject, obj, lang):
        return OBJECT_IN_SUBJECT
    if share_token(tokenize(subject), tokenize(obj)):
        return SHARED_TOKEN
    if relation in set(naming_cues):
        return NAMING_CUE
    return OTHER
