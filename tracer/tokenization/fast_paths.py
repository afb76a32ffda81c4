"""Table-driven fast paths for the two tokenizer families factrace meets: SentencePiece (XLM-R)
and WordPiece (mBERT). Exact by construction, or they decline and the caller takes the
tokenizer's own pipeline.

The Rust pipeline behind ``Tokenizer.encode`` spends much of its time outside the model (with
the model replaced by a word lookup it still runs at only 2–4 MB/s here). Both normalizers act
on one character at a time (SentencePiece's ``Precompiled`` on one grapheme cluster at a time,
and only clusters shorter than 6 bytes are looked up whole), and both pre-tokenizers classify
single characters. So we ask the tokenizer's own normalizer and pre-tokenizer what they do with
each character the first time we meet it, then normalize, split with ``str.split`` or one
compiled regex, and look words up in a cache of the model's output. A page is declined
(``None``) when a character is removed by the normalizer, may join a short grapheme cluster,
or (WordPiece) changes length, because positions or clusters could then differ from the
reference pipeline.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Callable

from tokenizers import Tokenizer

from tracer.tokenization.clusters import EXTEND, PREPEND, char_class, cluster_letter
from tracer.tokenization.offsets import (
    TokenizeWords,
    WordEntry,
    mapped_offsets,
    word_offsets_for,
)

SPACE_RUN = re.compile(" {2,}")


class FastPath:
    """Shared machinery: per-character probing, the word cache, boundary offsets."""

    def __init__(self, tokenizer: Tokenizer, cache: dict[str, WordEntry], tokenize_words: TokenizeWords):
        self.tokenizer = tokenizer
        self.cache = cache
        self.tokenize_words = tokenize_words
        self.word_offsets = word_offsets_for(tokenizer)
        self.known: set[str] = set()
        self.unsafe: set[str] = set()
        self.table: dict[int, str] = {}
        self.letters: dict[int, str] = {}  # character -> grapheme-cluster letter (``clusters``)
        self.cluster_risky: set[str] = set()
        self._risky_re: tuple[int, re.Pattern[str]] | None = None  # (how many risky characters it knows, regex)
        self.proven: dict[str, bool] = {}  # short cluster -> normalized whole as character by character

    def probe(self, ch: str) -> None:
        raise NotImplementedError

    def _learn(self, text: str) -> bool:
        """Probe unseen characters; False when the page holds one that is not safe."""
        chars = set(text)
        new = chars - self.known
        for ch in new:
            self.probe(ch)
            letter = cluster_letter(ch)
            self.letters[ord(ch)] = letter
            if letter not in "abcd":
                self.cluster_risky.add(ch)
        self.known |= new
        self.page_chars = chars
        return not (chars & self.unsafe)

    def clusters_proven(self, text: str, normalize_whole: Callable[[str], str]) -> bool:
        """Whether every grapheme cluster of the page that may be looked up whole (shorter than 6 bytes) normalizes
        whole exactly as character by character, so the per-character table gives the normalizer's output.

        A cluster of several characters has a Prepend or an extending character (``clusters``), or is CR LF.
        ``cluster_pattern`` finds each such candidate: the Prepends, at most one base, the extending characters
        after it. It is the cluster, or a string the normalizer splits into the same clusters on its own (the
        rules that look further, emoji ZWJ sequences, regional-indicator pairs and Indic conjuncts, make clusters
        of 6 bytes or more). Each distinct candidate is put to the normalizer once."""
        if not (self.page_chars & self.cluster_risky):
            return True
        if self._risky_re is None or self._risky_re[0] != len(self.cluster_risky):
            self._risky_re = (len(self.cluster_risky), cluster_pattern(self.cluster_risky, self.letters))
        for candidate in set(self._risky_re[1].findall(text)):
            if len(candidate) == 1 or len(candidate.encode("utf-8")) >= 6:
                continue
            proven = self.proven.get(candidate)
            if proven is None:
                by_character = "".join(self.table.get(ord(c), c) for c in candidate)
                proven = self.proven[candidate] = normalize_whole(candidate) == by_character
            if not proven:
                return False
        return True

    def normalize(self, text: str) -> str:
        """Apply the per-character table; only the characters this page has that change are visited."""
        mapped = [ord(c) for c in self.page_chars if ord(c) in self.table]
        if not mapped:
            return text
        if len(mapped) == 1:
            return text.replace(chr(mapped[0]), self.table[mapped[0]])
        pattern = re.compile(f"[{char_class(mapped)}]")
        return pattern.sub(lambda m: self.table[ord(m.group())], text)

    def _lookup(self, words: list[str]) -> list[WordEntry]:
        return lookup(words, self.cache, self.tokenize_words)


class MetaspaceFastPath(FastPath):
    """SentencePiece: Precompiled (+ Replace of space runs) normalizer, Metaspace pre-tokenizer."""

    def __init__(self, tokenizer: Tokenizer, config: dict, cache: dict, tokenize_words: Callable) -> None:
        super().__init__(tokenizer, cache, tokenize_words)
        norm, pre = config["normalizer"], config["pre_tokenizer"]
        steps = norm["normalizers"] if norm["type"] == "Sequence" else [norm]
        self.precompiled = tokenizer.normalizer[0] if norm["type"] == "Sequence" else tokenizer.normalizer
        self.collapse_spaces = len(steps) == 2
        self.replacement = pre["replacement"]
        self.expanding: set[str] = set()  # characters normalized to several (e.g. "…" -> "...")
        self.expanding_to_space: set[str] = set()  # ... some of them with a space (e.g. "¨" -> " ̈")
        self._expanding_re: re.Pattern[str] | None = None

    def probe(self, ch: str) -> None:
        mapped = self.precompiled.normalize_str(ch)
        if not mapped:
            self.unsafe.add(ch)  # removed: a word could join across it
        elif mapped != ch:
            self.table[ord(ch)] = mapped
            if len(mapped) > 1:
                self.expanding.add(ch)
                self._expanding_re = None
                if " " in mapped:
                    self.expanding_to_space.add(ch)

    def encode(self, text: str) -> tuple[list[int], Callable[[int], tuple[int, int]]] | None:
        if not text or not self._learn(text) or not self.clusters_proven(text, self.precompiled.normalize_str):
            return None
        normalized = self.normalize(text)
        to_normalized = None
        if self.collapse_spaces and "  " in normalized:
            if self.page_chars & self.expanding_to_space:
                return None  # a run could start inside an expansion: leave it to the reference pipeline
            normalized, to_normalized = collapse_space_runs(normalized)
        r = self.replacement
        marked = normalized.replace(" ", r)
        prepended = not marked.startswith(r)
        if prepended:
            marked = r + marked
        words = [r + w for w in marked.split(r)[1:]]
        entries = self._lookup(words)
        ids = list(itertools.chain.from_iterable(entries))
        to_original = self._position_map(text) if self.page_chars & self.expanding else None

        def source(pos: int) -> int:
            """A position of the marked text in the page. The prepended marker stands for the first character, and
            every character of an expansion for the one it came from, as the tokenizer aligns them."""
            pos = max(0, pos)
            if to_normalized is not None:
                pos = to_normalized(pos)
            return pos if to_original is None else to_original(pos)

        starts: list[int] = []

        def word_start(k: int) -> int:  # words tile the marked text; it starts one early when the marker was added
            if not starts:
                starts.extend(itertools.accumulate(map(len, words), initial=-1 if prepended else 0))
            return starts[k]

        return ids, mapped_offsets(words, entries, word_start, source, self.word_offsets)

    def _position_map(self, text: str) -> Callable[[int], int]:
        """Normalized position -> original position, for a page where some characters expanded."""
        if self._expanding_re is None:
            self._expanding_re = re.compile(f"[{char_class([ord(c) for c in self.expanding])}]")
        norm_starts, origins, extra_after = [], [], []
        extra = 0
        for m in self._expanding_re.finditer(text):
            i = m.start()
            grown = len(self.table[ord(text[i])])
            norm_starts.append(i + extra)
            origins.append((i, grown))
            extra += grown - 1
            extra_after.append(extra)

        def to_original(pos: int) -> int:
            k = bisect.bisect_right(norm_starts, pos) - 1
            if k < 0:
                return pos
            i, grown = origins[k]
            return i if pos < norm_starts[k] + grown else pos - extra_after[k]

        return to_original


class BertFastPath(FastPath):
    """WordPiece: BertNormalizer without accent stripping, BertPreTokenizer."""

    def __init__(self, tokenizer: Tokenizer, config: dict, cache: dict, tokenize_words: Callable) -> None:
        super().__init__(tokenizer, cache, tokenize_words)
        self.normalizer = tokenizer.normalizer
        self.pre_tokenizer = tokenizer.pre_tokenizer
        self.spaces: set[str] = set()
        self.isolated: set[str] = set()
        self.removed: set[str] = set()  # what the normalizer deletes (format characters such as ZWJ, soft hyphen)
        self._pattern: re.Pattern[str] | None = None

    def probe(self, ch: str) -> None:
        mapped = self.normalizer.normalize_str(ch)
        self._pattern = None
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

    def pattern(self) -> re.Pattern[str]:
        if self._pattern is None:
            stop = char_class([ord(c) for c in self.spaces | self.isolated]) or "\\x00"
            alone = char_class([ord(c) for c in self.isolated]) or "\\x00"
            self._pattern = re.compile(f"[^{stop}]+|[{alone}]")
        return self._pattern

    def encode(self, text: str) -> tuple[list[int], Callable[[int], tuple[int, int]]] | None:
        if not text or not self._learn(text):
            return None
        source = None
        if self.page_chars & self.removed:
            text, source = strip_characters(text, self.page_chars & self.removed)
        pattern = self.pattern()
        originals = pattern.findall(text)
        changed = any(ord(c) in self.table for c in self.page_chars)
        words = [w.translate(self.table) for w in originals] if changed else originals
        entries = self._lookup(words)
        ids = list(itertools.chain.from_iterable(entries))

        placed: dict[int, int] = {}
        cursor = [0, 0]  # next word to place, and where its search starts

        def word_start(k: int) -> int:
            """Words are separated only by whitespace, so each is the next occurrence of its text."""
            if k not in placed:
                if k == len(originals) - 1:
                    placed[k] = text.rfind(originals[k])
                else:
                    i, pos = cursor if k >= cursor[0] else (0, 0)
                    while i <= k:
                        placed[i] = pos = text.find(originals[i], pos)
                        pos += len(originals[i])
                        i += 1
                    cursor[:] = [i, pos]
            return placed[k]

        return ids, mapped_offsets(words, entries, word_start, source or _same, self.word_offsets)


def _same(pos: int) -> int:
    return pos


def strip_characters(text: str, removed: set[str]) -> tuple[str, Callable[[int], int]]:
    """The text without the ``removed`` characters, and the map from its positions back to the text's."""
    pattern = re.compile(f"[{char_class([ord(c) for c in removed])}]")
    gaps = [m.start() - n for n, m in enumerate(pattern.finditer(text))]  # where each one was, in the stripped text

    def source(pos: int) -> int:
        return pos + bisect.bisect_right(gaps, pos)

    return pattern.sub("", text), source


