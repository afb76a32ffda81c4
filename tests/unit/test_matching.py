"""Normalization, the two matchers and the engines, on hand-built text where the answer is known."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from tests.helpers import train_wordpiece
from tracer.matching import token_matcher
from tracer.matching.engines import ENGINES, build_automaton
from tracer.matching.labels import label_flag
from tracer.matching.normalize import nfkc_casefold_t2s_v1, nfkc_casefold_v1, normalizer_name
from tracer.matching.scripts import joins_word
from tracer.matching.substring_matcher import SubstringMatcher, label_token_lines
from tracer.matching.text_matcher import TextMatcher
from tracer.matching.token_boundaries import token_boundaries
from tracer.matching.token_matcher import TokenMatcher, label_token_keys


def text_hits(keys: list[str], texts: list[str], normalize=nfkc_casefold_v1) -> set[tuple[int, str]]:
    matcher = TextMatcher([normalize(k) for k in keys], normalize, "daachorse")
    segment, key = matcher.match(texts)
    return {(int(s), keys[int(k)]) for s, k in zip(segment, key, strict=True)}


def test_normalization_folds_width_case_space_and_controls():
    assert nfkc_casefold_v1("  ＰＡＲＩＳ\u00a0 Straße\tﬁ\x00x ") == "paris strasse fi x"
    assert nfkc_casefold_t2s_v1("倫敦") == nfkc_casefold_t2s_v1("伦敦") == "伦敦"
    assert normalizer_name("zh") == "nfkc_casefold_t2s_v1" and normalizer_name("ja") == "nfkc_casefold_v1"


def test_nfkc_normalizes_piece_by_piece_as_unicodedata_does_whole():
    import unicodedata

    from tracer.matching.normalize import _unstable, nfkc

    for code in [*range(0xD800), *range(0xE000, 0x110000)]:  # every code point alone
        assert nfkc(chr(code)) == unicodedata.normalize("NFKC", chr(code)), hex(code)
    rng = random.Random(7)
    unstable = np.flatnonzero(_unstable()).tolist()
    pool = [c for c in unstable if not 0xD800 <= c < 0xE000] + [ord(c) for c in "aeAE ղեւ和カ가각\u1100\u1161"] * 200
    for _ in range(50_000):  # runs of unstable characters next to the starters they may compose with
        text = "".join(chr(rng.choice(pool)) for _ in range(rng.randint(1, 8)))
        assert nfkc(text) == unicodedata.normalize("NFKC", text), ascii(text)


def test_single_character_keys_follow_the_same_word_boundaries():
    keys = ["r", "c", "6", "日", "é", "ab"]
    texts = ["r and car, c++ or C", "r", "xr", "6 or 66 or 6th", "日本 and 毎日", "é, café, É", "", "ab r ab"]
    hits = text_hits(keys, texts)
    assert hits == {
        (0, "r"), (0, "c"), (1, "r"), (3, "6"), (4, "日"), (5, "é"), (7, "ab"), (7, "r"),
    }  # fmt: skip
    rng = random.Random(3)
    alphabet = "rc6日é ab,.本"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(400)]
    expected = set()
    for n, text in enumerate(texts):  # brute force: every occurrence, both neighbours checked
        normalized = nfkc_casefold_v1(text)
        for key in keys:
            for i in range(len(normalized) - len(key) + 1):
                if normalized.startswith(key, i):
                    before, after = normalized[i - 1 : i], normalized[i + len(key) : i + len(key) + 1]
                    inside = (before and joins_word(before, key[0])) or (after and joins_word(key[-1], after))
                    if not inside:
                        expected.add((n, key))
    assert text_hits(keys, texts) == expected


def test_chinese_labels_in_either_script_match_text_in_either_script():
    keys = ["倫敦", "法语", "英語"]
    texts = ["伦敦是英国的首都，讲英语。", "倫敦是英國的首都，講法語。"]
    assert text_hits(keys, texts, nfkc_casefold_t2s_v1) == {(0, "倫敦"), (0, "英語"), (1, "倫敦"), (1, "法语")}


def test_text_overlapping_nested_and_word_boundaries():
    keys = ["Paris", "Paris Saint-Germain", "Saint", "York", "New York", "東京", "Google", "C++", "6"]
    texts = [
        "Paris Saint-Germain won.",  # nested: Paris, Saint and the whole name
        "Parisian style in New York.",  # Paris inside a word: no; York inside New York: both
        "東京都にある。Googleは検索。Googleplex",  # no spaces: substring; Latin before kana: a word end
        "C++ and C+++ and route 66",  # edge chars that are not word characters; digits inside a number
    ]
    assert text_hits(keys, texts) == {
        (0, "Paris"),
        (0, "Paris Saint-Germain"),
        (0, "Saint"),
        (1, "York"),
        (1, "New York"),
        (2, "東京"),
        (2, "Google"),
        (3, "C++"),
    }


def test_text_labels_at_segment_edges_match_and_never_across_segments():
    keys = ["Paris", "New York"]
    texts = ["Paris", "in New", "York city", "x Paris"]
    assert text_hits(keys, texts) == {(0, "Paris"), (3, "Paris")}


@pytest.fixture(scope="module")
def wordpiece():
    texts = ["Paris is the capital of France.", "New York and Yorkshire are places.", "Parisian Parisians"] * 30
    return train_wordpiece(texts, vocab_size=70)


def token_hits(tokenizer, keys: list[str], texts: list[str], engine: str = "daachorse") -> set[tuple[int, str]]:
    boundaries = token_boundaries(tokenizer)
    key_ids = label_token_keys(tokenizer, keys, boundaries.bare_marker)
    matcher = TokenMatcher(key_ids, boundaries, engine)
    ids = [tokenizer.encode(t, add_special_tokens=False).ids for t in texts]
    segment, key = matcher.match(pa.array(ids, pa.list_(pa.int32())))
    return {(int(s), keys[int(k)]) for s, k in zip(segment, key, strict=True)}


def test_wordpiece_match_may_not_end_inside_a_word(wordpiece):
    assert "##" in "".join(wordpiece.encode("Parisians Yorkshire", add_special_tokens=False).tokens)
    keys = ["Paris", "York", "New York"]
    texts = ["Paris and Parisians", "Yorkshire is not New York", "New", "York"]
    assert token_hits(wordpiece, keys, texts) == {(0, "Paris"), (1, "York"), (1, "New York"), (3, "York")}


def substring_hits(tokenizer, keys: list[str], texts: list[str]) -> set[tuple[int, str]]:
    matcher = SubstringMatcher(label_token_lines(tokenizer, keys), tokenizer, "daachorse")
    ids = [tokenizer.encode(t, add_special_tokens=False).ids for t in texts]
    segment, key = matcher.match(pa.array(ids, pa.list_(pa.int32())))
    return {(int(s), keys[int(k)]) for s, k in zip(segment, key, strict=True)}


def test_fact_cl_matches_raw_substrings_of_the_token_line(wordpiece):
    """The authors' rule: "Paris" is found in "Paris ##ian ##s", "York" inside "York ##shire"."""
    keys = ["Paris", "York", "New York", "is the"]
    texts = ["Parisians only", "Yorkshire", "New", "York", "", "capital is the"]
    assert substring_hits(wordpiece, keys, texts) == {(0, "Paris"), (1, "York"), (3, "York"), (5, "is the")}
    assert token_hits(wordpiece, keys[:3], texts) == {(3, "York")}  # factrace's default stops at word ends


