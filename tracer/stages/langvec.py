"""The langvec stage: a masked LM × sampled sentences per language → ``language_vectors`` (LRP2's v_l^i).

The sentences of a language come from its own wiki's ``segments`` (a seeded sample: one sentence from each
of ``--samples`` segments, chosen by a hash of the segment's key), or from ``<text-dir>/<lang>.txt`` when
the user gives one (one sentence per line; ``--samples`` lines chosen the same way). The paper used 10,000
OPUS-100 sentences per language instead; docs/lrp2.md says what that changes. One task per language; a
task loads the model once per executor, on the GPU it was given when there is one.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from probing.model_files import checked_model_dir, model_id
from schemas.arrow import arrow_schema
from schemas.tables import LANGUAGE_VECTORS, PAGES, SEGMENTS
from tracer import storage
from tracer.config import option, require
from tracer.dumps.naming import wiki_language
from tracer.errors import InputNotFound
from tracer.progress import Work
from tracer.runs import file_digest
from tracer.sentences import MIN_CHARS, chosen, segment_key, split_sentences
from tracer.stages.common import Stage, StageResult
from tracer.stages.probe import model_for_executors, task_device, task_model
from tracer.stages.tasks import LangvecDone, LangvecTask
from tracer.warehouse import partition_path, write_table

log = logging.getLogger("factrace.langvec")
STAGE = "langvec"


@dataclass
class LangvecConfig:
    model: str = option(help="masked LM: a save_pretrained directory with safetensors weights, or a cached hub name")
    warehouse: str = option(help="warehouse path or URI (reads segments, writes language_vectors)")
    langs: list[str] = option([], help="these languages (default: every language whose wiki has segments, and en)")
    samples: int = option(1000, help="sentences per language (the paper, per issue 17: 10,000 from OPUS-100)")
    seed: int = option(0, help="seed of the sentence sample")
    text_dir: str = option("", help="folder with <lang>.txt (one sentence per line) used instead of the segments")
    dump: str = option("", help="take the segments of this dump (default: each wiki's newest)")
    special_tokens: bool = option(False, help="pool [CLS]/[SEP] (<s>/</s>) too; padding is never pooled")
    max_length: int = option(128, help="tokens per sentence at most (longer ones are cut)")
    device: str = option("", help="cpu, cuda or cuda:N (default: CUDA when present, else CPU)")
    spark: bool = option(False, help="one Spark task per language, on a GPU when executors have one (jobs/langvec.py)")
    model_id: str = option("", help="partition value for the model (default: <directory name>-<sha1 of its files>)")

    def __post_init__(self) -> None:
        require(self.samples >= 1, f"--samples must be at least 1, got {self.samples}")
        require(self.max_length >= 4, f"--max-length must be at least 4, got {self.max_length}")


def sample_sentences(task: LangvecTask) -> list[str]:
    """The task's sentences: ``samples`` lines of its text file, or one sentence from each of ``samples`` segments,
    chosen by seeded hashes of their keys (line number; page id and segment number)."""
    if task.text_file:
        lines = [line.strip() for line in storage.read_text(task.text_file).splitlines()]
        lines = [line for line in lines if line]
        picked = chosen(np.arange(len(lines), dtype=np.uint64), task.samples, task.seed)
        return [lines[i] for i in picked]
    keys = pa.concat_tables(
        [pq.read_table(storage.open_input(f), columns=["page_id", "seg_no"]) for f in task.segments_files]
    )
    all_keys = segment_key(keys.column("page_id").to_numpy(), keys.column("seg_no").to_numpy())
    wanted = all_keys[chosen(all_keys, task.samples, task.seed)]
    rank = {int(k): n for n, k in enumerate(wanted)}
    picked: list[tuple[int, str]] = []
    for path in task.segments_files:
        rows = pq.read_table(storage.open_input(path), columns=["page_id", "seg_no", "text"])
        keys = segment_key(rows.column("page_id").to_numpy(), rows.column("seg_no").to_numpy())
        hit = pc.is_in(pa.array(keys), pa.array(wanted)).to_numpy(zero_copy_only=False)
        for key, text in zip(keys[hit], rows.column("text").filter(pa.array(hit)).to_pylist(), strict=True):
            sentences = split_sentences(text)
            if sentences:
                first = chosen(np.arange(len(sentences), dtype=np.uint64) + np.uint64(key), 1, task.seed)[0]
                picked.append((rank[int(key)], sentences[first]))
    return [text for _, text in sorted(picked)]


def langvec_task(task: LangvecTask) -> LangvecDone:
    """Executor side: sample the language's sentences, average the model's hidden states, write its partition."""
    from probing.lrp2 import Pooling, language_vectors

    started = time.perf_counter()
    sentences = sample_sentences(task)
    if not sentences:
        raise InputNotFound(f"no sentence of {MIN_CHARS} characters or more for {task.lang} in {task.source}")
    loaded = task_model(task.model_dir, task_device(task.device))
    ids = loaded.tokenizer(sentences, truncation=True, max_length=task.max_length)["input_ids"]
    pooling = Pooling(task.special_tokens)
    vectors, tokens = language_vectors(loaded, ids, pooling)
    rows = {
        "layer": list(range(vectors.shape[0])),
        "vector": [v.float().tolist() for v in vectors],
        "sentences": [len(ids)] * vectors.shape[0],
        "tokens": [tokens] * vectors.shape[0],
        "source": [task.source] * vectors.shape[0],
        "pooling": [pooling.name] * vectors.shape[0],
    }
    table = pa.Table.from_pydict(rows, schema=arrow_schema(LANGUAGE_VECTORS))
    write_table(storage.join(task.vectors_dir, "part-00000.parquet"), table)
    seconds = time.perf_counter() - started
    return LangvecDone(task.lang, len(ids), tokens, vectors.shape[0], str(loaded.device), seconds)


class LangvecStage(Stage):
    config: LangvecConfig

    def sources(self) -> dict[str, tuple[list[str], str, str]]:
        """Per language: (segments files, text file, source line); every language checked before any work."""
        cfg, wh = self.config, self.warehouse
        newest: dict[str, dict[str, str]] = {}
        for values in wh.partitions(SEGMENTS, dump=cfg.dump or None):
            lang = wiki_language(values["wiki"])
            best = newest.get(lang)
            if best is None or (values["dump"], values["wiki"]) > (best["dump"], best["wiki"]):
                newest[lang] = values
        langs = cfg.langs or sorted({*newest, "en"} if newest else set())
        if not langs:
            have = ", ".join(sorted({v["dump"] for v in wh.partitions(PAGES)})) or "none"
            raise InputNotFound(f"no segments in {wh.root} (dumps with pages: {have}): run segment, or give --langs")
        found = {}
        for lang in langs:
            text = storage.join(cfg.text_dir, f"{lang}.txt") if cfg.text_dir else ""
            if text and storage.exists(text):
                found[lang] = ([], text, f"file {text} sha256={file_digest(text)['sha256']}")
            elif lang in newest:
                v = newest[lang]
                # every tokenizer's segments of a wiki carry the same text: take the first id, for determinism
                same = sorted(wh.partitions(SEGMENTS, dump=v["dump"], wiki=v["wiki"]), key=lambda p: p["tokenizer"])
                source = f"segments dump={v['dump']} wiki={v['wiki']} seed={cfg.seed}"
                found[lang] = (wh.files(SEGMENTS, same[0]), "", source)
            else:
                where = f" and no {text}" if text else " (and no --text-dir)"
                wikis = ", ".join(sorted(newest)) or "none"
                raise InputNotFound(
                    f"language {lang} has no segments in {wh.root}{where}; languages with segments: {wikis}. "
                    "Segment its wiki, or give --text-dir with a <lang>.txt"
                )
        return found

    def _run(self) -> StageResult:
        cfg, wh = self.config, self.warehouse
        source_dir = checked_model_dir(cfg.model)
        model = cfg.model_id or model_id(source_dir)
        sources = self.sources()
        run = self.start_run(STAGE, {**dataclasses.asdict(cfg), "model_id": model})
        run.inputs.append(file_digest(source_dir / "config.json"))
        tasks = [
            LangvecTask(
                run_id=run.run_id,
                model=model,
                model_dir=model_for_executors(cfg.model, source_dir),
                device=cfg.device,
                lang=lang,
                segments_files=files,
                text_file=text,
                source=source,
                samples=cfg.samples,
                seed=cfg.seed,
                special_tokens=cfg.special_tokens,
                max_length=cfg.max_length,
                vectors_dir=wh.staged_partition(run.run_id, LANGUAGE_VECTORS, {"model": model, "lang": lang}),
            )
            for lang, (files, text, source) in sorted(sources.items())
        ]
        try:
            results = self.runner.map(langvec_task, tasks, "langvec", Work("languages", [1] * len(tasks)))
            partitions = [(LANGUAGE_VECTORS, {"model": model, "lang": r.lang}) for r in results]
            wh.publish(run.run_id, partitions)
        finally:
            wh.discard_staging(run.run_id)
        run.records_in = run.records_out = sum(r.sentences for r in results)
        run.outputs = {"language_vectors": [partition_path(t, v) for t, v in partitions]}
        run.extra = {
            "model": model,
            "devices": sorted({r.device for r in results}),
            "languages": {
                r.lang: {"sentences": r.sentences, "tokens": r.tokens, "source": sources[r.lang][2]} for r in results
            },
            "layers": results[0].layers if results else 0,
            "task_seconds": round(sum(r.seconds for r in results), 3),
        }
        short = [r.lang for r in results if r.sentences < cfg.samples]
        tail = f"; fewer than {cfg.samples} sentences for {', '.join(short)}" if short else ""
        message = (
            f"langvec: model {model}: {len(results)} language(s) x {run.extra['layers']} layers from "
            f"{run.records_out:,} sentences{tail}"
        )
        return self.finish(run, message, [r.lang for r in results])
