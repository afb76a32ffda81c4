"""Which earlier snapshot an update may copy rows from (DESIGN: never tokenize an unchanged page twice).

A stage that copies rows records, per partition it writes, the signature of what made them (the code's
version and every setting the rows depend on) in its ``runs`` row. A later dump of the same wiki may
copy from the newest earlier dump whose partition was written with the same signature, and from no
other: rows made by other code or settings are made again.
"""

from __future__ import annotations

import json
import re

from schemas.tables import RUNS, Table
from tracer.warehouse import Warehouse, partition_path

SIGNATURES = "reuse_signatures"  # the key in a run's ``extra``: {partition path: signature}
_DATED = re.compile(r"\d{8}")


def earlier_partition(
    wh: Warehouse, table: Table, values: dict[str, str], signature: str, signatures: dict[str, dict[str, str]]
) -> dict[str, str] | None:
    """The partition of the newest dump before ``values['dump']``, equal in every other partition value, that was
    written with ``signature`` (``signatures``: ``run_signatures(wh)``, read once per stage run); None when there is
    none (an undated dump never has one)."""
    if not _DATED.fullmatch(values["dump"]):
        return None
    same = {k: v for k, v in values.items() if k != "dump"}
    earlier = [v for v in wh.partitions(table, **same) if _DATED.fullmatch(v["dump"]) and v["dump"] < values["dump"]]
    for candidate in sorted(earlier, key=lambda v: v["dump"], reverse=True):
        path = partition_path(table, candidate)
        writers = wh.writers(table, candidate)
        if writers and all(signatures.get(run, {}).get(path) == signature for run in writers):
            return candidate
    return None


def run_signatures(wh: Warehouse) -> dict[str, dict[str, str]]:
    """{run id: {partition path: signature}} of every run that recorded signatures."""
    found = {}
    for row in wh.read(RUNS, columns=["run_id", "extra"]).to_pylist():
        extra = json.loads(row["extra"] or "{}")
        if SIGNATURES in extra:
            found[row["run_id"]] = extra[SIGNATURES]
    return found
