"""Render ``docs/tables.md`` from the declarations: ``python -m schemas.docs > docs/tables.md``."""

from __future__ import annotations

import sys

from schemas.tables import SCHEMA_VERSION, TABLES, Table


def render_table(table: Table) -> str:
    lines = [f"## `{table.name}`", "", table.doc, ""]
    parts = ", ".join(f"`{p}`" for p in table.partition_names) or "none"
    lines += [f"Partitions: {parts}. Key: {', '.join(f'`{k}`' for k in table.key)}.", ""]
    lines += ["| column | type | null | meaning |", "|---|---|---|---|"]
    for c in table.columns:
        lines.append(f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {c.doc} |")
    for c in table.partitions:
        lines.append(f"| `{c.name}` (partition) | {c.type} | no | {c.doc} |")
    lines.append("")
    lines += [f"{note}\n" for note in table.notes]
    return "\n".join(lines)


# Read a table without factrace. tests/integration/test_readers.py runs the DuckDB snippet on a warehouse.
DUCKDB_SNIPPET = """import duckdb

con = duckdb.connect()
con.sql("INSTALL delta; LOAD delta")  # offline: pip install duckdb-extension-delta, INSTALL '<its file>'
con.sql(\"\"\"select wiki, count(*) as pages, sum(char_count) as chars
           from delta_scan('wh/pages') group by wiki order by wiki\"\"\").show()"""

POLARS_SNIPPET = """import polars as pl

pl.read_delta("wh/fact_classes").filter(pl.col("correct")).group_by("lang", "pattern").len()"""

SPARK_SNIPPET = """# spark-submit --packages io.delta:delta-spark_2.13:4.0.0 ...
spark.read.format("delta").load("s3a://bucket/wh/language_stats").show()"""

READING = f"""## Reading the tables

Every table is a [Delta Lake](https://delta.io) table: Parquet files plus a commit log
(`<table>/_delta_log/`). A stage publishes a table in one commit, so a reader sees the table as it
was before the run or after it, never a mix, on a local disk and on an object store alike. Readers
that follow the log (below) see exactly the published rows. Partition columns are strings in every
reader: the log declares their type.

DuckDB (tested on every `make test`):

```python
{DUCKDB_SNIPPET}
```

polars:

```python
{POLARS_SNIPPET}
```

Spark, with Delta's connector (not run by the tests: it comes from Maven, which the build machine does
not reach; take the `delta-spark` release made for your Spark version):

```python
{SPARK_SNIPPET}
```

Do not glob the Parquet files (`wh/pages/**/*.parquet`): a table keeps the files of earlier
versions for `factrace query --as-of` until they are vacuumed, and a run's files are there before
its commit. `factrace query` itself reads through the log; its `table_versions` view lists every
commit and the run that made it, and `--as-of TIME|RUN_ID` reads every table as it was then.
"""


def render() -> str:
    head = [
        "# factrace tables",
        "",
        f"Generated from `schemas/tables.py` (schema version {SCHEMA_VERSION}) by `python -m schemas.docs`;",
        "do not edit by hand. Layout: `<warehouse>/<table>/_delta_log/` and",
        "`<warehouse>/<table>/<partition>=<value>/.../<run_id>/part-*.parquet`.",
        "",
        READING,
    ]
    return "\n".join(head + [render_table(t) for t in TABLES.values()])


if __name__ == "__main__":
    sys.stdout.write(render())
