"""Remove balanced, possibly nested constructs: templates ``{{…}}`` and tables ``{|…|}``."""

from __future__ import annotations

import re

TEMPLATES = re.compile(r"\{\{|\}\}")
TABLES = re.compile(r"(?m)^[ \t:]*\{\||^[ \t]*\|\}")


def drop_nested(text: str, tokens: re.Pattern[str], opener_first_char: str) -> str:
    """Drop every outermost balanced span; unmatched openers and closers are left as text.

    ``tokens`` matches an opener or a closer; a match starting (after
    indentation) with ``opener_first_char`` opens, anything else closes.
    """
    if opener_first_char not in text:
        return text
    out: list[str] = []
    depth = 0
    span_start = 0
    kept_until = 0
    for m in tokens.finditer(text):
        opens = m.group().lstrip(" \t:").startswith(opener_first_char)
        if opens:
            if depth == 0:
                span_start = m.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                out.append(text[kept_until:span_start])
                kept_until = m.end()
    out.append(text[kept_until:])
    return "".join(out)


def drop_templates(text: str) -> str:
    return drop_nested(text, TEMPLATES, "{")


def drop_tables(text: str) -> str:
    return drop_nested(text, TABLES, "{")
