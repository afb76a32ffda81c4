"""Masked LMs with random weights, saved as ``save_pretrained`` directories.

Nothing can be downloaded here, so tests, the demo and the benchmarks build their models: a BERT
around any WordPiece ``tokenizer.json`` (with mBERT's ``[CLS] … [SEP]`` framing added), or an
XLM-R around the real XLM-R tokenizer. Same arguments and seed → the same weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, processors

from probing.families import XLM_ROBERTA


@dataclass(frozen=True)
class Size:
    hidden_size: int = 32
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 37
    max_position_embeddings: int = 512


TINY = Size()
BASE = Size(768, 12, 12, 3072, 512)  # BERT-base / XLM-R-base shape


def save_random_bert(directory: Path, tokenizer_json: Path, size: Size = TINY, seed: int = 0) -> Path:
    """A random ``BertForMaskedLM`` with the WordPiece tokenizer in ``tokenizer_json``."""
    from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerFast

    tok = Tokenizer.from_file(str(tokenizer_json))
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]",
    )  # fmt: skip
    torch.manual_seed(seed)
    model = BertForMaskedLM(BertConfig(vocab_size=tok.get_vocab_size(), **asdict(size)))
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


def save_random_xlmr(directory: Path, tokenizer_json: Path, size: Size = TINY, seed: int = 0) -> Path:
    """A random ``XLMRobertaForMaskedLM`` with the SentencePiece tokenizer in ``tokenizer_json``."""
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaTokenizerFast

    tokenizer = XLMRobertaTokenizerFast(tokenizer_file=str(tokenizer_json))
    torch.manual_seed(seed)
    shape = {**asdict(size), "max_position_embeddings": size.max_position_embeddings + XLM_ROBERTA.position_offset}
    config = XLMRobertaConfig(vocab_size=len(tokenizer), **shape)
    XLMRobertaForMaskedLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def mlama_texts(mlama: Path) -> list[str]:
    """Every label and template of an mLAMA directory, in a stable order (a vocabulary to train on)."""
    import json

    texts = []
    for path in sorted(mlama.glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [row[key] for key in ("sub_label", "obj_label", "template") if isinstance(row.get(key), str)]
    return texts


def main(argv: list[str] | None = None) -> None:
    """``python -m probing.random_model OUT --family bert --mlama DIR`` (or ``--tokenizer FILE``)."""
    import argparse

    from tracer.tokenization.wordpiece import train_wordpiece

    parser = argparse.ArgumentParser(description="Save a masked LM with random weights (tests, demo, benchmarks).")
    parser.add_argument("out", type=Path)
    parser.add_argument("--family", choices=("bert", "xlm-roberta"), default="bert")
    parser.add_argument("--tokenizer", type=Path, help="tokenizer.json (XLM-R: required; BERT: a WordPiece one)")
    parser.add_argument("--mlama", type=Path, help="BERT: train a WordPiece vocabulary on these labels instead")
    parser.add_argument("--vocab", type=int, default=16000, help="WordPiece vocabulary size with --mlama")
    parser.add_argument("--size", choices=("tiny", "base"), default="tiny")
    args = parser.parse_args(argv)
    size = BASE if args.size == "base" else TINY
    args.out.mkdir(parents=True, exist_ok=True)
    tokenizer = args.tokenizer
    if args.family == "bert" and args.mlama:
        tokenizer = args.out / "trained-wordpiece.json"
        train_wordpiece(mlama_texts(args.mlama), args.vocab).save(str(tokenizer))
    if tokenizer is None:
        parser.error("pass --tokenizer (or --mlama for a BERT)")
    save = save_random_bert if args.family == "bert" else save_random_xlmr
    print(save(args.out, tokenizer, size))


if __name__ == "__main__":
    main()
