"""The warehouse on disk: Hive-style table partitions, staging, atomic publish, tokenizer copies.

Layout::

    <warehouse>/<table>/<col>=<value>/.../part-*.parquet   published data
    <warehouse>/_staging/<run_id>/<table>/...              a run's output until it publishes
    <warehouse>/_tokenizers/<tokenizer_id>/tokenizer.json  every tokenizer a stage used

A stage writes only under its staging directory; publishing renames each
finished partition directory into place (replacing the old one), so readers
see the old partition or the new one, never a half-written one. The warehouse
must be a filesystem every executor can reach (local disk in local mode, a
shared mount on a cluster).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.arrow import arrow_schema
from schemas.tables import TABLES, Table
from tracer.errors import DuplicateKeys, InputNotFound, SchemaMismatch
from tracer.keys import find_repeats, parquet_files

STAGING = "_staging"
TRASH = "_trash"
TOKENIZERS = "_tokenizers"


def partition_path(table: Table, values: dict[str, str]) -> Path:
    """``pages/dump=20230501/wiki=enwiki`` for the table's partition columns, in order."""
    missing = [p for p in table.partition_names if p not in values]
    if missing:
        raise ValueError(f"{table.name}: partition values missing for {missing}")
    parts = [table.name] + [f"{p}={_safe(values[p])}" for p in table.partition_names]
    return Path(*parts)


def _safe(value: str) -> str:
    if not value or "/" in value or value.startswith(".") or "=" in value:
        raise ValueError(f"unusable partition value {value!r}")
    return value


class Warehouse:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self._checked: set[tuple[Path, str]] = set()
        self._published: dict[str, int] = {}

    def must_exist(self) -> None:
        """Stages that read tables call this first: a mistyped ``--warehouse`` is not created, and says so."""
        if not self.root.is_dir():
            raise InputNotFound(f"warehouse {self.root} does not exist: check --warehouse (extract creates one)")

    def published_count(self, run_id: str) -> int:
        """Partitions this process has published for a run (what an interrupted run leaves behind)."""
        return self._published.get(run_id, 0)

    def table_dir(self, table: Table) -> Path:
        return self.root / table.name

    def partition_dir(self, table: Table, values: dict[str, str]) -> Path:
        return self.root / partition_path(table, values)

    def staging_dir(self, run_id: str) -> Path:
        return self.root / STAGING / run_id

    def staged_partition(self, run_id: str, table: Table, values: dict[str, str]) -> Path:
        return self.staging_dir(run_id) / partition_path(table, values)

    def tokenizer_file(self, tokenizer_id: str) -> Path:
        return self.root / TOKENIZERS / tokenizer_id / "tokenizer.json"

    def keep_tokenizer(self, tokenizer_id: str, tokenizer_json: str) -> Path:
        """Store the exact tokenizer JSON once; later stages load this copy."""
        path = self.tokenizer_file(tokenizer_id)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
            tmp.write_text(tokenizer_json, encoding="utf-8")
            os.replace(tmp, path)
        return path

    def check_keys(self, run_id: str, partitions: Iterable[tuple[Table, dict[str, str]]]) -> None:
        """Raise DuplicateKeys when a staged partition repeats its table's key. Stages call this for all
        their partitions before publishing the first, so that a violation publishes nothing."""
        for table, values in partitions:
            staged = self.staged_partition(run_id, table, values)
            if not table.key or not staged.exists() or (staged, run_id) in self._checked:
                continue
            repeats = find_repeats(parquet_files(staged), table.key)
            if repeats:
                raise DuplicateKeys(
                    f"{partition_path(table, values)}: {len(repeats.values):,} value(s) of the key "
                    f"({', '.join(table.key)}) occur more than once ({repeats.extra_rows:,} extra rows), e.g. "
                    f"{repeats.example()}; nothing of run {run_id} was published. This is a factrace bug: "
                    "please report it with the command that ran"
                )
            self._checked.add((staged, run_id))

    def check_staged(self, run_id: str) -> None:
        """``check_keys`` for every partition the run has staged."""
        staged = []
        for table in TABLES.values():
            base = self.staging_dir(run_id) / table.name
            depth = "/".join(["*"] * len(table.partition_names))
            for part in sorted(base.glob(depth)) if base.exists() and depth else []:
                staged.append((table, dict(seg.split("=", 1) for seg in part.relative_to(base).parts)))
        self.check_keys(run_id, staged)

    def publish(self, run_id: str, table: Table, values: dict[str, str]) -> Path:
        """Move a staged partition into place, replacing what was there; an absent stage clears it.
        A partition that repeats its key is never published (see ``check_keys``)."""
        self.check_keys(run_id, [(table, values)])
        staged = self.staged_partition(run_id, table, values)
        final = self.partition_dir(table, values)
        final.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if final.exists():
            old = self.root / TRASH / run_id / uuid.uuid4().hex
            old.parent.mkdir(parents=True, exist_ok=True)
            os.replace(final, old)
        if staged.exists():
            for crc in staged.glob(".*.crc"):
                crc.unlink()
            os.replace(staged, final)
        self._published[run_id] = self._published.get(run_id, 0) + 1
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def discard_staging(self, run_id: str) -> None:
        shutil.rmtree(self.staging_dir(run_id), ignore_errors=True)
        shutil.rmtree(self.root / TRASH / run_id, ignore_errors=True)

    def partitions(self, table: Table, **filters: Sequence[str] | str | None) -> list[dict[str, str]]:
        """Published partitions of a table, optionally filtered by partition values."""
        base = self.table_dir(table)
        parts = sorted(base.glob("/".join(["*"] * len(table.partition_names)))) if base.exists() else []
        if base.exists() and not parts:
            self._check_layout(table)
        found = []
        for part in parts:
            values = dict(seg.split("=", 1) for seg in part.relative_to(base).parts)
            if all(_matches(values.get(k), v) for k, v in filters.items()):
                found.append(values)
        return found

    def _check_layout(self, table: Table) -> None:
        """A table whose files sit at another partition depth was written by an older factrace: say so."""
        stray = next(self.table_dir(table).rglob("part-*.parquet"), None)
        if stray is not None:
            depth = len(stray.relative_to(self.table_dir(table)).parts) - 1
            raise SchemaMismatch(
                f"{table.name} in {self.root} has {depth} partition level(s), this factrace expects "
                f"{len(table.partitions)} ({', '.join(table.partition_names)}; schema v{table.version}): it was "
                f"written by an older version. Rerun the stage that writes {table.name}, or use a new warehouse"
            )

    def files(self, table: Table, values: dict[str, str]) -> list[Path]:
        return sorted(self.partition_dir(table, values).glob("part-*.parquet"))

    def only_file(self, table: Table, values: dict[str, str]) -> Path:
        """The one file of a partition its stage writes as one file (facts, fact_presence); more or none is an
        error, never a silent choice of the first."""
        files = self.files(table, values)
        if len(files) != 1:
            raise SchemaMismatch(
                f"{partition_path(table, values)} holds {len(files)} files where its stage writes one: "
                f"rerun the stage that writes {table.name}"
            )
        return files[0]

    def row_count(self, table: Table, values: dict[str, str]) -> int:
        """Rows of one published partition, from the Parquet footers (no data read)."""
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.files(table, values))

    def read(self, table: Table, columns: list[str] | None = None, **filters: Sequence[str] | str | None) -> pa.Table:
        """Published rows of a table (partition columns as strings), optionally filtered by partition."""
        parts = self.partitions(table, **filters) if table.partitions else [{}]
        pieces = []
        for values in parts:
            files = self.files(table, values) if values else sorted(self.table_dir(table).glob("part-*.parquet"))
            data_columns = [c for c in columns if c not in table.partition_names] if columns else None
            for path in files:
                piece = pq.read_table(path, columns=data_columns)
                for name in table.partition_names:
                    if columns is None or name in columns:
                        piece = piece.append_column(name, pa.array([values[name]] * piece.num_rows, pa.string()))
                pieces.append(piece)
        if not pieces:
            empty = arrow_schema(table, with_partitions=True).empty_table()
            return empty.select(columns) if columns else empty
        return pa.concat_tables(pieces, promote_options="permissive")


