"""``factrace query``: every table of a warehouse as a DuckDB view, one SQL statement, readable output.

``<table>`` shows the latest snapshot: for tables partitioned by ``dump``, only the newest dump of
each group of the other partition values (e.g. per wiki); ``<table>_all`` shows every snapshot.
Dated dumps (``YYYYMMDD``) are newer than ``undated`` and other labels; labels compare as text.
``--as-of`` reads every table at the Delta version it had at that time; ``table_versions`` lists
the commits (the run that made each).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from schemas.arrow import arrow_schema
from schemas.duckdb import empty_select
from schemas.tables import RUNS, TABLES, Table
from tracer import storage
from tracer.config import option, require
from tracer.errors import ConfigError, DependencyMissing, InputNotFound
from tracer.warehouse import Warehouse

FORMATS = ("table", "csv", "json")
MAX_CELL = 60


@dataclass
class QueryConfig:
    sql: str = option(help="one SQL statement; tables are views named as in docs/tables.md", positional=True)
    warehouse: str = option(help="warehouse: a path or URI (s3://, gs://, hdfs://, abfs://, file://)")
    format: str = option("table", help="output format", choices=FORMATS)
    all_snapshots: bool = option(False, help="make <table> show every dump, not only the latest")
    dump: str = option("", help="make <table> show this dump instead of the latest (tables partitioned by dump)")
    max_rows: int = option(100, help="most rows printed in table format (csv and json print all)")
    as_of: str = option("", help="read the tables as they were at this time (ISO 8601, UTC unless zoned) or run id")

    def __post_init__(self) -> None:
        require(bool(self.sql.strip()), "give one SQL statement")
        require(self.max_rows >= 1, f"--max-rows must be at least 1, got {self.max_rows}")


def _dump_order(label: str) -> tuple[int, str]:
    return (1, label) if label.isdigit() and len(label) == 8 else (0, label)


def latest_partitions(table: Table, partitions: list[dict[str, str]]) -> list[dict[str, str]]:
    """The newest ``dump`` of every group of the other partition values."""
    if "dump" not in table.partition_names:
        return partitions
    groups: dict[tuple, list[dict[str, str]]] = defaultdict(list)
    for values in partitions:
        groups[tuple((k, v) for k, v in values.items() if k != "dump")].append(values)
    latest = [max(group, key=lambda v: _dump_order(v["dump"])) for group in groups.values()]
    return sorted(latest, key=lambda v: sorted(v.items()))


def _files(wh: Warehouse, table: Table, latest: bool, dump: str = "") -> list[str]:
    partitions = wh.partitions(table) if table.partitions else [{}]
    if dump and "dump" in table.partition_names:
        partitions = [v for v in partitions if v["dump"] == dump]
    elif latest:
        partitions = latest_partitions(table, partitions)
    return [path for values in partitions for path in wh.files(table, values)]


def parse_as_of(text: str, warehouse: str) -> datetime | None:
    """``--as-of``: an ISO 8601 time (UTC unless it names a zone), or a run id (the time that run finished)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        pass
    runs = Warehouse(warehouse).read(RUNS, ["run_id", "finished_at", "status"]).to_pylist()
    found = [r for r in runs if r["run_id"] == text]
    if not found:
        raise ConfigError(f"--as-of {text!r} is neither an ISO 8601 time (2026-11-25T17:00) nor a run id in runs")
    return found[0]["finished_at"] + timedelta(milliseconds=1)


def connect(warehouse: str, all_snapshots: bool = False, as_of: datetime | None = None, dump: str = ""):  # noqa: ANN201
    """An in-memory DuckDB connection with ``<table>`` and ``<table>_all`` views over the warehouse (as it was at
    ``as_of``, if given), and ``table_versions``: every table's commits."""
    try:
        import duckdb
    except ImportError as err:
        raise DependencyMissing("factrace query needs DuckDB: pip install 'factrace[query]'") from err
    wh = Warehouse(warehouse, as_of, pinned=True)
    wh.must_exist()
    present = wh.tables()
    if not present:
        when = f" as of {as_of:%Y-%m-%d %H:%M:%S %Z}" if as_of else " yet"
        raise InputNotFound(f"warehouse {wh.root} holds no table{when}: run a stage first (factrace extract or facts)")
    con = duckdb.connect()
    for table in TABLES.values():
        for name, latest in ((table.name, not all_snapshots), (f"{table.name}_all", False)):
            files = _files(wh, table, latest, dump if name == table.name else "") if table in present else []
            if files:
                con.register(f"_{name}_data", _dataset(wh, table, files))
                con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM "_{name}_data"')
            else:
                con.execute(f'CREATE VIEW "{name}" AS {empty_select(table)}')
    con.register("_table_versions", _versions(wh, present))
    con.execute('CREATE VIEW "table_versions" AS SELECT * FROM "_table_versions"')
    return con


