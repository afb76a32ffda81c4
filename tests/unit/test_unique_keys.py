"""Every table's declared key is unique within its partition: a repeat never publishes."""

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from schemas.arrow import arrow_schema
from schemas.tables import RUNS, TABLES, Table
from tracer import storage
from tracer.errors import DuplicateKeys
from tracer.keys import find_repeats, later_copies, split_rows
from tracer.runs import RunRecord
from tracer.warehouse import Warehouse, write_table

SAMPLES = {
    "string": "x",
    "int32": 1,
    "int64": 1,
    "float64": 0.5,
    "bool": True,
    "binary": b"x",
    "timestamp": datetime(2024, 1, 1, tzinfo=UTC),
    "list<int32>": [1],
    "list<float32>": [0.5],
    "list<string>": ["x"],
    "list<input>": [{"path": "p", "bytes": 1, "sha256": "0"}],
    "list<evidence>": [{"page_id": 1, "seg_no": 0}],
    "map<string,int64>": [("x", 1)],
}


def rows(table: Table, keys: list[int]) -> pa.Table:
    """One row per entry of ``keys``; key columns take that number (as their type allows), others a constant."""
    out = []
    for k in keys:
        row = {}
        for column in table.columns:
            value = SAMPLES[column.type]
            if column.name in table.key and column.type != "bool":  # a bool key column keeps its constant
                value = str(k) if column.type == "string" else k
            row[column.name] = value
        out.append(row)
    return pa.Table.from_pylist(out, schema=arrow_schema(table))


def partition_values(table: Table) -> dict[str, str]:
    return {name: f"v{i}" for i, name in enumerate(table.partition_names)}


PARTITIONED = [t for t in TABLES.values() if t.partitions]


def test_every_table_declares_a_key():
    assert all(t.key and set(t.key) <= set(t.column_names) for t in TABLES.values())


@pytest.mark.parametrize("table", PARTITIONED, ids=[t.name for t in PARTITIONED])
def test_a_repeated_key_is_never_published(tmp_path, table):
    wh = Warehouse(tmp_path / "wh")
    values = partition_values(table)
    staged = wh.staged_partition("run-1", table, values)
    write_table(storage.join(staged, "part-00000.parquet"), rows(table, [1, 2]))
    write_table(storage.join(staged, "part-00001.parquet"), rows(table, [3, 2]))  # 2 again, in another task's file
    with pytest.raises(DuplicateKeys, match=rf"{table.name}/.*1 value\(s\) of the key .* e\.g\. "):
        wh.publish("run-1", [(table, values)])
    assert wh.partitions(table) == [] and wh.version(table) is None


@pytest.mark.parametrize("table", PARTITIONED, ids=[t.name for t in PARTITIONED])
def test_distinct_keys_publish(tmp_path, table):
    wh = Warehouse(tmp_path / "wh")
    values = partition_values(table)
    write_table(storage.join(wh.staged_partition("run-1", table, values), "part-00000.parquet"), rows(table, [1, 2, 3]))
    wh.publish("run-1", [(table, values)])
    assert wh.row_count(table, values) == 3


def test_a_bad_partition_stops_the_whole_run_before_anything_publishes(tmp_path):
    pages, quarantine = TABLES["pages"], TABLES["quarantine"]
    wh = Warehouse(tmp_path / "wh")
    good, bad = {"dump": "d", "wiki": "a"}, {"dump": "d", "wiki": "b"}
    write_table(storage.join(wh.staged_partition("run-1", pages, good), "part-0.parquet"), rows(pages, [1, 2]))
    write_table(storage.join(wh.staged_partition("run-1", pages, bad), "part-0.parquet"), rows(pages, [1, 1]))
    q = {"dump": "d", "stage": "extract", "scope": "a"}
    write_table(storage.join(wh.staged_partition("run-1", quarantine, q), "part-0.parquet"), rows(quarantine, [1]))
    with pytest.raises(DuplicateKeys, match="pages/dump=d/wiki=b"):
        wh.check_staged("run-1")


def test_null_key_values_count_as_equal(tmp_path):
    quarantine = TABLES["quarantine"]
    data = rows(quarantine, [1, 1])
    at = data.column_names.index("record_id")
    write_table(str(tmp_path / "part.parquet"), data.set_column(at, "record_id", pa.array([None, None], pa.string())))
    assert find_repeats([tmp_path / "part.parquet"], quarantine.key).values == [("1", 1, "1", None)]


def test_later_copies_keep_the_first_in_file_then_row_order(tmp_path):
    pages = TABLES["pages"]
    first, second = tmp_path / "part-000.parquet", tmp_path / "part-001.parquet"
    write_table(str(first), rows(pages, [5, 1, 5]))
    write_table(str(second), rows(pages, [1, 7, 5]))
    later = later_copies([first, second], pages.key)
    assert later == {first: [2], second: [0, 2]}
    kept, taken = split_rows(second, later[second])
    assert kept.column("page_id").to_pylist() == [7] and taken.column("page_id").to_pylist() == [1, 5]


def test_a_run_is_recorded_once(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    run = RunRecord("extract", "extract-1", {})
    run.finish(wh, "done")
    with pytest.raises(DuplicateKeys, match="run extract-1"):
        run.finish(wh, "done again")
    assert wh.read(RUNS).num_rows == 1
