"""``factrace query``: every table of a warehouse as a DuckDB view, one SQL statement, readable output.

``<table>`` shows the latest snapshot: for tables partitioned by ``dump``, only the newest dump of
each group of the other partition values (e.g. per wiki); ``<table>_all`` shows every snapshot.
Dated dumps (``YYYYMMDD``) are newer than ``undated`` and other labels; labels compare as text.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from schemas.duckdb import empty_select
from schemas.tables import TABLES, Table
from tracer.config import option, require
from tracer.errors import ConfigError, DependencyMissing, InputNotFound
from tracer.warehouse import Warehouse

FORMATS = ("table", "csv", "json")
MAX_CELL = 60


@dataclass
class QueryConfig:
    sql: str = option(help="one SQL statement; tables are views named as in docs/tables.md", positional=True)
    warehouse: str = option(help="warehouse directory")
    format: str = option("table", help="output format", choices=FORMATS)
    all_snapshots: bool = option(False, help="make <table> show every dump, not only the latest")
    max_rows: int = option(100, help="most rows printed in table format (csv and json print all)")

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


def _files(wh: Warehouse, table: Table, latest: bool) -> list[Path]:
    if not table.partitions:
        return sorted(wh.table_dir(table).glob("part-*.parquet"))
    partitions = wh.partitions(table)
    if latest:
        partitions = latest_partitions(table, partitions)
    return [path for values in partitions for path in wh.files(table, values)]


def connect(warehouse: str | Path, all_snapshots: bool = False):  # noqa: ANN201 - duckdb is optional
    """An in-memory DuckDB connection with ``<table>`` and ``<table>_all`` views over the warehouse."""
    try:
        import duckdb
    except ImportError as err:
        raise DependencyMissing("factrace query needs DuckDB: pip install 'factrace[query]'") from err
    wh = Warehouse(warehouse)
    wh.must_exist()
    if not any(_files(wh, table, latest=False) for table in TABLES.values()):
        raise InputNotFound(f"warehouse {wh.root} holds no table yet: run a stage first (factrace extract or facts)")
    con = duckdb.connect()
    for table in TABLES.values():
        for name, latest in ((table.name, not all_snapshots), (f"{table.name}_all", False)):
            con.execute(f'CREATE VIEW "{name}" AS {_select(wh, table, latest)}')
    return con


def _select(wh: Warehouse, table: Table, latest: bool) -> str:
    files = _files(wh, table, latest)
    if not files:
        return empty_select(table)
    paths = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
    types = ", ".join(f"'{p}': 'VARCHAR'" for p in table.partition_names)
    hive = f", hive_partitioning = true, hive_types = {{{types}}}" if table.partitions else ""
    return f"SELECT * FROM read_parquet([{paths}], union_by_name = true{hive})"


def run_query(config: QueryConfig) -> str:
    import duckdb

    con = connect(config.warehouse, config.all_snapshots)
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
