"""The fast paths' per-page loops in Python: the reference for the compiled ones in ``_wordloop.c``, which give the
same output (tested on every shared page), and what runs where those were not built (``loops``).

``flags`` holds one byte per code point, what the fast path learnt of that character (0: not met yet).
"""

from __future__ import annotations

from tracer.tokenization.offsets import WordEntry

KNOWN = 1  # probed
UNSAFE = 2  # the fast path cannot reproduce the normalizer around it: the page is declined
RISKY = 4  # may join a grapheme cluster of several characters
MAPPED = 8  # the normalizer maps it to another character (or, SentencePiece, to several)
EXPANDING = 16  # ... to several characters
EXPANDING_TO_SPACE = 32  # ... among them a space
REMOVED = 64  # the normalizer deletes it (WordPiece)
PREPEND = 128  # a grapheme-cluster Prepend (RISKY too)
CODE_POINTS = 0x110000


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


def metaspace_words(text: str, marker: str) -> tuple[list[str], bool]:
    """SentencePiece's words of a normalized text: every space or marker starts one, written with the marker
    first; a text that starts with neither gets a marker prepended (and says so)."""
    marked = text.replace(" ", marker)
    prepended = not marked.startswith(marker)
    if prepended:
        marked = marker + marked
    return [marker + w for w in marked.split(marker)[1:]], prepended


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


def place_words(text: str, words: list[str]) -> list[int]:
    """Where each word starts in ``text``, each the next occurrence of its text after the one before."""
    starts, pos = [], 0
    for word in words:
        pos = text.find(word, pos)
        if pos < 0:
            raise ValueError(f"word {word!r} is not in the text after the words before it")
        starts.append(pos)
        pos += len(word)
    return starts
