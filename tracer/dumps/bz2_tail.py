"""Find garbage after the last complete bz2 stream of a file, so that no reader mistakes it for data.

A downloaded dump sometimes ends with bytes that are not bz2: a partial second
download appended, an HTTP error page, zero padding. The bz2 library ignores
such bytes when they follow a complete stream, and calls them a corrupt stream
when they happen to start with ``BZh``; both are the same problem, so both are
found here, once, on the driver, and every reader stops where the data ends.

Only the file's last ``TAIL_SCAN_BYTES`` are read. A tail is garbage when
decompressing it fails; a tail that decompresses without error but ends early
is a stream cut by truncation, which the readers already report page by page.
"""

from __future__ import annotations

import bz2
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tracer import storage
from tracer.dumps.bz2_blocks import EOS_PATTERNS, find_magic

TAIL_SCAN_BYTES = 16 << 20
_WINDOW = 1 << 20
_OVERLAP = 7  # a 48-bit magic at any bit offset spans at most 7 bytes
_EOS_TRAILER_BITS = 48 + 32  # the end-of-stream magic and the combined CRC


@dataclass(frozen=True, slots=True)
class TrailingGarbage:
    """Bytes ``[start, size)`` of a bz2 file hold no bz2 data."""

    start: int
    size: int
    why: str
    head: bytes

    @property
    def length(self) -> int:
        return self.size - self.start


def _last_stream_end(f: BinaryIO, size: int) -> int | None:
    """The byte just past the last end-of-stream marker within the scanned tail, or None if there is none."""
    floor = max(0, size - TAIL_SCAN_BYTES)
    hi = size
    while hi > floor:
        lo = max(floor, hi - _WINDOW)
        f.seek(lo)
        window = f.read(min(size, hi + _OVERLAP) - lo)
        hits = find_magic(window, EOS_PATTERNS)
        if hits:
            return (lo * 8 + hits[-1] + _EOS_TRAILER_BITS + 7) // 8
        hi = lo
    return None


def find_trailing_garbage(path: str | Path) -> TrailingGarbage | None:
    """The garbage after the file's last complete bz2 stream, or None when the file ends with bz2 data."""
    size = storage.size(str(path))
    with storage.open_binary(str(path)) as f:
        end = _last_stream_end(f, size)
        if end is None or end >= size:
            return None
        f.seek(end)
        tail = f.read(size - end)
    try:
        bz2.BZ2Decompressor().decompress(tail, max_length=1 << 20)  # decodes the first block whole
    except (OSError, ValueError, EOFError) as err:
        return TrailingGarbage(end, size, f"not a bz2 stream: {err}", tail[:16])
    return None  # a stream that starts correctly and is cut short: truncation, reported by the readers
