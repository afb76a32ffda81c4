"""The warehouse in an S3 bucket (a real S3 server, moto, on loopback): a publish killed at any moment leaves
readers the old snapshot or the new one, never a mix; inputs and errors on a store. (The whole demo in a
bucket, equal to a local disk's rows, runs on the standalone cluster: tests/integration/test_spark_submit.py.)"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from schemas import TABLES
from tests.conftest import REPO
from tests.helpers import table_rows
from tracer import storage
from tracer.warehouse import Warehouse

pytestmark = [pytest.mark.spark, pytest.mark.s3]

contents = table_rows


PUBLISH = """
import sys
import pyarrow as pa
from schemas import PAGES
from schemas.arrow import arrow_schema
from tracer import storage
from tracer.warehouse import Warehouse, write_table

warehouse, tag, run = sys.argv[1:]
wh = Warehouse(warehouse)
partitions = [{"dump": "d", "wiki": wiki} for wiki in ("awiki", "bwiki")]
for values in partitions:
    for part in range(12):
        rows = [{"page_id": part * 100 + k, "rev_id": 1, "title": "t", "text": tag, "content_sha1": "x",
                 "char_count": 1, "paragraph_count": 1} for k in range(50)]
        path = storage.join(wh.staged_partition(run, PAGES, values), f"part-{part:03d}.parquet")
        write_table(path, pa.Table.from_pylist(rows, schema=arrow_schema(PAGES)))
