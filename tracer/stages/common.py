"""What every stage driver shares: running tasks, counting, quarantine files, the summary line."""

from __future__ import annotations

import json
import logging
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from schemas.tables import QUARANTINE
from tracer.errors import Interrupted, NothingUsable, TaskFailed, by_name
from tracer.progress import TASKS, Progress, Work
from tracer.records import Quarantined
from tracer.runs import RunRecord, new_run_id
from tracer.stages.payloads import from_payload, signature, to_payload
from tracer.warehouse import PartWriter, Warehouse

log = logging.getLogger("factrace")


class TaskRunner(Protocol):
    """Runs a picklable ``fn(task) -> result`` over typed task records, sent as JSON payloads."""

    @property
    def parallelism(self) -> int: ...

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any], description: str, work: Work = TASKS) -> list:
        """``fn(task)`` for every task record, the results in task order (``tracer.stages.tasks``)."""
        ...


class LocalRunner:
    """Runs tasks one after the other in this process (tests, debugging), through the same JSON payloads
    as Spark, so that what works here travels to executors too."""

    parallelism = 1

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any], description: str, work: Work = TASKS) -> list:
        progress = Progress(description, len(tasks), work)
        raw, units = [], 0.0
        for index, task in enumerate(tasks):
            raw.append(execute(fn, json.loads(json.dumps(to_payload(task)))))
            units += work.size(index)
            progress.update(index + 1, units)
        return results_of(fn, raw, tasks, description)


TASK_ERROR = "__task_error__"
# What the cluster gave the running task, set by a runner that knows (Spark): its cores and its GPU.
TASK_CPUS, TASK_GPU = "FACTRACE_TASK_CPUS", "FACTRACE_TASK_GPU"


def execute(fn: Callable[[Any], Any], payload: dict) -> dict:
    """The executor side of every runner: the payload back into its task record, the task run, its result
    as a payload. An exception comes back as data naming it, with its trace, so that the driver can say
    the original error in one line (Spark would wrap it in a JVM trace)."""
    task_type, _ = signature(fn)
    try:
        return to_payload(fn(from_payload(task_type, payload)))
    except Exception as err:  # noqa: BLE001 - every task error crosses to the driver as data
        return {TASK_ERROR: {"type": type(err).__name__, "message": str(err), "trace": traceback.format_exc()}}


def results_of(fn: Callable[[Any], Any], raw: list[dict], tasks: Sequence[Any], description: str) -> list:
    """The driver side: raise the first task error, else the results as ``fn``'s result records."""
    for index, result in enumerate(raw):
        error = result.get(TASK_ERROR) if isinstance(result, dict) else None
        if error is None:
            continue
        cls = by_name(error["type"])
        if cls is not None and cls is not TaskFailed:
            raise cls(error["message"])
        where = _task_label(to_payload(tasks[index]))
        raise TaskFailed(
            f"{description} task {index + 1} of {len(tasks)} ({where}) failed: {error['type']}: {error['message']}",
            error["trace"],
        )
    _, result_type = signature(fn)
    return [from_payload(result_type, r) for r in raw]


def _task_label(task: dict) -> str:
    """The input a task read, for the error line."""
    for key in ("split", "pages_file", "segments_file", "facts_file", "langs", "lang", "key"):
        if key in task:
            value = task[key]
            return value.get("path", str(value)) if isinstance(value, dict) else str(value)
    return "no input named"


@dataclass
class StageResult:
    """What every stage's ``run`` returns: its ``runs`` row (None when there was nothing to do), the one-line
    summary, the partitions it published, and more lines to show under the summary (the probe's table)."""

    run: dict | None
    message: str
    partitions: list
    details: str = ""


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

    creates_warehouse = False  # extract and facts may start a new warehouse; the others read one

    def run(self) -> Any:
        """Check the warehouse is there (unless this stage creates it) and writable, before any task runs: the
        one place stages check it."""
        if not self.creates_warehouse:
            self.warehouse.must_exist()
        self.warehouse.check_writable()
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
        tail: str = "",
    ) -> StageResult:
        """Complete the summary line (quarantined records by reason, ``tail``, the run id), write the ``runs``
        row, and fail when nothing came out."""
        if quarantined:
            where = f"quarantine/stage={run.stage}"
            message += f"; {sum(quarantined.values()):,} quarantined ({counts_line(quarantined)}) -> {where}"
        message += f"{tail}; run {run.run_id}"
        row = run.finish(self.warehouse, message, status)
        if run.records_out == 0:
            raise NothingUsable(message)
        return StageResult(row, message, published)


def quarantine_row(q: Quarantined, run_id: str) -> dict:
    return {**asdict(q), "run_id": run_id}


def write_quarantine(path: str, rows: Iterable[Quarantined], run_id: str) -> Counter:
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