def collapse_space_runs(normalized: str) -> tuple[str, Callable[[int], int]]:
    """XLM-R's ``Replace(" {2,}", " ")``: the text with each run of spaces as one, and the map from its positions
    back to the text's. The one space stands where the run's last space stood, as the tokenizer aligns it."""
    runs = [m.span() for m in SPACE_RUN.finditer(normalized)]
    collapsed_at, removed_before, removed = [], [], 0
    for a, b in runs:
        collapsed_at.append(a - removed)
        removed_before.append(removed)
        removed += b - a - 1
    lengths = [b - a for a, b in runs]

    def to_normalized(pos: int) -> int:
        k = bisect.bisect_right(collapsed_at, pos) - 1
        return pos if k < 0 else pos + removed_before[k] + lengths[k] - 1

    return SPACE_RUN.sub(" ", normalized), to_normalized


def cluster_pattern(risky: set[str], letters: dict[int, str]) -> re.Pattern[str]:
    """Candidates for grapheme clusters of several characters: Prepends, at most one base (none at the start of
    the text), then extending characters; Prepends and what follows them; CR LF."""
    extend = char_class([ord(c) for c in risky if letters[ord(c)] in EXTEND and c != "\r"]) or "\x00"
    prepend = char_class([ord(c) for c in risky if letters[ord(c)] in PREPEND]) or "\x00"
    return re.compile(
        f"[{prepend}]*(?:[^{extend}{prepend}]|^)[{extend}]+|[{prepend}]+[^{extend}{prepend}]?[{extend}]*|\r\n"
    )


