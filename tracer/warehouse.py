"""The warehouse: one Delta Lake table per table of the contract, on any store pyarrow reaches.

Layout::

    <warehouse>/<table>/_delta_log/...                               the table's commits (Delta Lake)
    <warehouse>/<table>/<col>=<value>/.../<run_id>/part-*.parquet    data files, one folder per run
    <warehouse>/_staging/<run_id>/...                                a run's scratch files (partials)
    <warehouse>/_tokenizers/<tokenizer_id>/tokenizer.json            every tokenizer a stage used

Tasks write a run's Parquet files into the table's folder; no reader sees them until the driver
commits them. Publishing is one Delta commit per table: it removes the files of the partitions the
run replaces and adds the run's files, so a reader of the table sees the old snapshot or the new one,
never a mix, on a local disk and on an object store alike (no rename needed). Old files stay for
``factrace query --as-of``; ``Warehouse.vacuum`` removes what no kept version needs.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.arrow import arrow_schema
from schemas.tables import TABLES, Table
from tracer import storage
from tracer.errors import ConfigError, DuplicateKeys, InputNotFound, SchemaMismatch, StorageError
from tracer.failpoints import reached
from tracer.keys import find_repeats

STAGING = "_staging"
REPORTS = "_reports"  # one JSON file per report written from this warehouse: what it reads (gc keeps it)
TOKENIZERS = "_tokenizers"
DELTA_LOG = "_delta_log"


def partition_path(table: Table, values: dict[str, str]) -> str:
    """``pages/dump=20230501/wiki=enwiki`` for the table's partition columns, in order."""
    missing = [p for p in table.partition_names if p not in values]
    if missing:
        raise ValueError(f"{table.name}: partition values missing for {missing}")
    return "/".join([table.name] + [f"{p}={_safe(values[p])}" for p in table.partition_names])


def _safe(value: str) -> str:
    if not value or "/" in value or value.startswith(".") or "=" in value:
        raise ValueError(f"unusable partition value {value!r}")
    return value


def _deltalake():
    import deltalake
    import deltalake.exceptions

    return deltalake


