"""Dump splits → article pages (clean text), quarantined records and skip counts.

The stage object runs the same way in a Spark task and in a test: give it a
split, iterate what it yields.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator

from tracer.dumps.naming import wiki_language
from tracer.dumps.page_parser import BadPage, parse_page
from tracer.dumps.page_scanner import (
    DEFAULT_MAX_PAGE_BYTES,
    DocumentStart,
    OversizedPage,
    PageBlob,
    TruncatedPage,
    scan_pages,
)
from tracer.dumps.siteinfo import NotAMediaWikiExport, SiteInfo, parse_siteinfo
from tracer.dumps.splits import Split, read_split
from tracer.records import ExtraDocument, Page, Quarantined, RawPage, Skipped
from tracer.versions import cleaner_version
from tracer.wikitext.cleaner import WikitextCleaner
from tracer.wikitext.local_namespaces import local_names


def _snippet(data: bytes, limit: int = 200) -> str:
    return data[:limit].decode("utf-8", errors="backslashreplace")


class PageExtractor:
    """Read one split: parse, classify (article, redirect, other namespace), clean or quarantine.

    The wiki's language adds MediaWiki's local names of the file and category namespaces (a dump
    without ``<siteinfo>`` still cleans ``[[Αρχείο:…]]``; no siteinfo lists aliases such as ``Εικόνα``)
    and decides whether ``-{…}-`` is converter markup.

    ``earlier`` gives a page as an earlier snapshot of the same wiki has it: when its revision and title are
    this page's, and that snapshot was cleaned with this ``signature``, its clean text is taken as it is.
    """

    def __init__(
        self,
        siteinfo: SiteInfo,
        max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
        keep_headings: bool = True,
        wiki: str | None = None,
        earlier: Callable[[int], Page | None] | None = None,
    ):
        self.siteinfo = siteinfo
        self.max_page_bytes = max_page_bytes
        lang = wiki_language(wiki) if wiki else (siteinfo.lang or "")
        self.local_names = local_names(lang)
        prefixes = siteinfo.prefixes() | self.local_names
        self.cleaner = WikitextCleaner(prefixes, keep_headings, lang)
        self.signature = _signature(prefixes, keep_headings, lang)
        self.earlier = earlier
        self.reused = 0  # pages taken from the earlier snapshot
        self.cleaned = 0

    def namespace(self, raw: RawPage) -> int:
        if raw.ns is not None:
            return raw.ns
        ns = self.siteinfo.namespace_of_title(raw.title)
        prefix, sep, _ = raw.title.partition(":")
        if ns == 0 and sep and prefix.strip().replace("_", " ").casefold() in self.local_names:
            return 6  # a file or category page by its local name: not an article either way
        return ns

    def page(self, raw: RawPage) -> Page:
        if self.earlier is not None and raw.rev_id is not None:
            before = self.earlier(raw.page_id)
            if before is not None and before.rev_id == raw.rev_id and before.title == raw.title:
                self.reused += 1
                return before
        self.cleaned += 1
        text, paragraphs = self.cleaner.page_line(raw.title, raw.wikitext or "")
        return Page(
            page_id=raw.page_id,
            rev_id=raw.rev_id,
            title=raw.title,
            text=text,
            content_sha1=hashlib.sha1(text.encode("utf-8")).hexdigest(),
            char_count=len(text),
            paragraph_count=paragraphs,
        )

    def run(self, split: Split) -> Iterator[Page | Quarantined | Skipped | ExtraDocument]:
        """Every record of the split. Pages of a second ``<mediawiki>`` document in the same input are not
        extracted (its namespaces and wiki are not this one's): they are quarantined as ``second_document``."""
        reader = read_split(split)
        source = split.label
        cut = False
        extra: ExtraDocument | None = None
        events = scan_pages(
            reader.chunks, want_header=split.first, owned_limit=reader.owned_limit, max_page_bytes=self.max_page_bytes
        )
        for event in events:
            if isinstance(event, DocumentStart):
                extra = ExtraDocument(event.offset, _dbname(event.header))
                yield extra
            elif isinstance(event, PageBlob) and extra is not None:
                yield _in_second_document(event, extra, source)
            elif isinstance(event, PageBlob):
                yield self._from_blob(event, source)
            elif isinstance(event, OversizedPage):
                detail = f"page of {event.size} bytes exceeds --max-page-bytes {self.max_page_bytes}; skipped unread"
                yield Quarantined(source, event.offset, "oversized", detail, event.page_id, _snippet(event.head))
            elif isinstance(event, TruncatedPage):
                cut = True
                detail = "input ends inside this page (truncated dump)"
                if not reader.end.clean:
                    detail += f"; decompressor: {reader.end.detail}"
                yield Quarantined(source, event.offset, "truncated", detail, event.page_id, _snippet(event.head))
        if not reader.end.clean and not cut:
            yield Quarantined(source, -1, "corrupt_stream", f"compressed stream is damaged: {reader.end.detail}")

    def _from_blob(self, blob: PageBlob, source: str) -> Page | Quarantined | Skipped:
        try:
            raw = parse_page(blob.data, blob.offset)
        except BadPage as bad:
            return Quarantined(source, blob.offset, bad.reason, bad.detail, bad.record_id, _snippet(blob.data))
        if self.namespace(raw) != 0:
            return Skipped("namespace")
        if raw.redirect:
            return Skipped("redirect")
        if raw.wikitext is None:
            detail = f"page {raw.page_id} ({raw.title}) has no <text> in its revision"
            return Quarantined(source, blob.offset, "no_text", detail, str(raw.page_id), _snippet(blob.data))
        return self.page(raw)


def _signature(prefixes: set[str], keep_headings: bool, lang: str) -> str:
    """What a page's clean text depends on besides its wikitext: the cleaner's code and its settings."""
    settings = {
        "cleaner": cleaner_version(),
        "prefixes": sorted(prefixes),
        "keep_headings": keep_headings,
        "lang": lang,
    }
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


_PAGE_ID = re.compile(rb"<id>\s*(\d+)\s*</id>")


def _dbname(header: bytes) -> str | None:
    try:
        return parse_siteinfo(header).dbname
    except NotAMediaWikiExport:
        return None


def _in_second_document(blob: PageBlob, extra: ExtraDocument, source: str) -> Quarantined:
    m = _PAGE_ID.search(blob.data)
    page_id = m.group(1).decode() if m else None
    detail = (
        f"page {page_id or '?'} belongs to a second <mediawiki> document (wiki {extra.wiki or 'unknown'}, from "
        f"byte {extra.offset} of the decompressed input); only the first document of an input is extracted: "
        "split the input into one file per document"
    )
    return Quarantined(source, blob.offset, "second_document", detail, page_id, _snippet(blob.data))
