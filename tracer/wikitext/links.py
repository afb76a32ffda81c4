"""Links: keep what a reader sees, drop files, categories and interlanguage links.

``[[target|label]]s`` → ``labels`` (the plural trail stays glued), ``[[target]]``
→ ``target``; a target in a non-article namespace (File:, Category:, the wiki's
own local names) or with an interlanguage prefix (``fr:``) renders no prose and
is removed, with everything nested inside it (image captions).
"""

from __future__ import annotations

import re

_INNERMOST = re.compile(r"\[\[([^\[\]]*)\]\](\w*)")
_EXTERNAL = re.compile(
    r"\[(?:(?:https?|ftps?|mailto|news|irc|ircs|gopher|nntp|telnet|worldwind|svn|git|sftp|ssh|urn|tel|sms|xmpp|"
    r"magnet|geo|bitcoin|sip|sips|mms):|//)[^\]\s<>\"]*(?:[ \t]+([^\]\n]*))?\]",
    re.IGNORECASE,
)
_INTERLANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]+)*$")
# Interwiki prefixes whose links still render their label in the article.
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
        return p in self.prefixes or bool(_INTERLANGUAGE.match(p))

    def _render(self, m: re.Match[str]) -> str:
        inner, trail = m.group(1), m.group(2)
        target, sep, label = inner.partition("|")
        target = target.strip()
        name = target.lstrip(":")
        # [[:Category:X|see]] links to a page instead of filing this one under it: its label is prose;
        # without a label it only names a category or another wiki (WikiExtractor drops both).
        labelled_link = target.startswith(":") and sep and label.strip()
        if self._hidden(name) and not labelled_link:
            return trail  # text glued after a file or category link is ordinary text, not a link trail
        if sep:
            label = label.rpartition("|")[2] if "|" in label else label
            shown = label.strip() or _pipe_trick(target)
        else:
            shown = name
        return shown + trail

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