class Warehouse:
    """Tables of one warehouse as of now, or as of ``as_of`` (read-only then). Every call reads the table's latest
    version, unless ``pinned``: then each table stays at the version first read, for one consistent view."""

    def __init__(self, root: str, as_of: datetime | None = None, pinned: bool = False) -> None:
        self.root = storage.normalize(root)
        self.as_of = as_of
        self.pinned = pinned or as_of is not None  # keep each table at the first version read (queries, reports)
        self._checked: set[tuple[str, str]] = set()
        self._published: dict[str, int] = {}
        self._staged: dict[str, dict[tuple[str, tuple], tuple[Table, dict[str, str]]]] = {}
        self._tables: dict[str, object] = {}
        self._snapshots: dict[str, tuple[int, pa.Table]] = {}
        self._live: dict[str, tuple[int, list[tuple[dict[str, str], str, int]]]] = {}
        self.read_from: set[str] = set()  # runs whose published files were read through this object (lineage)

    def __str__(self) -> str:
        return self.root

    def must_exist(self) -> None:
        """Stages that read tables call this first: a mistyped ``--warehouse`` is not created, and says so."""
        if not storage.is_dir(self.root):
            raise InputNotFound(f"warehouse {self.root} does not exist: check --warehouse (extract creates one)")

    def check_writable(self) -> None:
        """Write and delete a small object at the root: a missing bucket, wrong credentials, no permission or a
        full disk fails here, in one line, before a stage runs any task."""
        self._writable()
        probe = storage.join(self.root, STAGING, f"write-check-{uuid.uuid4().hex[:12]}")
        storage.write_bytes(probe, b"factrace")
        storage.delete_file(probe)

    def published_count(self, run_id: str) -> int:
        """Partitions this process has published for a run (what an interrupted run leaves behind)."""
        return self._published.get(run_id, 0)

    # -- locations -------------------------------------------------------------------------------

    def table_uri(self, table: Table) -> str:
        return storage.join(self.root, table.name)

    def partition_uri(self, table: Table, values: dict[str, str]) -> str:
        return storage.join(self.root, *partition_path(table, values).split("/"))

    def staging_dir(self, run_id: str) -> str:
        return storage.join(self.root, STAGING, run_id)

    def staged_partition(self, run_id: str, table: Table, values: dict[str, str]) -> str:
        """Where a run's tasks write a partition's files: inside the table, invisible until published."""
        self._staged.setdefault(run_id, {})[(table.name, tuple(sorted(values.items())))] = (table, dict(values))
        return storage.join(self.partition_uri(table, values), run_id)

    def tokenizer_file(self, tokenizer_id: str) -> str:
        return storage.join(self.root, TOKENIZERS, tokenizer_id, "tokenizer.json")

    def has_tokenizer(self, tokenizer_id: str) -> bool:
        return storage.is_file(self.tokenizer_file(tokenizer_id))

    def keep_tokenizer(self, tokenizer_id: str, tokenizer_json: str) -> str:
        """Store the exact tokenizer JSON once; later stages load this copy."""
        path = self.tokenizer_file(tokenizer_id)
        if not storage.exists(path):
            storage.write_text(path, tokenizer_json)
        return path

    # -- publishing ------------------------------------------------------------------------------

    def staged_files(self, run_id: str, table: Table, values: dict[str, str]) -> list[str]:
        return storage.list_files(self.staged_partition(run_id, table, values), ".parquet")

    def check_keys(self, run_id: str, partitions: Iterable[tuple[Table, dict[str, str]]]) -> None:
        """Raise DuplicateKeys when a staged partition repeats its table's key. Stages call this for all
        their partitions before publishing the first, so that a violation publishes nothing."""
        for table, values in partitions:
            staged = self.staged_partition(run_id, table, values)
            if not table.key or (staged, run_id) in self._checked:
                continue
            repeats = find_repeats(self.staged_files(run_id, table, values), table.key)
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
        self.check_keys(run_id, list(self._staged.get(run_id, {}).values()))

    def publish(self, run_id: str, partitions: Sequence[tuple[Table, dict[str, str]]]) -> None:
        """Replace each partition by what the run staged for it (nothing staged clears it): one commit per
        table, in the order the tables first appear. A partition that repeats its key is never published."""
        self._writable()
        self.check_keys(run_id, partitions)
        by_table: dict[str, list[tuple[Table, dict[str, str]]]] = {}
        for table, values in partitions:
            by_table.setdefault(table.name, []).append((table, values))
        for group in by_table.values():
            reached(f"publish:{group[0][0].name}")
            self._commit(run_id, group[0][0], [values for _, values in group])
            self._published[run_id] = self._published.get(run_id, 0) + len(group)

    def put(self, table: Table, values: dict[str, str], data: pa.Table, run_id: str | None = None) -> None:
        """Replace one partition by ``data`` in one commit (tools and tests; stages stage files from tasks)."""
        run_id = run_id or f"put-{uuid.uuid4().hex[:12]}"
        write_table(storage.join(self.staged_partition(run_id, table, values), "part-00000.parquet"), data)
        self.publish(run_id, [(table, values)])

    def append(self, run_id: str, table: Table, data: pa.Table) -> None:
        """Add a run's rows to an unpartitioned table in one commit (the ``runs`` log)."""
        self._writable()
        path = storage.join(self.table_uri(table), run_id, "part-00000.parquet")
        if storage.exists(path):
            raise DuplicateKeys(f"{table.name}: rows of run {run_id} exist already; a run adds its rows once")
        write_table(path, data)
        self._commit(run_id, table, [], replace=False)

    def _commit(self, run_id: str, table: Table, replaced: list[dict[str, str]], replace: bool = True) -> None:
        dl = _deltalake()
        uri = self.table_uri(table)
        schema = arrow_schema(table, with_partitions=True)
        self._tables.pop(table.name, None)  # the latest version, even when pinned: its files are the ones replaced
        base = self._snapshot(table)
        adds = []
        folders = (
            [self.staged_partition(run_id, table, v) for v in replaced]
            if table.partitions
            else [storage.join(uri, run_id)]
        )
        for values, folder in zip(replaced or [{}], folders, strict=True):
            for path in storage.list_files(folder, ".parquet"):
                adds.append(self._add_action(uri, path, values))
        keys = {tuple(v[p] for p in table.partition_names) for v in replaced}
        removes = []
        now = int(time.time() * 1000)
        if replace and base is not None:
            for row in base.to_pylist():
                if tuple(row[f"partition.{p}"] for p in table.partition_names) in keys:
                    values = {p: row[f"partition.{p}"] for p in table.partition_names}
                    removes.append(dl.transaction.RemoveAction(row["path"], True, now, row["size_bytes"], values))
        metadata = {"factrace.run_id": run_id, "factrace.table": table.name}
        try:
            if base is None:  # the table exists from its first publish on, empty or not: readers never miss it
                dl.DeltaTable.create(uri, schema, partition_by=table.partition_names or None, mode="ignore")
            if adds or removes:
                delta = self._delta(table) or dl.DeltaTable(uri)
                _add_new_columns(delta, schema)
                delta.create_write_transaction(
                    removes + adds,
                    mode="append",
                    schema=schema,
                    partition_by=table.partition_names or None,
                    commit_properties=dl.transaction.CommitProperties(custom_metadata=metadata),
                )
        except (OSError, dl.exceptions.DeltaError) as exc:
            raise StorageError(f"{uri}: committing run {run_id} failed ({' '.join(str(exc).split())[:300]})") from exc

    def _add_action(self, table_uri: str, path: str, values: dict[str, str]):
        dl = _deltalake()
        found = storage.info(path)
        rows = pq.ParquetFile(storage.open_input(path)).metadata.num_rows
        return dl.transaction.AddAction(
            storage.relative(path, table_uri),
            found.size,
            dict(values),
            int(found.mtime.timestamp() * 1000) if found.mtime else int(time.time() * 1000),
            True,
            json.dumps({"numRecords": rows}),
        )

    def discard_staging(self, run_id: str) -> None:
        """Remove a run's scratch files and the data files it wrote but did not publish."""
        storage.delete_dir(self.staging_dir(run_id))
        for table, values in self._staged.pop(run_id, {}).values():
            folder = storage.join(self.partition_uri(table, values), run_id)
            if not self._is_published(table, storage.relative(folder, self.table_uri(table))):
                storage.delete_dir(folder)

    def _is_published(self, table: Table, folder: str) -> bool:
        snapshot = self._snapshot(table)
        return snapshot is not None and any(p.startswith(folder + "/") for p in snapshot.column("path").to_pylist())

    def _writable(self) -> None:
        if self.as_of is not None:
            raise ConfigError(f"warehouse {self.root} is opened as of {self.as_of:%Y-%m-%d %H:%M:%S}: read-only")

    def note_report(self, out: str, values: dict[str, str]) -> None:
        """Remember that the report in folder ``out`` reads the slice ``values`` (dump, model, ...)."""
        name = hashlib.sha1(out.encode()).hexdigest()[:16] + ".json"
        storage.write_text(storage.join(self.root, REPORTS, name), json.dumps({"out": out, **values}, sort_keys=True))

    def reported_dumps(self) -> set[str]:
        """The dumps the reports written from this warehouse read."""
        folder = storage.join(self.root, REPORTS)
        if not storage.exists(folder):
            return set()
        found = set()
        for path in storage.list_files(folder, ".json"):
            try:
                found.add(json.loads(storage.read_text(path))["dump"])
            except (ValueError, KeyError, TypeError):
                raise SchemaMismatch(f"{path} is not a report note: delete it, or write the report again") from None
        return found

    # -- reading ---------------------------------------------------------------------------------

    def _delta(self, table: Table):
        """The table's Delta handle, brought up to date (or fixed at ``as_of``); None if it does not exist."""
        dl = _deltalake()
        uri = self.table_uri(table)
        delta = self._tables.get(table.name)
        try:
            if delta is None:
                if not storage.exists(storage.join(uri, DELTA_LOG)):
                    self._check_layout(table)
                    return None
                delta = dl.DeltaTable(uri)
                if self.as_of is not None:
                    try:
                        delta.load_as_version(self.as_of)
                    except (ValueError, dl.exceptions.DeltaError):  # the table did not exist yet
                        return None
                self._tables[table.name] = delta
            elif not self.pinned:
                delta.update_incremental()
        except (OSError, dl.exceptions.DeltaError) as exc:
            raise StorageError(f"{uri}: reading the table's log failed ({' '.join(str(exc).split())[:300]})") from exc
        return delta

    def _snapshot(self, table: Table) -> pa.Table | None:
        """The table's current files (path, size_bytes, num_records, partition.<col>), or None if absent."""
        delta = self._delta(table)
        if delta is None:
            return None
        version = delta.version()
        cached = self._snapshots.get(table.name)
        if cached is not None and cached[0] == version:
            return cached[1]
        actions = pa.table(delta.get_add_actions(flatten=True))
        names = ["path", "size_bytes", "num_records"] + [f"partition.{p}" for p in table.partition_names]
        snapshot = actions.select(names).sort_by([(n, "ascending") for n in names[3:]] + [("path", "ascending")])
        self._snapshots[table.name] = (version, snapshot)
        return snapshot

    def version(self, table: Table) -> int | None:
        """The table's Delta version (what ``--as-of`` selects), None if it does not exist."""
        delta = self._delta(table)
        return None if delta is None else delta.version()

    def history(self, table: Table) -> list[dict]:
        """The table's commits, newest first: version, timestamp, operation and the factrace run."""
        if not storage.exists(storage.join(self.table_uri(table), DELTA_LOG)):
            return []
        return _deltalake().DeltaTable(self.table_uri(table)).history()

    def _check_layout(self, table: Table) -> None:
        """A table without a Delta log but with Parquet files was written by an older factrace: say so."""
        uri = self.table_uri(table)
        expected = len(table.partition_names) + 2  # partition folders, the run's folder, the file
        depths = sorted({len(storage.relative(f, uri).split("/")) for f in storage.list_files(uri, ".parquet", True)})
        stray = [d for d in depths if d != expected]
        if stray:
            raise SchemaMismatch(
                f"{table.name} in {self.root} has Parquet files in {stray[0] - 1} partition level(s) and no Delta log; "
                f"this factrace expects {len(table.partitions)} ({', '.join(table.partition_names)}; schema "
                f"v{table.version}) in a Delta table: it was written by an older version. Rerun the stage that "
                f"writes {table.name}, or use a new warehouse"
            )

    def _live_files(self, table: Table) -> list[tuple[dict[str, str], str, int]]:
        """(partition values, file, rows) of every file of one snapshot of the table, in partition then path order."""
        snapshot = self._snapshot(table)
        if snapshot is None:
            return []
        version = self._snapshots[table.name][0]
        cached = self._live.get(table.name)
        if cached is None or cached[0] != version:  # built once per version: planning asks for it per partition
            uri = self.table_uri(table)
            rows = [
                (
                    {p: row[f"partition.{p}"] for p in table.partition_names},
                    storage.join(uri, *row["path"].split("/")),
                    row["num_records"] or 0,
                )
                for row in snapshot.to_pylist()
            ]
            cached = self._live[table.name] = (version, rows)
        return cached[1]

    def partitions(self, table: Table, **filters: Sequence[str] | str | None) -> list[dict[str, str]]:
        """Published partitions of a table (those holding files), optionally filtered by partition values."""
        if not table.partitions:
            return []
        keys = sorted({tuple(values.values()) for values, _, _ in self._live_files(table)})
        found = [dict(zip(table.partition_names, key, strict=True)) for key in keys]
        return [v for v in found if all(_matches(v.get(k), want) for k, want in filters.items())]

    def files(self, table: Table, values: dict[str, str] | None = None) -> list[str]:
        """The published data files of a partition (of the whole table when it has no partitions)."""
        return self._reading(
            table, sorted(path for found, path, _ in self._live_files(table) if found == (values or {}))
        )

    def _reading(self, table: Table, paths: list[str]) -> list[str]:
        """Note the runs whose files a stage reads (lineage in ``runs.parents``); the ``runs`` log is not an input."""
        if table.name != "runs":
            self.read_from.update(path.rsplit("/", 2)[-2] for path in paths)
        return paths

    def writers(self, table: Table, values: dict[str, str]) -> set[str]:
        """The runs whose files a published partition holds (each run writes into a folder named by its id)."""
        return {path.rsplit("/", 2)[-2] for found, path, _ in self._live_files(table) if found == values}

    def only_file(self, table: Table, values: dict[str, str]) -> str:
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
        """Rows of one published partition, from the commit's statistics (no data read)."""
        return sum(rows for found, _, rows in self._live_files(table) if found == values)

    def read(self, table: Table, columns: list[str] | None = None, **filters: Sequence[str] | str | None) -> pa.Table:
        """Published rows of a table (partition columns as strings), optionally filtered by partition; all from
        one snapshot, even while another run publishes."""
        data_columns = [c for c in columns if c not in table.partition_names] if columns else None
        pieces = []
        schema = arrow_schema(table)
        for values, path, _ in self._live_files(table):
            if not all(_matches(values.get(k), want) for k, want in filters.items()):
                continue
            self._reading(table, [path])
            piece = _with_columns(_read_columns(path, data_columns), schema, data_columns)
            for name in table.partition_names:
                if columns is None or name in columns:
                    piece = piece.append_column(name, pa.array([values[name]] * piece.num_rows, pa.string()))
            pieces.append(piece)
        if not pieces:
            empty = arrow_schema(table, with_partitions=True).empty_table()
            return empty.select(columns) if columns else empty
        return pa.concat_tables(pieces, promote_options="permissive")

    def table_bytes(self, table: Table) -> int:
        """Bytes of the table's current files (earlier versions' files not counted)."""
        snapshot = self._snapshot(table)
        return 0 if snapshot is None else sum(snapshot.column("size_bytes").to_pylist())

    def tables(self) -> list[Table]:
        """The contract's tables that exist in this warehouse (as of ``as_of``)."""
        return [t for t in TABLES.values() if self._snapshot(t) is not None]

    def vacuum(self, keep_hours: int = 168, dry_run: bool = False) -> list[str]:
        """Delete data files no version of the last ``keep_hours`` needs, and files of runs never published."""
        self._writable()
        removed = []
        dl = _deltalake()
        for table in self.tables():
            delta = dl.DeltaTable(self.table_uri(table))
            removed += delta.vacuum(
                retention_hours=keep_hours, dry_run=dry_run, enforce_retention_duration=False, full=True
            )
        return removed


