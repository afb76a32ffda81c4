"""Which characters can make a grapheme cluster of several characters.

SentencePiece's ``Precompiled`` normalizer looks a cluster shorter than 6 UTF-8 bytes up whole (a
base letter with a combining mark, say), so such a cluster may normalize otherwise than one
character at a time. Every character is written as one letter: its UTF-8 length (a–d), capitals
for characters that can extend a cluster, x–z for Prepend characters; ``fast_paths`` finds the
clusters around the risky ones and checks them.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

# Characters that can sit inside a grapheme cluster after another character (Extend, ZWJ,
# SpacingMark: marks, format controls, and the few letters/symbols UAX #29 adds), unassigned,
# private-use and surrogate code points. The categories are Python's Unicode tables; an
# unassigned one there is treated as risky, so a newer Unicode in Rust cannot surprise us.
_RISKY_CATEGORIES = {"Mn", "Me", "Mc", "Cf", "Cn", "Co", "Cs"}
_RISKY_EXTRA = [0x0E33, 0x0EB3, 0xFF9E, 0xFF9F, *range(0x1F3FB, 0x1F400)]
_PREPEND = [*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x0D4E, 0x110BD, 0x110CD,
            0x111C2, 0x111C3, 0x1193F, 0x11941, 0x11A3A, *range(0x11A84, 0x11A8A), 0x11D46, 0x11F02]  # fmt: skip


def char_class(codepoints: list[int]) -> str:
    """A regex character class body for the code points (ranges merged)."""
    parts = []
    for _, group in itertools.groupby(enumerate(sorted(set(codepoints))), lambda iv: iv[1] - iv[0]):
        run = [cp for _, cp in group]
        lo, hi = run[0], run[-1]
        parts.append(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}")
    return "".join(parts)


def any_of(chars: Iterable[str]) -> re.Pattern[str]:
    """A regex matching any one of the characters."""
    return re.compile(f"[{char_class([ord(c) for c in chars])}]")


# Every character is written as one letter: its UTF-8 length (a-d), or, for a character that can
# extend a grapheme cluster, its length in capitals (R for a 1-byte one: CR), or x-z for a
# Prepend character.
_LENGTH_LETTER = {1: "a", 2: "b", 3: "c", 4: "d"}
_RISKY_LETTER = {1: "R", 2: "B", 3: "C", 4: "D"}
_PREPEND_LETTER = {2: "x", 3: "y", 4: "z"}
EXTEND = frozenset(_RISKY_LETTER.values())
PREPEND = frozenset(_PREPEND_LETTER.values())


def cluster_letter(ch: str) -> str:
    n = len(ch.encode("utf-8", "surrogatepass"))
    if ord(ch) in _PREPEND_SET:
        return _PREPEND_LETTER[n]
    if unicodedata.category(ch) in _RISKY_CATEGORIES or ord(ch) in _RISKY_EXTRA_SET or ch == "\r":
        return _RISKY_LETTER[n]
    return _LENGTH_LETTER[n]


_PREPEND_SET = frozenset(_PREPEND)
_RISKY_EXTRA_SET = frozenset(_RISKY_EXTRA)
