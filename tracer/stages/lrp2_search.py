"""The lrp2-search stage: per language, every LIRP/LSRP layer pair on the dev half of its TREx facts, the pair
with the best dev accuracy chosen and its test accuracy reported, beside the oracle pair (best on test, as
the paper reports its optimal layers) → ``lrp2_search``. One task per language; the pairs share layer
prefixes (``probing.lrp2_search``)."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from probing.model_files import checked_model_dir, model_id
from schemas.arrow import arrow_schema
from schemas.tables import FACTS, LANGUAGE_VECTORS, LRP2_SEARCH
from schemas.values import ENGLISH_LANG, NO_INTERVENTION
from tracer import storage
from tracer.config import option
from tracer.errors import InputNotFound
from tracer.progress import Work
from tracer.stages.common import Stage, StageResult
from tracer.stages.probe import FACT_COLUMNS, model_for_executors, task_device, task_model
from tracer.stages.tasks import SearchDone, SearchTask
from tracer.warehouse import partition_path, write_table

log = logging.getLogger("factrace.lrp2_search")
STAGE = "lrp2-search"
DATASET = "TREx"  # TREx facts only, as issue 17 says the paper evaluates (docs/lrp2.md)


@dataclass
class SearchConfig:
    model: str = option(help="masked LM: a save_pretrained directory with safetensors weights, or a cached hub name")
    warehouse: str = option(help="warehouse path or URI (reads facts and language_vectors, writes lrp2_search)")
    langs: list[str] = option([], help="these languages (default: every language with facts and language vectors)")
    max_tokens: int = option(0, help="padded tokens per batch; 0: 4096 on CPU, 32768 on CUDA")
    device: str = option("", help="cpu, cuda or cuda:N (default: CUDA when present, else CPU)")
    spark: bool = option(False, help="one Spark task per language, on a GPU when executors have one")
    model_id: str = option("", help="partition value for the model (default: <directory name>-<sha1 of its files>)")


def _accuracy(correct: int, total: int) -> float:
    return correct / total if total else 0.0


def search_task(task: SearchTask) -> SearchDone:
    """Executor side: the baseline and every pair on the language's TREx facts, split into dev and test."""
    from probing.full_match import full_match
    from probing.lrp2 import read_vectors
    from probing.lrp2_search import all_pairs, grid_predictions, shifts_for, split_of
    from probing.probe import prepare

    started = time.perf_counter()
    loaded = task_model(task.model_dir, task_device(task.device))
    max_tokens = task.max_tokens or (32768 if loaded.device.type == "cuda" else 4096)
    facts = pq.read_table(task.facts_file, columns=[*FACT_COLUMNS, "dataset"])
    facts = facts.filter(pc.equal(facts.column("dataset"), DATASET)).drop_columns(["dataset"]).to_pylist()
    prompts, _ = prepare(loaded, facts)
    vectors = read_vectors(task.vector_files)
    pairs = [] if task.lang == ENGLISH_LANG else all_pairs(loaded.model.config.num_hidden_layers)
    lirp, lsrp = shifts_for(vectors, task.lang, ENGLISH_LANG)
    baseline, grid = grid_predictions(loaded, prompts, lirp, lsrp, pairs, max_tokens)
    marker = loaded.tokenizer.convert_tokens_to_ids(loaded.family.bare_marker) if loaded.family.bare_marker else None
    rows, correct_test = [], []
    for pair, results in [(None, baseline), *grid.items()]:
        counts = {"dev": [0, 0], "test": [0, 0]}
        correct = []
        for result in full_match(prompts, results, marker):
            half = split_of(result.uuid)
            counts[half][0] += result.correct
            counts[half][1] += 1
            if result.correct and half == "test":
                correct.append(result.uuid)
        correct_test.append(sorted(correct))
        rows.append({
            "intervention": NO_INTERVENTION if pair is None else f"lrp2_{pair[0]}_{pair[1]}",
            "lirp": None if pair is None else pair[0],
            "lsrp": None if pair is None else pair[1],
            "dev_correct": counts["dev"][0], "dev_facts": counts["dev"][1],
            "test_correct": counts["test"][0], "test_facts": counts["test"][1],
        })  # fmt: skip
    chosen = _best(rows[1:], "dev") or rows[0]
    oracle = _best(rows[1:], "test") or rows[0]
    for row, correct in zip(rows, correct_test, strict=True):
        row["chosen"] = row["intervention"] == chosen["intervention"]
        row["oracle"] = row["intervention"] == oracle["intervention"]
        kept = row["chosen"] or row["oracle"] or row["intervention"] == NO_INTERVENTION
        row["test_correct_uuids"] = correct if kept else None
    write_table(
        storage.join(task.search_dir, "part-00000.parquet"), pa.Table.from_pylist(rows, arrow_schema(LRP2_SEARCH))
    )

    def test_acc(row: dict) -> float:
        return _accuracy(row["test_correct"], row["test_facts"])

    return SearchDone(
        task.lang, len(prompts), len(pairs), test_acc(rows[0]), chosen["intervention"], test_acc(chosen),
        oracle["intervention"], test_acc(oracle), time.perf_counter() - started,
    )  # fmt: skip