def _add_new_columns(delta: Any, schema: pa.Schema) -> None:  # a deltalake.DeltaTable
    """Schema evolution: add the contract's columns the Delta table lacks (nullable ones; a newer factrace
    declares them) before a commit writes files that have them."""
    have = {field.name for field in delta.schema().fields}
    missing = [field for field in schema if field.name not in have]
    if missing:
        delta.alter.add_columns(list(_deltalake().Schema.from_arrow(pa.schema(missing)).fields))


def _read_columns(path: str, columns: list[str] | None) -> pa.Table:
    """The named columns of a file that has them; of one written before some were added, those it has."""
    try:
        return pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, KeyError):
        if columns is None:
            raise
        present = set(pq.read_schema(path).names)
        return pq.read_table(path, columns=[c for c in columns if c in present])


def _with_columns(piece: pa.Table, schema: pa.Schema, columns: list[str] | None) -> pa.Table:
    """The file's rows with the wanted columns of the declared schema, in its order; a column added to the schema
    after the file was written (a nullable one, schema evolution) reads as null."""
    for field in schema:
        if field.name not in piece.column_names:
            piece = piece.append_column(field, pa.nulls(piece.num_rows, field.type))
    return piece.select(columns if columns is not None else schema.names)


def _matches(value: str | None, wanted: Sequence[str] | str | None) -> bool:
    if wanted is None or (not isinstance(wanted, str) and not wanted):
        return True
    return value == wanted if isinstance(wanted, str) else value in wanted


