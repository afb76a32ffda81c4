"""Which characters are word characters, and which scripts are written without spaces.

Word boundaries are checked only between two word characters of *spaced* scripts: ``Paris`` does
not match inside ``Parisian``, but ``東京`` matches inside ``東京都`` and ``Google`` before ``は``.
The same rule serves the text matcher (characters) and the token matcher (piece edges).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

# Han, kana, Thai, Lao, Tibetan, Myanmar, Khmer (and their extensions / compatibility forms).
_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana extension
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified
    (0xA9E0, 0xA9FF),  # Myanmar extended-B
    (0xAA60, 0xAA7F),  # Myanmar extended-A
    (0xF900, 0xFAFF),  # CJK compatibility
    (0xFF66, 0xFF9F),  # halfwidth Katakana
    (0x20000, 0x3134F),  # CJK extensions B-G
)

OTHER, SPACED_WORD, UNSPACED_WORD = 0, 1, 2


@lru_cache(maxsize=1)
def class_table() -> np.ndarray:
    """The class of every code point as one uint8 array, built once per process (~0.4 s): the rule's
    only definition. Letters, marks, digits and ``_`` are word characters; the ranges above are
    scripts written without spaces; everything else (spaces, punctuation, symbols) is ``OTHER``."""
    codes = range(0x110000)
    word = np.fromiter((unicodedata.category(chr(c))[0] in "LMN" for c in codes), dtype=bool, count=0x110000)
    table = np.where(word, SPACED_WORD, OTHER).astype(np.uint8)
    table[ord("_")] = SPACED_WORD
    for lo, hi in _UNSPACED_RANGES:
        table[lo : hi + 1] = UNSPACED_WORD
    return table


def char_class(ch: str) -> int:
    """``SPACED_WORD``, ``UNSPACED_WORD`` or ``OTHER`` for one character (see ``class_table``)."""
    return int(class_table()[ord(ch)])


def joins_word(left: str, right: str) -> bool:
    """True when ``left`` followed by ``right`` lies inside one word of a spaced script."""
    return char_class(left) == SPACED_WORD and char_class(right) == SPACED_WORD


def code_points_at(utf8: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Code points of the UTF-8 characters that begin at ``starts`` (``utf8`` padded with zero bytes)."""
    b0 = utf8[starts].astype(np.int64)
    b1, b2, b3 = (utf8[starts + i].astype(np.int64) & 0x3F for i in (1, 2, 3))
    return np.select(
        [b0 < 0x80, b0 < 0xE0, b0 < 0xF0],
        [b0, ((b0 & 0x1F) << 6) | b1, ((b0 & 0x0F) << 12) | (b1 << 6) | b2],
        ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3,
    )


def classes_around(utf8: bytes, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class of the character just before each ``start`` and just after each ``end`` (byte offsets);
    ``OTHER`` at either end of the text."""
    data = np.frombuffer(utf8 + bytes(4), dtype=np.uint8)
    size = len(utf8)
    table = class_table()
    before = table[code_points_at(data, _previous_start(data, start))]
    before[start == 0] = OTHER
    after = table[code_points_at(data, np.minimum(end, size))]
    after[end >= size] = OTHER
    return before, after


def _previous_start(data: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The byte offset of the character that ends just before each ``start`` (0 for a start of 0): at most three
    continuation bytes back, looked at only where there are matches."""
    previous = np.maximum(start - 1, 0)
    for _ in range(3):
        continuation = (data[previous] & 0xC0) == 0x80
        previous = np.where(continuation & (previous > 0), previous - 1, previous)
    return previous
