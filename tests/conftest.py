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
