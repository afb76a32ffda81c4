"""Crash safety: ``factrace update`` killed with SIGKILL at several points (in an extract task, while a segment
file is written, between staging and publish, between two commits of one publish), then run again, ends
with the tables an uninterrupted update makes: no row lost, none twice. A worker lost on its first attempt is
run again by Spark, without duplicates. A reader querying all the while sees whole partitions only. ``gc``
then leaves no staging and no file that no table reads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from schemas import PAGES, TABLES
from tests.helpers import table_rows
from tests.integration.test_update import add_dump
from tracer.demo import DEMO_DATA, build_wordpiece, sample_dumps
from tracer.update import UpdateConfig, run_update
from tracer.warehouse import STAGING, Warehouse

pytestmark = pytest.mark.spark
REPO = Path(__file__).resolve().parents[2]
# In the order a first update reaches them: the first commit of the facts publish (facts committed, its
# quarantine not), an extract task, a segment file being written, segments staged and not yet published.
KILL_POINTS = ("publish:quarantine", "extract:task", "segment:write", "publish:segments")


def _setup(root: Path) -> Path:
    """One wiki: every stage of an update, and as few as that needs (each kill costs a Spark start)."""
    source = next(Path(p) for p in sample_dumps() if Path(p).name.startswith("enwiki"))
    add_dump(root / "dumps", "enwiki", "20260101", source)
    tok = build_wordpiece([source.read_text(encoding="utf-8")], root / "tok" / "tokenizer.json")
    config = root / "factrace.toml"
    config.write_text(
        f'warehouse = "wh"\ndumps = "dumps"\nwikis = ["enwiki"]\ntokenizer = "{tok}"\n'
        f'mlama = "{DEMO_DATA / "mlama"}"\nmatch_modes = ["tokens"]\n'
    )
    return config


def _update(config: Path, marker: Path, master: str = "local[2]", **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tracer.cli", "update", "--config", str(config), "--master", master],
        cwd=REPO, env={**os.environ, "FACTRACE_PAUSE_FILE": str(marker), **env}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _kill_at(config: Path, point: str, marker: Path) -> None:
    proc = _update(config, marker, FACTRACE_PAUSE_AT=point)
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert proc.poll() is None, f"update ended before reaching {point}: {proc.stdout.read()}"
        assert time.monotonic() < deadline, f"update did not reach {point}"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver, its JVM and every Python worker
    proc.wait(timeout=60)


class Reader(threading.Thread):
    """Reads ``pages`` in a loop and notes every partition whose row count is not a whole partition's."""

    def __init__(self, warehouse: Path, whole: dict[tuple, int]) -> None:
        super().__init__(daemon=True)
        self.warehouse, self.whole, self.stop = str(warehouse), whole, threading.Event()
        self.reads, self.torn = 0, []

    def run(self) -> None:
        while not self.stop.wait(0.2):  # a few reads a second: enough to meet every commit, not a busy loop
            if not (Path(self.warehouse) / "pages" / "_delta_log").exists():
                continue
            data = Warehouse(self.warehouse).read(PAGES, ["dump", "wiki"]).to_pylist()
            counts: dict[tuple, int] = {}
            for row in data:
                counts[(row["dump"], row["wiki"])] = counts.get((row["dump"], row["wiki"]), 0) + 1
            self.torn += [(k, n) for k, n in counts.items() if n != self.whole[k]]
            self.reads += 1


def test_update_killed_anywhere_then_rerun_equals_an_uninterrupted_update(tmp_path):
    reference = _setup(tmp_path / "reference")
    run_update(UpdateConfig(str(reference)))
    expected = table_rows(str(tmp_path / "reference" / "wh"))
    whole: dict[tuple, int] = {}
    for row in Warehouse(str(tmp_path / "reference" / "wh")).read(PAGES, ["dump", "wiki"]).to_pylist():
        whole[(row["dump"], row["wiki"])] = whole.get((row["dump"], row["wiki"]), 0) + 1

    config = _setup(tmp_path / "crashed")
    wh = tmp_path / "crashed" / "wh"
    reader = Reader(wh, whole)
    reader.start()
    for n, point in enumerate(KILL_POINTS):
        _kill_at(config, point, tmp_path / f"reached-{n}")
    assert orphans(wh), "the kills left no unpublished file: the test did not kill mid-run"
    # the last run loses a worker in its first segment task; local[2,2] lets Spark try a task twice
    lost = _update(config, tmp_path / "crashed-once", "local[2,2]", FACTRACE_CRASH_ONCE="segment:write")
    out, _ = lost.communicate(timeout=300)
    assert lost.returncode == 0, out
    assert (tmp_path / "crashed-once").exists(), "no worker was lost: the retry was not tested"
    reader.stop.set()
    reader.join(timeout=60)
    assert reader.reads > 0 and reader.torn == [], f"a reader saw part of a partition: {reader.torn[:3]}"

    assert table_rows(str(wh)) == expected
    assert run_update(UpdateConfig(str(config))) == "update: nothing new"

    from tracer.gc import GcConfig, run_gc

    line = run_gc(GcConfig(str(wh), keep=1))
    assert "dropped no snapshot" in line and "staging folder(s)" in line
    assert not (wh / STAGING).exists() or not any((wh / STAGING).iterdir())
    assert orphans(wh) == set()
    assert table_rows(str(wh)) == expected


def orphans(wh: Path) -> set[str]:
    """Data files on disk that no table's current version reads: what killed runs leave."""
    live = Warehouse(str(wh))
    found = set()
    for table in TABLES.values():
        partitions = live.partitions(table) if table.partitions else [{}]
        read = {f for values in partitions for f in live.files(table, values)}
        found |= {str(p) for p in (wh / table.name).rglob("*.parquet")} - read
    return found
