"""Table-driven fast paths for the two tokenizer families factrace meets: SentencePiece (XLM-R)
and WordPiece (mBERT). Exact by construction, or they decline and the caller takes the
tokenizer's own pipeline.

The Rust pipeline behind ``Tokenizer.encode`` spends much of its time outside the model (with
the model replaced by a word lookup it still runs at only 2–4 MB/s here). Both normalizers act
on one character at a time (SentencePiece's ``Precompiled`` on one grapheme cluster at a time,
and only clusters shorter than 6 bytes are looked up whole), and both pre-tokenizers classify
single characters. So we ask the tokenizer's own normalizer and pre-tokenizer what they do with
each character the first time we meet it (``wordloop`` flags), then normalize, split into words
and look them up in a cache of the model's output (the per-page loops in C, ``loops``). Where the
normalizer is not character by character, the fast path proves it equal or declines (``None``):
a short grapheme cluster is put to the normalizer whole and must come out as character by
character; XLM-R's runs of spaces are collapsed, and WordPiece's deleted characters stripped,
with position maps back to the page. Declined: a character SentencePiece deletes, one WordPiece
turns into several, a cluster that normalizes whole otherwise, an expansion holding a space next
to a run of spaces. Token offsets go through the same maps, as the tokenizer aligns them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from types import ModuleType

from tokenizers import Tokenizer

from tracer.tokenization import wordloop
from tracer.tokenization.clusters import EXTEND, PREPEND, any_of, char_class, cluster_letter
from tracer.tokenization.loops import LOOPS
from tracer.tokenization.offsets import mapped_offsets
from tracer.tokenization.word_ids import WordIds
from tracer.tokenization.wordloop import positions


class FastPath:
    """Shared machinery: per-character probing, grapheme clusters, the per-character table."""

    def __init__(self, tokenizer: Tokenizer, words: WordIds, loops: ModuleType):
        self.tokenizer = tokenizer
        self.words = words
        self.loops = loops
        self.flags = wordloop.new_flags()  # what was learnt of each character met (``wordloop``'s bits)
        self.unsafe: set[str] = set()
        self.table: dict[int, str] = {}
        self.letters: dict[int, str] = {}  # character -> grapheme-cluster letter (``clusters``)
        self.cluster_risky: set[str] = set()
        self._risky_re: tuple[int, re.Pattern[str]] | None = None  # (how many risky characters it knows, regex)
        self.proven: dict[str, bool] = {}  # short cluster -> normalized whole as character by character

    def probe(self, ch: str) -> None:
        raise NotImplementedError

    def extra_bits(self, ch: str) -> int:
        """Flags only one fast path sets."""
        return 0

    def _learn(self, text: str) -> int | None:
        """The page's flags (the OR of its characters'), probing the characters met for the first time; None when
        the page holds one that is not safe. (Whole blocks of 256 code points were probed at once while splitting
        went through a regex rebuilt for each new separator; the flags split now, and blocks cost 38,656 probes
        over the shared pages, where 4,650 characters are met.)"""
        seen, unknown = self.loops.scan(text, self.flags)
        for ch in unknown:
            self._learn_character(ch)
            seen |= self.flags[ord(ch)]
        return None if seen & wordloop.UNSAFE else seen

    def _learn_character(self, ch: str) -> None:
        self.probe(ch)
        letter = cluster_letter(ch)
        self.letters[ord(ch)] = letter
        bits = wordloop.KNOWN | self.extra_bits(ch)
        if letter not in "abcd":
            self.cluster_risky.add(ch)
            bits |= wordloop.RISKY | (wordloop.PREPEND if letter in PREPEND else 0)
        if ch in self.unsafe:
            bits |= wordloop.UNSAFE
        if ord(ch) in self.table:
            bits |= wordloop.MAPPED
        self.flags[ord(ch)] = bits

    def clusters_proven(self, text: str, page: int, normalize_whole: Callable[[str], str]) -> bool:
        """Whether every grapheme cluster of the page that may be looked up whole (shorter than 6 bytes) normalizes
        whole exactly as character by character, so the per-character table gives the normalizer's output.

        A cluster of several characters has a Prepend or an extending character (``clusters``), or is CR LF.
        ``cluster_pattern`` finds each such candidate: the Prepends, at most one base, the extending characters
        after it. It is the cluster, or a string the normalizer splits into the same clusters on its own (the
        rules that look further, emoji ZWJ sequences, regional-indicator pairs and Indic conjuncts, make clusters
        of 6 bytes or more). Each distinct candidate is put to the normalizer once."""
        if not page & wordloop.RISKY:
            return True
        for candidate in self.cluster_candidates(text):
            if len(candidate) == 1 or len(candidate.encode("utf-8")) >= 6:
                continue
            proven = self.proven.get(candidate)
            if proven is None:
                by_character = "".join(self.table.get(ord(c), c) for c in candidate)
                proven = self.proven[candidate] = normalize_whole(candidate) == by_character
            if not proven:
                return False
        return True

    def cluster_candidates(self, text: str) -> set[str]:
        """The distinct candidates ``cluster_pattern`` finds: by the compiled scan when there is one."""
        if hasattr(self.loops, "cluster_candidates"):
            return self.loops.cluster_candidates(text, self.flags, wordloop.RISKY, wordloop.PREPEND)
        if self._risky_re is None or self._risky_re[0] != len(self.cluster_risky):
            self._risky_re = (len(self.cluster_risky), cluster_pattern(self.cluster_risky, self.letters))
        return set(self._risky_re[1].findall(text))

    def normalize(self, text: str, page: int) -> str:
        """Apply the per-character table; only the characters this page has that change are visited."""
        if not page & wordloop.MAPPED:
            return text
        return self.loops.translate(text, self.flags, wordloop.MAPPED, self.table)


class MetaspaceFastPath(FastPath):
    """SentencePiece: Precompiled (+ Replace of space runs) normalizer, Metaspace pre-tokenizer."""

    def __init__(self, tokenizer: Tokenizer, config: dict, words: WordIds, loops: ModuleType):
        super().__init__(tokenizer, words, loops)
        norm, pre = config["normalizer"], config["pre_tokenizer"]
        steps = norm["normalizers"] if norm["type"] == "Sequence" else [norm]
        self.precompiled = tokenizer.normalizer[0] if norm["type"] == "Sequence" else tokenizer.normalizer
        self.collapse_spaces = len(steps) == 2
        self.replacement = pre["replacement"]
        self.expanding: set[str] = set()  # characters normalized to several (e.g. "…" -> "...")
        self.expanding_to_space: set[str] = set()  # ... some of them with a space (e.g. "¨" -> " ̈")

    def probe(self, ch: str) -> None:
        mapped = self.precompiled.normalize_str(ch)
        if not mapped:
            self.unsafe.add(ch)  # removed: a word could join across it
        elif mapped != ch:
            self.table[ord(ch)] = mapped
            if len(mapped) > 1:
                self.expanding.add(ch)
                if " " in mapped:
                    self.expanding_to_space.add(ch)

    def extra_bits(self, ch: str) -> int:
        bits = wordloop.EXPANDING if ch in self.expanding else 0
        return bits | (wordloop.EXPANDING_TO_SPACE if ch in self.expanding_to_space else 0)

    def encode(self, text: str) -> tuple[list[int], Callable[[int], tuple[int, int]]] | None:
        page = self._learn(text) if text else None
        if page is None or not self.clusters_proven(text, page, self.precompiled.normalize_str):
            return None
        normalized = self.normalize(text, page)
        to_normalized = None
        if self.collapse_spaces and "  " in normalized:
            if page & wordloop.EXPANDING_TO_SPACE:
                return None  # a run could start inside an expansion: leave it to the reference pipeline
            normalized, to_normalized = collapse_space_runs(normalized, self.loops)
        ids, ends, starts = self.words.metaspace(normalized, self.replacement)
        to_original = self._position_map(text) if page & wordloop.EXPANDING else None

        def source(pos: int) -> int:
            """A position of the marked text in the page. The prepended marker stands for the first character, and
            every character of an expansion for the one it came from, as the tokenizer aligns them."""
            pos = max(0, pos)
            if to_normalized is not None:
                pos = to_normalized(pos)
            return pos if to_original is None else to_original(pos)

        def word(k: int) -> str:  # words tile the text, each from its marker's place to the next one's
            stop = starts[k + 1] if k + 1 < len(starts) else len(normalized)
            return self.replacement + normalized[starts[k] + 1 : stop]

        return ids, mapped_offsets(word, ends, starts.__getitem__, source, self.words.span)

    def _position_map(self, text: str) -> Callable[[int], int]:
        """Normalized position -> original position, for a page where some characters expanded."""
        at, origin, grown = map(positions, self.loops.expansions(text, self.flags, wordloop.EXPANDING, self.table))

        def to_original(pos: int) -> int:
            k = bisect.bisect_right(at, pos) - 1
            if k < 0:
                return pos
            i, size = origin[k], grown[k]
            return i if pos < at[k] + size else pos - (at[k] - i + size - 1)

        return to_original


class BertFastPath(FastPath):
    """WordPiece: BertNormalizer without accent stripping, BertPreTokenizer."""

    def __init__(self, tokenizer: Tokenizer, config: dict, words: WordIds, loops: ModuleType):
        super().__init__(tokenizer, words, loops)
        self.normalizer = tokenizer.normalizer
        self.pre_tokenizer = tokenizer.pre_tokenizer
        self.spaces: set[str] = set()
        self.isolated: set[str] = set()
        self.removed: set[str] = set()  # what the normalizer deletes (format characters such as ZWJ, soft hyphen)

    def probe(self, ch: str) -> None:
        mapped = self.normalizer.normalize_str(ch)
        if mapped == f" {ch} ":
            self.isolated.add(ch)  # CJK ideographs stand alone
            return
        if mapped == "":
            self.removed.add(ch)
            return
        if len(mapped) != 1:
            self.unsafe.add(ch)
            return
        pieces = [w for w, _ in self.pre_tokenizer.pre_tokenize_str(f"a{mapped}a")]
        if pieces == ["a", "a"]:
            self.spaces.add(ch)
        elif pieces == ["a", mapped, "a"]:
            self.isolated.add(ch)
        elif pieces == [f"a{mapped}a"]:
            if mapped != ch:
                self.table[ord(ch)] = mapped
        else:
            self.unsafe.add(ch)

    def extra_bits(self, ch: str) -> int:
        bits = wordloop.REMOVED if ch in self.removed else 0
        return bits | (wordloop.SEPARATOR if ch in self.spaces else 0) | (wordloop.ALONE if ch in self.isolated else 0)

    def encode(self, text: str) -> tuple[list[int], Callable[[int], tuple[int, int]]] | None:
        page = self._learn(text) if text else None
        if page is None:
            return None
        source = None
        if page & wordloop.REMOVED:
            text, source = strip_characters(text, self.loops.chars_with(text, self.flags, wordloop.REMOVED))
        if page & wordloop.MAPPED:  # words translated one by one (189 of the shared pages)
            originals, packed = self.loops.separated_words(text, self.flags, wordloop.SEPARATOR, wordloop.ALONE)
            words = [w.translate(self.table) for w in originals]
            ids, ends = self.words.page(words)
            word, starts = words.__getitem__, positions(packed)
        else:
            ids, ends, starts, stops = self.words.separated(text, self.flags, wordloop.SEPARATOR, wordloop.ALONE)

            def word(k: int) -> str:
                return text[starts[k] : stops[k]]

        return ids, mapped_offsets(word, ends, starts.__getitem__, source or _same, self.words.span)


def _same(pos: int) -> int:
    return pos


def strip_characters(text: str, removed: set[str]) -> tuple[str, Callable[[int], int]]:
    """The text without the ``removed`` characters, and the map from its positions back to the text's."""
    pattern = any_of(removed)
    gaps = [m.start() - n for n, m in enumerate(pattern.finditer(text))]  # where each one was, in the stripped text

    def source(pos: int) -> int:
        return pos + bisect.bisect_right(gaps, pos)

    return pattern.sub("", text), source


