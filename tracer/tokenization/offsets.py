"""Token offsets in the original text, worked out only for the tokens a caller asks about."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

from tokenizers import Tokenizer

WordEntry = list[int]  # the model's ids for one pre-tokenized word (never mutated)
Span = tuple[int, int]


def token_locator(ends: Sequence[int]) -> Callable[[int], tuple[int, int]]:
    """Token ``i`` of the page -> (its word ``k``, its place ``j`` in that word), from the running count of tokens
    after each word."""

    def locate(i: int) -> tuple[int, int]:
        k = bisect.bisect_right(ends, i)
        return k, i - (ends[k - 1] if k else 0)

    return locate


def token_offsets(
    words: list[str], ends: Sequence[int], span: Callable[[int], Span], word_offsets: Callable[[str, int], Span]
) -> Callable[[int], Span]:
    """Offsets of token ``i`` in the original text, worked out only when asked (segment edges).

    ``ends[k]``: the tokens up to and including word ``k``; ``span(k)`` gives word ``k``'s span in the original
    text; ``word_offsets(word, j)`` the model's ``j``-th token offsets inside a (normalized) word.
    """
    locate = token_locator(ends)

    def offset(i: int) -> Span:
        k, j = locate(i)
        start, end = span(k)
        return place(word_offsets(words[k], j), start, end, len(words[k]))

    return offset


def mapped_offsets(
    word: Callable[[int], str],
    ends: Sequence[int],
    word_start: Callable[[int], int],
    source: Callable[[int], int],
    word_offsets: Callable[[str, int], Span],
) -> Callable[[int], Span]:
    """Offsets of token ``i`` in the original text, for word ``k`` (``word(k)``, made only when asked) placed at
    ``word_start(k)`` in a text whose every position ``source`` maps to the original: the source of the token's
    first character, and one past the source of its last, as the tokenizer's own alignments give them."""
    locate = token_locator(ends)

    def offset(i: int) -> Span:
        k, j = locate(i)
        a, b = word_offsets(word(k), j)
        start = word_start(k)
        return source(start + a), source(start + b - 1) + 1

    return offset


def word_offsets_for(tokenizer: Tokenizer) -> Callable[[str, int], Span]:
    """The model's ``j``-th token offsets inside one word, in code points (the model reports UTF-8 bytes)."""
    model = tokenizer.model

    def offsets(word: str, j: int) -> Span:
        a, b = model.tokenize(word)[j].offsets
        if word.isascii():
            return a, b
        data = word.encode("utf-8")
        return len(data[:a].decode("utf-8", "ignore")), len(data[:b].decode("utf-8", "ignore"))

    return offsets


def place(rel: Span, start: int, end: int, norm_len: int) -> Span:
    """Map a token's offsets inside a normalized word back onto the original text.

    When normalization kept the word's length (the usual case, including a
    SentencePiece ``▁`` that replaced a space) offsets shift directly; a
    prepended ``▁`` is absorbed at the start; otherwise the token gets the
    word's whole original span.
    """
    a, b = rel
    shift = norm_len - (end - start)
    if shift == 0:
        return start + a, start + b
    if shift > 0:
        return start + max(0, a - shift), start + max(0, b - shift)
    return start, end
