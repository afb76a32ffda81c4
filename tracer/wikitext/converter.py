"""Resolve MediaWiki's language-converter markup ``-{…}-`` to one variant, on the wikis that have one.

Only wikis whose language has a converter parse the markup (MediaWiki's
``LanguageConverterFactory``: zh, gan, sr, kk, ku, tg, uz, crh, iu, shi, ban, tly); everywhere else
``-{`` is ordinary text, and in template chains such as ``{{a}}-{{b}}-{{c}}`` it is no markup at
all. The markup never spans braces: a body holding ``{`` or ``}`` is left alone.

``-{zh-cn:计算机;zh-tw:電腦}-`` becomes the first variant present in the preference order (for
Chinese simplified first, as the tracer later folds text to simplified anyway; for the other
languages the first variant written); ``-{text}-`` becomes ``text``; rule-only forms (flags H, T,
or ``-``) render nothing and are removed. A variant key is the wiki's language code, alone or
with a suffix (``zh-hant``, ``sr-ec``, ``kk-latn``).
"""

from __future__ import annotations

import re

CONVERTER_LANGUAGES = frozenset({"zh", "gan", "sr", "kk", "ku", "tg", "uz", "crh", "iu", "shi", "ban", "tly"})
MARKUP = re.compile(r"-\{([^{}]*)\}-")
_FLAGS = re.compile(r"^([A-Za-z\-; ]{1,8})\|")
PREFERENCE = {"zh": ("zh-cn", "zh-hans", "zh-sg", "zh-my", "zh", "zh-hant", "zh-tw", "zh-hk", "zh-mo")}
_HIDDEN_FLAGS = set("HT-")


def has_converter(lang: str) -> bool:
    """Whether MediaWiki parses ``-{…}-`` on a wiki of this language (``zh``, ``sr``, ...; not ``zh-yue``, whose
    Cantonese has no converter)."""
    return lang in CONVERTER_LANGUAGES


def _resolve(body: str, lang: str) -> str:
    m = _FLAGS.match(body)
    if m:
        flags = set(m.group(1).replace(";", "").replace(" ", ""))
        if flags & _HIDDEN_FLAGS:
            return ""
        body = body[m.end() :]
    variants: dict[str, str] = {}
    marks = list(re.finditer(rf"({re.escape(lang)}(?:-[a-z]+)*)\s*:", body))
    if not marks or marks[0].start() != len(body) - len(body.lstrip()):
        return body
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        variants.setdefault(mark.group(1), body[mark.end() : end].strip().rstrip(";").strip())
    for name in PREFERENCE.get(lang, ()):
        if name in variants:
            return variants[name]
    return next(iter(variants.values()))


def resolve_converter(text: str, lang: str = "zh") -> str:
    """``text`` with the converter markup of a ``lang`` wiki resolved; unchanged on wikis without a converter."""
    if "-{" not in text or not has_converter(lang):
        return text
    return MARKUP.sub(lambda m: _resolve(m.group(1), lang), text)
