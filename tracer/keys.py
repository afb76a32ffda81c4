"""Every table's declared key is unique within its partition: find repeats before a partition is published.

Only the key columns are read, from the Parquet files of one staged partition,
so the check costs a column scan, not a table read. A null key value counts as
equal to another null (the quarantine key has a nullable ``record_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

_FILE, _ROW = "__file_no", "__row_no"


@dataclass(frozen=True, slots=True)
class Repeats:
    """Key values that occur more than once in a set of files."""

    key: tuple[str, ...]
    values: list[tuple]  # sorted, one per repeated key value
    extra_rows: int  # rows beyond the first of each key value

    def __bool__(self) -> bool:
        return bool(self.values)

    def example(self, n: int = 3) -> str:
        shown = ", ".join(_show(v) for v in self.values[:n])
        return shown + (f" and {len(self.values) - n:,} more" if len(self.values) > n else "")


def _show(value: tuple) -> str:
    return repr(value[0]) if len(value) == 1 else "(" + ", ".join(repr(v) for v in value) + ")"


def parquet_files(directory: Path) -> list[Path]:
    """The data files of a partition directory, in name order (hidden in-progress files excluded)."""
    return sorted(p for p in directory.glob("*.parquet") if not p.name.startswith((".", "_")))


def _key_columns(files: Sequence[Path], key: Sequence[str], numbered: bool = False) -> pa.Table | None:
    pieces = []
    for file_no, path in enumerate(files):
        piece = pq.read_table(path, columns=list(key))
        if numbered:
            piece = piece.append_column(_FILE, pa.array([file_no] * piece.num_rows, pa.int32()))
            piece = piece.append_column(_ROW, pa.array(range(piece.num_rows), pa.int64()))
        pieces.append(piece)
    return pa.concat_tables(pieces, promote_options="permissive") if pieces else None


def find_repeats(files: Sequence[Path], key: Sequence[str]) -> Repeats:
    """Key values that occur in more than one row of ``files``."""
    rows = _key_columns(files, key)
    if rows is None or rows.num_rows == 0:
        return Repeats(tuple(key), [], 0)
    counts = rows.group_by(list(key)).aggregate([([], "count_all")])
    repeated = counts.filter(pc.greater(counts["count_all"], 1))
    values = sorted(
        zip(*(repeated[c].to_pylist() for c in key), strict=True), key=lambda v: tuple((x is None, x) for x in v)
    )
    extra = sum(repeated["count_all"].to_pylist()) - repeated.num_rows
    return Repeats(tuple(key), values, extra)


def later_copies(files: Sequence[Path], key: Sequence[str]) -> dict[Path, list[int]]:
    """Rows whose key value already occurred earlier (files in the given order, then row order), per file.
    Keeping the first copy makes the result deterministic for a given file order. Keys must not be null."""
    repeats = find_repeats(files, key)
    if not repeats:
        return {}
    rows = _key_columns(files, key, numbered=True)
    wanted = pa.table({c: [v[i] for v in repeats.values] for i, c in enumerate(key)}, schema=rows.select(key).schema)
    hits = rows.join(wanted, keys=list(key), join_type="inner").sort_by([(_FILE, "ascending"), (_ROW, "ascending")])
    seen: set[tuple] = set()
    later: dict[Path, list[int]] = {}
    for record in hits.to_pylist():
        value = tuple(record[c] for c in key)
        if value in seen:
            later.setdefault(files[record[_FILE]], []).append(record[_ROW])
        seen.add(value)
    return later


def split_rows(path: Path, rows: Sequence[int]) -> tuple[pa.Table, pa.Table]:
    """The rows of ``path`` not in ``rows`` (row numbers), and those in it."""
    data = pq.read_table(path)
    mask = pc.is_in(pa.array(range(data.num_rows), pa.int64()), pa.array(sorted(rows), pa.int64()))
    return data.filter(pc.invert(mask)), data.filter(mask)
