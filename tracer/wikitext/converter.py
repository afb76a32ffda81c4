"""Resolve MediaWiki's Chinese variant-converter markup ``-{…}-`` to one variant.

``-{zh-cn:计算机;zh-tw:電腦}-`` becomes the first variant present in the
preference order (simplified Chinese first, as the tracer later folds text to
simplified anyway); ``-{text}-`` becomes ``text``; rule-only forms (flags H, T,
or ``-``) render nothing and are removed.
"""

from __future__ import annotations

import re

MARKUP = re.compile(r"-\{(.*?)\}-", re.DOTALL)
_VARIANT = re.compile(r"(zh(?:-[a-z]+)?)\s*:")
_FLAGS = re.compile(r"^([A-Za-z\-; ]{1,8})\|")
PREFERENCE = ("zh-cn", "zh-hans", "zh-sg", "zh-my", "zh", "zh-hant", "zh-tw", "zh-hk", "zh-mo")
_HIDDEN_FLAGS = set("HT-")


def _resolve(body: str) -> str:
    m = _FLAGS.match(body)
    if m:
        flags = set(m.group(1).replace(";", "").replace(" ", ""))
        if flags & _HIDDEN_FLAGS:
            return ""
        body = body[m.end() :]
    variants: dict[str, str] = {}
    marks = list(_VARIANT.finditer(body))
    if not marks or marks[0].start() != len(body) - len(body.lstrip()):
        return body
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        variants.setdefault(mark.group(1), body[mark.end() : end].strip().rstrip(";").strip())
    for name in PREFERENCE:
        if name in variants:
            return variants[name]
    return next(iter(variants.values()))


def resolve_converter(text: str) -> str:
    if "-{" not in text:
        return text
    return MARKUP.sub(lambda m: _resolve(m.group(1)), text)