wh.publish(run, [(PAGES, values) for values in partitions])
"""


def publisher(warehouse: str, tag: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PUBLISH, warehouse, tag, f"run-{tag}"], cwd=REPO)


def snapshot(warehouse: str) -> tuple:
    """What a reader sees of ``pages``: per wiki, the tags present and the row count."""
    data = Warehouse(warehouse).read(TABLES["pages"], ["wiki", "text"])
    seen = {}
    for wiki, text in zip(data.column("wiki").to_pylist(), data.column("text").to_pylist(), strict=True):
        tags, count = seen.get(wiki, (frozenset(), 0))
        seen[wiki] = (tags | {text}, count + 1)
    return tuple(sorted(seen.items()))


def whole(tag: str) -> tuple:
    return tuple((wiki, (frozenset({tag}), 600)) for wiki in ("awiki", "bwiki"))


class Reader(threading.Thread):
    """Reads the table over and over while a publisher runs, and keeps every distinct state it saw."""

    def __init__(self, warehouse: str) -> None:
        super().__init__(daemon=True)
        self.warehouse, self.seen, self.reads, self.stop = warehouse, set(), 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.seen.add(snapshot(self.warehouse))
            self.reads += 1


@pytest.mark.parametrize("where", ["local", "s3"])
def test_a_publish_killed_at_any_moment_leaves_the_old_snapshot_or_the_new(where, s3_bucket, tmp_path):
    warehouse = f"{s3_bucket}/killed" if where == "s3" else str(tmp_path / "wh")
    started = time.perf_counter()
    assert publisher(warehouse, "v0").wait(timeout=120) == 0
    duration = time.perf_counter() - started
    assert snapshot(warehouse) == whole("v0")
    current = "v0"
    for step, fraction in enumerate((0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.1), start=1):
        tag = f"v{step}"
        reader = Reader(warehouse)
        reader.start()
        proc = publisher(warehouse, tag)
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        reader.stop.set()
        reader.join(timeout=60)
        after = snapshot(warehouse)
        assert after in (whole(current), whole(tag)), f"killed after {fraction:.0%}: a reader sees {after}"
        assert reader.seen <= {whole(current), whole(tag)}, f"killed after {fraction:.0%}: readers saw a mix"
        assert reader.reads > 0
        current = tag if after == whole(tag) else current
    assert publisher(warehouse, "final").wait(timeout=120) == 0  # a rerun after the kills publishes cleanly
    assert snapshot(warehouse) == whole("final")


def factrace(*args: str, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "tracer.cli", *args], env={**os.environ, **env}, capture_output=True, text=True,
        cwd=REPO, timeout=120,
    )  # fmt: skip


def test_a_missing_bucket_or_an_unreachable_store_is_one_line_and_publishes_nothing(s3_bucket, tmp_path):
    from tests.helpers import write_mlama

    mlama = tmp_path / "mlama"
    write_mlama(mlama, "en", {"P36": [("France", "Paris")]})
    missing = factrace("query", "SELECT 1", "--warehouse", "s3://no-such-bucket-here/wh")
    assert missing.returncode == 3 and missing.stderr.count("\n") == 1
    assert "warehouse s3://no-such-bucket-here/wh does not exist" in missing.stderr
    wh = f"{s3_bucket}/unreachable"
    down = factrace(
        "facts", "--mlama", str(mlama), "--warehouse", wh, AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_MAX_ATTEMPTS="1"
    )
    line = down.stderr.strip().splitlines()[-1]
    assert down.returncode == 8 and line.startswith("factrace facts: error: s3://factrace-test/unreachable/"), line
    assert "writing failed" in line and "Spark" not in down.stderr  # found before any task started
    assert not storage.exists(wh)  # nothing was written
    again = factrace("facts", "--mlama", str(mlama), "--warehouse", wh)
    assert again.returncode == 0, again.stderr
    assert Warehouse(wh).row_count(TABLES["facts"], {"lang": "en"}) == 1


def upload(local: Path, uri: str) -> None:
    """Copy a file or a folder to the bucket."""
    if local.is_file():
        storage.write_bytes(uri, local.read_bytes())
        return
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        storage.write_bytes(storage.join(uri, *path.relative_to(local).parts), path.read_bytes())


def test_dumps_mlama_and_the_tokenizer_read_from_the_bucket_give_the_same_tables(s3_bucket, tmp_path):
    from tracer.demo import DEMO_DATA, build_wordpiece, sample_dumps
    from tracer.stages.common import LocalRunner
    from tracer.stages.extract import ExtractConfig, ExtractStage
    from tracer.stages.facts import FactsConfig, FactsStage
    from tracer.stages.segment import SegmentConfig, SegmentStage
    from tracer.stages.trace import TraceConfig, TraceStage

    texts = [Path(d).read_text(encoding="utf-8")[:20000] for d in sample_dumps()]
    tok = build_wordpiece(texts, tmp_path / "tok" / "tokenizer.json")
    inputs = f"{s3_bucket}/inputs"
    for dump in sample_dumps():
        upload(Path(dump), f"{inputs}/dumps/{Path(dump).name}")
    upload(DEMO_DATA / "mlama", f"{inputs}/mlama")
    upload(tok.parent, f"{inputs}/tok")  # a model-style folder: copied to local disk once

    def pipeline(dumps: list[str], mlama: str, tokenizer: str, warehouse: str) -> dict:
        runner = LocalRunner()
        ExtractStage(ExtractConfig(dumps=dumps, warehouse=warehouse), runner).run()
        SegmentStage(SegmentConfig(warehouse=warehouse, tokenizer=tokenizer, max_tokens=32), runner).run()
        FactsStage(FactsConfig(mlama=mlama, warehouse=warehouse), runner).run()
        TraceStage(TraceConfig(warehouse=warehouse), runner).run()
        return contents(warehouse)

    from_bucket = pipeline(
        [f"{inputs}/dumps/*-pages-articles.xml"], f"{inputs}/mlama", f"{inputs}/tok", f"{s3_bucket}/from-bucket"
    )
    from_disk = pipeline(sample_dumps(), str(DEMO_DATA / "mlama"), str(tok.parent), str(tmp_path / "wh"))
    quarantine = {"quarantine"}  # its source column names the input where it was read
    assert {k: v for k, v in from_bucket.items() if k not in quarantine} == {
        k: v for k, v in from_disk.items() if k not in quarantine
    }
    assert from_bucket["fact_presence"] and from_bucket["segments"]
    [segments] = Warehouse(f"{s3_bucket}/from-bucket").partitions(TABLES["segments"])[:1]
    assert segments["tokenizer"].startswith("tok-")  # named after the folder, as a local one is
