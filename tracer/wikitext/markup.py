"""HTML-ish markup inside wikitext: comments, tags, bold/italic, behaviour switches, entities."""

from __future__ import annotations

import html
import re

COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
BEHAVIOUR_SWITCH = re.compile(r"__[A-Z]{2,}(?:_[A-Z]+)*__")

# Elements dropped with their content: they render no running prose (WikiExtractor's list,
# plus extension tags that render code, markup or media). math/code are dropped too: a
# placeholder such as ``formula_1`` would only add tokens that no fact can match.
DISCARD = (
    "ref", "references", "gallery", "timeline", "noinclude", "includeonly", "pre", "table", "tr", "td",
    "th", "caption", "div", "form", "input", "select", "option", "textarea", "ul", "li", "ol", "dl",
    "dt", "dd", "menu", "dir", "img", "imagemap", "source", "syntaxhighlight", "small", "math", "code",
    "chem", "ce", "score", "graph", "mapframe", "maplink", "templatedata", "inputbox", "categorytree",
    "charinsert", "hiero", "style", "script",
)  # fmt: skip

_DISCARD_TAG = re.compile(r"<\s*(/?)\s*(" + "|".join(sorted(DISCARD)) + r")\b[^<>]*?(/?)\s*>", re.IGNORECASE)
_SELF_CLOSING = re.compile(r"<\s*[A-Za-z][\w:-]*\b[^<>]*/\s*>")
_ANY_TAG = re.compile(
    r"</?\s*(?:" + "|".join(sorted(DISCARD)) + r"|abbr|b|big|blockquote|br|center|cite|del|em|font|h[1-6]|"
    r"i|ins|kbd|mark|nowiki|onlyinclude|p|plaintext|poem|q|rb|rp|rt|ruby|s|samp|span|strike|strong|sub|sup|"
    r"templatestyles|section|tt|u|var|wbr|hr|nobr|bdi|bdo|time|data|dfn|var|indicator|a)\b[^<>]*>",
    re.IGNORECASE,
)
_UNCLOSED_DISCARD = re.compile(r"<\s*(ref|references|gallery|math|code|pre|source|syntaxhighlight)\b[^>/]*>", re.I)

_BOLD_ITALIC = re.compile(r"'''''(.*?)'''''")
_BOLD = re.compile(r"'''(.*?)'''")
_ITALIC = re.compile(r"''(.*?)''")


def drop_comments(text: str) -> str:
    return COMMENT.sub("", text) if "<!--" in text else text


def drop_elements(text: str) -> str:
    """Drop discarded elements (refs, galleries, math, …), self-closing tags, then bare tags."""
    if "<" not in text:
        return text
    text = _SELF_CLOSING.sub("", text)
    text = _drop_discarded(text)
    text = _UNCLOSED_DISCARD.sub("", text)
    return _ANY_TAG.sub("", text)


def _drop_discarded(text: str) -> str:
    """Drop outermost discarded elements, nesting included (<table> inside <table>, <div> in <div>)."""
    out: list[str] = []
    stack: list[str] = []
    kept_until = span_start = 0
    for m in _DISCARD_TAG.finditer(text):
        closing, name, self_closing = m.group(1), m.group(2).lower(), m.group(3)
        if self_closing:
            continue
        if not closing:
            if not stack:
                span_start = m.start()
            stack.append(name)
        elif name in stack:
            del stack[len(stack) - 1 - stack[::-1].index(name) :]
            if not stack:
                out.append(text[kept_until:span_start])
                kept_until = m.end()
    out.append(text[kept_until:])
    return "".join(out)


def drop_bold_italic(text: str) -> str:
    if "''" not in text:
        return text
    text = _BOLD_ITALIC.sub(r"\1", text)
    text = _BOLD.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", text)
    return text.replace("'''", "").replace("''", "")


def drop_behaviour_switches(text: str) -> str:
    return BEHAVIOUR_SWITCH.sub("", text) if "__" in text else text


def decode_entities(text: str) -> str:
    """``&amp;nbsp;`` in the dump is ``&nbsp;`` here; decode it once, never re-escape."""
    return html.unescape(text) if "&" in text else text