def _matches(value: str | None, wanted: Sequence[str] | str | None) -> bool:
    if wanted is None or (not isinstance(wanted, str) and not wanted):
        return True
    return value == wanted if isinstance(wanted, str) else value in wanted


def in_progress(path: Path) -> Path:
    """Where a file is written before it is renamed into place (hidden, so readers skip it)."""
    return path.with_name(f".{path.name}.inprogress")


def write_table(path: Path, data: pa.Table) -> None:
    """Write one Parquet file atomically: readers see no file or the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(data, in_progress(path), compression="zstd")
    os.replace(in_progress(path), path)


class PartWriter:
    """Write rows of one table to one Parquet file in batches, with the declared schema."""

    def __init__(self, path: Path, table: Table, batch_rows: int = 2048) -> None:
        self.path = path
        self.schema = arrow_schema(table)
        self.batch_rows = batch_rows
        self.columns: dict[str, list] = {name: [] for name in self.schema.names}
        self.pending = 0
        self.count = 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, row: dict) -> None:
        for name, values in self.columns.items():
            values.append(row[name])
        self.pending += 1
        if self.pending >= self.batch_rows:
            self._flush()

    def extend(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.add(row)

    def _flush(self) -> None:
        if not self.pending:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.tmp_path, self.schema, compression="zstd")
        self._writer.write_table(pa.Table.from_pydict(self.columns, schema=self.schema))
        self.count += self.pending
        self.pending = 0
        self.columns = {name: [] for name in self.schema.names}

    @property
    def tmp_path(self) -> Path:
        return in_progress(self.path)

    def close(self) -> int:
        """Finish the file (none is written for zero rows); return the row count."""
        self._flush()
        if self._writer is not None:
            self._writer.close()
            os.replace(self.tmp_path, self.path)
        return self.count
