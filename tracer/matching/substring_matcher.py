"""``fact-cl`` mode: the authors' rule, exactly: raw substrings of the space-joined token strings.

The authors' code (github xzhao-tkl/fact-cl) writes each page's mBERT tokens, space-joined, as lines
of at most 512 tokens (``token_sent_and_split.py``); each label becomes the line of its own tokens,
space-joined (``wiki_2018_dump.tokenize_all_subject_object``); their ``ggrep`` binary reports every
label line found anywhere in a text line, and a fact is present when its subject and object lines
were found in a common text line (``evaluate_tokenized_articles.py``). Nothing stops a match at a
token or word edge: ``Paris`` is found inside ``Paris ##ian`` and ``Tunis`` inside ``Tunisia``; a
katakana label is found inside a ``##`` continuation piece.

Here the text lines are the stored segments (the same cut: ≤512 tokens, consecutive), rebuilt from
their token ids through the vocabulary, joined with ``\\n`` and searched as UTF-8 in one
Aho-Corasick pass; a label line holds no ``\\n``, so no match crosses a segment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from tokenizers import Tokenizer

from tracer.matching.engines import build_automaton, sorted_unique

SPACE, NEWLINE = 0x20, 0x0A


def label_token_lines(tokenizer: Tokenizer, labels: list[str]) -> list[str]:
    """Each label as the authors wrote it: its tokens (as ``tokenizer.tokenize`` gives them), space-joined."""
    return [" ".join(e.tokens) for e in tokenizer.encode_batch(labels, add_special_tokens=False)]


class PieceBytes:
    """The UTF-8 of every vocabulary piece, laid out so a sequence of ids becomes its space-joined line at once."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        size = tokenizer.get_vocab_size(with_added_tokens=True)
        encoded = [(tokenizer.id_to_token(i) or "").encode("utf-8") for i in range(size)]
        self.vocab = size
        self.lengths = np.array([len(b) for b in encoded], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.data = np.frombuffer(b"".join(encoded), dtype=np.uint8)

    def lines(self, token_ids: pa.ListArray) -> tuple[bytes, np.ndarray]:
        """(haystack, start of each row's line): the rows' pieces space-joined, rows separated by ``\\n``."""
        ids = token_ids.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
        ids = np.where((ids >= 0) & (ids < self.vocab), ids, 0)
        rows = token_ids.offsets.to_numpy().astype(np.int64)
        rows -= rows[0]  # [segments + 1] first token of each row
        lengths = self.lengths[ids]
        ends = np.cumsum(lengths + 1)  # every piece and the space (or newline) after it
        starts = ends - lengths - 1
        total = int(ends[-1]) if len(ends) else 0
        out = np.full(total, SPACE, dtype=np.uint8)
        within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        out[np.repeat(starts, lengths) + within] = self.data[np.repeat(self.offsets[ids], lengths) + within]
        last = rows[1:][rows[1:] > rows[:-1]] - 1  # the last token of every row that has one
        out[ends[last] - 1] = NEWLINE  # its separator ends the row's line
        return out.tobytes(), np.append(starts, total)[rows[:-1]]


class SubstringMatcher:
    """Finds every key (a label's token line) in every segment's token line; yields unique (segment, key) pairs."""

    def __init__(self, keys: Sequence[str], tokenizer: Tokenizer, engine: str) -> None:
        self.pieces = PieceBytes(tokenizer)
        self.key_count = len(keys)
        usable = [i for i, key in enumerate(keys) if key and "\n" not in key]
        self.key_numbers = np.array(usable, dtype=np.int64)
        patterns = [keys[i].encode("utf-8") for i in usable]
        self.automaton = build_automaton(engine, patterns) if patterns else None

    def match(self, token_ids: pa.ListArray) -> tuple[np.ndarray, np.ndarray]:
        """(segment row, key index) of every key found in each row's line, unique and sorted."""
        if self.automaton is None or len(token_ids) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        haystack, line_starts = self.pieces.lines(token_ids)
        found = self.automaton.find(haystack)
        segment = np.searchsorted(line_starts, found[:, 1], side="right") - 1
        pairs = sorted_unique(segment * self.key_count + self.key_numbers[found[:, 0]])
        return pairs // self.key_count, pairs % self.key_count
