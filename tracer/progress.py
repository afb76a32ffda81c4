"""Progress of a round of tasks in units that mean something (MB, pages, segments, facts), as log lines.

One line every ``every`` seconds once the work has run ``first_after`` seconds (a short run says
nothing), and a last line when it ends. Plain lines, no carriage returns: they read the same on a
terminal, under spark-submit and in a log file::

    extract: 12/23 tasks, 420 of 1,210 MB (34.7 %), 12.3 MB/s, ETA 1m04s
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tracer import storage
from tracer.errors import FactraceError

log = logging.getLogger("factrace.progress")


@dataclass(frozen=True, slots=True)
class Work:
    """What a round of tasks processes: the unit and each task's size in it (``None``: one per task)."""

    unit: str = "tasks"
    sizes: Sequence[float] | None = None

    def size(self, index: int) -> float:
        return 1.0 if self.sizes is None else float(self.sizes[index])


TASKS = Work()  # counted in tasks, one each


def _amount(value: float, unit: str) -> str:
    return f"{value:,.1f}" if unit == "MB" else f"{value:,.0f}"


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


@dataclass
class Progress:
    """Reports one round of ``tasks`` tasks totalling ``total`` units of ``work.unit``."""

    what: str
    tasks: int
    work: Work
    first_after: float = 5.0
    every: float = 15.0
    clock: Callable[[], float] = lambda: time.monotonic()  # looked up at call time (tests set it)
    started: float = field(init=False)
    _next: float = field(init=False)
    _reported: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.started = self.clock()
        self._next = self.started + self.first_after

    @property
    def total(self) -> float:
        return float(self.tasks) if self.work.sizes is None else float(sum(self.work.sizes))

    def line(self, tasks_done: int, units_done: float, now: float) -> str:
        unit, total = self.work.unit, self.total
        elapsed = max(now - self.started, 1e-9)
        text = f"{self.what}: {tasks_done}/{self.tasks} tasks"
        if unit != "tasks":
            share = f" ({100 * units_done / total:.1f} %)" if total else ""
            text += f", {_amount(units_done, unit)} of {_amount(total, unit)} {unit}{share}"
        if units_done:
            rate = units_done / elapsed
            text += f", {rate:,.1f} {unit}/s" if rate < 100 else f", {rate:,.0f} {unit}/s"
            if units_done < total:
                text += f", ETA {_duration((total - units_done) / rate)}"
        return text + ("" if tasks_done < self.tasks else f", done in {_duration(elapsed)}")

    def update(self, tasks_done: int, units_done: float) -> None:
        """Log a line when one is due; the last one only when an earlier line was logged."""
        now = self.clock()
        finished = tasks_done >= self.tasks
        if (finished and self._reported) or (not finished and now >= self._next):
            log.info(self.line(tasks_done, units_done, now))
            self._reported = True
            self._next = now + self.every


def row_count(parquet_file: str | Path) -> int:
    """Rows of a Parquet file from its footer (0 when it cannot be read: its task will say why)."""
    try:
        with storage.open_input(str(parquet_file)) as f:
            return pq.ParquetFile(f).metadata.num_rows
    except (OSError, ValueError, pa.ArrowException, FactraceError):
        return 0