def fast_path_for(tokenizer: Tokenizer, cache: dict, tokenize_words: Callable) -> FastPath | None:
    """The fast path that reproduces this tokenizer exactly, or None for any other pipeline."""
    config = json.loads(tokenizer.to_str())
    norm, pre = config.get("normalizer") or {}, config.get("pre_tokenizer") or {}
    if pre.get("type") == "Metaspace" and pre.get("split", True) and _always_prepends(pre):
        steps = norm.get("normalizers", [norm]) if norm.get("type") == "Sequence" else [norm]
        kinds = [s.get("type") for s in steps]
        collapse = {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}
        if kinds == ["Precompiled"] or (kinds == ["Precompiled", "Replace"] and steps[1] == collapse):
            return MetaspaceFastPath(tokenizer, config, cache, tokenize_words)
    if norm.get("type") == "BertNormalizer" and pre.get("type") == "BertPreTokenizer":
        strip = norm.get("strip_accents")
        if strip is False or (strip is None and not norm.get("lowercase")):
            return BertFastPath(tokenizer, config, cache, tokenize_words)
    return None


def lookup(words: list[str], cache: dict[str, WordEntry], tokenize_words: Callable) -> list[WordEntry]:
    """Each word's ids from the cache, the missing ones tokenized together."""
    entries = list(map(cache.get, words))
    if None in entries:
        missing = list(dict.fromkeys(w for w, e in zip(words, entries, strict=True) if e is None))
        found = dict(zip(missing, tokenize_words(missing), strict=True))
        entries = [e if e is not None else found[w] for w, e in zip(words, entries, strict=True)]
    return entries


def _always_prepends(pre: dict) -> bool:
    return pre.get("prepend_scheme", "always" if pre.get("add_prefix_space", True) else "never") == "always"