def _dataset(wh: Warehouse, table: Table, files: list[str]):
    """The files as one Arrow dataset (DuckDB scans it lazily, on any store pyarrow reaches), partition columns
    from the paths, typed as strings."""
    import pyarrow.dataset as ds

    fs, base = storage.resolve(wh.table_uri(table))
    paths = [storage.resolve(f)[1] for f in files]
    names = table.partition_names
    partitioning = ds.partitioning(pa.schema([(p, pa.string()) for p in names]), flavor="hive") if names else None
    schema = arrow_schema(table, with_partitions=True)
    return ds.dataset(paths, schema=schema, format="parquet", filesystem=fs, partitioning=partitioning,
                      partition_base_dir=base)  # fmt: skip


def _versions(wh: Warehouse, tables: list[Table]) -> pa.Table:
    rows = []
    for table in tables:
        for commit in wh.history(table):
            stamp = commit.get("timestamp")
            rows.append(
                {
                    "table_name": table.name,
                    "version": commit.get("version"),
                    "committed_at": datetime.fromtimestamp(stamp / 1000, UTC) if stamp else None,
                    "operation": commit.get("operation"),
                    "run_id": commit.get("factrace.run_id"),
                }
            )
    schema = pa.schema(
        [("table_name", pa.string()), ("version", pa.int64()), ("committed_at", pa.timestamp("ms", tz="UTC")),
         ("operation", pa.string()), ("run_id", pa.string())]
    )  # fmt: skip
    return pa.Table.from_pylist(sorted(rows, key=lambda r: (r["table_name"], r["version"])), schema=schema)


def run_query(config: QueryConfig) -> str:
    import duckdb

    as_of = parse_as_of(config.as_of, config.warehouse)
    if config.dump:
        wh = Warehouse(config.warehouse, as_of, pinned=True)
        dumps = {v["dump"] for t in TABLES.values() if "dump" in t.partition_names for v in wh.partitions(t)}
        if config.dump not in dumps:
            raise InputNotFound(f"--dump {config.dump}: no table holds that dump; there are {', '.join(sorted(dumps))}")
    con = connect(config.warehouse, config.all_snapshots, as_of, config.dump)
    try:
        statements = con.extract_statements(config.sql)
        if len(statements) != 1:
            raise ConfigError(f"query runs exactly one SQL statement; got {len(statements)}: run them one by one")
        cursor = con.execute(config.sql)
    except duckdb.Error as err:
        raise ConfigError(f"query failed: {_one_line(str(err))}") from None
    if cursor.description is None:
        return "ok"
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    return render(names, rows, config.format, config.max_rows)


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def render(names: list[str], rows: list[tuple], fmt: str, max_rows: int = 100) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(names, row, strict=True)) for row in rows], ensure_ascii=False, default=str)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([[_cell(v, None) for v in row] for row in rows])
        return out.getvalue().rstrip("\n")
    shown = [[_cell(v, MAX_CELL) for v in row] for row in rows[:max_rows]]
    widths = [max([_width(n)] + [_width(r[i]) for r in shown]) for i, n in enumerate(names)]
    lines = [_line(names, widths), "  ".join("-" * w for w in widths)]
    lines += [_line(r, widths) for r in shown]
    more = f" (showing {max_rows}; use --max-rows or --format csv)" if len(rows) > max_rows else ""
    lines.append(f"({len(rows):,} row{'s' if len(rows) != 1 else ''}{more})")
    return "\n".join(lines)


def _width(text: str) -> int:
    """Terminal columns: wide East Asian characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()


def _cell(value: object, limit: int | None) -> str:
    if value is None:
        return "" if limit is None else "NULL"
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, list | dict | tuple):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    text = text.replace("\n", " ")
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
