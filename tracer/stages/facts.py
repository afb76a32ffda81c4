"""The facts stage: an mLAMA directory → ``facts`` (+ ``quarantine``), one task and partition per language."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from dataclasses import dataclass

from schemas.tables import FACTS, QUARANTINE
from schemas.values import NO_DUMP
from tracer import storage
from tracer.config import option
from tracer.errors import InputNotFound
from tracer.facts.mlama import MlamaReader
from tracer.progress import Work
from tracer.records import Fact, as_row
from tracer.runs import RunRecord, file_digest
from tracer.stages.common import Stage, StageResult, write_quarantine
from tracer.stages.tasks import FactsDone, FactsTask
from tracer.warehouse import PartWriter, partition_path

log = logging.getLogger("factrace.facts")
STAGE = "facts"


@dataclass
class FactsConfig:
    mlama: str = option(help="mLAMA directory (<lang>/<relation>.jsonl and <lang>/templates.jsonl)")
    warehouse: str = option(help="warehouse: a path or URI (s3://, gs://, hdfs://, abfs://, file://)")
    langs: list[str] = option([], help="only these languages (default: every language directory)")


def quarantine_values(lang: str) -> dict[str, str]:
    return {"dump": NO_DUMP, "stage": STAGE, "scope": lang}


def facts_task(task: FactsTask) -> FactsDone:
    """Executor side: read one language, write its facts and quarantine files to staging."""
    started = time.perf_counter()
    reader = MlamaReader(task.mlama)
    writer = PartWriter(storage.join(task.facts_dir, "part-00000.parquet"), FACTS)
    quarantined = []
    no_template = 0
    for record in reader.read(task.lang):
        if isinstance(record, Fact):
            writer.add(as_row(record))
            no_template += record.template is None
        else:
            quarantined.append(record)
    written = writer.close()
    reasons = write_quarantine(storage.join(task.quarantine_dir, "part-00000.parquet"), quarantined, task.run_id)
    return FactsDone(task.lang, written, dict(reasons), no_template, time.perf_counter() - started)


class FactsStage(Stage):
    config: FactsConfig
    creates_warehouse = True

    def _run(self) -> StageResult:
        cfg, wh = self.config, self.warehouse
        reader = MlamaReader(cfg.mlama)
        available = reader.languages()
        langs = cfg.langs or available
        unknown = sorted(set(langs) - set(available))
        if unknown:
            raise InputNotFound(f"no language directory for {unknown} in {cfg.mlama}; found {', '.join(available)}")
        run = self.start_run(STAGE, dataclasses.asdict(cfg))
        tasks = []
        for lang in langs:
            for path in reader.files(lang):
                run.inputs.append({**file_digest(path), "path": storage.relative(path, reader.root)})
            tasks.append(
                FactsTask(
                    lang=lang,
                    mlama=reader.root,
                    facts_dir=wh.staged_partition(run.run_id, FACTS, {"lang": lang}),
                    quarantine_dir=wh.staged_partition(run.run_id, QUARANTINE, quarantine_values(lang)),
                    run_id=run.run_id,
                )
            )
        log.info("facts: %d language(s) from %s, run %s", len(tasks), cfg.mlama, run.run_id)
        try:
            results = self.runner.map(facts_task, tasks, "facts", Work("languages"))
            return self._publish(run, results)
        finally:
            wh.discard_staging(run.run_id)

    def _publish(self, run: RunRecord, results: list[FactsDone]) -> StageResult:
        wh = self.warehouse
        quarantined: Counter = Counter()
        published = []
        wh.check_staged(run.run_id)
        for r in results:
            quarantined.update(r.quarantined)
            if r.facts:
                published.append(partition_path(FACTS, {"lang": r.lang}))
        wh.publish(
            run.run_id,
            [(FACTS, {"lang": r.lang}) for r in results] + [(QUARANTINE, quarantine_values(r.lang)) for r in results],
        )
        run.records_out = sum(r.facts for r in results)
        run.records_quarantined = sum(quarantined.values())
        run.records_in = run.records_out + run.records_quarantined
        no_template = sum(r.no_template for r in results)
        run.outputs = {"facts": published}
        run.extra = {
            "facts_by_lang": {r.lang: r.facts for r in results},
            "without_template": no_template,
            "quarantined_by_reason": dict(quarantined),
            "task_seconds": round(sum(r.seconds for r in results), 3),
        }
        message = f"facts: {run.records_out:,} facts in {len(published)} language(s)"
        if no_template:
            message += f" ({no_template:,} without a template: traceable, not probeable)"
        return self.finish(run, message, published, quarantined)
