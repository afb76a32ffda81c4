"""Wikitext → paragraphs → one line per page (the paper's corpus preparation).

The order follows WikiExtractor: comments, extension tags (as MediaWiki, before templates:
braces inside ``<math>`` never pair with those outside), converter markup, templates,
tables, links, behaviour switches, bold/italic, HTML elements, entities, then
a line pass that drops lists, table residue and empty sections and keeps a
section heading only when prose follows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tracer.wikitext import markup
from tracer.wikitext.converter import resolve_converter
from tracer.wikitext.links import InternalLinks, replace_external
from tracer.wikitext.nested import drop_tables, drop_templates

_HEADING = re.compile(r"^(={2,6})\s*(.*?)\s*\1\s*$")
_DOTS = re.compile(r"\.{4,}")
_SPACE_BEFORE_CLOSE = re.compile(r" ([,:.)\]»])")  # "word ." left where a template or formula was
_SPACE_AFTER_OPEN = re.compile(r"([\[(«]) ")
_ONLY_PUNCT = re.compile(r"^\W+$")


class WikitextCleaner:
    """Clean one page's wikitext; configured once with the wiki's namespace names and language (the
    language decides whether ``-{…}-`` is converter markup: only on zh, sr, kk, ... wikis)."""

    def __init__(self, namespace_prefixes: set[str], keep_headings: bool = True, lang: str = "") -> None:
        self.links = InternalLinks(namespace_prefixes)
        self.keep_headings = keep_headings
        self.lang = lang

    def paragraphs(self, wikitext: str) -> list[str]:
        text = markup.drop_comments(wikitext)
        text = markup.set_aside_extension_tags(text)
        text = resolve_converter(text, self.lang)
        text = drop_templates(text)
        text = drop_tables(text)
        text = markup.drop_elements(text)
        text = replace_external(text)
        text = self.links.replace(text)
        text = markup.drop_behaviour_switches(text)
        text = markup.drop_bold_italic(text)
        text = markup.drop_elements(text)
        text = markup.decode_entities(text)
        return list(self._compact(_tidy(text).split("\n")))

    def _compact(self, lines: Iterable[str]) -> Iterable[str]:
        headings: dict[int, str] = {}  # pending headings by level, emitted when prose follows
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            m = _HEADING.match(line)
            if m:
                level, title = len(m.group(1)), m.group(2).strip()
                headings = {k: v for k, v in headings.items() if k < level}
                if title:
                    headings[level] = title if title[-1] in "!?." else title + "."
                continue
            if line[0] in "*#;" or line[0] in "{|!" or line[-1] == "}":
                continue  # lists, table and template residue
            if line[0] == ":":
                line = line.lstrip(":").strip()
                if not line:
                    continue
            if (line[0] == "(" and line[-1] == ")") or not line.strip(".-") or _ONLY_PUNCT.match(line):
                continue
            if headings:
                if self.keep_headings:
                    yield from (headings[k] for k in sorted(headings))
                headings = {}
            yield line

    def page_line(self, title: str, wikitext: str) -> tuple[str, int]:
        """The page as one line: title and paragraphs joined by one space; and the paragraph count."""
        paragraphs = self.paragraphs(wikitext)
        return " ".join([title.strip(), *paragraphs]), len(paragraphs)


def _tidy(text: str) -> str:
    """One space per run, no space inside brackets or before punctuation, 4+ dots to an ellipsis:
    the residue of removed templates, refs and formulas."""
    text = text.replace("\t", " ")
    while "  " in text:  # str.replace runs at memchr speed; a regex over every space does not
        text = text.replace("  ", " ")
    if "...." in text:
        text = _DOTS.sub("...", text)
    text = _SPACE_BEFORE_CLOSE.sub(r"\1", text)
    text = _SPACE_AFTER_OPEN.sub(r"\1", text)
    return text.replace(",,", ",").replace(",.", ".")
