"""Links: keep what a reader sees, drop files, categories, interlanguage and interwiki links.

``[[target|label]]s`` → ``labels`` (the plural trail stays glued), ``[[target]]``
→ ``target``; a target in a non-article namespace (File:, Category:, the wiki's
own local names) or with an interlanguage or interwiki prefix (``fr:``, ``simple:``,
``commons:``) renders no prose here and is removed, with everything nested inside it
(image captions, nested links, brackets).

Links nest: an image caption may hold links and single brackets (``[[File:X|thumb|A
[r.] in [[B]]]]``). They are resolved innermost first, where a link's body may hold
single ``[`` and ``]`` but no ``[[`` or ``]]``. As in MediaWiki's parser, when a body
opens more single brackets than it closes and a third ``]`` follows its ``]]``, that
``]`` is the body's own (``[[Link|[ç]]]`` shows ``[ç]``).

External links follow MediaWiki's rule: the URL ends at a space, ``]``, ``<``, ``>`` or
``"``, and any run of Unicode space separators (U+0020, U+00A0, U+3000, …) may separate
it from its label.
"""

from __future__ import annotations

import re

from tracer.wikitext.interwiki import is_interwiki_prefix

# A link body: anything but "[[" and "]]"; the extra group takes a third "]" the body may own.
_INNERMOST = re.compile(r"\[\[((?:[^\[\]]|\[(?!\[)|\](?!\]))*)\]\](\]?)(\w*)")
# Unicode category Zs, the separators MediaWiki accepts between an external link's URL and its label.
_ZS = "\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_EXTERNAL = re.compile(
    r"\[(?:(?:https?|ftps?|mailto|news|irc|ircs|gopher|nntp|telnet|worldwind|svn|git|sftp|ssh|urn|tel|sms|xmpp|"
    r"magnet|geo|bitcoin|sip|sips|mms):|//)[^\]\s<>\"" + _ZS + r"]*[" + _ZS + r"]*([^\]\x00-\x08\x0a-\x1f]*?)\]",
    re.IGNORECASE,
)
# Interwiki prefixes whose links still render their label in the article (WikiExtractor keeps them too).
_KEPT_PREFIXES = {"w", "wikt", "wiktionary", "wikipedia"}


def replace_external(text: str) -> str:
    """``[https://x label]`` → ``label``; a bare bracketed URL renders as nothing here."""
    if "[" not in text:
        return text
    return _EXTERNAL.sub(lambda m: m.group(1) or "", text)


class InternalLinks:
    """Rewrites ``[[…]]`` given the non-article namespace names of the wiki (casefolded)."""

    def __init__(self, namespace_prefixes: set[str]) -> None:
        self.prefixes = namespace_prefixes

    def _hidden(self, target: str) -> bool:
        prefix, sep, _ = target.partition(":")
        if not sep:
            return False
        p = prefix.strip().replace("_", " ").casefold()
        if p in _KEPT_PREFIXES:
            return False
        return p in self.prefixes or is_interwiki_prefix(p)

    def _render(self, m: re.Match[str]) -> str:
        inner, extra, trail = m.group(1), m.group(2), m.group(3)
        if extra and inner.count("[") > inner.count("]"):
            inner, extra = inner + extra, ""  # MediaWiki: the third "]" closes the body's own "["
        target, sep, label = inner.partition("|")
        target = target.strip()
        name = target.lstrip(":")
        # [[:Category:X|see]] links to a page instead of filing this one under it: its label is prose;
        # without a label it only names a category or another wiki (WikiExtractor drops both).
        labelled_link = target.startswith(":") and sep and label.strip()
        if self._hidden(name) and not labelled_link:
            return extra + trail  # text glued after a file or category link is ordinary text, not a link trail
        if sep:
            label = label.rpartition("|")[2] if "|" in label else label
            shown = label.strip() or _pipe_trick(target)
        else:
            shown = name
        return shown + extra + trail

    def replace(self, text: str) -> str:
        while "[[" in text:
            new = _INNERMOST.sub(self._render, text)
            if new == text:
                break
            text = new
        return text


def _pipe_trick(target: str) -> str:
    """``[[Paris, Texas|]]`` shows ``Paris``: the target without its namespace, comma part or parentheses."""
    shown = target.lstrip(":").partition(":")[2] or target.lstrip(":")
    shown = re.sub(r"\s*\(.*\)\s*$", "", shown)
    return shown.partition(",")[0].strip()
