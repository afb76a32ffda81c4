"""``factrace update --config factrace.toml``: keep a warehouse current with a dump directory, running only what
is missing, in order, under a lock; ``--dry-run`` prints the plan. The plan is a pure function of the config
and the warehouse, so a crash anywhere is resumed by running the same command again.

What counts as done: a dump's ``pages`` partition (extract), its ``segments`` for the tokenizer (segment);
``facts`` whose inputs have the digests of the current mLAMA files (facts); ``fact_presence`` and
``predictions`` published by a run that finished after that facts run (trace, probe); ``fact_classes`` of the
dump published after the dump's trace and the model's probe (classify). A dump folder counts only once the
fetch that wrote it has verified its files (``verified.json``, as ``factrace fetch`` writes it).
"""

from __future__ import annotations

import json
import logging
import shlex
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from schemas.tables import FACT_CLASSES, FACT_PRESENCE, PAGES, PREDICTIONS, RUNS, SEGMENTS
from schemas.values import FULL_MATCH, NO_INTERVENTION
from tracer import storage
from tracer.config import option, require, to_argv
from tracer.dumps.naming import wiki_language
from tracer.errors import ConfigError, FactraceError, InputNotFound
from tracer.lock import WarehouseLock
from tracer.mirror.download import verified
from tracer.runs import file_digest
from tracer.stages.common import LocalRunner, TaskRunner
from tracer.warehouse import Warehouse, partition_path

log = logging.getLogger("factrace.update")
DUMP_NAME = ("pages-articles",)


@dataclass
class UpdateConfig:
    config: str = option(help="the update's TOML file (its keys: README, 'Keeping a warehouse current')")
    commands: bool = option(False, help="with --dry-run: print each step as the factrace command that runs it")
    dry_run: bool = option(
        False, help="print the plan (which stage runs for which wiki and dump, and why), run nothing"
    )


@dataclass
class StatusConfig:
    config: str = option("", help="the update's TOML file: what is done, and what is pending in its dump folder")
    warehouse: str = option("", help="instead of --config: what the warehouse holds, per wiki and dump")

    def __post_init__(self) -> None:
        require(bool(self.config) != bool(self.warehouse), "give --config or --warehouse, one of them")


def run_status(config: StatusConfig) -> str:
    from datetime import UTC

    if config.config:
        return status(Settings.load(config.config), datetime.now(UTC))
    wh = Warehouse(config.warehouse)
    wh.must_exist()
    return warehouse_status(wh, datetime.now(UTC))


def warehouse_status(wh: Warehouse, now: datetime) -> str:
    """Per wiki and dump the warehouse holds: each stage done (and how long ago), missing, or failed (the last
    run's reason, when no run succeeded after it). Without the update's config nothing is known of dumps not
    extracted yet."""
    runs = sorted(wh.read(RUNS).to_pylist(), key=lambda r: r["finished_at"]) if wh.version(RUNS) is not None else []
    published = _published(wh) if runs else {}
    lines = []
    for wiki, dump in sorted({(v["wiki"], v["dump"]) for v in wh.partitions(PAGES)}):
        owners = {f"wiki={wiki}", f"lang={wiki_language(wiki)}"}
        cells = []
        for stage, table in (("extract", "pages"), ("segment", "segments"), ("trace", "fact_presence")):
            done = [
                t for path, t in published.items()
                if path.split("/")[0] == table and f"dump={dump}" in path.split("/") and owners & set(path.split("/"))
            ]  # fmt: skip
            tried = [
                r for r in runs
                if r["stage"] == stage and dump in r["parameters"] and (stage == "trace" or wiki in r["parameters"])
            ]  # fmt: skip
            last = tried[-1] if tried else None
            if (
                last is not None
                and last["status"] in ("failed", "aborted")
                and (not done or max(done) < last["finished_at"])
            ):
                cells.append(f"{stage} failed ({last['message'].split('failed: ', 1)[-1][:80]})")
            else:
                cells.append(f"{stage} done {_age(now - max(done))}" if done else f"{stage} missing")
        lines.append(f"{wiki:<10} {dump:<9} " + ", ".join(cells))
    return "\n".join(lines) or f"{wh.root}: no dump extracted yet"


