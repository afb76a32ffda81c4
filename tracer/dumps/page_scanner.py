"""Cut a decompressed dump byte stream into ``<page>`` blobs without parsing the whole document.

Each page is then parsed alone, so one bad page (invalid UTF-8, an undefined
entity, a cut at the end of the file) is quarantined while its neighbours are
kept. Memory is bounded by ``max_page_bytes``: a larger page is skipped as it
streams past and reported, never buffered whole.

The bytes between pages are looked at too: a ``<mediawiki`` there starts another
document (two exports concatenated, two bz2 streams of different wikis), which
is reported as a ``DocumentStart`` with that document's header.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

PAGE_OPEN = b"<page>"
PAGE_CLOSE = b"</page>"
ROOT_OPEN = b"<mediawiki"
MAX_HEADER_BYTES = 16 << 20
DEFAULT_MAX_PAGE_BYTES = 64 << 20
_ID = re.compile(rb"<id>\s*(\d+)\s*</id>")


@dataclass(slots=True)
class Header:
    data: bytes


@dataclass(slots=True)
class PageBlob:
    offset: int
    data: bytes


@dataclass(slots=True)
class OversizedPage:
    offset: int
    size: int
    head: bytes

    @property
    def page_id(self) -> str | None:
        m = _ID.search(self.head)
        return m.group(1).decode() if m else None


@dataclass(slots=True)
class TruncatedPage:
    offset: int
    head: bytes

    @property
    def page_id(self) -> str | None:
        m = _ID.search(self.head)
        return m.group(1).decode() if m else None


@dataclass(slots=True)
class DocumentStart:
    """Another ``<mediawiki>`` document begins here: its header (``<siteinfo>``) up to its first page."""

    offset: int
    header: bytes


ScanEvent = Header | PageBlob | OversizedPage | TruncatedPage | DocumentStart


class _Buffer:
    """A growing byte window over the stream with an absolute offset and a read cursor."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.data = bytearray()
        self.base = 0  # absolute offset of data[0]
        self.exhausted = False

    def more(self) -> bool:
        chunk = next(self._chunks, None)
        if chunk is None:
            self.exhausted = True
            return False
        self.data += chunk
        return True

    def drop_before(self, index: int) -> None:
        if index > 0:
            del self.data[:index]
            self.base += index


def scan_pages(
    chunks: Iterable[bytes],
    *,
    want_header: bool = True,
    owned_limit: Callable[[], int | None] | None = None,
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
) -> Iterator[ScanEvent]:
    """Yield the header (if wanted), then each page whose ``<page>`` starts before ``owned_limit()``."""
    buf = _Buffer(chunks)
    start = _find(buf, PAGE_OPEN, 0, MAX_HEADER_BYTES if want_header else None)
    if want_header:
        end = start if start >= 0 else min(len(buf.data), MAX_HEADER_BYTES)
        yield Header(bytes(buf.data[:end]))
    elif start >= 0:
        yield from _document_start(buf, start)
    while start >= 0:
        page_offset = buf.base + start
        limit = owned_limit() if owned_limit is not None else None
        if limit is not None and page_offset >= limit:
            return
        buf.drop_before(start)
        close = _find(buf, PAGE_CLOSE, len(PAGE_OPEN), max_page_bytes)
        if close >= 0:
            stop = close + len(PAGE_CLOSE)
            yield PageBlob(page_offset, bytes(buf.data[:stop]))
            buf.drop_before(stop)
        elif buf.exhausted:
            yield TruncatedPage(page_offset, bytes(buf.data[:4096]))
            return
        else:
            head = bytes(buf.data[:4096])
            stop = _skip_past_close(buf)
            size = buf.base + stop - page_offset if stop >= 0 else buf.base + len(buf.data) - page_offset
            yield OversizedPage(page_offset, size, head)
            if stop < 0:
                return
            buf.drop_before(stop)
        start = _find(buf, PAGE_OPEN, 0, None)
        yield from _document_start(buf, start if start >= 0 else len(buf.data))


def _document_start(buf: _Buffer, stop: int) -> Iterator[DocumentStart]:
    """A document root in the bytes before ``stop`` (between two pages) starts another document."""
    root = buf.data.find(ROOT_OPEN, 0, stop)
    if root >= 0:
        yield DocumentStart(buf.base + root, bytes(buf.data[root:stop]))


def _find(buf: _Buffer, needle: bytes, start: int, limit: int | None) -> int:
    """Index of ``needle`` in the buffer, reading more as needed; -1 at end of input or past ``limit`` bytes."""
    searched = start
    while True:
        i = buf.data.find(needle, searched)
        if i >= 0:
            return i
        searched = max(start, len(buf.data) - len(needle) + 1)
        if limit is not None and len(buf.data) >= limit:
            return -1
        if not buf.more():
            return -1


def _skip_past_close(buf: _Buffer) -> int:
    """Discard an oversized page as it streams; return the index just past its ``</page>`` or -1."""
    while True:
        i = buf.data.find(PAGE_CLOSE)
        if i >= 0:
            return i + len(PAGE_CLOSE)
        keep = len(PAGE_CLOSE) - 1
        buf.drop_before(max(0, len(buf.data) - keep))
        if not buf.more():
            return -1
