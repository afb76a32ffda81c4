"""Shared fixtures: the shared data folder (with a clear failure when absent) and one Spark session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACTRACE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that use it are marked ``shared_data`` (deselect with ``-m 'not shared_data'``)."""
    if not (SHARED / "wiki").is_dir():
        pytest.fail(
            f"shared data not found at {SHARED}: these tests read the real dumps and tokenizers there. "
            "Set FACTRACE_SHARED_DATA, or deselect them with -m 'not shared_data' (see README)."
        )
    return SHARED


@pytest.fixture(scope="session")
def xlmr_tokenizer_path(shared_data: Path) -> Path:
    return shared_data / "tokenizers" / "xlm-roberta-tokenizer.json"


@pytest.fixture(scope="session")
def spark():
    """One local[2] Spark session for the whole run (integration tier)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from tracer.spark.session import spark_session

    session = spark_session("tests", "local[2]")
    yield session
    session.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The S3 server the object-store tests start (moto's server mode on loopback). Its endpoint and credentials
# are set here, before any Spark session starts, so that every executor this test run starts inherits them:
# the standard AWS variables, the same ones a cluster's executors would read.
S3_PORT = _free_port()
os.environ.update(
    AWS_ENDPOINT_URL=f"http://127.0.0.1:{S3_PORT}",
    AWS_ACCESS_KEY_ID="factrace-test",
    AWS_SECRET_ACCESS_KEY="factrace-test",
    AWS_REGION="us-east-1",
    AWS_ALLOW_HTTP="true",
)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def s3_bucket():
    """``s3://factrace-test``: a bucket on a real S3 server (moto) on 127.0.0.1, for this test run."""
    import socket
    import subprocess
    import time

    import pyarrow.fs as pafs

    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"factrace-moto-{S3_PORT}.log"), "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(S3_PORT)], stdout=log, stderr=log
    )
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", S3_PORT), 0.2).close()
            break
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"the S3 server (moto) did not start on 127.0.0.1:{S3_PORT}; see {log.name}")
            time.sleep(0.1)
    pafs.FileSystem.from_uri("s3://factrace-test?allow_bucket_creation=true")[0].create_dir("factrace-test")
    yield "s3://factrace-test"
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def demo_on_disk(tmp_path_factory) -> str:
    """The demo's warehouse on local disk (Spark local mode), run once for the tests that compare with it."""
    from tracer.demo import run_demo

    warehouse = str(tmp_path_factory.mktemp("demo-on-disk") / "wh")
    run_demo(warehouse, "local[2]")
    return warehouse