@dataclass
class ModelSpec:
    path: str
    protocols: list[str] = field(default_factory=lambda: [FULL_MATCH])


@dataclass
class Settings:
    """The TOML file, checked: every key known, every required key there."""

    warehouse: str
    dumps: str
    wikis: list[str]
    tokenizer: str
    mlama: str
    match_modes: list[str] = field(default_factory=lambda: ["tokens"])
    models: list[ModelSpec] = field(default_factory=list)
    report: str = ""

    @classmethod
    def load(cls, path: str) -> Settings:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputNotFound(f"update config {path} does not exist") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML ({err})") from None
        required = ("warehouse", "dumps", "wikis", "tokenizer", "mlama")
        known = {*required, "match_modes", "models", "report"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown key {unknown[0]!r}; the keys are {', '.join(sorted(known))}")
        missing = [k for k in required if k not in raw]
        if missing:
            raise ConfigError(f"{path}: missing required key {missing[0]!r}")
        models = []
        for i, spec in enumerate(raw.get("models", [])):
            extra = sorted(set(spec) - {"path", "protocols"})
            if "path" not in spec or extra:
                raise ConfigError(f"{path}: models[{i}] needs 'path' (and may have 'protocols'), got {sorted(spec)}")
            models.append(ModelSpec(spec["path"], list(spec.get("protocols", [FULL_MATCH]))))
        for key in ("warehouse", "dumps", "tokenizer", "mlama", "report"):
            if key in raw and not isinstance(raw[key], str):
                raise ConfigError(f"{path}: {key!r} must be a string, got {raw[key]!r}")
        for key in ("wikis", "match_modes"):
            if key in raw and not (isinstance(raw[key], list) and all(isinstance(v, str) for v in raw[key])):
                raise ConfigError(f"{path}: {key!r} must be a list of strings, got {raw[key]!r}")
        settings = cls(**{k: v for k, v in raw.items() if k != "models"}, models=models)
        base = Path(path).resolve().parent  # relative paths in the file are relative to the file
        for name in ("warehouse", "dumps", "tokenizer", "mlama", "report"):
            value = getattr(settings, name)
            if value and storage.is_local(value) and not Path(value).is_absolute():
                setattr(settings, name, str(base / value))
        for model in settings.models:
            if storage.is_local(model.path) and not Path(model.path).is_absolute():
                model.path = str(base / model.path)
        if not Path(settings.dumps).is_dir():
            raise InputNotFound(
                f"{path}: dumps = {settings.dumps!r} is not a directory (factrace fetch --dest fills it)"
            )
        return settings


@dataclass
class Step:
    """One stage run the plan calls for, with its config and why."""

    stage: str
    what: str
    reason: str
    config: Any

    def line(self) -> str:
        return f"{self.stage:<8} {self.what:<28} {self.reason}"

    def argv(self) -> list[str]:
        """The step as a command line: ``factrace`` followed by this (or ``spark-submit jobs/<stage>.py`` with
        all but the first word)."""
        return [self.stage, *to_argv(self.config)]


@dataclass(frozen=True)
class Snapshot:
    wiki: str
    dump: str
    files: tuple[str, ...]


def snapshots(settings: Settings) -> tuple[list[Snapshot], list[str]]:
    """Every verified (wiki, dump) in the dump directory, and the folders left out with why."""
    found, ignored = [], []
    for wiki in settings.wikis:
        folder = Path(settings.dumps, wiki)
        for date in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []:
            files = sorted(
                str(date / name)
                for name in verified(date)
                if any(k in name for k in DUMP_NAME) and name.endswith((".xml", ".xml.bz2")) and "index" not in name
            )
            if files:
                found.append(Snapshot(wiki, date.name, tuple(files)))
            else:
                ignored.append(f"{wiki}/{date.name}: no verified dump file (fetch it with factrace fetch)")
    return found, ignored


def _published(wh: Warehouse) -> dict[str, datetime]:
    """partition path -> when the last successful run that published it finished."""
    when: dict[str, datetime] = {}
    for run in sorted(wh.read(RUNS).to_pylist(), key=lambda r: r["finished_at"]):
        if run["status"] in ("succeeded", "partial"):
            for paths in json.loads(run["outputs"] or "{}").values():
                for path in paths if isinstance(paths, list) else []:
                    if isinstance(path, str):
                        when[path] = run["finished_at"]
    return when


def _facts_state(wh: Warehouse, settings: Settings) -> tuple[datetime | None, bool]:
    """When the current facts were published, and whether they are the current mLAMA files'."""
    runs = [r for r in wh.read(RUNS).to_pylist() if r["stage"] == "facts" and r["status"] in ("succeeded", "partial")]
    if not runs:
        return None, False
    last = max(runs, key=lambda r: r["finished_at"])
    mlama = storage.normalize(settings.mlama)
    langs = sorted({wiki_language(w) for w in settings.wikis})
    current = sorted(
        file_digest(f)["sha256"]
        for f in storage.list_files(mlama, ".jsonl", recursive=True)
        if storage.relative(f, mlama).split("/")[0] in langs
    )
    return last["finished_at"], sorted(i["sha256"] for i in last["inputs"]) == current


def _dropped_by_gc(wh: Warehouse) -> set[tuple[str, str]]:
    """The (wiki, dump) snapshots ``factrace gc`` dropped: an update does not build them again."""
    dropped = set()
    for row in wh.read(RUNS, columns=["stage", "parameters"]).to_pylist():
        if row["stage"] == "gc":
            dropped.update((wiki, dump) for wiki, dump in json.loads(row["parameters"]).get("dropped", []))
    return dropped


def plan(settings: Settings) -> tuple[list[Step], list[str]]:
    """The steps an update runs, in order, and the notes (folders ignored). Recomputed from the warehouse every
    time: what succeeded stays done, what failed or never ran is planned again."""
    from probing.model_files import checked_model_dir, model_id
    from tracer.stages.classify import ClassifyConfig
    from tracer.stages.extract import ExtractConfig
    from tracer.stages.facts import FactsConfig
    from tracer.stages.probe import ProbeConfig
    from tracer.stages.segment import SegmentConfig
    from tracer.stages.trace import TraceConfig
    from tracer.tokenization.loading import load_tokenizer

    wh = Warehouse(settings.warehouse)
    found, notes = snapshots(settings)
    published = _published(wh) if wh.version(RUNS) is not None else {}
    facts_at, facts_current = _facts_state(wh, settings) if wh.version(RUNS) is not None else (None, False)
    langs = sorted({wiki_language(w) for w in settings.wikis})
    factless = [lang for lang in langs if not storage.is_dir(storage.join(settings.mlama, lang))]
    if factless:
        notes.append(f"no mLAMA facts for {', '.join(factless)}: those wikis are extracted and segmented, not traced")
        langs = [lang for lang in langs if lang not in factless]
    steps: list[Step] = []
    if not facts_current and langs:
        why = "no facts yet" if facts_at is None else "the mLAMA files changed"
        steps.append(Step("facts", ", ".join(langs), why, FactsConfig(settings.mlama, settings.warehouse, langs)))
        facts_at = None  # everything that reads facts is stale from here on
    tokenizer = load_tokenizer(settings.tokenizer).tokenizer_id

    def fresh(path: str, after: datetime | None) -> bool:
        return path in published and after is not None and published[path] > after

    trace_dumps: dict[str, set[str]] = {}
    retired = _dropped_by_gc(wh) if wh.version(RUNS) is not None else set()
    if any((s.wiki, s.dump) in retired for s in found):
        dropped = ", ".join(f"{s.wiki} {s.dump}" for s in found if (s.wiki, s.dump) in retired)
        notes.append(f"{dropped}: dropped by factrace gc, not built again (delete the folder to stop this note)")
        found = [s for s in found if (s.wiki, s.dump) not in retired]
    for snap in found:
        what = f"{snap.wiki} {snap.dump}"
        pages = {"dump": snap.dump, "wiki": snap.wiki}
        new_pages = partition_path(PAGES, pages) not in published
        if new_pages:
            config = ExtractConfig(dumps=list(snap.files), warehouse=settings.warehouse, dump=snap.dump, wiki=snap.wiki)
            steps.append(Step("extract", what, "new dump", config))
        seg = partition_path(SEGMENTS, {**pages, "tokenizer": tokenizer})
        if new_pages or seg not in published:
            config = SegmentConfig(settings.warehouse, settings.tokenizer, dumps=[snap.dump], wikis=[snap.wiki])
            steps.append(Step("segment", what, "new pages" if new_pages else f"no segments for {tokenizer}", config))
        for mode in settings.match_modes if wiki_language(snap.wiki) in langs else ():
            presence = {"dump": snap.dump, "lang": wiki_language(snap.wiki), "match_mode": mode, "tokenizer": tokenizer}
            if new_pages or not fresh(partition_path(FACT_PRESENCE, presence), facts_at):
                trace_dumps.setdefault(mode, set()).add(snap.dump)
    for mode, dumps in sorted(trace_dumps.items()):
        config = TraceConfig(settings.warehouse, mode, langs=langs, dumps=sorted(dumps), tokenizers=[tokenizer])
        steps.append(Step("trace", f"{mode} {' '.join(sorted(dumps))}", "new segments or new facts", config))
    traced_again = {d for dumps in trace_dumps.values() for d in dumps}
    for spec in settings.models:
        model = model_id(checked_model_dir(spec.path))
        probed = all(
            fresh(partition_path(PREDICTIONS, _probe_values(model, lang, p)), facts_at)
            for lang in langs
            for p in spec.protocols
        )
        if not probed:
            config = ProbeConfig(spec.path, settings.warehouse, list(spec.protocols), neurons=True, langs=langs)
            steps.append(Step("probe", model, "new model or new facts", config))
        dumps = sorted({s.dump for s in found})
        for protocol in spec.protocols:
            stale = [
                d
                for d in dumps
                if not probed
                or d in traced_again
                or any(
                    partition_path(FACT_CLASSES, {"dump": d, **_probe_values(model, lang, protocol)}) not in published
                    for lang in langs
                )
            ]
            if stale:
                config = ClassifyConfig(settings.warehouse, spec.path, protocol=protocol, dumps=stale)
                steps.append(Step("classify", f"{model} {protocol} {' '.join(stale)}", "new presence or probe", config))
    if settings.report and any(s.stage == "classify" for s in steps):
        from tracer.report.config import ReportConfig

        steps.append(Step("report", settings.report, "new classes", ReportConfig(settings.warehouse, settings.report)))
    return steps, notes


def _concerns(snap: Snapshot, stage: str, text: str) -> bool:
    """Whether a step's or a run's text is about this snapshot: its wiki and dump, or its dump for trace."""
    return snap.dump in text and (stage == "trace" or snap.wiki in text)


def status(settings: Settings, now: datetime) -> str:
    """Per wiki and dump: each stage done (with its age), pending (why), or failed (its last run's reason)."""
    wh = Warehouse(settings.warehouse)
    found, notes = snapshots(settings)
    steps, _ = plan(settings)
    runs = sorted(wh.read(RUNS).to_pylist(), key=lambda r: r["finished_at"]) if wh.version(RUNS) is not None else []
    published = _published(wh) if runs else {}
    lines = []
    retired = _dropped_by_gc(wh) if runs else set()
    for snap in found:
        if (snap.wiki, snap.dump) in retired:
            lines.append(f"{snap.wiki:<10} {snap.dump:<9} dropped by factrace gc")
            continue
        cells = []
        for stage in ("extract", "segment", "trace"):
            pending = [s for s in steps if s.stage == stage and _concerns(snap, stage, s.what)]
            tried = [r for r in runs if r["stage"] == stage and _concerns(snap, stage, r["parameters"])]
            if pending and tried and tried[-1]["status"] in ("failed", "aborted"):
                reason = tried[-1]["message"].split("failed: ", 1)[-1]
                cells.append(f"{stage} failed ({reason[:80]})")
            elif pending:
                cells.append(f"{stage} pending ({pending[0].reason})")
            else:
                table = {"extract": "pages/", "segment": "segments/", "trace": "fact_presence/"}[stage]
                done = [t for path, t in published.items() if path.startswith(table) and _concerns(snap, stage, path)]
                cells.append(f"{stage} done {_age(now - max(done))}" if done else f"{stage} done")
        lines.append(f"{snap.wiki:<10} {snap.dump:<9} " + ", ".join(cells))
    others = sorted({s.stage for s in steps} - {"extract", "segment", "trace"})
    tail = f"pending beyond the dumps: {', '.join(others)}" if others else "facts, probe and classify: up to date"
    return "\n".join([*lines, tail, *notes])


def _age(delta: object) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400}d ago"
    if seconds >= 3600:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 60}m ago" if seconds >= 60 else "just now"


