"""Tiny random masked LMs built in the test session (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers import train_wordpiece

FIXTURE_TEXT = [
    "Paris is the capital of France .",
    "Tokyo is the capital of Japan .",
    "Berlin is located in Germany .",
    "The official language of France is French .",
] * 20


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerFast

    directory = tmp_path_factory.mktemp("tiny-bert")
    tok = train_wordpiece(FIXTURE_TEXT, vocab_size=200)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]",
    )  # fmt: skip
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=37, max_position_embeddings=64,
    )  # fmt: skip
    BertForMaskedLM(config).save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_xlmr(tmp_path_factory, xlmr_tokenizer_path) -> Path:
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaTokenizerFast

    directory = tmp_path_factory.mktemp("tiny-xlmr")
    tokenizer = XLMRobertaTokenizerFast(tokenizer_file=str(xlmr_tokenizer_path))
    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=24, max_position_embeddings=80,
    )  # fmt: skip
    XLMRobertaForMaskedLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
