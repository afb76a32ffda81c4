"""``spark-submit jobs/*.py`` on a standalone cluster on loopback writes the same tables as the stages run
in-process (local-mode Spark through the same code is covered by the CLI tests), with the warehouse in an
S3 bucket (the harder case: a disk warehouse is what every other Spark test uses). The master and worker
start with ``jobs/cluster/spark-daemon.sh``, as the Slurm script starts them, and executors run the packed
environment of ``make dist``, where factrace is installed from its wheel: the executors do not see this
checkout or its virtual environment."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyspark
import pytest

from schemas import FACT_PRESENCE, PAGES, RUNS, SEGMENTS, TABLES
from tests.conftest import REPO
from tests.helpers import dump_xml, page_xml, table_rows, train_wordpiece, write_dump, write_mlama
from tracer.stages.common import LocalRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.stages.trace import TraceConfig, TraceStage
from tracer.warehouse import Warehouse

SPARK_BIN = Path(pyspark.__file__).parent / "bin"
DAEMON = REPO / "jobs" / "cluster" / "spark-daemon.sh"
PACKED_ENV = REPO / "dist" / "factrace-env.tar.gz"
pytestmark = [pytest.mark.cluster, pytest.mark.s3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict[str, str]:
    return {
        **os.environ,
        "SPARK_HOME": str(SPARK_BIN.parent),
        "PYSPARK_PYTHON": "./env/bin/python",  # the executors' Python: the packed environment's
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": os.environ.get("SPARK_LOG_DIR", "/tmp/factrace-spark-logs"),
    }


def submit(master: str, job: str, *args: str) -> str:
    """The README's cluster command: the packed environment shipped with --archives, unpacked as ./env."""
    if not PACKED_ENV.is_file():
        pytest.fail(f"{PACKED_ENV.relative_to(REPO)} is missing: 'make dist' builds it ('make test' does)")
    cmd = [
        str(SPARK_BIN / "spark-submit"), "--master", master, "--archives", f"{PACKED_ENV}#env",
        str(REPO / "jobs" / job), *args,
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def run_all_stages(master: str, dump: Path, tok: Path, mlama: Path, wh: str) -> tuple[list, list, list]:
    """Extract and facts in this process (their Spark tasks are the local-mode tests'), segment and trace
    submitted: the stages whose executors load a tokenizer from the warehouse."""
    ExtractStage(ExtractConfig(dumps=[str(dump)], warehouse=str(wh), split_mb=0.002), LocalRunner()).run()
    out = submit(master, "segment.py", "--warehouse", str(wh), "--tokenizer", str(tok), "--max-tokens", "48")
    assert "segment: 40 pages ->" in out
    [segment_run] = [r for r in Warehouse(str(wh)).read(RUNS).to_pylist() if r["stage"] == "segment"]
    assert json.loads(segment_run["extra"])["word_loop"] == ["compiled"]  # the packed environment's wheel has it
    FactsStage(FactsConfig(mlama=str(mlama), warehouse=str(wh)), LocalRunner()).run()  # jobs/facts.py: test_cli
    assert "trace (tokens): 6 facts" in submit(master, "trace.py", "--warehouse", str(wh))
    return tables(wh)


def run_in_process(dump: Path, tok: Path, mlama: Path, wh: Path) -> tuple[list, list, list]:
    """The same stages with the same options, run in this process without Spark."""
    runner = LocalRunner()
    ExtractStage(ExtractConfig(dumps=[str(dump)], warehouse=str(wh), split_mb=0.002), runner).run()
    SegmentStage(SegmentConfig(warehouse=str(wh), tokenizer=str(tok), max_tokens=48), runner).run()
    FactsStage(FactsConfig(mlama=str(mlama), warehouse=str(wh)), runner).run()
    TraceStage(TraceConfig(warehouse=str(wh)), runner).run()
    return tables(wh)


def tables(wh: Path | str) -> tuple[list, list, list]:
    w = Warehouse(str(wh))
    key = lambda r: (r["page_id"], r.get("seg_no", 0))  # noqa: E731
    presence = sorted(w.read(FACT_PRESENCE).to_pylist(), key=lambda r: r["uuid"])
    return sorted(w.read(PAGES).to_pylist(), key=key), sorted(w.read(SEGMENTS).to_pylist(), key=key), presence


class StandaloneCluster:
    """A Spark master and one worker on 127.0.0.1, started with pyspark's own spark-class."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []

    def _start(self, name: str, *args: str) -> Path:
        log = self.workdir / f"{name}.log"
        cmd = [str(DAEMON), *args]
        self.procs.append(subprocess.Popen(cmd, env=env(), stdout=log.open("w"), stderr=subprocess.STDOUT))
        return log

    def _wait(self, log: Path, text: str, timeout: float = 90) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in log.read_text(errors="replace"):
                return
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.5)
        raise RuntimeError(f"{log.name} never said {text!r}:\n{log.read_text(errors='replace')[-3000:]}")

    def __enter__(self) -> str:
        master = self._start("master", "master", "127.0.0.1", str(self.port), str(free_port()))
        self._wait(master, "I have been elected leader")
        url = f"spark://127.0.0.1:{self.port}"
        work = str(self.workdir / "work")
        worker = self._start("worker", "worker", url, "127.0.0.1", "2", "2g", work, str(free_port()))
        self._wait(worker, "Successfully registered with master")
        return url

    def __exit__(self, *exc: object) -> None:
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> str:
    """One master and worker for the module's tests (a start costs seconds)."""
    with StandaloneCluster(tmp_path_factory.mktemp("cluster")) as url:
        yield url


def test_spark_submit_on_a_standalone_cluster_equals_the_stages_in_process(tmp_path, s3_bucket, cluster):
    pages = [page_xml(i, f"Town {i}", f"Town {i} lies in [[Region {i % 3}]]. " * 300) for i in range(1, 41)]
    dump = write_dump(tmp_path / "testwiki-20240101-pages-articles.xml.bz2", dump_xml(pages), compress=True)
    tok = tmp_path / "tok.json"
    train_wordpiece([f"Town {i} lies in Region {i % 3}." for i in range(50)], vocab_size=200).save(str(tok))

    pairs = [(f"Town {i}", f"Region {i % 3}") for i in range(1, 5)] + [("Town 99", "Region 1"), ("Town 7", "Town")]
    mlama = tmp_path / "mlama"
    write_mlama(mlama, "test", {"P131": pairs})  # testwiki traces as language "test"

    local = run_in_process(dump, tok, mlama, tmp_path / "wh-local")
    # one round, the warehouse in a bucket: a disk warehouse is the easier case
    submitted = run_all_stages(cluster, dump, tok, mlama, f"{s3_bucket}/cluster")
    assert submitted[0] == local[0] and len(local[0]) == 40
    assert submitted[1] == local[1] and len(local[1]) > 40
    assert submitted[2] == local[2] and [r["present"] for r in local[2]] == [True, True, True, True, False, True]


def test_the_demo_on_a_standalone_cluster_with_its_warehouse_in_a_bucket(tmp_path, s3_bucket, demo_on_disk, cluster):
    """The whole demo, extract through report, with the cluster's executors and the warehouse in S3. Its
    executors run this environment's Python (probing needs torch, which the default packed one leaves out)."""
    warehouse = f"{s3_bucket}/cluster-demo"
    cmd = [sys.executable, "-m", "tracer.cli", "demo", "--master", cluster, "--warehouse", warehouse,
           "--work", str(tmp_path / "work")]  # fmt: skip
    proc = subprocess.run(cmd, env={**env(), "PYSPARK_PYTHON": sys.executable}, capture_output=True, text=True,
                          timeout=600, cwd=REPO)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "report: 4 language(s)" in proc.stdout and (tmp_path / "work" / "report" / "report.html").is_file()
    assert f"tables written under {warehouse}: fact_classes, fact_presence, facts" in proc.stdout
    in_bucket = table_rows(warehouse)
    assert in_bucket == table_rows(demo_on_disk)  # the demo in a bucket gives the rows of a local disk
    assert all(in_bucket[name] for name in ("pages", "segments", "fact_presence", "predictions", "fact_classes"))
    assert Warehouse(warehouse).version(TABLES["fact_classes"]) == 3  # created, then a commit per classify run (3)
