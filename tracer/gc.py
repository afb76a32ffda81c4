"""``factrace gc --warehouse WH --keep N``: drop all but the newest N snapshots of every wiki, then delete the
files nothing reads any more and the staging of runs that never finished.

A snapshot is a wiki's dump: its ``pages``, ``segments``, ``fact_presence`` and ``fact_classes``, and its
quarantine rows. Per-dump tables of all languages (``language_stats``, ``language_pairs``) go with the last
wiki of that dump. A dump a published report reads (``_reports/`` in the warehouse) is never dropped, nor is
the newest dump of a wiki. gc takes the update lock: it never runs beside ``factrace update``; do not run it
beside a stage started by hand either, whose unpublished files it would delete as a killed run's.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from schemas.tables import (
    FACT_CLASSES,
    FACT_PRESENCE,
    INTERVENTION_EFFECTS,
    LANGUAGE_PAIRS,
    LANGUAGE_STATS,
    PAGES,
    QUARANTINE,
    SEGMENTS,
    Table,
)
from tracer import storage
from tracer.config import option, require
from tracer.dumps.naming import wiki_language
from tracer.lock import WarehouseLock
from tracer.runs import RunRecord, new_run_id
from tracer.warehouse import STAGING, Warehouse

log = logging.getLogger("factrace.gc")
_DATED = re.compile(r"\d{8}")


@dataclass
class GcConfig:
    warehouse: str = option(help="warehouse: a local or mounted path (gc takes the update lock)")
    keep: int = option(help="snapshots (dumps) to keep per wiki, newest first")
    keep_hours: int = option(0, help="keep earlier table versions of the last N hours readable with --as-of")
    dry_run: bool = option(False, help="say what would be dropped, change nothing")

    def __post_init__(self) -> None:
        require(self.keep >= 1, f"--keep must be at least 1 (the newest snapshot is always kept), got {self.keep}")
        require(self.keep_hours >= 0, f"--keep-hours must be 0 or more, got {self.keep_hours}")


def dropped_snapshots(wh: Warehouse, keep: int) -> list[tuple[str, str]]:
    """(wiki, dump) of every snapshot beyond the newest ``keep`` of its wiki, reports' dumps excepted."""
    reported = wh.reported_dumps()
    by_wiki: dict[str, list[str]] = {}
    for values in wh.partitions(PAGES):
        by_wiki.setdefault(values["wiki"], []).append(values["dump"])
    dropped = []
    for wiki, dumps in sorted(by_wiki.items()):
        ordered = sorted(dumps, key=lambda d: (bool(_DATED.fullmatch(d)), d), reverse=True)  # undated last
        dropped += [(wiki, d) for d in ordered[keep:] if d not in reported]
    return dropped


def _partitions(wh: Warehouse, dropped: list[tuple[str, str]]) -> list[tuple[Table, dict[str, str]]]:
    """Every partition of the dropped snapshots, table by table."""
    kept_dumps = {v["dump"] for v in wh.partitions(PAGES)} - {d for _, d in dropped}
    kept = {(v["wiki"], v["dump"]) for v in wh.partitions(PAGES)} - set(dropped)
    kept_langs = {(wiki_language(w), d) for w, d in kept}
    found: list[tuple[Table, dict[str, str]]] = []
    for wiki, dump in dropped:
        lang = wiki_language(wiki)
        found += [(PAGES, v) for v in wh.partitions(PAGES, wiki=wiki, dump=dump)]
        found += [(SEGMENTS, v) for v in wh.partitions(SEGMENTS, wiki=wiki, dump=dump)]
        if (lang, dump) not in kept_langs:
            found += [(t, v) for t in (FACT_PRESENCE, FACT_CLASSES) for v in wh.partitions(t, lang=lang, dump=dump)]
        for v in wh.partitions(QUARANTINE, dump=dump):
            owner = v["scope"].split(".")[0]
            if (v["stage"] in ("extract", "segment") and owner == wiki) or (v["stage"] == "trace" and owner == lang):
                found.append((QUARANTINE, v))
    for dump in sorted({d for _, d in dropped} - kept_dumps):
        found += [
            (t, v) for t in (LANGUAGE_STATS, LANGUAGE_PAIRS, INTERVENTION_EFFECTS) for v in wh.partitions(t, dump=dump)
        ]
    return found


def run_gc(config: GcConfig) -> str:
    wh = Warehouse(config.warehouse)
    wh.must_exist()
    with WarehouseLock(config.warehouse, "gc"):
        dropped = dropped_snapshots(wh, config.keep)
        partitions = _partitions(wh, dropped)
        staging = storage.join(wh.root, STAGING)
        leftovers = [d for d in storage.list_dirs(staging)] if storage.exists(staging) else []
        what = ", ".join(f"{w} {d}" for w, d in dropped) or "no snapshot"
        if config.dry_run:
            return (
                f"gc (dry run): would drop {what} ({len(partitions)} partition(s)) and {len(leftovers)} "
                "staging folder(s) of unfinished runs"
            )
        if partitions:
            run = RunRecord("gc", new_run_id("gc"), {"keep": config.keep, "dropped": dropped})
            wh.publish(run.run_id, partitions)  # nothing staged: each partition is emptied, one commit per table
            run.records_in = run.records_out = len(partitions)
            run.outputs = {"dropped": [f"{t.name}/{'/'.join(f'{k}={v}' for k, v in vals.items())}"
                                       for t, vals in partitions]}  # fmt: skip
            run.finish(wh, f"gc: dropped {what}", "succeeded")
        for folder in leftovers:
            storage.delete_dir(folder)
        removed = wh.vacuum(config.keep_hours)
    return (
        f"gc: dropped {what} ({len(partitions)} partition(s)); deleted {len(leftovers)} staging folder(s) of "
        f"unfinished runs and {len(removed):,} file(s) nothing reads"
    )
