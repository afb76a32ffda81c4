"""Everything needed to trace one language in one mode, built once per executor process and reused.

Building the label set and the automaton costs up to a few seconds for English; ``language_matcher``
caches them per (facts file, mode, tokenizer, engine), so every task after the first on an executor
starts matching at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tokenizers import Tokenizer

from schemas.values import FACT_CL, MATCH_MODES, TEXT, TOKENS
from tracer import storage
from tracer.matching.labels import LabelSet, build_label_set
from tracer.matching.normalize import nfkc_casefold_v1, normalizer, normalizer_name
from tracer.matching.presence import FactIndex, Partial, partial_of
from tracer.matching.substring_matcher import SubstringMatcher, label_token_lines
from tracer.matching.text_matcher import TextMatcher
from tracer.matching.token_boundaries import TokenBoundaries, token_boundaries
from tracer.matching.token_matcher import TokenMatcher, label_token_keys
from tracer.tokenization.loading import load_stored

MODES = MATCH_MODES
MATCHERS = {TOKENS: "tokens_v1", FACT_CL: "fact_cl_v1"}
FACT_COLUMNS = ["uuid", "relation", "subject_label", "object_label"]


@dataclass(slots=True)
class LanguageMatcher:
    lang: str
    mode: str
    name: str
    labels: LabelSet
    index: FactIndex
    matcher: TokenMatcher | SubstringMatcher | TextMatcher

    @property
    def column(self) -> str:
        """The segments column this mode reads."""
        return "text" if self.mode == TEXT else "token_ids"

    def partial(self, segments: pa.Table, k: int) -> Partial:
        """Counts and first-k evidence of one batch of segments (columns page_id, seg_no and ``column``)."""
        data = segments.column(self.column).combine_chunks()
        if self.mode == TEXT:
            data = data.to_pylist()
        segment, key = self.matcher.match(data)
        page_id = segments.column("page_id").to_numpy().astype(np.int64)
        seg_no = segments.column("seg_no").to_numpy().astype(np.int64)
        return partial_of(self.index, segment, key, page_id, seg_no, k)


def matcher_name(mode: str, lang: str) -> str:
    return MATCHERS.get(mode) or f"text_{normalizer_name(lang)}"


def flags_decide(mode: str) -> bool:
    """Whether a flagged label makes a fact undecided. The authors' rule has no such policy: under ``fact-cl``
    a fact is present whenever its labels co-occur, and the flags are only recorded."""
    return mode != FACT_CL


def read_facts(facts_file: str) -> pa.Table:
    return pq.read_table(facts_file, columns=FACT_COLUMNS)


def language_matcher(facts_file: str, lang: str, mode: str, tokenizer_file: str, engine: str) -> LanguageMatcher:
    """Label set and automaton of a language, built once per process (cached on the facts file's identity)."""
    stat = storage.info(facts_file)
    return _matcher(facts_file, stat.mtime_ns or 0, stat.size or 0, lang, mode, tokenizer_file, engine)


def language_labels(facts_file: str, lang: str, mode: str, tokenizer_file: str) -> LabelSet:
    """Only the label set (what merging partials needs): no automaton is built for it."""
    stat = storage.info(facts_file)
    return _labels(facts_file, stat.mtime_ns or 0, stat.size or 0, lang, mode, tokenizer_file)


@lru_cache(maxsize=8)
def _labels(facts_file: str, _mtime: int, _size: int, lang: str, mode: str, tokenizer_file: str) -> LabelSet:
    if mode not in MODES:
        raise ValueError(f"unknown match mode {mode!r}; use one of {MODES}")
    facts = read_facts(facts_file)
    columns = {name: facts.column(name).to_pylist() for name in FACT_COLUMNS}
    if mode == TOKENS:
        tokenizer, boundaries = _tokenizer(tokenizer_file)

        def keys_of(labels: list[str]) -> list:
            return label_token_keys(tokenizer, labels, boundaries.bare_marker)

        return _label_set(columns, keys_of, nfkc_casefold_v1)
    if mode == FACT_CL:
        tokenizer = load_stored(tokenizer_file)
        return _label_set(columns, lambda labels: label_token_lines(tokenizer, labels), nfkc_casefold_v1)
    normalize = normalizer(normalizer_name(lang))
    return _label_set(columns, lambda ls: [normalize(label) for label in ls], normalize)


@lru_cache(maxsize=8)
def _matcher(
    facts_file: str, mtime: int, size: int, lang: str, mode: str, tokenizer_file: str, engine: str
) -> LanguageMatcher:
    labels = _labels(facts_file, mtime, size, lang, mode, tokenizer_file)
    matcher: TokenMatcher | SubstringMatcher | TextMatcher
    if mode == TOKENS:
        matcher = TokenMatcher(labels.keys, _tokenizer(tokenizer_file)[1], engine)
    elif mode == FACT_CL:
        matcher = SubstringMatcher(labels.keys, load_stored(tokenizer_file), engine)
    else:
        matcher = TextMatcher(labels.keys, normalizer(normalizer_name(lang)), engine)
    return LanguageMatcher(lang, mode, matcher_name(mode, lang), labels, FactIndex(labels), matcher)


@lru_cache(maxsize=2)
def _tokenizer(tokenizer_file: str) -> tuple[Tokenizer, TokenBoundaries]:
    """One tokenizer and its word-end tables per process, shared by every language."""
    tokenizer = load_stored(tokenizer_file)
    return tokenizer, token_boundaries(tokenizer)


def _label_set(
    columns: dict[str, list], keys_of: Callable[[list[str]], list], normalize: Callable[[str], str]
) -> LabelSet:
    return build_label_set(
        columns["uuid"], columns["relation"], columns["subject_label"], columns["object_label"], keys_of, normalize
    )
