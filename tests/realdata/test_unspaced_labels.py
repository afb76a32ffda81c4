"""Japanese and Chinese labels, tokenized alone by XLM-R, are found in running text (tokens mode)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tracer.matching.token_boundaries import token_boundaries
from tracer.matching.token_matcher import TokenMatcher, label_token_keys
from tracer.tokenization.loading import load_tokenizer

pytestmark = pytest.mark.shared_data

CASES = [
    (["フランス", "イギリス", "ロンドン", "パリ"], "パリはフランスの首都である。ロンドンはイギリスの首都。"),
    (["伦敦", "英国", "英语", "倫敦"], "伦敦是英国的首都，讲英语。"),
]


@pytest.mark.parametrize(("labels", "text"), CASES)
def test_labels_of_unspaced_scripts_are_found_in_running_text(xlmr_tokenizer_path, labels, text):
    tokenizer = load_tokenizer(str(xlmr_tokenizer_path)).tokenizer
    boundaries = token_boundaries(tokenizer)
    alone = [tokenizer.encode(label, add_special_tokens=False).tokens for label in labels]
    assert all(tokens[0] == "▁" for tokens in alone)  # the bare marker that never occurs mid-text
    keys = label_token_keys(tokenizer, labels, boundaries.bare_marker)
    matcher = TokenMatcher(keys, boundaries, "daachorse")
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    _, found = matcher.match(pa.array([ids], pa.list_(pa.int32())))
    expected = {label for label in labels if label in text}  # 倫敦 (traditional) is not in simplified text
    assert {labels[k] for k in found} == expected
    kept = TokenMatcher([(boundaries.bare_marker, *key) for key in keys], boundaries, "daachorse")
    at_start = {label for label in labels if text.startswith(label)}  # only there does the marker precede it
    assert {labels[k] for k in kept.match(pa.array([ids], pa.list_(pa.int32())))[1]} == at_start
