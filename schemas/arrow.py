"""Arrow schemas derived from ``schemas.tables``."""

from __future__ import annotations

import pyarrow as pa

from schemas.tables import Column, Table

INPUT_STRUCT = pa.struct(
    [
        pa.field("path", pa.string(), nullable=False),
        pa.field("bytes", pa.int64(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
    ]
)

EVIDENCE_STRUCT = pa.struct(
    [pa.field("page_id", pa.int64(), nullable=False), pa.field("seg_no", pa.int32(), nullable=False)]
)

_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "binary": pa.binary(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "list<int32>": pa.list_(pa.field("element", pa.int32(), nullable=False)),
    "list<float32>": pa.list_(pa.field("element", pa.float32(), nullable=False)),
    "list<string>": pa.list_(pa.field("element", pa.string(), nullable=False)),
    "list<input>": pa.list_(pa.field("element", INPUT_STRUCT, nullable=False)),
    "list<evidence>": pa.list_(pa.field("element", EVIDENCE_STRUCT, nullable=False)),
    "map<string,int64>": pa.map_(pa.string(), pa.int64()),
}


def arrow_type(column: Column) -> pa.DataType:
    return _TYPES[column.type]


def arrow_field(column: Column) -> pa.Field:
    return pa.field(column.name, arrow_type(column), nullable=column.nullable, metadata={"doc": column.doc})


def arrow_schema(table: Table, with_partitions: bool = False) -> pa.Schema:
    """The schema of the Parquet files (partition columns live in the path unless asked for)."""
    columns = table.all_columns if with_partitions else table.columns
    return pa.schema(
        [arrow_field(c) for c in columns],
        metadata={"factrace.table": table.name, "factrace.schema_version": str(table.version)},
    )
