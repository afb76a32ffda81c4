"""How much bf16 moves the PROBELESS top-50 neurons, against fp32 on the same weights, same run.

A random BERT-base-sized model (12 x 3072 FFN units, WordPiece trained on the mLAMA labels) probes
real mLAMA queries (``--per-relation`` facts of six English relations, one class per fact). The top
50 neurons per class are computed four ways: fp32 (the reference); the forward pass in bf16 (the
model cast, as CUDA loads it); bf16-rounded weights run in fp32; and factrace's neuron pass (the
weights reloaded in fp32). On CPU bf16 is simulated by casting; ``--device cuda`` runs real bf16.

    python bench/neuron_precision.py [--per-relation 12] [--device cpu]
"""

from __future__ import annotations

import argparse
import copy
import tempfile
from pathlib import Path

import torch
from _common import emit, shared

from probing.models import LoadedModel, load_masked_lm
from probing.neurons import mask_activations
from probing.probe import prepare
from probing.probeless import probeless_top
from probing.random_model import BASE, mlama_texts, save_random_bert
from tracer.facts.mlama import MlamaReader
from tracer.records import Fact
from tracer.tokenization.wordpiece import train_wordpiece

RELATIONS = ("P36", "P37", "P103", "P1412", "P17", "P19")


def english_facts(per_relation: int) -> list[dict]:
    kept: dict[str, list[dict]] = {r: [] for r in RELATIONS}
    for fact in MlamaReader(shared() / "mlama1.1").read("en"):
        if isinstance(fact, Fact) and fact.relation in kept and len(kept[fact.relation]) < per_relation:
            kept[fact.relation].append(
                {"uuid": fact.uuid, "relation": fact.relation, "subject_label": fact.subject_label,
                 "object_label": fact.object_label, "template": fact.template}
            )  # fmt: skip
    return [f for r in RELATIONS for f in kept[r]]


def top50(loaded: LoadedModel, groups: dict[str, list[list[int]]], exact: bool) -> list[set[int]]:
    out = []
    for ids in groups.values():
        ranked, _ = probeless_top(mask_activations(loaded, ids, 4096, exact=exact), 50)
        out += [set(row) for row in ranked.tolist()]
    return out


def compare(reference: list[set[int]], other: list[set[int]]) -> dict:
    return {
        "classes_differing": sum(a != b for a, b in zip(reference, other, strict=True)),
        "neurons_swapped": sum(50 - len(a & b) for a, b in zip(reference, other, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-relation", type=int, default=12)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = Path(tmp) / "tokenizer.json"
        train_wordpiece(mlama_texts(shared() / "mlama1.1"), 16000).save(str(tokenizer))
        directory = save_random_bert(Path(tmp) / "model", tokenizer, BASE)
        fp32 = load_masked_lm(str(directory), args.device, torch.float32)
        facts = english_facts(args.per_relation)
        prompts, _ = prepare(fp32, facts)
        groups: dict[str, list[list[int]]] = {}
        for p in prompts:
            groups.setdefault(p.relation, []).append(p.ids(len(p.gold_ids)))
        bf16 = LoadedModel(copy.deepcopy(fp32.model).to(torch.bfloat16), fp32.tokenizer, fp32.family, fp32.device,
                           torch.bfloat16, fp32.source)  # fmt: skip
        rounded = LoadedModel(copy.deepcopy(bf16.model).float(), fp32.tokenizer, fp32.family, fp32.device,
                              torch.float32, fp32.source)  # fmt: skip
        reference = top50(fp32, groups, exact=True)
        emit(
            {
                "benchmark": "neuron_precision",
                "device": args.device,
                "model": "random BERT-base (12 x 3072 FFN units)",
                "classes": len(reference),
                "bf16_forward": compare(reference, top50(bf16, groups, exact=False)),
                "bf16_weights_fp32_forward": compare(reference, top50(rounded, groups, exact=False)),
                "factrace_neuron_pass": compare(reference, top50(bf16, groups, exact=True)),
            }
        )


if __name__ == "__main__":
    main()