def test_fact_cl_finds_a_katakana_label_inside_a_continuation_piece():
    """mBERT splits CJK ideographs apart but not kana: "はオーストリア" is one word, so the label's piece
    comes back as "##オーストリア" in running text, and the raw substring still finds it."""
    pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "首", "都", "は", "##は", "オーストリア", "##オーストリア"]
    tokenizer = Tokenizer(models.WordPiece({p: i for i, p in enumerate(pieces)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()  # mBERT's: ideographs apart, kana together
    text = "首都はオーストリア"
    assert tokenizer.encode(text).tokens == ["首", "都", "は", "##オーストリア"]
    assert substring_hits(tokenizer, ["オーストリア"], [text]) == {(0, "オーストリア")}
    assert token_hits(tokenizer, ["オーストリア"], [text]) == set()


@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_engine_finds_every_overlapping_match(engine):
    rng = random.Random(7)
    patterns = sorted({bytes(rng.choice(b"ab\x00\xff") for _ in range(rng.randint(1, 4))) for _ in range(40)})
    haystack = bytes(rng.choice(b"ab\x00\xff") for _ in range(2000))
    expected = {
        (p, i, i + len(pat))
        for p, pat in enumerate(patterns)
        for i in range(len(haystack))
        if haystack.startswith(pat, i)
    }
    found = build_automaton(engine, patterns).find(haystack)
    assert {tuple(int(x) for x in row) for row in found} == expected


def test_rare_label_tokens_share_an_escape_symbol_and_are_verified(wordpiece, monkeypatch):
    keys = ["Paris", "France", "New York", "capital of France"]
    texts = ["Paris is the capital of France.", "New York", "capital of Paris"]
    exact = token_hits(wordpiece, keys, texts)
    monkeypatch.setattr(token_matcher, "ESCAPE", 1)  # all but the most frequent label token share one symbol
    assert token_hits(wordpiece, keys, texts) == exact
    assert exact == {(0, "Paris"), (0, "France"), (0, "capital of France"), (1, "New York"), (2, "Paris")}


@pytest.mark.parametrize(
    ("label", "flag"),
    [
        ("C", "single_char"),
        ("1990", "digits_only"),
        ("3.5", "digits_only"),
        ("...", "punctuation_only"),
        ("東", None),
        ("Paris", None),
        ("", "empty"),
    ],
)
def test_label_flags(label, flag):
    assert label_flag(nfkc_casefold_v1(label), key_is_empty=False) == flag


def test_out_of_vocabulary_ids_never_match_and_never_crash(wordpiece):
    boundaries = token_boundaries(wordpiece)
    matcher = TokenMatcher([(5, 6)], boundaries, "daachorse")
    segment, _ = matcher.match(pa.array([[5, 6, 10**6, -1, 5, 6]], pa.list_(pa.int32())))
    assert segment.tolist() == [0]
    assert np.all(matcher.code[-1] == 0)
