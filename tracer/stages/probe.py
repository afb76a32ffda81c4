"""The probe stage: ``facts`` × a masked LM → ``predictions`` and ``neurons`` per (model, lang, protocol).

A language is the unit of work. Each task loads the model once, probes its languages one after the
other and publishes each language's partitions as soon as they are written, so an interrupted run
resumes where it stopped: finished partitions are skipped unless ``--force``. Facts that cannot be
probed (no template, an object with no tokens, ...) go to ``quarantine`` with the reason.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from probing.model_files import checked_model_dir, model_id
from probing.report import language_table, overall_p_at_1
from schemas.tables import FACTS, LANGUAGE_VECTORS, NEURONS, PREDICTIONS, QUARANTINE
from schemas.values import (
    DEFAULT_RULES,
    ENGLISH_LANG,
    FACT_CL,
    FULL_MATCH,
    NO_DUMP,
    NO_INTERVENTION,
    PROTOCOLS,
    RULE_SETS,
)
from tracer import storage
from tracer.config import option, require
from tracer.errors import ConfigError, InputNotFound
from tracer.progress import Work
from tracer.records import Quarantined
from tracer.runs import RunRecord, file_digest
from tracer.stages.common import TASK_CPUS, TASK_GPU, Stage, StageResult, counts_line, write_quarantine
from tracer.stages.tasks import LanguageProbed, ProbeDone, ProbeTask
from tracer.tokenization.loading import load_tokenizer
from tracer.warehouse import Warehouse, partition_path, write_table

if TYPE_CHECKING:  # torch stays out of the driver until a task runs
    from probing.models import LoadedModel
    from probing.probe import LanguageProbe

log = logging.getLogger("factrace.probe")
STAGE = "probe"
FACT_COLUMNS = ["uuid", "relation", "subject_label", "object_label", "template"]


@dataclass
class ProbeConfig:
    model: str = option(help="masked LM: a save_pretrained directory with safetensors weights, or a cached hub name")
    warehouse: str = option(help="warehouse path or URI (reads facts, writes predictions and neurons)")
    protocol: list[str] = option(
        [FULL_MATCH], help="one or both protocols; both share the same forward passes", choices=PROTOCOLS
    )
    neurons: bool = option(False, help="also rank FFN neurons with PROBELESS for the correctly predicted facts")
    langs: list[str] = option([], help="only these languages (default: every language in facts)")
    shard: str = option("", help="'i/n': probe only shard i (0-based) of n, languages balanced by fact count")
    spark_tasks: int = option(0, help="run the languages as this many Spark tasks (jobs/probe.py); 0: this process")
    force: bool = option(False, help="probe again the (model, lang, protocol) partitions already written")
    device: str = option("", help="cpu, cuda or cuda:N (default: CUDA when present, else CPU)")
    max_tokens: int = option(0, help="padded tokens per batch; 0: 4096 on CPU, 32768 on CUDA")
    top_k: int = option(50, help="neurons kept per fact")
    neuron_precision: str = option(
        "fp32",
        help="`fp32`: capture the neurons on the weights loaded in fp32, even when probing runs in bf16 (one more "
        "copy of the model in memory); `model`: in the dtype the model runs in",
        choices=("fp32", "model"),
    )
    rules: str = option(
        DEFAULT_RULES,
        help="`fact-cl`: when several mask counts match, keep the last (as the authors' code) instead of the "
        "smallest; its rows go to the rules=fact-cl partitions",
        choices=RULE_SETS,
    )
    model_id: str = option("", help="partition value for the model (default: <directory name>-<sha1 of its files>)")
    lrp2: str = option(
        "",
        help="'i,j': LRP2, LIRP after encoder layer i and LSRP after layer j for every non-English query, with the "
        "model's language_vectors (factrace langvec); rows go to intervention=lrp2_<i>_<j>",
    )

    def __post_init__(self) -> None:
        self.lrp2_layers()
        unknown = [p for p in self.protocol if p not in PROTOCOLS]
        if unknown or not self.protocol:
            raise ConfigError(f"--protocol: choose from {', '.join(PROTOCOLS)}; got {unknown or 'none'}")
        self.protocol = list(dict.fromkeys(self.protocol))
        require(self.max_tokens >= 0, f"--max-tokens must be 0 (automatic) or more, got {self.max_tokens}")
        require(self.top_k >= 1, f"--top-k must be at least 1, got {self.top_k}")
        require(self.spark_tasks >= -1, f"--spark-tasks must be -1 (one per core), 0 or more; got {self.spark_tasks}")
        require(self.rules in RULE_SETS, f"--rules: choose from {', '.join(RULE_SETS)}; got {self.rules!r}")
        self.shard_of()

    def lrp2_layers(self) -> tuple[int, int] | None:
        """(i, j) from ``--lrp2 i,j``; None without it."""
        if not self.lrp2:
            return None
        try:
            i, j = (int(x) for x in self.lrp2.split(","))
        except ValueError:
            raise ConfigError(f"--lrp2 must look like 'i,j', e.g. 4,10; got {self.lrp2!r}") from None
        if not 1 <= i < j:
            raise ConfigError(f"--lrp2 {self.lrp2}: need 1 <= i < j (LIRP before LSRP)")
        return i, j

    @property
    def intervention(self) -> str:
        layers = self.lrp2_layers()
        return NO_INTERVENTION if layers is None else f"lrp2_{layers[0]}_{layers[1]}"

    def shard_of(self) -> tuple[int, int]:
        """(i, n) from ``--shard i/n``; (0, 1) when not sharded."""
        if not self.shard:
            return 0, 1
        try:
            i, n = (int(x) for x in self.shard.split("/"))
        except ValueError:
            raise ConfigError(f"--shard must look like 'i/n', e.g. 0/4; got {self.shard!r}") from None
        if not 0 <= i < n:
            raise ConfigError(f"--shard {self.shard}: need 0 <= i < n")
        return i, n


def balanced_shards(sizes: dict[str, int], n: int) -> list[list[str]]:
    """``n`` lists of languages with similar fact totals: largest first onto the lightest shard."""
    shards: list[list[str]] = [[] for _ in range(n)]
    load = [0] * n
    for lang in sorted(sizes, key=lambda lang: (-sizes[lang], lang)):
        lightest = min(range(n), key=lambda s: (load[s], s))
        shards[lightest].append(lang)
        load[lightest] += sizes[lang]
    return shards


def quarantine_values(model: str, lang: str) -> dict[str, str]:
    return {"dump": NO_DUMP, "stage": STAGE, "scope": f"{model}.{lang}"}


def partition_values(
    model: str, lang: str, protocol: str, rules: str, intervention: str = NO_INTERVENTION
) -> dict[str, str]:
    """A probe partition: the model as it is (``intervention=none``) or under LRP2, under one rule set."""
    return {"model": model, "lang": lang, "protocol": protocol, "intervention": intervention, "rules": rules}


def task_device(requested: str) -> str | None:
    """The requested device, else the GPU the cluster gave this task (the Spark runner says which, in
    ``FACTRACE_TASK_GPU``, and how many cores, in ``FACTRACE_TASK_CPUS``), else automatic."""
    cpus = os.environ.get(TASK_CPUS)
    if cpus:
        from probing.models import limit_threads

        limit_threads(int(cpus))
    if requested:
        return requested
    gpu = os.environ.get(TASK_GPU)
    return f"cuda:{gpu}" if gpu else None


def model_for_executors(spec: str, source: Path) -> str:
    """What a task loads the model from: the checked local directory, or the store URI (executors copy it)."""
    return str(source) if storage.is_local(spec) else spec


@functools.lru_cache(maxsize=1)
def task_model(source: str, device: str | None) -> LoadedModel:
    from probing.models import load_masked_lm

    return load_masked_lm(source, device)


def probe_task(task: ProbeTask) -> ProbeDone:
    """Executor side: probe the task's languages, publishing each language's partitions when done."""
    from tqdm import tqdm

    from probing.probe import count_queries, prepare, probe_language

    started = time.perf_counter()
    loaded = task_model(task.model_dir, task_device(task.device))
    max_tokens = task.max_tokens or (32768 if loaded.device.type == "cuda" else 4096)
    wh = Warehouse(task.warehouse)
    prepared = []
    for lang in task.langs:
        facts = pq.read_table(task.facts_files[lang], columns=FACT_COLUMNS).to_pylist()
        prepared.append((lang, len(facts), *prepare(loaded, facts)))
    total = sum(count_queries(prompts) for _, _, prompts, _ in prepared)
    stats = []
    with tqdm(total=total, unit="query", desc="probe", mininterval=1 if sys.stderr.isatty() else 30) as bar:
        for lang, n_facts, prompts, unusable in prepared:
            bar.set_description(f"probe {lang}")
            with lrp2_applied(loaded, task, lang):
                probe = probe_language(
                    loaded,
                    prompts,
                    unusable,
                    task.protocols,
                    task.neurons,
                    max_tokens,
                    task.top_k,
                    bar.update,
                    last_match=task.rules == FACT_CL,
                    exact_neurons=task.neuron_precision == "fp32",
                )
            _publish(wh, task, lang, probe)
            stats.append(_probed(lang, n_facts, probe))
    dtype = str(loaded.dtype).removeprefix("torch.")
    return ProbeDone(stats, str(loaded.device), dtype, max_tokens, time.perf_counter() - started)


@contextmanager
def lrp2_applied(loaded: LoadedModel, task: ProbeTask, lang: str) -> Iterator[None]:
    """LRP2's two hooks for a non-English language when the task asks for it (also on the fp32 twin that
    captures neurons); nothing otherwise."""
    if not task.lrp2:
        yield
        return
    from probing.lrp2 import Projection, projected_language, read_vectors
    from probing.models import in_fp32

    twins = [in_fp32(loaded)] if task.neurons and task.neuron_precision == "fp32" else []
    with projected_language(loaded, Projection(*task.lrp2), read_vectors(task.vector_files), lang, twins):
        yield


def _publish(wh: Warehouse, task: ProbeTask, lang: str, probe: LanguageProbe) -> None:
    """Write and publish one language's predictions, neurons and quarantine partitions."""
    run_id, model = task.run_id, task.model
    for protocol, table in probe.predictions.items():
        values = partition_values(model, lang, protocol, task.rules, task.intervention)
        write_table(storage.join(wh.staged_partition(run_id, PREDICTIONS, values), "part-00000.parquet"), table)
        if protocol in probe.neurons:
            neurons = storage.join(wh.staged_partition(run_id, NEURONS, values), "part-00000.parquet")
            write_table(neurons, probe.neurons[protocol])
    q_values = quarantine_values(model, lang)
    source = f"facts/lang={lang}"
    bad = [Quarantined(source, -1, u.reason, u.detail, record_id=u.uuid) for u in probe.unusable]
    if bad:
        write_quarantine(
            storage.join(wh.staged_partition(run_id, QUARANTINE, q_values), "part-00000.parquet"), bad, run_id
        )
    staged = [(QUARANTINE, q_values)]
    for protocol in probe.predictions:
        values = partition_values(model, lang, protocol, task.rules, task.intervention)
        staged += [(PREDICTIONS, values)] + ([(NEURONS, values)] if protocol in probe.neurons else [])
    wh.check_keys(run_id, staged)
    neurons = [
        (NEURONS, partition_values(model, lang, p, task.rules, task.intervention))
        for p in probe.predictions
        if p in probe.neurons
    ]
    predictions = [
        (PREDICTIONS, partition_values(model, lang, p, task.rules, task.intervention)) for p in probe.predictions
    ]
    wh.publish(run_id, [*neurons, *predictions, (QUARANTINE, q_values)])  # predictions mark a partition finished


