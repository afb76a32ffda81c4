"""What every stage driver shares: running tasks, counting, quarantine files, the summary line."""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from schemas.tables import QUARANTINE
from tracer.errors import Interrupted, NothingUsable, TaskFailed, by_name
from tracer.progress import TASKS, Progress, Work
from tracer.records import Quarantined
from tracer.runs import RunRecord, new_run_id
from tracer.warehouse import PartWriter, Warehouse

log = logging.getLogger("factrace")


class TaskRunner(Protocol):
    """Runs a picklable ``fn(task) -> result`` over JSON-able task dicts; results in task order."""

    @property
    def parallelism(self) -> int: ...

    def map(
        self, fn: Callable[[dict], dict], tasks: list[dict], description: str, work: Work = TASKS
    ) -> list[dict]: ...


class LocalRunner:
    """Runs tasks one after the other in this process (tests, debugging)."""

    parallelism = 1

    def map(self, fn: Callable[[dict], dict], tasks: list[dict], description: str, work: Work = TASKS) -> list[dict]:
        progress = Progress(description, len(tasks), work)
        results, units = [], 0.0
        for index, task in enumerate(tasks):
            results.append(guarded(fn, task))
            units += work.size(index)
            progress.update(index + 1, units)
        raise_task_errors(results, tasks, description)
        return results


TASK_ERROR = "__task_error__"


def guarded(fn: Callable[[dict], dict], task: dict) -> dict:
    """Run a task on an executor; an exception comes back as a result naming it, with its trace, so the
    driver can say the original error in one line (Spark would wrap it in a JVM trace)."""
    try:
        return fn(task)
    except Exception as err:  # noqa: BLE001 - every task error crosses to the driver as data
        return {TASK_ERROR: {"type": type(err).__name__, "message": str(err), "trace": traceback.format_exc()}}


def raise_task_errors(results: list[dict], tasks: list[dict], description: str) -> None:
    """Raise the first task error among ``results``: a FactraceError as itself, anything else as TaskFailed."""
    for index, result in enumerate(results):
        error = result.get(TASK_ERROR)
        if error is None:
            continue
        cls = by_name(error["type"])
        if cls is not None and cls is not TaskFailed:
            raise cls(error["message"])
        where = _task_label(tasks[index])
        raise TaskFailed(
            f"{description} task {index + 1} of {len(tasks)} ({where}) failed: {error['type']}: {error['message']}",
            error["trace"],
        )


def _task_label(task: dict) -> str:
    """The input a task read, for the error line."""
    for key in ("split", "pages_file", "segments_file", "facts_file", "lang", "key"):
        if key in task:
            value = task[key]
            return value.get("path", str(value)) if isinstance(value, dict) else str(value)
    return "no input named"


class Stage:
    """A stage: a config (with a ``warehouse`` field) and a task runner; subclasses write ``_run``.

    ``run`` records every run that started in ``runs``, also one that fails or is interrupted
    (status ``failed`` or ``aborted``), and turns Ctrl-C into an ``Interrupted`` error that says
    what was published."""

    publishes_in_tasks = False  # the probe stage publishes each language from its task

    def __init__(self, config: Any, runner: TaskRunner) -> None:
        self.config = config
        self.runner = runner
        self.warehouse = Warehouse(config.warehouse)
        self.current_run: RunRecord | None = None

    def _run(self) -> Any:
        raise NotImplementedError

    def run(self) -> Any:
        try:
            return self._run()
        except KeyboardInterrupt:
            raise Interrupted(self._interrupted()) from None
        except Exception as err:
            run = self.current_run
            if run is not None and not run.written:
                run.finish(self.warehouse, f"{run.stage}: failed: {err}", "failed")
            raise

    def start_run(self, stage: str, parameters: dict) -> RunRecord:
        """The run's record, kept so that a failure or an interrupt still writes its ``runs`` row."""
        self.current_run = RunRecord(stage, new_run_id(stage), parameters)
        return self.current_run

    def _interrupted(self) -> str:
        run = self.current_run
        if run is None:
            return "interrupted before the run started: nothing was written; rerun the same command"
        published = self.warehouse.published_count(run.run_id)
        if self.publishes_in_tasks:
            what = "partitions whose tasks finished before the interrupt stay published"
        elif published:
            what = f"{published} partition(s) were published before the interrupt"
        else:
            what = "published nothing"
        message = f"interrupted: run {run.run_id} {what}; rerun the same command"
        if not run.written:
            run.finish(self.warehouse, message, "aborted")
        return message

    def finish(
        self,
        run: RunRecord,
        message: str,
        published: list,
        quarantined: Counter | None = None,
        status: str | None = None,
    ) -> dict:
        """Complete the summary line, write the ``runs`` row, and fail when nothing came out."""
        if quarantined:
            message += f"; {sum(quarantined.values()):,} quarantined ({counts_line(quarantined)})"
        message += f"; run {run.run_id}"
        row = run.finish(self.warehouse, message, status)
        if run.records_out == 0:
            raise NothingUsable(message)
        return {"run": row, "message": message, "partitions": published}


def quarantine_row(q: Quarantined, run_id: str) -> dict:
    return {**asdict(q), "run_id": run_id}


def write_quarantine(path: Path, rows: Iterable[Quarantined], run_id: str) -> Counter:
    """Write quarantined records to one Parquet file; return the count per reason."""
    writer = PartWriter(path, QUARANTINE)
    reasons: Counter = Counter()
    for q in rows:
        writer.add(quarantine_row(q, run_id))
        reasons[q.reason] += 1
    writer.close()
    return reasons


def counts_line(counter: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {reason}" for reason, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
