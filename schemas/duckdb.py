"""DuckDB column types derived from ``schemas.tables`` (for empty views and documentation)."""

from __future__ import annotations

from schemas.tables import Column, Table

_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "binary": "BLOB",
    "timestamp": "TIMESTAMPTZ",
    "list<int32>": "INTEGER[]",
    "list<float32>": "FLOAT[]",
    "list<string>": "VARCHAR[]",
    "list<input>": "STRUCT(path VARCHAR, bytes BIGINT, sha256 VARCHAR)[]",
    "list<evidence>": "STRUCT(page_id BIGINT, seg_no INTEGER)[]",
    "map<string,int64>": "MAP(VARCHAR, BIGINT)",
}


def duckdb_type(column: Column) -> str:
    return _TYPES[column.type]


def empty_select(table: Table) -> str:
    """A SELECT with the table's columns (partitions included) and no rows."""
    columns = ", ".join(f'CAST(NULL AS {duckdb_type(c)}) AS "{c.name}"' for c in table.all_columns)
    return f"SELECT {columns} WHERE false"
