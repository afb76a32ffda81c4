"""The dump header: ``<mediawiki>`` attributes and ``<siteinfo>``, parsed without expanding entities.

A DOCTYPE that declares entities is how an entity bomb arrives; it is cut out
before parsing and reported, so no entity is ever expanded. Pages that refer
to such entities then fail alone (undefined entity) and are quarantined.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass, field

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")
_DOCTYPE = re.compile(rb"<!DOCTYPE\b(?:[^\[>]*\[.*?\]\s*>|[^>]*>)", re.DOTALL)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)

# English canonical names are valid in every wiki, whatever the local names are.
CANONICAL_NAMESPACES = {
    -2: "Media", -1: "Special", 1: "Talk", 2: "User", 3: "User talk", 4: "Project", 5: "Project talk",
    6: "File", 7: "File talk", 8: "MediaWiki", 9: "MediaWiki talk", 10: "Template", 11: "Template talk",
    12: "Help", 13: "Help talk", 14: "Category", 15: "Category talk",
}  # fmt: skip
NAMESPACE_ALIASES = {"image": 6, "image talk": 7}


class NotAMediaWikiExport(ValueError):
    """The header is not a MediaWiki XML export (no ``<mediawiki>`` root)."""


@dataclass(slots=True)
class SiteInfo:
    dbname: str | None = None
    sitename: str | None = None
    base: str | None = None
    generator: str | None = None
    export_version: str | None = None
    lang: str | None = None
    namespaces: dict[int, str] = field(default_factory=dict)
    entity_declarations: bool = False

    @property
    def has_namespaces(self) -> bool:
        return bool(self.namespaces)

    def namespace_of_title(self, title: str) -> int:
        """Namespace key from a title prefix, for exports whose pages carry no ``<ns>``."""
        prefix, sep, _ = title.partition(":")
        if not sep:
            return 0
        wanted = prefix.strip().replace("_", " ").casefold()
        for key, name in self.namespaces.items():
            if key != 0 and name.casefold() == wanted:
                return key
        for key, name in CANONICAL_NAMESPACES.items():
            if name.casefold() == wanted:
                return key
        return NAMESPACE_ALIASES.get(wanted, 0)

    def prefixes(self) -> set[str]:
        """Casefolded names of every non-article namespace (local, canonical and aliases)."""
        names = {n.casefold() for k, n in self.namespaces.items() if k != 0 and n}
        names |= {n.casefold() for n in CANONICAL_NAMESPACES.values()}
        return names | set(NAMESPACE_ALIASES)


def strip_prolog(header: bytes) -> tuple[bytes, bool]:
    """Remove the XML declaration and any DOCTYPE; say whether the DOCTYPE declared entities."""
    header = _XML_DECL.sub(b"", header, count=1)
    declared = False
    m = _DOCTYPE.search(header)
    if m:
        declared = bool(_ENTITY_DECL.search(m.group(0)))
        header = header[: m.start()] + header[m.end() :]
    return header, declared


def parse_siteinfo(header: bytes) -> SiteInfo:
    """Parse the bytes before the first ``<page>`` (UTF-8). Raises NotAMediaWikiExport."""
    body, declared = strip_prolog(header)
    info = SiteInfo(entity_declarations=declared)
    stack: list[str] = []
    seen_root: list[bool] = []
    text: list[str] = []
    ns_key: list[int] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        if not stack:
            if local != "mediawiki":
                raise NotAMediaWikiExport(f"root element is <{local}>, not <mediawiki>")
            seen_root.append(True)
            info.export_version = attrs.get("version")
            info.lang = attrs.get("http://www.w3.org/XML/1998/namespace lang") or attrs.get("xml:lang")
        if local == "namespace":
            ns_key.append(int(attrs.get("key", "0")))
        stack.append(local)
        text.clear()

    def end(name: str) -> None:
        local = stack.pop()
        value = "".join(text).strip()
        if local == "namespace" and stack[-1:] == ["namespaces"]:
            info.namespaces[ns_key.pop()] = value
        elif stack[-1:] == ["siteinfo"] and local in ("dbname", "sitename", "base", "generator"):
            setattr(info, local, value or None)
        text.clear()

    parser = xml.parsers.expat.ParserCreate("utf-8", namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(body, False)
        if not seen_root:
            raise NotAMediaWikiExport("no <mediawiki> root element found")
        if stack:  # the header stops where the first <page> begins: close what is open
            parser.Parse("".join(f"</{name}>" for name in reversed(stack)).encode(), True)
    except xml.parsers.expat.ExpatError as err:
        raise NotAMediaWikiExport(f"header is not well-formed XML: {err}") from None
    return info
