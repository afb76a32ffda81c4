"""The demo's masked LM: a tiny BERT trained in seconds to answer the queries listed in
``tracer/demo_data/taught.tsv``, and nothing else.

The demo needs a model that gets some facts right in some languages and not in others, so that
every pattern and absent type appears. It is trained on exactly the probe's queries
(``build_prompts``), with as many masks as the object has tokens, so what it learns is what the
probe asks. CPU, one thread, fixed seed: the same sample gives the same weights on one machine.

Across machines, float kernels differ: MKL and ATen pick code paths by CPU (AVX-512 on one, AVX2 on
another), and 300 steps amplify the last-bit differences into another model (seen: a demo trained on
a machine with AVX-512 and AMX differed from the one the README showed). ``train_portably`` therefore
trains in a child process that pins them: MKL's conditional numerical reproducibility
(``MKL_CBWR=COMPATIBLE``), ATen's scalar kernels, oneDNN's baseline ISA and one thread, so that
machines of other CPUs get the same weights, and the README's demo output is the one CI reproduces.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
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
# Code paths every x86-64 CPU runs alike: the child process that trains the demo model starts with these.
PORTABLE_KERNELS = {
    "MKL_CBWR": "COMPATIBLE",
    "ATEN_CPU_CAPABILITY": "default",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


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


def train_portably(
    directory: Path, tokenizer_json: Path, facts: dict[str, list[dict]], taught: Iterable[tuple[str, str]]
) -> Path:
    """``train_demo_model`` in a child process with ``PORTABLE_KERNELS``: the same weights on any x86-64 machine."""
    directory.mkdir(parents=True, exist_ok=True)
    inputs = directory.parent / f"{directory.name}-inputs.json"
    inputs.write_text(json.dumps({"facts": facts, "taught": sorted(taught)}, ensure_ascii=False), encoding="utf-8")
    command = [sys.executable, "-m", "probing.demo_model", str(directory), str(tokenizer_json), str(inputs)]
    done = subprocess.run(command, env={**os.environ, **PORTABLE_KERNELS}, capture_output=True, text=True)
    inputs.unlink()
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"training the demo model failed (exit {done.returncode}): {tail}")
    return directory


def main(argv: list[str]) -> None:
    """Child side of ``train_portably``: DIRECTORY TOKENIZER_JSON INPUTS_JSON."""
    directory, tokenizer_json, inputs = (Path(a) for a in argv)
    given = json.loads(inputs.read_text(encoding="utf-8"))
    train_demo_model(directory, tokenizer_json, given["facts"], [tuple(p) for p in given["taught"]])


if __name__ == "__main__":
    main(sys.argv[1:])
