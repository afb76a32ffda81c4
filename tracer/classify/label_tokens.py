"""A label's tokens in the probed model's tokenizer: what the absent-type rules compare and the probe counts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tokenizers import Tokenizer

from tracer.tokenization.loading import load_stored

BARE_PIECES = frozenset({"▁", "Ġ"})


def token_strings(tokenizer: Tokenizer) -> Callable[[str], list[str]]:
    """Tokens of a label without special tokens, as ``tokenizer.tokenize`` gives them (XLM-R's lone ``▁`` kept)."""

    def tokenize(text: str) -> list[str]:
        return tokenizer.encode(text, add_special_tokens=False).tokens

    return tokenize


def stored_tokenizer(path: str | Path) -> Callable[[str], list[str]]:
    return token_strings(load_stored(path))


def gold_length(tokens: list[str]) -> int:
    """The object's length as the probe counts its gold ids: a leading lone ``▁`` before more pieces is not
    counted."""
    return len(tokens) - 1 if len(tokens) > 1 and tokens[0] in BARE_PIECES else len(tokens)
