"""The demo's masked LM: a tiny BERT trained in seconds to answer the queries listed in
``tracer/demo_data/taught.tsv``, and nothing else.

The demo needs a model that gets some facts right in some languages and not in others, so that
every pattern and absent type appears. It is trained on exactly the probe's queries
(``build_prompts``), with as many masks as the object has tokens, so what it learns is what the
probe asks. CPU, one thread, fixed seed: the same sample gives the same weights.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from probing.families import BERT
from probing.queries import build_prompts
from probing.random_model import Size, save_random_bert

log = logging.getLogger("factrace.demo")
DEMO_SIZE = Size(hidden_size=48, num_hidden_layers=2, num_attention_heads=2, intermediate_size=512)
IGNORE = -100


@dataclass(frozen=True)
class Training:
    steps: int = 300
    learning_rate: float = 3e-3
    seed: int = 0


def read_taught(path: Path) -> set[tuple[str, str]]:
    """``(lang, uuid)`` pairs from a tab-separated file; ``#`` starts a comment."""
    pairs = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            lang, uuid = line.split("\t")
            pairs.add((lang.strip(), uuid.strip()))
    return pairs


def training_batch(tokenizer: Any, facts: dict[str, list[dict]], taught: Iterable[tuple[str, str]]) -> dict:
    """Input ids, attention mask and labels of every taught query, padded into one batch."""
    wanted = set(taught)
    rows = []
    for lang in sorted(facts):
        prompts, _ = build_prompts(tokenizer, BERT, facts[lang])
        for prompt in prompts:
            if (lang, prompt.uuid) not in wanted:
                continue
            ids = prompt.ids(len(prompt.gold_ids))
            labels = [IGNORE] * len(ids)
            labels[prompt.mask_at : prompt.mask_at + len(prompt.gold_ids)] = prompt.gold_ids
            rows.append((ids, labels))
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.pad_token_id
    return {
        "input_ids": torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in rows]),
        "attention_mask": torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in rows]),
        "labels": torch.tensor([labels + [IGNORE] * (width - len(labels)) for _, labels in rows]),
    }


def train_demo_model(
    directory: Path,
    tokenizer_json: Path,
    facts: dict[str, list[dict]],
    taught: Iterable[tuple[str, str]],
    size: Size = DEMO_SIZE,
    training: Training = Training(),
) -> Path:
    """Save a BERT trained on the taught queries of ``facts`` (rows per language) to ``directory``."""
    from transformers import AutoTokenizer, BertForMaskedLM

    save_random_bert(directory, tokenizer_json, size, training.seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(training.seed)
        model = BertForMaskedLM.from_pretrained(directory, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        batch = training_batch(AutoTokenizer.from_pretrained(directory), facts, taught)
        optimizer = torch.optim.AdamW(model.parameters(), lr=training.learning_rate)
        model.train()
        for _ in range(training.steps):
            optimizer.zero_grad()
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
        log.info("demo model: %d queries, %d steps, final loss %.4f", len(batch["labels"]), training.steps, loss.item())
        model.eval()
        model.save_pretrained(directory)
    finally:
        torch.set_num_threads(threads)
    return directory