def _probed(lang: str, facts: int, probe: LanguageProbe) -> LanguageProbed:
    """What the driver needs to know of one probed language."""
    return LanguageProbed(
        lang=lang,
        facts=facts,
        probed=next(iter(probe.predictions.values())).num_rows if probe.predictions else 0,
        unusable=dict(Counter(u.reason for u in probe.unusable)),
        queries=probe.queries,
        tokens=probe.tokens,
        correct=probe.correct,
        neurons={p: t.num_rows for p, t in probe.neurons.items()},
        singleton_relations=dict(probe.singleton_relations),
        seconds={k: round(v, 3) for k, v in probe.seconds.items()},
    )


class ProbeStage(Stage):
    config: ProbeConfig
    publishes_in_tasks = True

    def finished(self, model: str, lang: str, protocol: str) -> bool:
        values = partition_values(model, lang, protocol, self.config.rules, self.config.intervention)
        wh = self.warehouse
        return bool(wh.files(PREDICTIONS, values)) and (not self.config.neurons or bool(wh.files(NEURONS, values)))

    def plan(self, model: str) -> tuple[dict[str, list[str]], dict[str, int], list[str]]:
        """Protocols to run per language (this shard only), fact counts, and partitions already done."""
        cfg, wh = self.config, self.warehouse
        available = [v["lang"] for v in wh.partitions(FACTS) if wh.files(FACTS, v)]
        if not available:
            raise InputNotFound(f"no facts in {wh.root}: run 'factrace facts' first")
        unknown = sorted(set(cfg.langs) - set(available))
        if unknown:
            raise InputNotFound(f"no facts for {unknown} in {wh.root}; facts exist for {', '.join(available)}")
        sizes = {lang: wh.row_count(FACTS, {"lang": lang}) for lang in (cfg.langs or available)}
        i, n = cfg.shard_of()
        mine = sorted(balanced_shards(sizes, n)[i])
        todo, done = {}, []
        for lang in mine:
            protocols = [p for p in cfg.protocol if cfg.force or not self.finished(model, lang, p)]
            done += [f"{lang}/{p}" for p in cfg.protocol if p not in protocols]
            if protocols:
                todo[lang] = protocols
        return todo, {lang: sizes[lang] for lang in mine}, done

    def _run(self) -> StageResult:
        cfg, wh = self.config, self.warehouse
        source = checked_model_dir(cfg.model)
        model = cfg.model_id or model_id(source)
        todo, sizes, done = self.plan(model)
        vector_files = self.language_vectors(model, source, todo) if cfg.lrp2 else {}
        if cfg.spark_tasks < 0 and todo:
            cfg.spark_tasks = self.runner.parallelism  # inputs checked: now the cluster may start
        run = self.start_run(STAGE, {**dataclasses.asdict(cfg), "model_id": model})
        if done:
            log.info("probe: %d partition(s) already finished, skipped (--force redoes them)", len(done))
        if not todo:
            message = f"probe: nothing to do for model {model}: all {len(done)} partition(s) are finished"
            return StageResult(None, message, [])
        run.inputs.append(file_digest(source / "config.json"))
        wh.keep_tokenizer(model, load_tokenizer(str(source)).to_json())  # classify tokenizes labels with it
        for lang in todo:
            run.inputs += [
                {**file_digest(p), "path": storage.relative(p, wh.root)} for p in wh.files(FACTS, {"lang": lang})
            ]
        try:
            tasks = self._tasks(run.run_id, model, source, todo, sizes, vector_files)
            facts = Work("facts", [sum(sizes[lang] for lang in t.langs) for t in tasks])
            results = self.runner.map(probe_task, tasks, "probe", facts)
        finally:
            wh.discard_staging(run.run_id)
        return self._finish(run, model, results, done)

    def language_vectors(self, model: str, source: Path, todo: dict[str, list[str]]) -> dict[str, str]:
        """For ``--lrp2``: the language_vectors file of every language probed, and of English; checked (layers in
        range, every language there) before anything runs."""
        import json

        i, j = self.config.lrp2_layers() or (0, 0)
        layers = json.loads((source / "config.json").read_text(encoding="utf-8")).get("num_hidden_layers", 0)
        if j > layers:
            raise ConfigError(f"--lrp2 {i},{j}: model {model} has {layers} encoder layers; need i < j <= {layers}")
        wh, found, missing = self.warehouse, {}, []
        for lang in sorted({*todo, ENGLISH_LANG}):
            values = {"model": model, "lang": lang}
            if wh.files(LANGUAGE_VECTORS, values):
                found[lang] = wh.only_file(LANGUAGE_VECTORS, values)
            else:
                missing.append(lang)
        if missing:
            raise InputNotFound(
                f"--lrp2: model {model} has no language vectors for {', '.join(missing)} in {wh.root}: run "
                f"factrace langvec --model {self.config.model} --warehouse {wh.root} --langs {' '.join(missing)}"
            )
        return found

    def _tasks(
        self,
        run_id: str,
        model: str,
        source: Path,
        todo: dict[str, list[str]],
        sizes: dict[str, int],
        vector_files: dict[str, str],
    ) -> list[ProbeTask]:
        """One task per group of languages that share the same protocols, balanced across task slots."""
        cfg, wh = self.config, self.warehouse
        n_tasks = max(1, cfg.spark_tasks)
        tasks = []
        for protocols in sorted({tuple(p) for p in todo.values()}):
            langs = {lang: sizes[lang] for lang, ps in todo.items() if tuple(ps) == protocols}
            for group in balanced_shards(langs, min(n_tasks, len(langs))):
                tasks.append(
                    ProbeTask(
                        run_id=run_id,
                        warehouse=wh.root,
                        model=model,
                        model_dir=model_for_executors(cfg.model, source),
                        device=cfg.device,
                        langs=sorted(group),
                        facts_files={lang: wh.only_file(FACTS, {"lang": lang}) for lang in group},
                        protocols=list(protocols),
                        neurons=cfg.neurons,
                        max_tokens=cfg.max_tokens,
                        top_k=cfg.top_k,
                        rules=cfg.rules,
                        neuron_precision=cfg.neuron_precision,
                        intervention=cfg.intervention,
                        lrp2=list(cfg.lrp2_layers() or ()),
                        vector_files=vector_files,
                    )
                )
        return tasks

    def _finish(self, run: RunRecord, model: str, results: list[ProbeDone], done: list[str]) -> StageResult:
        per_lang = sorted((s for r in results for s in r.langs), key=lambda s: s.lang)
        unusable: Counter = Counter()
        for s in per_lang:
            unusable.update(s.unusable)
        run.records_in = sum(s.facts for s in per_lang)
        run.records_out = sum(s.probed for s in per_lang)
        run.records_quarantined = sum(unusable.values())
        devices = sorted({f"{r.device} {r.dtype}" for r in results})
        p_at_1 = {
            protocol: {s.lang: s.correct[protocol] for s in per_lang if protocol in s.correct}
            for protocol in self.config.protocol
        }
        rules = self.config.rules
        run.outputs = {
            table: [
                str(partition_path(t, partition_values(model, s.lang, p, rules, self.config.intervention)))
                for s in per_lang
                for p in (s.correct if t is PREDICTIONS else s.neurons)
            ]
            for table, t in (("predictions", PREDICTIONS), ("neurons", NEURONS))
        }
        run.extra = {
            "model": model,
            "intervention": self.config.intervention,
            "devices": devices,
            "max_tokens": sorted({r.max_tokens for r in results}),
            "queries": sum(s.queries for s in per_lang),
            "tokens": sum(s.tokens for s in per_lang),
            "correct_by_relation": p_at_1,
            "neurons": {p: sum(s.neurons.get(p, 0) for s in per_lang) for p in self.config.protocol},
            "already_finished": done,
            "languages": {s.lang: {k: v for k, v in dataclasses.asdict(s).items() if k != "correct"} for s in per_lang},
        }
        summary = overall_p_at_1(p_at_1)
        lrp2 = f" with {self.config.intervention}" if self.config.lrp2 else ""
        message = (
            f"probe: model {model}{lrp2} on {', '.join(devices)}: {run.records_out:,} facts in {len(per_lang)} "
            f"language(s), {run.extra['queries']:,} queries; P@1 {summary}"
        )
        if self.config.neurons:
            message += "; neurons for " + ", ".join(f"{n:,} {p} facts" for p, n in run.extra["neurons"].items())
        if done:
            message += f"; {len(done)} finished partition(s) skipped"
        if unusable:
            message += f"; {run.records_quarantined:,} facts could not be probed ({counts_line(unusable)}), quarantined"
        out = self.finish(run, message, [s.lang for s in per_lang])
        out.details = language_table(p_at_1, {s.lang: s.facts for s in per_lang})
        return out
