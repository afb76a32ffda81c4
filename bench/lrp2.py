"""LRP2's costs: the layer grid against independent probes, and language vectors for every mLAMA language.

* **Grid.** All 66 pairs (i < j) of a 12-layer model on real mLAMA facts of one language: the shared-prefix
  grid (``probing.lrp2_search.grid_predictions``: one plain pass, one LIRP path per i, one tail per pair)
  against 66 independent probes with the two hooks (``run_queries`` under ``projected``), same queries, same
  run; the predictions are checked equal. Models have random weights (nothing can be downloaded): BERT
  shapes with a WordPiece vocabulary trained on the mLAMA labels.
* **Language vectors.** ``factrace langvec`` for the 53 mLAMA languages × ``--sentences`` each, with the tiny
  model on CPU. The sentences are the language's mLAMA templates filled with its labels, given as
  ``--text-dir`` files (the shared data has wiki dumps of eight languages only).

    python bench/lrp2.py [--lang de] [--facts 30] [--size tiny|small|base] [--sentences 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil

os.environ["TOKENIZERS_PARALLELISM"] = "false"

import torch
from _common import OUT, Timer, emit, shared

from probing.lrp2 import Projection, Shifts, projected
from probing.lrp2_search import all_pairs, grid_predictions, layer_passes, shifts_for
from probing.models import load_masked_lm
from probing.passes import run_queries
from probing.probe import prepare
from probing.random_model import Size, mlama_texts, save_random_bert
from tracer.tokenization.wordpiece import train_wordpiece

SIZES = {"tiny": Size(32, 12, 2, 37, 512), "small": Size(256, 12, 4, 1024, 512), "base": Size(768, 12, 12, 3072, 512)}


def model_dir(size: str) -> str:
    path = OUT / f"lrp2-model-{size}"
    if not (path / "config.json").exists():
        tokenizer = OUT / "wordpiece-mlama-30000.json"
        if not tokenizer.exists():
            OUT.mkdir(parents=True, exist_ok=True)
            train_wordpiece(mlama_texts(shared() / "mlama1.1"), 30000).save(str(tokenizer))
        save_random_bert(path, tokenizer, SIZES[size])
    return str(path)


def facts_of(lang: str, per_relation: int) -> list[dict]:
    root = shared() / "mlama1.1" / lang
    templates = {}
    for line in (root / "templates.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        templates[row["relation"]] = row["template"]
    facts = []
    for relation in sorted(templates):
        path = root / f"{relation}.jsonl"
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines()[:per_relation]:
            row = json.loads(line)
            facts.append({"uuid": row["uuid"], "relation": relation, "subject_label": row["sub_label"],
                          "object_label": row["obj_label"], "template": templates[relation]})  # fmt: skip
    return facts


def bench_grid(lang: str, per_relation: int, size: str) -> dict:
    loaded = load_masked_lm(model_dir(size), "cpu")
    torch.manual_seed(0)
    layers = loaded.model.config.num_hidden_layers
    vectors = {code: torch.randn(layers + 1, loaded.model.config.hidden_size) for code in ("en", lang)}
    prompts, _ = prepare(loaded, facts_of(lang, per_relation))
    pairs = all_pairs(layers)
    lirp, lsrp = shifts_for(vectors, lang)
    grid_predictions(loaded, prompts[:8], lirp, lsrp, pairs[:2])  # warm up
    with Timer() as grid_time:
        _, grid = grid_predictions(loaded, prompts, lirp, lsrp, pairs)
    same = True
    with Timer() as independent_time:
        run_queries(loaded, prompts)  # the baseline, as the grid gives it too
        for i, j in pairs:
            shifts = Shifts(vectors, Projection(i, j), loaded.device)
            shifts.set([lang])
            with projected(loaded, shifts):
                same &= run_queries(loaded, prompts).predicted == grid[(i, j)].predicted
    return {
        "lang": lang,
        "model": f"{size}: {layers} layers, hidden {loaded.model.config.hidden_size}, vocab "
        f"{loaded.model.config.vocab_size}",
        "facts": len(prompts),
        "queries": grid[pairs[0]].queries,
        "pairs": len(pairs),
        "grid_s": round(grid_time.seconds, 2),
        "independent_probes_s": round(independent_time.seconds, 2),
        "speedup": round(independent_time.seconds / grid_time.seconds, 2),
        "layer_passes": {"grid": layer_passes(layers, pairs), "independent": (len(pairs) + 1) * layers},
        "predictions_equal": same,
    }


def bench_vectors(sentences: int) -> dict:
    from tracer.stages.common import LocalRunner
    from tracer.stages.langvec import LangvecConfig, LangvecStage

    texts = OUT / "lrp2-texts"
    shutil.rmtree(texts, ignore_errors=True)
    texts.mkdir(parents=True)
    langs = sorted(p.name for p in (shared() / "mlama1.1").iterdir() if p.is_dir())
    for lang in langs:
        lines = []
        for fact in facts_of(lang, 200):
            lines.append(fact["template"].replace("[X]", fact["subject_label"]).replace("[Y]", fact["object_label"]))
        (texts / f"{lang}.txt").write_text("\n".join(lines[: sentences * 2]), encoding="utf-8")
    wh = OUT / "lrp2-wh"
    shutil.rmtree(wh, ignore_errors=True)
    wh.mkdir()
    config = LangvecConfig(model=model_dir("tiny"), warehouse=str(wh), langs=langs, samples=sentences,
                           text_dir=str(texts), model_id="tiny")  # fmt: skip
    stage = LangvecStage(config, LocalRunner())
    stage.creates_warehouse = True  # this warehouse holds the vectors only: no extract or facts run made it
    with Timer() as t:
        message = stage.run().message
    return {"languages": len(langs), "sentences_each": sentences, "seconds": round(t.seconds, 2),
            "sentences_per_s": round(len(langs) * sentences / t.seconds, 1), "summary": message}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="de")
    parser.add_argument("--facts", type=int, default=30, help="facts per relation")
    parser.add_argument("--size", default="tiny", choices=sorted(SIZES))
    parser.add_argument("--sentences", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    emit({"benchmark": "lrp2", "threads": 1, "grid": bench_grid(args.lang, args.facts, args.size),
          "language_vectors": bench_vectors(args.sentences)})  # fmt: skip


if __name__ == "__main__":
    main()
