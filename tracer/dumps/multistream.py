"""The multistream index (``*-multistream-index.txt.bz2``): byte offsets of the bz2 streams."""

from __future__ import annotations

import bz2
import re
from collections.abc import Iterator
from pathlib import Path

from tracer import storage


def index_path_for(dump: str) -> str | None:
    """``X-multistream.xml.bz2`` → ``X-multistream-index.txt.bz2`` when that file exists (local or on a store)."""
    name = re.sub(r"\.xml\.bz2$", "-index.txt.bz2", storage.name(dump))
    candidate = dump[: len(dump) - len(storage.name(dump))] + name
    return candidate if name != storage.name(dump) and storage.is_file(candidate) else None


def stream_offsets(index: str | Path) -> list[int]:
    """Sorted distinct stream start offsets named by the index (lines ``offset:page_id:title``)."""
    offsets = set()
    with storage.open_binary(str(index)) as raw, bz2.open(raw, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            head, sep, _ = line.partition(":")
            if sep and head.isdigit():
                offsets.add(int(head))
    return sorted(offsets)


def iter_streams(path: str | Path, start: int, end: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """Decompressed bytes of the concatenated bz2 streams in ``[start, end)``."""
    with storage.open_binary(str(path)) as f:
        f.seek(start)
        remaining = end - start
        decomp = bz2.BZ2Decompressor()
        fed = False
        while remaining > 0:
            raw = f.read(min(chunk, remaining))
            if not raw:
                break
            remaining -= len(raw)
            fed = True
            while raw:
                out = decomp.decompress(raw)
                if out:
                    yield out
                if decomp.eof:
                    raw = decomp.unused_data
                    decomp = bz2.BZ2Decompressor()
                    fed = bool(raw)
                else:
                    raw = b""
        if fed and not decomp.eof:
            raise EOFError("bz2 stream ended before its end-of-stream marker")
