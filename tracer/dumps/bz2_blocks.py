"""Split a single-stream bz2 file by its compressed blocks, as Hadoop's BZip2Codec does.

A bz2 block starts with the 48-bit magic 0x314159265359 at any *bit* offset
and carries its own CRC, so one block can be decoded alone: copy its bits
into a fresh stream (``BZh<level>`` + block + end-of-stream marker + combined
CRC) and hand that to the bz2 library. A task owns the blocks whose magic
starts in its byte range and reads on into later blocks only to finish the
last page it started. The library verifies every block's CRC, so a false
magic (about one per 2^48 bits) shows up as a corrupt block, never as bad text.
"""

from __future__ import annotations

import bz2
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

BLOCK_MAGIC = 0x314159265359
EOS_MAGIC = 0x177245385090
_WINDOW_BYTES = 4 << 20
_MAGIC_BYTES = 7


class CorruptBlock(ValueError):
    """A block that the bz2 library refused (bad CRC or data)."""


def _patterns(magic: int) -> list[tuple[int, bytes, int, int, int, int]]:
    """Per bit shift: (shift, fully covered bytes, their offset, head byte, head mask, tail byte/mask)."""
    out = []
    for shift in range(8):
        window = (magic << (8 - shift)).to_bytes(_MAGIC_BYTES, "big")
        if shift == 0:
            out.append((0, window[:6], 0, 0, 0, 0))
        else:
            head_mask = 0xFF >> shift
            tail_mask = (0xFF << (8 - shift)) & 0xFF
            out.append((shift, window[1:6], 1, window[0], head_mask, (window[6] << 8) | tail_mask))
    return out


BLOCK_PATTERNS = _patterns(BLOCK_MAGIC)
EOS_PATTERNS = _patterns(EOS_MAGIC)


def find_magic(data: bytes, patterns: list[tuple[int, bytes, int, int, int, int]]) -> list[int]:
    """Bit offsets (relative to ``data[0]``) where the magic of ``patterns`` starts."""
    hits = []
    for shift, core, core_off, head, head_mask, tail in patterns:
        i = data.find(core)
        while i >= 0:
            b = i - core_off
            ok = b >= 0
            if ok and shift:
                tail_byte, tail_mask = tail >> 8, tail & 0xFF
                ok = (data[b] & head_mask) == head and b + 6 < len(data) and (data[b + 6] & tail_mask) == tail_byte
            if ok:
                hits.append(b * 8 + shift)
            i = data.find(core, i + 1)
    return sorted(hits)


def _bits(f: BinaryIO, start_bit: int, end_bit: int) -> tuple[int, int]:
    """The bits ``[start_bit, end_bit)`` of the file as an int, and their count."""
    first, last = start_bit // 8, (end_bit + 7) // 8
    f.seek(first)
    raw = f.read(last - first)
    value = int.from_bytes(raw, "big")
    value >>= len(raw) * 8 - (end_bit - first * 8)
    nbits = end_bit - start_bit
    return value & ((1 << nbits) - 1), nbits


def decode_block(f: BinaryIO, level: bytes, start_bit: int, end_bit: int) -> bytes:
    """Decode the block spanning ``[start_bit, end_bit)`` as a stream of its own."""
    block, nbits = _bits(f, start_bit, end_bit)
    crc = (block >> (nbits - 80)) & 0xFFFFFFFF  # the 32 bits after the 48-bit magic
    value = (((block << 48) | EOS_MAGIC) << 32) | crc
    total = nbits + 80
    pad = (-total) % 8
    stream = b"BZh" + level + (value << pad).to_bytes((total + pad) // 8, "big")
    try:
        return bz2.decompress(stream)
    except (OSError, ValueError) as err:
        raise CorruptBlock(f"bz2 block at bit {start_bit}: {err}") from None


@dataclass(slots=True)
class Block:
    start_bit: int
    end_bit: int


def iter_blocks(f: BinaryIO, start_byte: int, file_size: int) -> Iterator[Block]:
    """Every block whose magic starts at or after ``start_byte``, with the bit where it ends; nothing at or
    past ``file_size`` is read."""
    pending: int | None = None
    pos = start_byte
    scanned_bit = start_byte * 8
    while pos < file_size:
        f.seek(pos)
        window = f.read(min(_WINDOW_BYTES + _MAGIC_BYTES, file_size - pos))
        base = pos * 8
        marks = sorted(
            [(b + base, True) for b in find_magic(window, BLOCK_PATTERNS)]
            + [(b + base, False) for b in find_magic(window, EOS_PATTERNS)]
        )
        for bit, is_block in marks:
            if bit < scanned_bit:
                continue
            scanned_bit = bit + 1
            if pending is not None:
                yield Block(pending, bit)
                pending = None
            if is_block:
                pending = bit
        pos += _WINDOW_BYTES
    if pending is not None:
        raise CorruptBlock(f"bz2 block at bit {pending} has no end marker (file truncated?)")


def read_level(f: BinaryIO) -> bytes:
    f.seek(0)
    head = f.read(4)
    if not head.startswith(b"BZh") or head[3:4] not in b"123456789":
        raise CorruptBlock("not a bz2 file")
    return head[3:4]
