"""What every stage driver shares: running tasks, counting, quarantine files, the summary line."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from schemas.tables import QUARANTINE
from tracer.errors import NothingUsable
from tracer.records import Quarantined
from tracer.runs import RunRecord
from tracer.warehouse import PartWriter, Warehouse

log = logging.getLogger("factrace")


class TaskRunner(Protocol):
    """Runs a picklable ``fn(task) -> result`` over JSON-able task dicts; results in task order."""

    def map(self, fn: Callable[[dict], dict], tasks: list[dict], description: str) -> list[dict]: ...


class LocalRunner:
    """Runs tasks one after the other in this process (tests, debugging)."""

    def map(self, fn: Callable[[dict], dict], tasks: list[dict], description: str) -> list[dict]:
        return [fn(task) for task in tasks]


class Stage:
    """A stage: a config (with a ``warehouse`` field) and a task runner; subclasses write ``run``."""

    def __init__(self, config: Any, runner: TaskRunner) -> None:
        self.config = config
        self.runner = runner
        self.warehouse = Warehouse(config.warehouse)

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
