"""``factrace vacuum``: delete the data files no kept table version needs, and the files of runs that never
published (killed or failed ones). Until then ``query --as-of`` can read every earlier version."""

from __future__ import annotations

from dataclasses import dataclass

from tracer.config import option, require
from tracer.warehouse import Warehouse


@dataclass
class VacuumConfig:
    warehouse: str = option(help="warehouse: a path or URI")
    keep_hours: int = option(168, help="keep every version of the last N hours readable with --as-of")
    dry_run: bool = option(False, help="list what would be deleted, delete nothing")

    def __post_init__(self) -> None:
        require(self.keep_hours >= 0, f"--keep-hours must be 0 or more, got {self.keep_hours}")


def run_vacuum(config: VacuumConfig) -> str:
    """Delete what no kept version needs. The files of a run still writing look like a killed run's once they are
    older than ``keep_hours``: a short ``keep_hours`` belongs between runs, never beside one."""
    wh = Warehouse(config.warehouse)
    wh.must_exist()
    removed = wh.vacuum(config.keep_hours, config.dry_run)
    verb = "would delete" if config.dry_run else "deleted"
    return f"vacuum: {verb} {len(removed):,} file(s) no version of the last {config.keep_hours} h needs"