def collapse_space_runs(normalized: str, loops: ModuleType) -> tuple[str, Callable[[int], int]]:
    """XLM-R's ``Replace(" {2,}", " ")``: the text with each run of spaces as one, and the map from its positions
    back to the text's. The one space stands where the run's last space stood, as the tokenizer aligns it."""
    collapsed, *runs = loops.space_runs(normalized)
    collapsed_at, removed_before, lengths = map(positions, runs)

    def to_normalized(pos: int) -> int:
        k = bisect.bisect_right(collapsed_at, pos) - 1
        return pos if k < 0 else pos + removed_before[k] + lengths[k] - 1

    return collapsed, to_normalized


def cluster_pattern(risky: set[str], letters: dict[int, str]) -> re.Pattern[str]:
    """Candidates for grapheme clusters of several characters: Prepends, at most one base (none at the start of
    the text), then extending characters; Prepends and what follows them; CR LF."""
    extend = char_class([ord(c) for c in risky if letters[ord(c)] in EXTEND and c != "\r"]) or "\x00"
    prepend = char_class([ord(c) for c in risky if letters[ord(c)] in PREPEND]) or "\x00"
    return re.compile(
        f"[{prepend}]*(?:[^{extend}{prepend}]|^)[{extend}]+|[{prepend}]+[^{extend}{prepend}]?[{extend}]*|\r\n"
    )


def fast_path_for(tokenizer: Tokenizer, config: dict, words: WordIds, loops: ModuleType = LOOPS) -> FastPath | None:
    """The fast path that reproduces this tokenizer (``config``: its JSON) exactly, or None for any other pipeline."""
    norm, pre = config.get("normalizer") or {}, config.get("pre_tokenizer") or {}
    if pre.get("type") == "Metaspace" and pre.get("split", True) and _always_prepends(pre):
        steps = norm.get("normalizers", [norm]) if norm.get("type") == "Sequence" else [norm]
        kinds = [s.get("type") for s in steps]
        collapse = {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}
        if kinds == ["Precompiled"] or (kinds == ["Precompiled", "Replace"] and steps[1] == collapse):
            return MetaspaceFastPath(tokenizer, config, words, loops)
    if norm.get("type") == "BertNormalizer" and pre.get("type") == "BertPreTokenizer":
        strip = norm.get("strip_accents")
        if strip is False or (strip is None and not norm.get("lowercase")):
            return BertFastPath(tokenizer, config, words, loops)
    return None


def _always_prepends(pre: dict) -> bool:
    return pre.get("prepend_scheme", "always" if pre.get("add_prefix_space", True) else "never") == "always"
