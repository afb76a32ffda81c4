"""The compiled per-page loops (``_wordloop.c``) against the pure-Python ones (``wordloop``), function by function
on adversarial input; tests/realdata/test_shared_dumps.py holds whole encodings to each other on every shared page."""

from __future__ import annotations

import random
import re

import pytest

from tracer.tokenization import wordloop
from tracer.tokenization.loops import IMPLEMENTATION, LOOPS

STRINGS = [
    "", " ", "  ", "▁", "▁▁", " ▁ ", "a", "ab cd", " ab", "ab ", "a  b", "▁ab▁cd", "ab▁ ▁cd",
    "café naïve", "Київ — столиця", "東京 は", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝔞𝔰𝔱𝔯𝔞𝔩 👍🏽", "mixed 𝔞 ascii and ÿ latin-1",
    "\x00 nul \x7f", "ÿÿ ÿ", "\U0010ffff \ud7ff",
]  # fmt: skip


@pytest.fixture(scope="module")
def compiled():
    if IMPLEMENTATION != "compiled":
        pytest.fail("the compiled word loop is not built: 'make venv' builds it with the package (needs a C compiler)")
    return LOOPS


@pytest.mark.parametrize("text", STRINGS)
def test_metaspace_words_are_the_same(compiled, text):
    for marker in ("▁", "_", "\U0001f600"):
        assert compiled.metaspace_words(text, marker) == wordloop.metaspace_words(text, marker)
        words, starts = compiled.metaspace_words(text, marker)
        assert len(wordloop.positions(starts)) == len(words)
        assert all(w == w.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass") for w in words)


def test_scan_and_chars_with_are_the_same(compiled):
    rng = random.Random(5)
    flags = wordloop.new_flags()
    for ch in "abc▁東京ÿ𝔞":
        flags[ord(ch)] = rng.choice([1, 3, 9, 17, 65, 127])
    for text in [*STRINGS, "abc▁東京ÿ𝔞" * 3]:
        seen, unknown = compiled.scan(text, flags)
        assert (seen, unknown) == wordloop.scan(text, flags)
        for bits in (1, 2, 8, 64, 127):
            assert compiled.chars_with(text, flags, bits) == wordloop.chars_with(text, flags, bits)
    with pytest.raises(ValueError, match="one byte per code point"):
        compiled.scan("a", bytearray(10))


def test_lookup_is_the_same(compiled):
    cache = {"▁a": [1], "▁b": [2, 3], "▁": []}
    for words in ([], ["▁a"], ["▁a", "▁b", "▁", "▁a"], ["▁a", "▁x", "▁y", "▁x"], ["▁x"]):
        assert compiled.lookup(words, cache) == wordloop.lookup(words, cache)
        extra = {"▁x": [7], "▁y": [8, 9]}
        assert compiled.lookup(words, cache, extra) == wordloop.lookup(words, cache, extra)
    ids, entries, missing = compiled.lookup(["▁a", "▁b"], cache)
    assert (ids, missing) == ([1, 2, 3], []) and entries[1] is cache["▁b"]
    with pytest.raises(TypeError):
        compiled.lookup(["▁a"], {"▁a": (1,)})


def test_without_the_compiled_loop_one_warning_line_and_the_python_loop():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['tracer.tokenization._wordloop'] = None\n"  # as if it had not been built
        "from tracer.tokenization.loops import IMPLEMENTATION, LOOPS\n"
        "from tracer.tokenization import wordloop\n"
        "assert IMPLEMENTATION == 'python' and LOOPS is wordloop\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "the compiled word loop is not built" in lines[0] and "same ids" in lines[0]


def test_separated_words_are_the_same(compiled):
    flags = wordloop.new_flags()
    for ch in " \t\n\u3000":
        flags[ord(ch)] = wordloop.KNOWN | wordloop.SEPARATOR
    for ch in "東京.,👍":
        flags[ord(ch)] = wordloop.KNOWN | wordloop.ALONE
    for text in [*STRINGS, "東京.  x,y\t👍z", ".", " . ", "ab..cd", "\u3000東"]:
        found = compiled.separated_words(text, flags, wordloop.SEPARATOR, wordloop.ALONE)
        assert found == wordloop.separated_words(text, flags, wordloop.SEPARATOR, wordloop.ALONE), ascii(text)
        words, starts = found
        assert [text[a : a + len(w)] for a, w in zip(wordloop.positions(starts), words, strict=True)] == words
    assert compiled.separated_words("東京 x.", flags, wordloop.SEPARATOR, wordloop.ALONE)[0] == ["東", "京", "x", "."]


def test_translate_is_the_same(compiled):
    flags = wordloop.new_flags()
    table = {ord("ﬁ"): "fi", ord("…"): "...", ord("a"): "ā", ord("x"): "𝔵", ord("½"): "1⁄2"}
    for code in table:
        flags[code] = wordloop.KNOWN | wordloop.MAPPED
    for text in [*STRINGS, "ﬁ… a x ½", "only ascii here"]:
        out = compiled.translate(text, flags, wordloop.MAPPED, table)
        assert out == wordloop.translate(text, flags, wordloop.MAPPED, table) == text.translate(table)
        assert out == out.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")  # stored canonically
    with pytest.raises(ValueError, match="does not map"):
        compiled.translate("ﬁ", flags, wordloop.MAPPED, {})


def test_encode_words_is_the_model_through_a_bounded_cache(compiled):
    pieces = ["<unk>", "▁", "a", "b", "▁a", "ab", "▁ab", "c"]
    model = compiled.unigram_model(pieces, [0.0, -1.0, -2.0, -2.0, -1.5, -1.0, -0.5, -3.0], 0)
    words = ["▁ab", "▁a", "▁ab", "▁abc", "▁xy", "▁", "▁ab", "▁xy"]
    cache = compiled.word_cache(3)  # room for three words
    ids, ends = compiled.encode_words(words, cache, model)
    assert ids == [i for entry in compiled.model_ids(model, words) for i in entry] == [6, 4, 6, 6, 7, 1, 0, 1, 6, 1, 0]
    assert list(wordloop.positions(ends)) == [1, 2, 3, 5, 7, 8, 9, 11]
    assert compiled.cache_size(cache) == 3  # then full: the rest kept for the page only
    assert compiled.encode_words(words, cache, model) == (ids, ends)
    assert compiled.token_span(model, "▁abc", 1) == (3, 4) and compiled.token_span(model, "▁xy", 1) == (1, 3)
    with pytest.raises(TypeError, match="word_cache"):
        compiled.encode_words(words, {}, model)
    with pytest.raises(TypeError, match="unigram_model or wordpiece_model"):
        compiled.encode_words(words, cache, object())
    with pytest.raises(TypeError, match="str"):
        compiled.encode_words(["▁a", 1], cache, model)


def test_the_fused_encodes_are_the_split_then_encode_words(compiled):
    model = compiled.wordpiece_model(["[UNK]", "a", "b", "東", "##a", "##b", "."], [0, 1, 2, 3, 4, 5, 6], 0, "##", 100)
    unigram = compiled.unigram_model(["<unk>", "▁", "a", "▁a", "b"], [0.0, -1.0, -2.0, -1.5, -2.0], 0)
    flags = wordloop.new_flags()
    for ch in " \t":
        flags[ord(ch)] = wordloop.KNOWN | wordloop.SEPARATOR
    for ch in "東.":
        flags[ord(ch)] = wordloop.KNOWN | wordloop.ALONE
    fused, split = compiled.word_cache(4), compiled.word_cache(4)  # a cache serves one model
    fused_unigram, split_unigram = compiled.word_cache(4), compiled.word_cache(4)
    for text in [*STRINGS, "ab.ba 東東 abab", "aaa bbb a.b"]:
        words, starts = compiled.separated_words(text, flags, wordloop.SEPARATOR, wordloop.ALONE)
        ids, ends = compiled.encode_words(words, split, model)
        stops = wordloop.positions(starts).tolist()
        stops = [a + len(w) for a, w in zip(stops, words, strict=True)]
        got = compiled.separated_encode(text, flags, wordloop.SEPARATOR, wordloop.ALONE, fused, model)
        assert got[:3] == (ids, ends, starts) and wordloop.positions(got[3]).tolist() == stops, ascii(text)
        words, starts = compiled.metaspace_words(text, "▁")
        assert compiled.metaspace_encode(text, "▁", fused_unigram, unigram) == (
            *compiled.encode_words(words, split_unigram, unigram),
            starts,
        )
    assert compiled.cache_size(fused) == compiled.cache_size(split) == 4 == compiled.cache_size(fused_unigram)


def test_expansions_and_space_runs_are_the_same(compiled):
    flags = wordloop.new_flags()
    table = {ord("…"): "...", ord("½"): "1⁄2", ord("ﬁ"): "fi", ord("¨"): " ̈"}
    for code in table:
        flags[code] = wordloop.KNOWN | wordloop.MAPPED | wordloop.EXPANDING
    texts = [*STRINGS, "…½ x ﬁ…", "a  b   c ", "   ", "  …  ¨  ", "東京  ½"]
    for text in texts:
        found = compiled.expansions(text, flags, wordloop.EXPANDING, table)
        assert found == wordloop.expansions(text, flags, wordloop.EXPANDING, table), ascii(text)
        runs = compiled.space_runs(text)
        assert runs == wordloop.space_runs(text), ascii(text)
        assert runs[0] == re.sub(" {2,}", " ", text)
        assert runs[0] == runs[0].encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    at, origin, grown = map(wordloop.positions, compiled.expansions("a…b½", flags, wordloop.EXPANDING, table))
    assert (list(at), list(origin), list(grown)) == ([1, 5], [1, 3], [3, 3])
    assert [list(wordloop.positions(p)) for p in compiled.space_runs("a  b   c")[1:]] == [[1, 3], [0, 1], [2, 3]]
    with pytest.raises(ValueError, match="does not map"):
        compiled.expansions("…", flags, wordloop.EXPANDING, {})
