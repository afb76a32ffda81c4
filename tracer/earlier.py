"""Rows of an earlier snapshot of the same wiki, found by page id, so an update copies them instead of
cleaning or tokenizing an unchanged page again.

Both tables are written in dump order, and dumps list pages by ascending id, so each row group of a
``pages`` or ``segments`` file covers a narrow range of page ids; the Parquet statistics of ``page_id``
say which row groups can hold a page, and only those are read. Files in any other order are still
found, only more slowly: the lookups are exact, never by position.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracer import storage
from tracer.records import Page

PAGE_COLUMNS = [f.name for f in dataclasses.fields(Page)]


@dataclass(frozen=True, slots=True)
class _RowGroup:
    file_no: int
    index: int
    low: int
    high: int


def _row_groups(files: list[str]) -> list[_RowGroup]:
    """Every row group of the files with its ``page_id`` range (unknown range: everything), from their footers;
    no file is held open (a snapshot has hundreds)."""
    groups = []
    for file_no, path in enumerate(files):
        with storage.open_input(path) as f:
            metadata = pq.read_metadata(f)
        column = metadata.schema.to_arrow_schema().get_field_index("page_id")
        for index in range(metadata.num_row_groups):
            stats = metadata.row_group(index).column(column).statistics
            known = stats is not None and stats.has_min_max
            groups.append(_RowGroup(file_no, index, stats.min if known else -(2**63), stats.max if known else 2**63))
    return groups


def _read_group(path: str, index: int, columns: list[str] | None = None) -> pa.Table:
    with storage.open_input(path) as f:
        return pq.ParquetFile(f).read_row_group(index, columns=columns)


class EarlierPages:
    """``get(page_id)``: the page as an earlier snapshot has it, or None; a few row groups stay in memory."""

    def __init__(self, files: list[str], cached_groups: int = 4) -> None:
        self._files = files
        self._groups = sorted(_row_groups(files), key=lambda g: (g.low, g.high))
        self._lows = [g.low for g in self._groups]
        self._reach = []  # the highest page id of this group and every group before it
        for group in self._groups:
            self._reach.append(max(group.high, self._reach[-1] if self._reach else group.high))
        self._cache: OrderedDict[tuple[int, int], dict[int, Page]] = OrderedDict()
        self._cached_groups = cached_groups

    def get(self, page_id: int) -> Page | None:
        i = bisect_right(self._lows, page_id) - 1
        while i >= 0 and self._reach[i] >= page_id:  # every group whose range holds the id, nearest first
            group = self._groups[i]
            if group.high >= page_id and (page := self._pages(group).get(page_id)) is not None:
                return page
            i -= 1
        return None

    def _pages(self, group: _RowGroup) -> dict[int, Page]:
        key = (group.file_no, group.index)
        pages = self._cache.get(key)
        if pages is None:
            table = _read_group(self._files[group.file_no], group.index, PAGE_COLUMNS)
            columns = [table.column(name).to_pylist() for name in PAGE_COLUMNS]
            pages = {values[0]: Page(*values) for values in zip(*columns, strict=True)}
            self._cache[key] = pages
            if len(self._cache) > self._cached_groups:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return pages


def earlier_segments(files: list[str], page_ids: pa.Array, content_sha1: pa.Array) -> pa.Table:
    """The earlier segments of every page whose ``(page_id, content_sha1)`` is among the given pairs, with a
    ``position`` column (the page's index in ``page_ids``), sorted by position and ``seg_no``."""
    if not files or len(page_ids) == 0:
        return pa.table({"position": pa.array([], pa.int64())})
    low, high = pc.min(page_ids).as_py(), pc.max(page_ids).as_py()
    wanted = _pair_keys(page_ids, content_sha1)
    groups = _row_groups(files)
    pieces = []
    for group in groups:
        if group.high < low or group.low > high:
            continue
        rows = _read_group(files[group.file_no], group.index)
        rows = rows.filter(pc.is_in(_pair_keys(rows.column("page_id"), rows.column("content_sha1")), wanted))
        if rows.num_rows:
            pieces.append(rows)
    if not pieces:
        return pa.table({"position": pa.array([], pa.int64())})
    found = pa.concat_tables(pieces)
    found = found.append_column("position", pc.index_in(found.column("page_id"), page_ids).cast(pa.int64()))
    return found.sort_by([("position", "ascending"), ("seg_no", "ascending")])


def _pair_keys(page_ids: pa.Array | pa.ChunkedArray, content_sha1: pa.Array | pa.ChunkedArray) -> pa.Array:
    return pc.binary_join_element_wise(pc.cast(page_ids, pa.string()), content_sha1, ":")
