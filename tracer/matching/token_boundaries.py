"""Where a word ends, per vocabulary piece, for the two tokenizer families factrace supports.

A match of a label's token sequence may not end inside a word. Per piece we precompute
``continues`` (this piece, following another, is still the same word) and ``open_end`` (after
this piece any piece starts a new word):

* WordPiece (mBERT): a piece continues iff it starts with the ``##`` prefix; ``open_end`` never.
* SentencePiece with the ``▁`` word marker (XLM-R): a piece continues iff it does not start with
  ``▁`` and its first character is a letter, mark or digit of a spaced script (so punctuation and
  scripts written without spaces, such as 都 after 東京, start a new word); ``open_end`` iff its
  last character is not such a character.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

from tracer.errors import ConfigError
from tracer.matching.scripts import SPACED_WORD, class_table

WORDPIECE, METASPACE = "wordpiece", "metaspace"


@dataclass(frozen=True, slots=True)
class TokenBoundaries:
    family: str
    continues: np.ndarray  # [vocab] bool
    open_end: np.ndarray  # [vocab] bool
    bare_marker: int | None  # id of the lone "▁" piece (SentencePiece), dropped from label starts


def _metaspace_marker(spec: dict | None) -> str | None:
    if not spec:
        return None
    if spec.get("type") == "Metaspace":
        return spec.get("replacement", "▁")
    for inner in spec.get("pretokenizers", []) or []:
        marker = _metaspace_marker(inner)
        if marker:
            return marker
    return None


def token_boundaries(tokenizer: Tokenizer) -> TokenBoundaries:
    spec = json.loads(tokenizer.to_str())
    model = spec.get("model", {})
    size = tokenizer.get_vocab_size(with_added_tokens=True)
    pieces = [tokenizer.id_to_token(i) or "" for i in range(size)]
    special = {t["id"] for t in spec.get("added_tokens", []) if t.get("special")}
    continues = np.zeros(size, dtype=bool)
    open_end = np.zeros(size, dtype=bool)
    if model.get("type") == "WordPiece":
        prefix = model.get("continuing_subword_prefix") or "##"
        for i, piece in enumerate(pieces):
            continues[i] = piece.startswith(prefix) and i not in special
        return TokenBoundaries(WORDPIECE, continues, open_end, None)
    marker = _metaspace_marker(spec.get("pre_tokenizer"))
    if marker is None:
        raise ConfigError(
            f"tokens mode supports WordPiece and SentencePiece ('▁' Metaspace) tokenizers, not a "
            f"{model.get('type')} model without a Metaspace pre-tokenizer; use --mode text"
        )
    table = class_table()
    first = table[[ord(p[0]) if p else 0 for p in pieces]]
    last = table[[ord(p[-1]) if p else 0 for p in pieces]]
    marked = np.array([p.startswith(marker) for p in pieces], dtype=bool)
    ordinary = np.array([bool(p) for p in pieces], dtype=bool)
    ordinary[list(special)] = False
    continues[:] = ordinary & ~marked & (first == SPACED_WORD)
    open_end[:] = ~ordinary | (last != SPACED_WORD)
    return TokenBoundaries(METASPACE, continues, open_end, tokenizer.token_to_id(marker))
