"""Spark schemas derived from ``schemas.tables`` (imports pyspark; executors only)."""

from __future__ import annotations

from pyspark.sql import types as T

from schemas.tables import Column, Table

_INPUT_STRUCT = T.StructType(
    [
        T.StructField("path", T.StringType(), False),
        T.StructField("bytes", T.LongType(), False),
        T.StructField("sha256", T.StringType(), False),
    ]
)

_EVIDENCE_STRUCT = T.StructType(
    [T.StructField("page_id", T.LongType(), False), T.StructField("seg_no", T.IntegerType(), False)]
)

_TYPES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "int32": T.IntegerType(),
    "int64": T.LongType(),
    "float64": T.DoubleType(),
    "bool": T.BooleanType(),
    "binary": T.BinaryType(),
    "timestamp": T.TimestampType(),
    "list<int32>": T.ArrayType(T.IntegerType(), containsNull=False),
    "list<float32>": T.ArrayType(T.FloatType(), containsNull=False),
    "list<string>": T.ArrayType(T.StringType(), containsNull=False),
    "list<input>": T.ArrayType(_INPUT_STRUCT, containsNull=False),
    "list<evidence>": T.ArrayType(_EVIDENCE_STRUCT, containsNull=False),
    "map<string,int64>": T.MapType(T.StringType(), T.LongType()),
}


def spark_field(column: Column) -> T.StructField:
    return T.StructField(column.name, _TYPES[column.type], column.nullable, metadata={"doc": column.doc})


def spark_schema(table: Table, with_partitions: bool = True) -> T.StructType:
    """The schema a Spark reader of the table sees (partition columns last)."""
    columns = table.all_columns if with_partitions else table.columns
    return T.StructType([spark_field(c) for c in columns])
