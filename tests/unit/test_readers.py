"""Published tables read without factrace: the DuckDB snippet of docs/tables.md, run as printed (with the
delta extension installed from its PyPI wheel, since the build machine cannot download it), sees exactly the
rows factrace publishes, after a rerun too, and partition columns keep their declared type."""

from __future__ import annotations

from pathlib import Path

import duckdb
import duckdb_extension_delta

from schemas import PAGES, RUNS
from schemas.docs import DUCKDB_SNIPPET
from tests.helpers import dump_xml, page_xml, write_dump
from tracer.stages.common import LocalRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.warehouse import Warehouse

EXTENSION = next(Path(duckdb_extension_delta.__file__).parent.glob("extensions/*/delta.duckdb_extension"))


def run_snippet(warehouse: Path, capsys) -> str:
    code = DUCKDB_SNIPPET.replace("INSTALL delta;", f"INSTALL '{EXTENSION}';").replace("'wh/", f"'{warehouse}/")
    exec(compile(code, "docs/tables.md", "exec"), {})  # the documented snippet, as printed
    return capsys.readouterr().out


def extract(tmp_path: Path, wiki: str, pages: list[str]) -> None:
    dump = write_dump(tmp_path / f"{wiki}.xml", dump_xml(pages))
    config = ExtractConfig(dumps=[str(dump)], warehouse=str(tmp_path / "wh"), dump="20260101", wiki=wiki)
    ExtractStage(config, LocalRunner()).run()


def counts(printed: str) -> dict[str, int]:
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in printed.splitlines() if line.startswith("│")]
    return {row[0]: int(row[1]) for row in cells if row[1].isdigit()}


def test_the_documented_duckdb_snippet_reads_the_published_rows(tmp_path, capsys):
    first = [page_xml(i, f"Page {i}", f"Text number {i}.") for i in range(1, 6)]
    extract(tmp_path, "awiki", first)
    extract(tmp_path, "bwiki", first[:2])
    assert counts(run_snippet(tmp_path / "wh", capsys)) == {"awiki": 5, "bwiki": 2}

    extract(tmp_path, "awiki", first[:3])  # a rerun replaces the partition in one commit
    assert counts(run_snippet(tmp_path / "wh", capsys)) == {"awiki": 3, "bwiki": 2}
    assert Warehouse(str(tmp_path / "wh")).read(PAGES).num_rows == 5


def test_partition_values_keep_their_type_in_every_reader(tmp_path):
    page = [page_xml(1, "Page", "Text.")]
    extract(tmp_path, "awiki", page)
    con = duckdb.connect()
    con.install_extension(str(EXTENSION))
    con.load_extension("delta")
    types = dict(con.sql(f"describe select * from delta_scan('{tmp_path / 'wh' / 'pages'}')").fetchall()[i][:2]
                 for i in range(9))  # fmt: skip
    assert types["dump"] == "VARCHAR" and types["wiki"] == "VARCHAR"  # '20260101' stays a string
    empty = con.sql(f"select count(*) from delta_scan('{tmp_path / 'wh' / 'quarantine'}')").fetchone()
    assert empty == (0,)  # a table with nothing in it exists, and reads as empty
    from tracer.query import QueryConfig, run_query

    out = run_query(QueryConfig("SELECT typeof(dump) AS t FROM pages", str(tmp_path / "wh"), format="csv"))
    assert out == "t\nVARCHAR"


def test_as_of_reads_an_earlier_version_and_vacuum_keeps_what_it_needs(tmp_path):
    from tracer.cli import main
    from tracer.query import QueryConfig, run_query

    pages = [page_xml(i, f"Page {i}", f"Text number {i}.") for i in range(1, 6)]
    extract(tmp_path, "awiki", pages)
    wh = Warehouse(str(tmp_path / "wh"))
    [first_run] = wh.read(RUNS, ["run_id"]).column("run_id").to_pylist()
    extract(tmp_path, "awiki", pages[:2])
    count = "SELECT count(*) AS n FROM pages"
    assert run_query(QueryConfig(count, str(tmp_path / "wh"), format="csv")) == "n\n2"
    assert run_query(QueryConfig(count, str(tmp_path / "wh"), format="csv", as_of=first_run)) == "n\n5"
    versions = run_query(QueryConfig("SELECT version, run_id FROM table_versions WHERE table_name = 'pages' "
                                     "ORDER BY version", str(tmp_path / "wh"), format="csv"))  # fmt: skip
    assert versions.splitlines()[1:3] == ["0,", f"1,{first_run}"]
    assert main(["vacuum", "--warehouse", str(tmp_path / "wh")]) == 0  # a week kept: --as-of still works
    assert run_query(QueryConfig(count, str(tmp_path / "wh"), format="csv", as_of=first_run)) == "n\n5"
    assert main(["vacuum", "--warehouse", str(tmp_path / "wh"), "--keep-hours", "0"]) == 0
    assert run_query(QueryConfig(count, str(tmp_path / "wh"), format="csv")) == "n\n2"
    assert len(Warehouse(str(tmp_path / "wh")).files(PAGES, {"dump": "20260101", "wiki": "awiki"})) == 1


def test_runs_written_before_the_lineage_columns_gain_them_and_read_them_as_null(tmp_path):
    """Schema evolution: a warehouse whose ``runs`` table predates ``parents``, ``code_version`` and
    ``config_sha256`` gets them from the next run; the old rows read them as null, in factrace and in DuckDB."""
    import deltalake
    import pyarrow as pa

    from schemas.arrow import arrow_schema
    from tracer.runs import RunRecord

    new = ("parents", "code_version", "config_sha256")
    old_schema = pa.schema([f for f in arrow_schema(RUNS) if f.name not in new])
    now = RunRecord("extract", "extract-old", {}).started_at
    row = {f.name: "" for f in old_schema} | {"run_id": "extract-old", "stage": "extract", "status": "succeeded"}
    row |= {"inputs": [], "skipped": [], "started_at": now, "finished_at": now, "duration_s": 0.0}
    row |= {"records_in": 0, "records_out": 0, "records_quarantined": 0, "records_skipped": 0}
    deltalake.write_deltalake(str(tmp_path / "wh" / "runs"), pa.Table.from_pylist([row], schema=old_schema))

    wh = Warehouse(str(tmp_path / "wh"))
    RunRecord("segment", "segment-new", {"max_tokens": 512}).finish(wh, "segment: done", "succeeded")
    rows = {r["run_id"]: r for r in Warehouse(str(tmp_path / "wh")).read(RUNS).to_pylist()}
    assert [rows["extract-old"][c] for c in new] == [None, None, None]
    assert rows["segment-new"]["parents"] == [] and len(rows["segment-new"]["config_sha256"]) == 64
    assert set(new) <= {f.name for f in deltalake.DeltaTable(str(tmp_path / "wh" / "runs")).schema().fields}
    con = duckdb.connect()
    con.sql(f"INSTALL '{EXTENSION}'; LOAD delta")
    seen = con.sql(f"select run_id, code_version from delta_scan('{tmp_path / 'wh' / 'runs'}') order by run_id")
    assert seen.fetchall() == [("extract-old", None), ("segment-new", rows["segment-new"]["code_version"])]
