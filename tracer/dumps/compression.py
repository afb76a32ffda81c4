"""Detect a dump's compression from its magic bytes and stream it decompressed.

Extensions lie; magic bytes do not. A truncated compressed stream ends the
chunk iterator early and reports it instead of raising, so every complete page
before the cut is kept.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tracer import storage

CHUNK_BYTES = 1 << 20

_MAGIC = (
    (b"BZh", "bz2"),
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
)


def detect_compression(path: str | Path) -> str:
    """``bz2``, ``gzip``, ``xz`` or ``none``."""
    with storage.open_binary(str(path)) as f:
        head = f.read(6)
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return "none"


_DECOMPRESSORS = {"bz2": bz2.BZ2File, "gzip": lambda raw: gzip.GzipFile(fileobj=raw), "xz": lzma.LZMAFile}


def open_decompressed(path: str | Path, compression: str) -> BinaryIO:
    """The decompressed bytes of a dump on a local disk or a store; closing it closes the file under it."""
    raw = storage.open_binary(str(path))
    if compression not in _DECOMPRESSORS:
        return raw
    stream = _DECOMPRESSORS[compression](raw)
    close = stream.close

    def close_both() -> None:  # a decompressor given a file object leaves that file open when it closes
        try:
            close()
        finally:
            raw.close()

    stream.close = close_both
    return stream


@dataclass(slots=True)
class StreamEnd:
    """How a decompressed stream ended: cleanly, or cut/corrupt with the library's message."""

    clean: bool = True
    detail: str = ""


def guard(chunks: Iterator[bytes], end: StreamEnd) -> Iterator[bytes]:
    """Pass chunks through; on a truncated or corrupt stream, stop and record why in ``end``."""
    try:
        yield from chunks
    except (EOFError, OSError, ValueError, UnicodeDecodeError, lzma.LZMAError, zlib.error) as err:
        end.clean = False
        end.detail = f"{type(err).__name__}: {err}"


def read_chunks(stream: BinaryIO, end: StreamEnd, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Yield decompressed chunks of ``stream`` until its end, or until it turns out damaged. ``read1`` hands
    over what one decompression step produced: ``read`` would drop a partial chunk when the stream is cut."""
    return guard(iter(lambda: stream.read1(chunk_bytes), b""), end)