def write_table(path: str, data: pa.Table) -> None:
    """Write one Parquet file atomically: readers see no file or the whole file."""
    with storage.AtomicOutput(path) as out:
        pq.write_table(data, out, compression="zstd")


class PartWriter:
    """Write rows of one table to one Parquet file in row groups of about ``batch_rows``, with the declared
    schema; rows given one by one and rows given as Arrow tables keep the order they came in."""

    def __init__(self, path: str, table: Table, batch_rows: int = 2048) -> None:
        self.path = path
        self.schema = arrow_schema(table)
        self.batch_rows = batch_rows
        self.columns: dict[str, list] = {name: [] for name in self.schema.names}
        self.pending = 0  # rows in ``columns``
        self.pieces: list[pa.Table] = []  # rows waiting for the next row group, in order
        self.piece_rows = 0
        self.count = 0
        self._output: storage.AtomicOutput | None = None
        self._writer: pq.ParquetWriter | None = None

    def add(self, row: dict) -> None:
        for name, values in self.columns.items():
            values.append(row[name])
        self.pending += 1
        if self.pending + self.piece_rows >= self.batch_rows:
            self._flush()

    def extend(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.add(row)

    def add_table(self, rows: pa.Table) -> None:
        """Add rows that are Arrow already (copied from an earlier file), after every row added before."""
        if not rows.num_rows:
            return
        self._seal()
        self.pieces.append(rows.select(self.schema.names).cast(self.schema))
        self.piece_rows += rows.num_rows
        if self.piece_rows >= self.batch_rows:
            self._flush()

    def _seal(self) -> None:
        """Turn the rows added one by one into a piece."""
        if self.pending:
            self.pieces.append(pa.Table.from_pydict(self.columns, schema=self.schema))
            self.piece_rows += self.pending
            self.pending = 0
            self.columns = {name: [] for name in self.schema.names}

    def _flush(self) -> None:
        self._seal()
        if not self.pieces:
            return
        data = self.pieces[0] if len(self.pieces) == 1 else pa.concat_tables(self.pieces)
        self.pieces, self.piece_rows = [], 0
        try:
            if self._writer is None:
                self._output = storage.AtomicOutput(self.path)
                self._writer = pq.ParquetWriter(self._output.__enter__(), self.schema, compression="zstd")
            self._writer.write_table(data)
        except OSError as exc:
            self.abandon(exc)
        self.count += data.num_rows

    def close(self) -> int:
        """Finish the file (none is written for zero rows); return the row count."""
        self._flush()
        if self._writer is not None and self._output is not None:
            try:
                self._writer.close()
            except OSError as exc:
                self.abandon(exc)
            self._output.__exit__(None, None, None)
        return self.count

    def abandon(self, error: OSError) -> None:
        """Drop the unfinished file and raise the store's error as one line naming it."""
        if self._output is None:
            raise StorageError(f"{self.path}: writing failed ({error})") from error
        self._output.__exit__(type(error), error, None)
