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

from tracer.tokenization.clusters import SHORT_CLUSTER, char_class, cluster_letter
from tracer.tokenization.offsets import Span, WordEntry, token_offsets, word_offsets_for


class FastPath:
    """Shared machinery: per-character probing, the word cache, boundary offsets."""

    def __init__(self, tokenizer: Tokenizer, cache: dict[str, WordEntry], tokenize_word: Callable[[str], WordEntry]):
        self.tokenizer = tokenizer
        self.cache = cache
        self.tokenize_word = tokenize_word
        self.word_offsets = word_offsets_for(tokenizer)
        self.known: set[str] = set()
        self.unsafe: set[str] = set()
        self.table: dict[int, str] = {}
        self.letters: dict[int, str] = {}  # character -> grapheme-cluster letter (see SHORT_CLUSTER)
        self.cluster_risky: set[str] = set()

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

    def short_clusters(self, text: str) -> bool:
        """Whether the page may hold a grapheme cluster shorter than 6 bytes (looked up whole)."""
        if not (self.page_chars & self.cluster_risky):
            return False
        return SHORT_CLUSTER.search(text.translate(self.letters)) is not None

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
        entries = list(map(self.cache.get, words))
        if None in entries:
            for i, entry in enumerate(entries):
                if entry is None:
                    entries[i] = self.cache.get(words[i]) or self.tokenize_word(words[i])
        return entries


class MetaspaceFastPath(FastPath):
    """SentencePiece: Precompiled (+ Replace of space runs) normalizer, Metaspace pre-tokenizer."""

    def __init__(self, tokenizer: Tokenizer, config: dict, cache: dict, tokenize_word: Callable) -> None:
        super().__init__(tokenizer, cache, tokenize_word)
        norm, pre = config["normalizer"], config["pre_tokenizer"]
        steps = norm["normalizers"] if norm["type"] == "Sequence" else [norm]
        self.precompiled = tokenizer.normalizer[0] if norm["type"] == "Sequence" else tokenizer.normalizer
        self.collapse_spaces = len(steps) == 2
        self.replacement = pre["replacement"]
        self.expanding: set[str] = set()  # characters normalized to several (e.g. "…" -> "...")
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

    def encode(self, text: str) -> tuple[list[int], Callable[[int], tuple[int, int]]] | None:
        if not text or not self._learn(text) or self.short_clusters(text):
            return None
        normalized = self.normalize(text)
        if self.collapse_spaces and "  " in normalized:
            return None  # the Replace step would move positions: leave it to the reference pipeline
        r = self.replacement
        marked = normalized.replace(" ", r)
        prepended = not marked.startswith(r)
        if prepended:
            marked = r + marked
        words = [r + w for w in marked.split(r)[1:]]
        entries = self._lookup(words)
        ids = list(itertools.chain.from_iterable(entries))
        p = 1 if prepended else 0
        starts: list[int] = []
        to_original = self._position_map(text) if self.page_chars & self.expanding else None

        def span(k: int) -> Span:  # words tile the marked text; the prepended marker has no source
            if not starts:
                starts.extend(itertools.accumulate(map(len, words), initial=-p))
            start, end = max(0, starts[k]), starts[k + 1]
            if to_original is None:
                return start, end
            return to_original(start), to_original(end - 1) + 1

        return ids, token_offsets(words, entries, span, self.word_offsets)

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

    def __init__(self, tokenizer: Tokenizer, config: dict, cache: dict, tokenize_word: Callable) -> None:
        super().__init__(tokenizer, cache, tokenize_word)
        self.normalizer = tokenizer.normalizer
        self.pre_tokenizer = tokenizer.pre_tokenizer
        self.spaces: set[str] = set()
        self.isolated: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def probe(self, ch: str) -> None:
        mapped = self.normalizer.normalize_str(ch)
        self._pattern = None
        if mapped == f" {ch} ":
            self.isolated.add(ch)  # CJK ideographs stand alone
            return
        if mapped == "" or len(mapped) != 1:
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
        pattern = self.pattern()
        originals = pattern.findall(text)
        changed = any(ord(c) in self.table for c in self.page_chars)
        words = [w.translate(self.table) for w in originals] if changed else originals
        entries = self._lookup(words)
        ids = list(itertools.chain.from_iterable(entries))

        placed: dict[int, int] = {}
        cursor = [0, 0]  # next word to place, and where its search starts

        def span(k: int) -> Span:
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
            return placed[k], placed[k] + len(originals[k])

        return ids, token_offsets(words, entries, span, self.word_offsets)


def fast_path_for(tokenizer: Tokenizer, cache: dict, tokenize_word: Callable) -> FastPath | None:
    """The fast path that reproduces this tokenizer exactly, or None for any other pipeline."""
    config = json.loads(tokenizer.to_str())
    norm, pre = config.get("normalizer") or {}, config.get("pre_tokenizer") or {}
    if pre.get("type") == "Metaspace" and pre.get("split", True) and _always_prepends(pre):
        steps = norm.get("normalizers", [norm]) if norm.get("type") == "Sequence" else [norm]
        kinds = [s.get("type") for s in steps]
        collapse = {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}
        if kinds == ["Precompiled"] or (kinds == ["Precompiled", "Replace"] and steps[1] == collapse):
            return MetaspaceFastPath(tokenizer, config, cache, tokenize_word)
    if norm.get("type") == "BertNormalizer" and pre.get("type") == "BertPreTokenizer":
        strip = norm.get("strip_accents")
        if strip is False or (strip is None and not norm.get("lowercase")):
            return BertFastPath(tokenizer, config, cache, tokenize_word)
    return None


def _always_prepends(pre: dict) -> bool:
    return pre.get("prepend_scheme", "always" if pre.get("add_prefix_space", True) else "never") == "always"
