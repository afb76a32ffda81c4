"""Tiny random masked LMs built in the test session (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from probing.random_model import Size, save_random_bert, save_random_xlmr
from tests.helpers import train_wordpiece

FIXTURE_TEXT = [
    "Paris is the capital of France .",
    "Tokyo is the capital of Japan .",
    "Berlin is located in Germany .",
    "The official language of France is French .",
] * 20


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = directory / "trained-tokenizer.json"
    train_wordpiece(FIXTURE_TEXT, vocab_size=200).save(str(tokenizer))
    return save_random_bert(directory, tokenizer, Size(32, 2, 2, 37, 64))


@pytest.fixture(scope="session")
def tiny_xlmr(tmp_path_factory, xlmr_tokenizer_path) -> Path:
    return save_random_xlmr(tmp_path_factory.mktemp("tiny-xlmr"), xlmr_tokenizer_path, Size(16, 2, 2, 24, 78))
