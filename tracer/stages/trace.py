"""The trace stage: ``segments`` × ``facts`` → ``fact_presence``, one partition per (dump, lang, mode, tokenizer).

Two rounds of tasks through the same runner. *Match*: one task per segments file finds every
label and writes a partial (counts and first-k evidence). *Reduce*: one task per output partition
merges its partials into one row per fact. The automaton of a language is built once per executor
process (``language_matcher`` caches it) and reused by every task of that language.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas.tables import FACT_PRESENCE, FACTS, QUARANTINE, SEGMENTS
from tracer import storage
from tracer.config import option, require
from tracer.dumps.naming import wiki_language
from tracer.errors import InputNotFound
from tracer.facts.containment import DEFAULT, FACT_CL, object_in_subject
from tracer.matching.engines import ENGINES
from tracer.matching.language import MODES, TEXT, flags_decide, language_labels, language_matcher, matcher_name
from tracer.matching.presence import Partial, merge, presence_table
from tracer.progress import Work, row_count
from tracer.records import Quarantined
from tracer.runs import RunRecord, file_digest
from tracer.stages.common import Stage, StageResult, counts_line, write_quarantine
from tracer.stages.tasks import LanguageMatching, MatchDone, MatchTask, ReduceDone, ReduceTask, Unreadable
from tracer.warehouse import partition_path, write_table

log = logging.getLogger("factrace.trace")
STAGE = "trace"
PARTIALS = "_partials"


@dataclass
class TraceConfig:
    warehouse: str = option(help="warehouse: a path or URI (s3://, gs://, hdfs://, abfs://, file://)")
    mode: str = option(
        "tokens",
        help="`tokens`: token-id sequences that end at a word end; `fact-cl`: the authors' rule (raw substrings of "
        "the space-joined tokens); `text`: normalized text with word boundaries",
        choices=MODES,
    )
    langs: list[str] = option([], help="only these languages (default: every language with facts and segments)")
    dumps: list[str] = option([], help="only these dump labels (default: all)")
    tokenizers: list[str] = option([], help="only segments of these tokenizer ids (default: all)")
    evidence: int = option(5, help="evidence segments kept per fact (the first in (page_id, seg_no) order)")
    engine: str = option("daachorse", help="Aho-Corasick engine", choices=tuple(ENGINES))

    def __post_init__(self) -> None:
        require(self.evidence >= 0, f"--evidence must be 0 or more, got {self.evidence}")
        require(self.mode in MODES, f"--mode: choose from {', '.join(MODES)}; got {self.mode!r}")
        require(self.engine in ENGINES, f"--engine: choose from {', '.join(ENGINES)}; got {self.engine!r}")


def match_task(task: MatchTask) -> MatchDone:
    """Executor side: match one segments file, save its partial; an unreadable file comes back as a problem."""
    started = time.perf_counter()
    m = task.matching
    matcher = language_matcher(m.facts_file, m.lang, m.mode, m.tokenizer_file, m.engine)
    built = time.perf_counter()
    try:
        segments = pq.read_table(task.segments_file, columns=["page_id", "seg_no", matcher.column])
    except (pa.ArrowException, OSError) as err:
        return MatchDone(m.output, None, problem=Unreadable(task.segments_file, str(err)))
    read = time.perf_counter()
    partial = matcher.partial(segments, m.evidence)
    matched = time.perf_counter()
    partial.save(task.partial_file)
    tokens = pc.sum(pc.list_value_length(segments.column("token_ids"))).as_py() if m.mode != TEXT else None
    seconds = {"build": built - started, "read": read - built, "match": matched - read}
    return MatchDone(m.output, task.partial_file, segments.num_rows, tokens or 0, seconds)


def reduce_task(task: ReduceTask) -> ReduceDone:
    """Executor side: merge one partition's partials into its ``fact_presence`` file."""
    started = time.perf_counter()
    m = task.matching
    labels = language_labels(m.facts_file, m.lang, m.mode, m.tokenizer_file)
    merged = merge([Partial.load(p) for p in task.partial_files], labels, m.evidence)
    table = presence_table(
        labels,
        merged,
        matcher_name(m.mode, m.lang),
        complete=task.complete,
        flags_decide=flags_decide(m.mode),
        self_contained=self_contained(m.facts_file, m.lang, m.mode, labels.uuids),
    )
    write_table(storage.join(task.presence_dir, "part-00000.parquet"), table)
    present = table.column("present")
    flags = Counter(flag.split(":", 1)[1] for row in table.column("flags").to_pylist() for flag in row)
    return ReduceDone(
        m.output, table.num_rows, pc.sum(present).as_py() or 0, present.null_count, dict(flags),
        time.perf_counter() - started,
    )  # fmt: skip


