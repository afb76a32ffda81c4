"""Plan how many tasks read one dump, and read one task's share of it.

Strategies, chosen per file (``--split-strategy`` overrides ``auto``):

* ``multistream-index``: bz2 multistream dump with its index beside it; a split
  is a run of whole bz2 streams (exact page boundaries, no scanning).
* ``bz2-blocks``: any other bz2 file; a split is a byte range, and owns the
  pages that start in the blocks whose magic lies in that range.
* ``whole-file``: gzip, xz, plain XML, or UTF-16 text; these cannot be cut
  without decompressing from the start, so one task reads the file.
"""

from __future__ import annotations

import codecs
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tracer import storage
from tracer.dumps import bz2_blocks, multistream
from tracer.dumps.compression import StreamEnd, detect_compression, guard, open_decompressed, read_chunks

STRATEGIES = ("auto", "multistream-index", "bz2-blocks", "whole-file")


@dataclass(frozen=True, slots=True)
class Split:
    """One task's share of a dump: bytes ``[start, end)`` of the compressed file. No reader goes past
    ``data_end`` (where the file's data ends; bytes after it are garbage reported by the plan)."""

    path: str
    strategy: str
    compression: str
    split_no: int
    start: int
    end: int
    encoding: str = "utf-8"
    data_end: int | None = None

    @property
    def first(self) -> bool:
        return self.start == 0

    @property
    def label(self) -> str:
        return f"{self.path}[{self.strategy}:{self.start}-{self.end}]"


def choose_strategy(path: str, compression: str, requested: str, index: str | None) -> str:
    if requested != "auto":
        return requested
    if compression == "bz2":
        return "multistream-index" if index else "bz2-blocks"
    return "whole-file"


def plan_splits(
    path: str,
    *,
    strategy: str = "auto",
    split_bytes: int = 64 << 20,
    index: str | None = None,
    encoding: str = "utf-8",
    data_end: int | None = None,
) -> list[Split]:
    """Cut a dump's first ``data_end`` bytes (all of it by default) into splits of about ``split_bytes``."""
    compression = detect_compression(path)
    index = index or (str(multistream.index_path_for(path) or "") or None)
    chosen = "whole-file" if encoding != "utf-8" else choose_strategy(path, compression, strategy, index)
    size = storage.size(path) if data_end is None else data_end
    if chosen in ("multistream-index", "bz2-blocks") and compression != "bz2":
        raise ValueError(f"{path}: strategy {chosen} needs a bz2 file, this one is {compression}")
    if chosen == "multistream-index":
        if not index:
            raise ValueError(f"{path}: strategy multistream-index needs an index file (--index)")
        cuts = _cuts_at(multistream.stream_offsets(index), size, split_bytes)
    elif chosen == "bz2-blocks":
        cuts = [*range(0, size, max(1, split_bytes)), size]
    else:
        cuts = [0, size]
    return [
        Split(path, chosen, compression, i, a, b, encoding, data_end)
        for i, (a, b) in enumerate(itertools.pairwise(cuts))
        if b > a
    ] or [Split(path, chosen, compression, 0, 0, size, encoding, data_end)]


def _cuts_at(offsets: list[int], size: int, split_bytes: int) -> list[int]:
    cuts = [0]
    for off in offsets:
        if 0 < off < size and off - cuts[-1] >= split_bytes:
            cuts.append(off)
    return [*cuts, size]


def detect_encoding(head: bytes) -> str:
    """``utf-16`` for a byte-order mark or NUL-interleaved ``<``; UTF-8 otherwise (the export format's own)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith((b"<\x00", b"\x00<")):
        return "utf-16-le" if head[0:1] == b"<" else "utf-16-be"
    return "utf-8"


def transcode(chunks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    for chunk in chunks:
        yield decoder.decode(chunk).encode("utf-8")
    yield decoder.decode(b"", final=True).encode("utf-8")


@dataclass(slots=True)
class SplitReader:
    """Decompressed bytes of a split, its ownership limit, and how the stream ended."""

    chunks: Iterator[bytes]
    end: StreamEnd
    owned_limit: Callable[[], int | None]


def read_split(split: Split) -> SplitReader:
    end = StreamEnd()
    if split.strategy == "whole-file":
        if split.data_end is not None and split.compression == "bz2":
            chunks = guard(multistream.iter_streams(split.path, 0, split.data_end), end)
        else:
            chunks = read_chunks(open_decompressed(split.path, split.compression), end)
        if split.encoding != "utf-8":
            chunks = guard(transcode(chunks, split.encoding), end)
        return SplitReader(chunks, end, lambda: None)
    if split.strategy == "multistream-index":
        return SplitReader(guard(multistream.iter_streams(split.path, split.start, split.end), end), end, lambda: None)
    return _read_blocks(split, end)


def _read_blocks(split: Split, end: StreamEnd) -> SplitReader:
    limit: list[int | None] = [None]

    def chunks() -> Iterator[bytes]:
        size = storage.size(split.path) if split.data_end is None else split.data_end
        with storage.open_binary(split.path) as f:
            level = bz2_blocks.read_level(f)
            produced = 0
            try:
                for block in bz2_blocks.iter_blocks(f, split.start, size):
                    if block.start_bit >= split.end * 8 and limit[0] is None:
                        limit[0] = produced
                    data = bz2_blocks.decode_block(f, level, block.start_bit, block.end_bit)
                    produced += len(data)
                    yield data
            except bz2_blocks.CorruptBlock as err:
                end.clean = False
                end.detail = str(err)

    return SplitReader(chunks(), end, lambda: limit[0])
