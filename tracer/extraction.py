"""Dump splits → article pages (clean text), quarantined records and skip counts.

The stage object runs the same way in a Spark task and in a test: give it a
split, iterate what it yields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from tracer.dumps.page_parser import BadPage, parse_page
from tracer.dumps.page_scanner import DEFAULT_MAX_PAGE_BYTES, OversizedPage, PageBlob, TruncatedPage, scan_pages
from tracer.dumps.siteinfo import SiteInfo
from tracer.dumps.splits import Split, read_split
from tracer.records import Page, Quarantined, RawPage, Skipped
from tracer.wikitext.cleaner import WikitextCleaner


def _snippet(data: bytes, limit: int = 200) -> str:
    return data[:limit].decode("utf-8", errors="backslashreplace")


class PageExtractor:
    """Read one split: parse, classify (article, redirect, other namespace), clean or quarantine."""

    def __init__(self, siteinfo: SiteInfo, max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES, keep_headings: bool = True):
        self.siteinfo = siteinfo
        self.max_page_bytes = max_page_bytes
        self.cleaner = WikitextCleaner(siteinfo.prefixes(), keep_headings=keep_headings)

    def namespace(self, raw: RawPage) -> int:
        return raw.ns if raw.ns is not None else self.siteinfo.namespace_of_title(raw.title)

    def page(self, raw: RawPage) -> Page:
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

    def run(self, split: Split) -> Iterator[Page | Quarantined | Skipped]:
        reader = read_split(split)
        source = split.label
        cut = False
        events = scan_pages(
            reader.chunks, want_header=split.first, owned_limit=reader.owned_limit, max_page_bytes=self.max_page_bytes
        )
        for event in events:
            if isinstance(event, PageBlob):
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
