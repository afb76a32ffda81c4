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

# Extension tags: MediaWiki takes their content out before it parses templates, so braces or
# brackets inside (``<math>{{a \over b}}</math>``) never pair with markup outside. Their content ends
# at the first closing tag of the same name.
OPAQUE = (
    "math", "chem", "ce", "ref", "references", "gallery", "imagemap", "timeline", "score", "graph", "hiero",
    "syntaxhighlight", "source", "pre", "templatedata", "mapframe", "maplink", "inputbox", "categorytree",
    "charinsert",
)  # fmt: skip
_OPAQUE = re.compile(
    r"<(" + "|".join(OPAQUE) + r")(\s[^<>]*?)?(?<!/)>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)  # fmt: skip
_NOWIKI = re.compile(r"<nowiki\s*>(.*?)</nowiki\s*>", re.IGNORECASE | re.DOTALL)
_NOWIKI_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in "{}[]|'<>-_:="})

_BOLD_ITALIC = re.compile(r"'''''(.*?)'''''")
_BOLD = re.compile(r"'''(.*?)'''")
_ITALIC = re.compile(r"''(.*?)''")


def drop_comments(text: str) -> str:
    return COMMENT.sub("", text) if "<!--" in text else text


def set_aside_extension_tags(text: str) -> str:
    """Drop extension elements whose content renders no prose (math, refs, code, ...), and escape the
    content of ``<nowiki>`` as entities (decoded at the end), before any template or link is parsed."""
    if "<" not in text:
        return text
    text = _OPAQUE.sub("", text)
    if "nowiki" in text.lower():
        text = _NOWIKI.sub(lambda m: m.group(1).translate(_NOWIKI_ESCAPES), text)
    return text


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