def _best(rows: list[dict], half: str) -> dict | None:
    """The pair with the highest accuracy on ``half``; ties go to the smallest (i, j)."""
    if not rows:
        return None
    return max(rows, key=lambda r: (_accuracy(r[f"{half}_correct"], r[f"{half}_facts"]), -r["lirp"], -r["lsrp"]))


class SearchStage(Stage):
    config: SearchConfig

    def _run(self) -> StageResult:
        cfg, wh = self.config, self.warehouse
        source = checked_model_dir(cfg.model)
        model = cfg.model_id or model_id(source)
        with_facts = {v["lang"] for v in wh.partitions(FACTS)}
        with_vectors = {v["lang"] for v in wh.partitions(LANGUAGE_VECTORS, model=model)}
        if ENGLISH_LANG not in with_vectors:
            raise InputNotFound(
                f"model {model} has no English language vectors in {wh.root}: run factrace langvec --model "
                f"{cfg.model} --warehouse {wh.root} --langs en (LRP2 projects towards English)"
            )
        langs = cfg.langs or sorted(with_facts & with_vectors)
        missing = [lang for lang in langs if lang not in with_facts or lang not in with_vectors]
        if missing:
            raise InputNotFound(
                f"no facts or no language vectors of model {model} for {', '.join(missing)} in {wh.root}; both exist "
                f"for {', '.join(sorted(with_facts & with_vectors)) or 'no language'}"
            )
        run = self.start_run(STAGE, {**dataclasses.asdict(cfg), "model_id": model})
        vector = {lang: wh.only_file(LANGUAGE_VECTORS, {"model": model, "lang": lang}) for lang in {*langs, "en"}}
        tasks = [
            SearchTask(
                run_id=run.run_id,
                model=model,
                model_dir=model_for_executors(cfg.model, source),
                device=cfg.device,
                lang=lang,
                facts_file=wh.only_file(FACTS, {"lang": lang}),
                vector_files={lang: vector[lang], ENGLISH_LANG: vector[ENGLISH_LANG]},
                max_tokens=cfg.max_tokens,
                search_dir=wh.staged_partition(run.run_id, LRP2_SEARCH, {"model": model, "lang": lang}),
            )
            for lang in langs
        ]
        sizes = [wh.row_count(FACTS, {"lang": lang}) for lang in langs]
        try:
            results = self.runner.map(search_task, tasks, "lrp2-search", Work("facts", sizes))
            partitions = [(LRP2_SEARCH, {"model": model, "lang": r.lang}) for r in results]
            wh.publish(run.run_id, partitions)
        finally:
            wh.discard_staging(run.run_id)
        run.records_in = run.records_out = sum(r.facts for r in results)
        run.outputs = {"lrp2_search": [partition_path(t, v) for t, v in partitions]}
        run.extra = {"model": model, "languages": {r.lang: dataclasses.asdict(r) for r in results}}
        projected = [r for r in results if r.lang != ENGLISH_LANG]
        lines = ", ".join(
            f"{r.lang} {r.chosen} test {r.chosen_test:.1%} (baseline {r.baseline_test:.1%}, oracle {r.oracle})"
            for r in projected
        )
        message = f"lrp2-search: model {model}, {len(results)} language(s), {projected[0].pairs if projected else 0}"
        message += f" pairs each on TREx dev/test halves: {lines or 'English only, nothing projected'}"
        return self.finish(run, message, [r.lang for r in results])
