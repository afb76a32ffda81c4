"""The compiled per-page loops (``_wordloop.c``) against the pure-Python ones (``wordloop``), function by function
on adversarial input; tests/realdata/test_shared_dumps.py holds whole encodings to each other on every shared page."""

from __future__ import annotations

import random

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
        words, _ = compiled.metaspace_words(text, marker)
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


def test_place_words_is_the_same(compiled):
    for text in STRINGS:
        words = text.split()
        assert compiled.place_words(text, words) == wordloop.place_words(text, words)
    assert compiled.place_words("ab ab b", ["ab", "ab", "b"]) == [0, 3, 6]
    for loops in (compiled, wordloop):
        with pytest.raises(ValueError, match="not in the text"):
            loops.place_words("ab cd", ["cd", "ab"])
