"""Probing throughput: our batched full-match against a naive loop and transformers' fill-mask pipeline,
on the same queries, in the same run.

Models have random weights (nothing can be downloaded here): ``tiny`` (2 layers, hidden 32) and
``base`` (BERT-base shape: 12 layers, hidden 768, 12 heads, FFN 3072), both with a WordPiece
vocabulary trained on the mLAMA labels and sized like mBERT's (``--vocab``, 119,547). The queries are
real English mLAMA facts, at every mask count 1..K of full-match.

* ``ours``: ``run_queries`` (length-sorted token batches padded to 8, the LM head on mask rows only);
* ``naive``: one query at a time, the full LM head at every position (the tests' reference);
* ``pipeline``: ``transformers.pipeline("fill-mask", top_k=1)`` on the same texts, as it comes
  (one text per forward pass) and with ``batch_size=32``.

Reports queries per second, the ratios, and whether the argmax ids agree. ``--full`` also runs the
whole probe stage over all of mLAMA with the base model (meant for a GPU: ``--device cuda``).

    python bench/probe.py [--facts 120] [--sizes tiny base] [--full --device cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"

import torch
from _common import OUT, Timer, emit, shared

from probing.models import load_masked_lm
from probing.passes import run_queries
from probing.probe import prepare
from probing.queries import masked_text
from probing.random_model import BASE, TINY, mlama_texts, save_random_bert
from tracer.tokenization.wordpiece import train_wordpiece

RELATIONS = ("P36", "P37", "P103", "P1412", "P19", "P27", "P17", "P106")


def model_dir(size: str, vocab: int) -> str:
    path = OUT / f"probe-model-{size}-{vocab}"
    if not (path / "config.json").exists():
        tokenizer = OUT / f"wordpiece-mlama-{vocab}.json"
        if not tokenizer.exists():
            OUT.mkdir(parents=True, exist_ok=True)
            train_wordpiece(mlama_texts(shared() / "mlama1.1"), vocab).save(str(tokenizer))
        save_random_bert(path, tokenizer, BASE if size == "base" else TINY)
    return str(path)


def english_facts(per_relation: int) -> list[dict]:
    root = shared() / "mlama1.1" / "en"
    templates = {}
    for line in (root / "templates.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        templates[row["relation"]] = row["template"]
    facts = []
    for relation in RELATIONS:
        for line in (root / f"{relation}.jsonl").read_text(encoding="utf-8").splitlines()[:per_relation]:
            row = json.loads(line)
            facts.append({"uuid": row["uuid"], "relation": relation, "subject_label": row["sub_label"],
                          "object_label": row["obj_label"], "template": templates[relation]})  # fmt: skip
    return facts


def naive(loaded, texts: list[str]) -> list[list[int]]:
    tok, out = loaded.tokenizer, []
    with torch.inference_mode():
        for text in texts:
            ids = tok(text, return_tensors="pt")["input_ids"]
            logits = loaded.model(input_ids=ids).logits[0]
            out.append(logits[ids[0] == tok.mask_token_id].argmax(-1).tolist())
    return out


def pipeline_ids(fill, texts: list[str], batch_size: int) -> list[list[int]]:
    results = fill(texts, top_k=1, batch_size=batch_size)
    out = []
    for result in results:
        per_mask = result if isinstance(result[0], list) else [result]
        out.append([m[0]["token"] for m in per_mask])
    return out


def bench_size(size: str, vocab: int, per_relation: int) -> dict:
    from transformers import pipeline

    loaded = load_masked_lm(model_dir(size, vocab), "cpu")
    prompts, _ = prepare(loaded, english_facts(per_relation))
    facts = {f["uuid"]: f for f in english_facts(per_relation)}
    units = [(p, k) for p, prompt in enumerate(prompts) for k in range(1, prompt.max_masks + 1)]
    texts = [
        masked_text(facts[prompts[p].uuid]["template"], facts[prompts[p].uuid]["subject_label"], k,
                    loaded.tokenizer.mask_token)
        for p, k in units
    ]  # fmt: skip
    result = {"queries": len(units), "facts": len(prompts), "vocab": loaded.model.config.vocab_size}
    run_queries(loaded, prompts[:8])  # warm-up
    with Timer() as t:
        ours = run_queries(loaded, prompts)
    result["ours_qps"] = len(units) / t.seconds
    with Timer() as t:
        reference = naive(loaded, texts)
    result["naive_qps"] = len(units) / t.seconds
    fill = pipeline("fill-mask", model=loaded.model, tokenizer=loaded.tokenizer, device=-1)
    for batch_size in (1, 32):
        with Timer() as t:
            piped = pipeline_ids(fill, texts, batch_size)
        result[f"pipeline_b{batch_size}_qps"] = len(units) / t.seconds
        result[f"pipeline_b{batch_size}_agrees"] = sum(a == b for a, b in zip(piped, reference, strict=True))
    result["ours_agrees_with_naive"] = sum(ours.predicted[u] == r for u, r in zip(units, reference, strict=True))
    result["speedup_vs_naive"] = result["ours_qps"] / result["naive_qps"]
    result["speedup_vs_pipeline"] = result["ours_qps"] / result["pipeline_b1_qps"]
    result["speedup_vs_pipeline_batched"] = result["ours_qps"] / result["pipeline_b32_qps"]
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}


def bench_full(vocab: int, device: str, neurons: bool) -> dict:
    """The probe stage over all of mLAMA with the base-sized model (a GPU run)."""
    from tracer.stages.common import LocalRunner
    from tracer.stages.facts import FactsConfig, FactsStage
    from tracer.stages.probe import ProbeConfig, ProbeStage

    wh = OUT / "probe-wh"
    if not (wh / "facts" / "_delta_log").is_dir():
        FactsStage(FactsConfig(mlama=str(shared() / "mlama1.1"), warehouse=str(wh)), LocalRunner()).run()
    config = ProbeConfig(model=model_dir("base", vocab), warehouse=str(wh), device=device, neurons=neurons, force=True)
    started = time.perf_counter()
    out = ProbeStage(config, LocalRunner()).run()
    extra = json.loads(out.run["extra"])
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "facts": out.run["records_out"],
        "queries": extra["queries"],
        "devices": extra["devices"],
        "max_tokens": extra["max_tokens"],
        "message": out.message,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", type=int, default=40, help="facts per relation (8 relations)")
    parser.add_argument("--sizes", nargs="+", default=["tiny", "base"], choices=["tiny", "base"])
    parser.add_argument("--vocab", type=int, default=119547)
    parser.add_argument("--full", action="store_true", help="also probe all of mLAMA with the base model")
    parser.add_argument("--device", default="", help="device for --full (default: CUDA when present)")
    parser.add_argument("--no-neurons", action="store_true", help="--full without neurons")
    args = parser.parse_args()
    result = {
        "bench": "probe",
        "torch_threads": torch.get_num_threads(),
        "sizes": {size: bench_size(size, args.vocab, args.facts) for size in args.sizes},
    }
    if args.full:
        result["full_mlama"] = bench_full(args.vocab, args.device, not args.no_neurons)
    (OUT / "probe.json").write_text(json.dumps(result, indent=2, sort_keys=True))
    emit(result)


if __name__ == "__main__":
    main()
