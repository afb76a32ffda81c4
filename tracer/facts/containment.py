"""Whether a fact's object label is written inside its subject label (*Split Airport* / *Split*).

Such a fact co-occurs wherever its subject is mentioned, so its presence says little about the
fact; the paper's first absent type (``object_in_subject``) is the same test. Labels are compared
lowercased; Chinese ones in simplified characters, not lowercased. Under the authors' rules only
``zh`` is Chinese; under factrace's, every ``zh*`` code.
"""

from __future__ import annotations

from collections.abc import Callable

from schemas.values import DEFAULT_RULES as DEFAULT
from schemas.values import FACT_CL
from tracer.matching.normalize import CHINESE, to_simplified

Simplify = Callable[[str], str]


def is_chinese(lang: str, rules: str = DEFAULT) -> bool:
    return lang == "zh" if rules == FACT_CL else lang in CHINESE


def object_in_subject(
    subject: str, obj: str, lang: str, rules: str = DEFAULT, simplify: Simplify = to_simplified
) -> bool:
    """An empty object never counts. ``simplify``: the traditional→simplified converter (OpenCC)."""
    if is_chinese(lang, rules):
        subject, obj = simplify(subject), simplify(obj)
    else:
        subject, obj = subject.lower(), obj.lower()
    return bool(obj) and obj in subject