def _probe_values(model: str, lang: str, protocol: str) -> dict[str, str]:
    return {"model": model, "lang": lang, "protocol": protocol, "intervention": NO_INTERVENTION, "rules": "default"}


def run_update(config: UpdateConfig, master: str | None = None) -> str:
    settings = Settings.load(config.config)
    if config.dry_run:
        steps = _planned(settings)
        if config.commands:
            return "\n".join(shlex.join(["factrace", *s.argv()]) for s in steps)
        if not steps:
            return "update (dry run): nothing new"
        return "\n".join([f"update (dry run): {len(steps)} step(s)", *(s.line() for s in steps)])
    with WarehouseLock(settings.warehouse, "update"):  # planned under the lock: nothing else changes the warehouse
        steps = _planned(settings)
        if not steps:
            return "update: nothing new"
        from tracer.spark.runner import SparkRunner
        from tracer.spark.session import spark_session

        runner = SparkRunner(lambda: spark_session("update", master))
        lines = []
        for step in steps:
            log.info("update: %s", step.line())
            try:
                lines.append(_run_step(step, runner))
            except FactraceError as err:
                raise type(err)(f"update: {step.stage} {step.what} failed: {err}; rerun to resume") from err
        return "\n".join([f"update: {len(steps)} step(s)", *lines])


def _planned(settings: Settings) -> list[Step]:
    steps, notes = plan(settings)
    for note in notes:
        log.info("update: %s", note)
    return steps


def _run_step(step: Step, runner: TaskRunner) -> str:
    """Run one step's stage (every Spark stage shares the update's one session); its summary line."""
    from tracer.stages.classify import ClassifyStage
    from tracer.stages.extract import ExtractStage
    from tracer.stages.facts import FactsStage
    from tracer.stages.probe import ProbeStage
    from tracer.stages.segment import SegmentStage
    from tracer.stages.trace import TraceStage

    if step.stage == "report":
        from tracer.report.build import run_report

        return run_report(step.config).splitlines()[0]
    if step.stage == "probe":
        return ProbeStage(step.config, LocalRunner()).run().message.splitlines()[0]
    stages = {"facts": FactsStage, "extract": ExtractStage, "segment": SegmentStage, "trace": TraceStage,
              "classify": ClassifyStage}  # fmt: skip
    return stages[step.stage](step.config, runner).run().message.splitlines()[0]
