"""The fast paths' per-page loops in Python: the reference for the compiled ones in ``_wordloop.c``, which give the
same output (tested on every shared page), and what runs where those were not built (``loops``).

``flags`` holds one byte per code point, what the fast path learnt of that character (0: not met yet).
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections.abc import Iterable

from tracer.tokenization.clusters import any_of, char_class
from tracer.tokenization.offsets import WordEntry

KNOWN = 1  # probed
UNSAFE = 2  # the fast path cannot reproduce the normalizer around it: the page is declined
RISKY = 4  # may join a grapheme cluster of several characters
MAPPED = 8  # the normalizer maps it to another character (or, SentencePiece, to several)
EXPANDING = 16  # ... to several characters (SentencePiece)
EXPANDING_TO_SPACE = 32  # ... among them a space (SentencePiece)
SEPARATOR = 16  # WordPiece's reading of the same bit: the pre-tokenizer splits the text at it, and drops it
ALONE = 32  # ... and of this one: it splits, and is a word of its own
REMOVED = 64  # the normalizer deletes it (WordPiece)
PREPEND = 128  # a grapheme-cluster Prepend (RISKY too)
CODE_POINTS = 0x110000
SPACE_RUN = re.compile(" {2,}")


def new_flags() -> bytearray:
    return bytearray(CODE_POINTS)


def scan(text: str, flags: bytearray) -> tuple[int, set[str]]:
    """The OR of the flags of the text's characters, and those not met yet (flags 0)."""
    seen, unknown = 0, set()
    for ch in set(text):
        bits = flags[ord(ch)]
        if not bits:
            unknown.add(ch)
        seen |= bits
    return seen, unknown


def chars_with(text: str, flags: bytearray, bits: int) -> set[str]:
    """The text's characters whose flags have any of ``bits``."""
    return {ch for ch in set(text) if flags[ord(ch)] & bits}


def positions(data: bytes) -> memoryview:
    """Positions the loops return packed (native int64), as a sequence of ints."""
    return memoryview(data).cast("q")


def _packed(values: Iterable[int]) -> bytes:
    return array("q", values).tobytes()


def metaspace_words(text: str, marker: str) -> tuple[list[str], bytes]:
    """SentencePiece's words of a normalized text: every space or marker starts one, written with the marker
    first; a text that starts with neither gets a marker prepended. Each word's start in the text, packed
    (``positions``): where its marker stands, -1 for one prepended."""
    marked = text.replace(" ", marker)
    prepended = not marked.startswith(marker)
    if prepended:
        marked = marker + marked
    words = [marker + w for w in marked.split(marker)[1:]]
    starts = itertools.accumulate(map(len, words[:-1]), initial=-1 if prepended else 0)
    return words, _packed(starts)


def separated_words(text: str, flags: bytearray, separator: int, alone: int) -> tuple[list[str], bytes]:
    """The runs of characters whose flags have neither bit, and each character with ``alone`` as a word of its own
    (it separates too), with their starts packed (``positions``): a BertPreTokenizer by character flags."""
    stops = chars_with(text, flags, separator | alone)
    if not stops:
        return ([text], _packed([0])) if text else ([], b"")
    singles = char_class([ord(c) for c in stops if flags[ord(c)] & alone]) or "\\x00"
    found = list(re.finditer(f"[^{char_class([ord(c) for c in stops])}]+|[{singles}]", text))
    return [m.group() for m in found], _packed(m.start() for m in found)


def translate(text: str, flags: bytearray, mapped: int, table: dict[int, str]) -> str:
    """``text.translate(table)``, where ``table`` maps exactly the characters whose flags have ``mapped``: only
    the page's own such characters are visited."""
    chars = chars_with(text, flags, mapped)
    if not chars:
        return text
    if len(chars) == 1:
        ch = next(iter(chars))
        return text.replace(ch, table[ord(ch)])
    return any_of(chars).sub(lambda m: table[ord(m.group())], text)


def expansions(text: str, flags: bytearray, bit: int, table: dict[int, str]) -> tuple[bytes, bytes, bytes]:
    """For each character whose flags have ``bit`` (``table`` expands it to several): where its expansion starts in
    the text the table makes, where it stands in this one, and how long the expansion is, each packed."""
    at, origin, grown, extra = [], [], [], 0
    chars = chars_with(text, flags, bit)
    if chars:
        for m in any_of(chars).finditer(text):
            i, size = m.start(), len(table[ord(m.group())])
            at.append(i + extra)
            origin.append(i)
            grown.append(size)
            extra += size - 1
    return _packed(at), _packed(origin), _packed(grown)


def space_runs(text: str) -> tuple[str, bytes, bytes, bytes]:
    """The text with each run of two spaces or more as one, and per run, packed: where its space stands in the
    collapsed text, how many spaces the runs before it lost, and its length."""
    at, removed_before, lengths, removed = [], [], [], 0
    for m in SPACE_RUN.finditer(text):
        a, b = m.span()
        at.append(a - removed)
        removed_before.append(removed)
        lengths.append(b - a)
        removed += b - a - 1
    return SPACE_RUN.sub(" ", text), _packed(at), _packed(removed_before), _packed(lengths)


def lookup(
    words: list[str], cache: dict[str, WordEntry], extra: dict[str, WordEntry] | None = None
) -> tuple[list[int] | None, list[WordEntry] | None, list[str]]:
    """Each word's ids from ``cache`` (or ``extra``) and all of them concatenated; when a word is in neither,
    ``(None, None, the distinct missing words)``."""
    entries = list(map(cache.get, words))
    if None in entries:
        if extra:
            entries = [e if e is not None else extra.get(w) for w, e in zip(words, entries, strict=True)]
        if None in entries:
            return None, None, list(dict.fromkeys(w for w, e in zip(words, entries, strict=True) if e is None))
    return [i for entry in entries for i in entry], entries, []