def self_contained(facts_file: str, lang: str, mode: str, uuids: list[str]) -> list[bool]:
    """Per fact (in ``uuids`` order): is its object label inside its subject label?"""
    facts = pq.read_table(facts_file, columns=["uuid", "subject_label", "object_label"]).to_pylist()
    rules = FACT_CL if mode == FACT_CL else DEFAULT
    inside = {f["uuid"]: object_in_subject(f["subject_label"], f["object_label"], lang, rules) for f in facts}
    return [inside.get(u, False) for u in uuids]


@dataclass
class Target:
    """One output partition and the segments files that feed it."""

    values: dict[str, str]
    facts_file: str
    tokenizer_file: str
    segments_files: list[str] = dataclasses.field(default_factory=list)

    @property
    def key(self) -> str:
        return "/".join(f"{k}={v}" for k, v in self.values.items())

    @property
    def quarantine_values(self) -> dict[str, str]:
        v = self.values
        return {"dump": v["dump"], "stage": STAGE, "scope": f"{v['lang']}.{v['match_mode']}.{v['tokenizer']}"}


class TraceStage(Stage):
    config: TraceConfig

    def plan(self) -> tuple[list[Target], list[str], list[str]]:
        """Targets, languages with facts but no segments (not traced), wikis without facts (not traced)."""
        cfg, wh = self.config, self.warehouse
        fact_langs = [v["lang"] for v in wh.partitions(FACTS, lang=cfg.langs or None) if wh.files(FACTS, v)]
        if not fact_langs:
            have = sorted(v["lang"] for v in wh.partitions(FACTS) if wh.files(FACTS, v))
            if have:
                raise InputNotFound(
                    f"no facts in {wh.root} for --langs {' '.join(cfg.langs)}; languages with facts: {', '.join(have)}"
                )
            raise InputNotFound(f"no facts in {wh.root}: run 'factrace facts' first")
        targets: dict[tuple, Target] = {}
        no_facts = set()
        for seg in wh.partitions(SEGMENTS, dump=cfg.dumps or None, tokenizer=cfg.tokenizers or None):
            lang = wiki_language(seg["wiki"])
            if lang not in fact_langs:
                if not cfg.langs:
                    no_facts.add(seg["wiki"])
                continue
            values = {"dump": seg["dump"], "lang": lang, "match_mode": cfg.mode, "tokenizer": seg["tokenizer"]}
            target = targets.setdefault(
                tuple(values.values()),
                Target(values, wh.only_file(FACTS, {"lang": lang}), wh.tokenizer_file(seg["tokenizer"])),
            )
            target.segments_files.extend(wh.files(SEGMENTS, seg))
        traced = {t.values["lang"] for t in targets.values()}
        untraced = sorted(set(fact_langs) - traced)
        return [targets[k] for k in sorted(targets)], untraced, sorted(no_facts)

    def _run(self) -> StageResult:
        cfg, wh = self.config, self.warehouse
        targets, untraced, no_facts = self.plan()
        if not targets:
            raise InputNotFound(
                f"no segments in {wh.root} for a language with facts (facts: {len(untraced)} languages; "
                f"wikis without facts: {', '.join(no_facts) or 'none'}): run extract and segment first"
            )
        run = self.start_run(STAGE, dataclasses.asdict(cfg))
        for wiki in no_facts:
            log.info("trace: %s has no facts (no mLAMA language %r): segmented, not traced", wiki, wiki_language(wiki))
        try:
            return self._trace(run, targets, untraced, no_facts)
        finally:
            wh.discard_staging(run.run_id)

    def _matching(self, target: Target) -> LanguageMatching:
        cfg = self.config
        return LanguageMatching(
            output=target.key,
            facts_file=target.facts_file,
            lang=target.values["lang"],
            mode=cfg.mode,
            tokenizer_file=target.tokenizer_file,
            engine=cfg.engine,
            evidence=cfg.evidence,
        )

    def _trace(self, run: RunRecord, targets: list[Target], untraced: list[str], no_facts: list[str]) -> StageResult:
        wh = self.warehouse
        partials = storage.join(wh.staging_dir(run.run_id), PARTIALS)
        match_tasks = []
        for t_no, target in enumerate(targets):
            run.inputs.append({**file_digest(target.facts_file), "path": storage.relative(target.facts_file, wh.root)})
            for f_no, path in enumerate(target.segments_files):
                run.inputs.append({**file_digest(path), "path": storage.relative(path, wh.root)})
                partial_file = storage.join(partials, f"{t_no:04d}-{f_no:05d}.npz")
                match_tasks.append(MatchTask(self._matching(target), path, partial_file))
        log.info("trace: %d partition(s), %d segments file(s), run %s", len(targets), len(match_tasks), run.run_id)
        segments = Work("segments", [row_count(t.segments_file) for t in match_tasks])
        matched = self.runner.map(match_task, match_tasks, f"trace {self.config.mode}: match", segments)
        by_output: dict[str, list[MatchDone]] = defaultdict(list)
        for result in matched:
            by_output[result.output].append(result)
        reduce_tasks = [
            ReduceTask(
                matching=self._matching(target),
                partial_files=[r.partial_file for r in by_output[target.key] if r.partial_file],
                complete=not any(r.problem for r in by_output[target.key]),
                presence_dir=wh.staged_partition(run.run_id, FACT_PRESENCE, target.values),
            )
            for target in targets
        ]
        reduced = self.runner.map(reduce_task, reduce_tasks, f"trace {self.config.mode}: reduce", Work("partitions"))
        return self._publish(run, targets, matched, reduced, untraced, no_facts)

    def _publish(
        self,
        run: RunRecord,
        targets: list[Target],
        matched: list[MatchDone],
        reduced: list[ReduceDone],
        untraced: list[str],
        no_facts: list[str],
    ) -> StageResult:
        wh = self.warehouse
        problems: dict[str, list[Quarantined]] = defaultdict(list)
        for r in matched:
            if r.problem:
                problems[r.output].append(Quarantined(r.problem.source, -1, "unreadable_segments", r.problem.detail))
        quarantined: Counter = Counter()
        for target in targets:
            if problems[target.key]:
                path = storage.join(
                    wh.staged_partition(run.run_id, QUARANTINE, target.quarantine_values), "part-00000.parquet"
                )
                quarantined.update(write_quarantine(path, problems[target.key], run.run_id))
        wh.check_staged(run.run_id)
        wh.publish(
            run.run_id,
            [(FACT_PRESENCE, t.values) for t in targets] + [(QUARANTINE, t.quarantine_values) for t in targets],
        )
        flags: Counter = Counter()
        for r in reduced:
            flags.update(r.flags)
        facts = sum(r.facts for r in reduced)
        present = sum(r.present for r in reduced)
        undecided = sum(r.undecided for r in reduced)
        untraced_facts = self._fact_counts(untraced)
        run.records_out = facts
        run.records_quarantined = sum(quarantined.values())  # unreadable segments files, one record each
        run.skipped = {"no_corpus": sum(untraced_facts.values())} if untraced else {}
        run.records_in = facts + run.records_quarantined + run.records_skipped
        seconds: Counter = Counter()
        for r in matched:
            seconds.update(r.seconds)
        seconds["reduce"] = sum(r.seconds for r in reduced)
        run.outputs = {"fact_presence": [partition_path(FACT_PRESENCE, t.values) for t in targets]}
        run.extra = {
            "segments": sum(r.segments for r in matched),
            "tokens": sum(r.tokens for r in matched),
            "present": present,
            "undecided": undecided,
            "flags": dict(flags),
            "not_traced_languages": untraced,
            "wikis_without_facts": no_facts,
            "unreadable_segments_files": sum(quarantined.values()),
            "task_seconds": {k: round(v, 3) for k, v in sorted(seconds.items())},
        }
        langs = sorted({t.values["lang"] for t in targets})
        message = (
            f"trace ({self.config.mode}): {facts:,} facts in {len(targets)} partition(s) ({', '.join(langs)}): "
            f"{present:,} present ({present / max(facts, 1):.1%}), {facts - present - undecided:,} absent"
        )
        if undecided:
            message += f", {undecided:,} undecided (flagged labels: {counts_line(flags)})"
        if untraced:
            message += f"; not traced, no corpus: {len(untraced)} language(s), {run.records_skipped:,} facts"
        if quarantined:
            message += f"; {sum(quarantined.values())} unreadable segments file(s) quarantined (counts are partial)"
        return self.finish(run, message, [t.values for t in targets], status="partial" if quarantined else None)

    def _fact_counts(self, langs: list[str]) -> dict[str, int]:
        return {lang: self.warehouse.row_count(FACTS, {"lang": lang}) for lang in langs}
