"""Why a correct fact the corpus never showed could still be predicted: the absent-type rules.

The first rule that applies wins (Zhao et al. 2024, section 5; the authors' notebook
``display_mathes_and_wiki.ipynb``):

1. ``object_in_subject``: the object is a substring of the subject after lowercasing (Chinese: both
   converted to simplified characters, not lowercased), e.g. *Split Airport* / *Split*.
2. ``shared_token``: subject and object share a subword token of the model's tokenizer (Chinese tokens
   converted to simplified first).
3. ``naming_cue``: the relation names the object in the subject's usual context (country,
   citizenship, languages spoken, religion, native language).
4. ``other``.

The first two together are "shared entity tokens". Rule 2 differs between the rule sets:

* ``default``: only tokens with a letter or digit count, so XLM-R's lone ``▁`` and punctuation such as
  ``-`` or ``(`` never make two labels "share a token"; Chinese is any ``zh*`` code.
* ``fact-cl``: every token counts (the authors' ``set(sub_tokens) & set(obj_tokens)``) and only ``zh`` is
  converted. The authors converted with ``zhconv``; factrace converts with OpenCC (docs/classification.md
  lists where the two disagree on mLAMA's labels).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tracer.facts.containment import DEFAULT, FACT_CL, Simplify, is_chinese, object_in_subject
from tracer.matching.normalize import to_simplified

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
RULES = (DEFAULT, FACT_CL)

Tokenize = Callable[[str], list[str]]


def _counted(tokens: Iterable[str], chinese: bool, rules: str, simplify: Simplify) -> set[str]:
    """The tokens rule 2 compares, as the tokenizer spells them (``##`` and ``▁`` kept)."""
    if chinese:
        tokens = [simplify(t) for t in tokens]
    if rules == FACT_CL:
        return set(tokens)
    return {t for t in tokens if any(c.isalnum() for c in t)}


def share_token(
    subject_tokens: Iterable[str],
    object_tokens: Iterable[str],
    chinese: bool = False,
    rules: str = DEFAULT,
    simplify: Simplify = to_simplified,
) -> bool:
    """Rule 2 on the two labels' tokens."""
    return bool(_counted(subject_tokens, chinese, rules, simplify) & _counted(object_tokens, chinese, rules, simplify))


def absent_type(
    subject: str,
    obj: str,
    relation: str,
    lang: str,
    tokenize: Tokenize,
    naming_cues: Iterable[str] = NAMING_CUE_RELATIONS,
    rules: str = DEFAULT,
    simplify: Simplify = to_simplified,
) -> str:
    """The first absent-type rule that applies to a correct, absent fact.

    ``tokenize`` gives a label's tokens without special tokens, as ``tokenizer.tokenize`` does.
    """
    if object_in_subject(subject, obj, lang, rules, simplify):
        return OBJECT_IN_SUBJECT
    if share_token(tokenize(subject), tokenize(obj), is_chinese(lang, rules), rules, simplify):
        return SHARED_TOKEN
    if relation in set(naming_cues):
        return NAMING_CUE
    return OTHER
