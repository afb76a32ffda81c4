"""The ``runs`` table: one row per stage run, appended as its own Parquet file."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from schemas.arrow import arrow_schema
from schemas.tables import RUNS
from tracer import __version__, storage
from tracer.versions import code_version
from tracer.warehouse import Warehouse


def new_run_id(stage: str) -> str:
    return f"{stage}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def file_digest(path: str | Path, chunk: int = 8 << 20) -> dict:
    """Path, size and SHA-256 of an input file (local or on a store)."""
    h = hashlib.sha256()
    size = 0
    with storage.open_input(str(path)) as f:
        while block := f.read(chunk):
            h.update(block)
            size += len(block)
    return {"path": str(path), "bytes": size, "sha256": h.hexdigest()}


@dataclass
class RunRecord:
    stage: str
    run_id: str
    parameters: dict
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    written: bool = field(default=False, init=False)
    inputs: list[dict] = field(default_factory=list)
    outputs: dict[str, list[str]] = field(default_factory=dict)
    records_in: int = 0
    records_out: int = 0
    records_quarantined: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def records_skipped(self) -> int:
        return sum(self.skipped.values())

    def status(self) -> str:
        if self.records_out == 0:
            return "failed"
        return "partial" if self.records_quarantined else "succeeded"

    def finish(self, warehouse: Warehouse, message: str, status: str | None = None) -> dict:
        finished = datetime.now(UTC)
        parameters = json.dumps(self.parameters, sort_keys=True, default=str)
        row = {
            "run_id": self.run_id,
            "stage": self.stage,
            "status": status or self.status(),
            "started_at": self.started_at,
            "finished_at": finished,
            "duration_s": (finished - self.started_at).total_seconds(),
            "inputs": self.inputs,
            "parameters": parameters,
            "outputs": json.dumps(self.outputs, sort_keys=True),
            "records_in": self.records_in,
            "records_out": self.records_out,
            "records_quarantined": self.records_quarantined,
            "records_skipped": self.records_skipped,
            "skipped": sorted(self.skipped.items()),
            "extra": json.dumps(self.extra, sort_keys=True, default=str),
            "message": message,
            "factrace_version": __version__,
            "parents": sorted(warehouse.read_from - {self.run_id}),
            "code_version": code_version(),
            "config_sha256": hashlib.sha256(parameters.encode()).hexdigest(),
        }
        warehouse.append(self.run_id, RUNS, pa.Table.from_pylist([row], schema=arrow_schema(RUNS)))
        self.written = True
        return row


def reconciles(row: dict) -> bool:
    """The invariant every ``runs`` row keeps: ``records_in = records_out + records_quarantined + records_skipped``."""
    return row["records_in"] == row["records_out"] + row["records_quarantined"] + row["records_skipped"]
