"""A store that fails mid-write (here: a file-size limit, as a full disk does, without needing a mount) ends in
one line naming the file and the operation, publishes nothing, leaves no file behind, and the same command
succeeds once the store is fixed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from schemas import FACTS, RUNS
from tests.conftest import REPO
from tests.helpers import write_mlama
from tracer.warehouse import Warehouse

RUN_FACTS = """
import resource, signal, sys
from tracer.errors import FactraceError
from tracer.stages.common import LocalRunner
from tracer.stages.facts import FactsConfig, FactsStage

mlama, warehouse, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG, like ENOSPC
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    print(FactsStage(FactsConfig(mlama=mlama, warehouse=warehouse), LocalRunner()).run().message)
except FactraceError as err:
    print(f"exit {err.exit_code}: {err}")
"""


def facts(mlama: Path, warehouse: Path, limit: int = 0) -> str:
    argv = [sys.executable, "-c", RUN_FACTS, str(mlama), str(warehouse), str(limit)]
    return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=REPO).stdout.strip()


def test_a_write_that_fails_midway_is_one_line_publishes_nothing_and_the_rerun_succeeds(tmp_path):
    pairs = [(f"Subject number {i} of a long list", f"Object {i} with a long label") for i in range(3000)]
    write_mlama(tmp_path / "mlama", "en", {"P36": pairs})
    wh = tmp_path / "wh"
    line = facts(tmp_path / "mlama", wh, limit=24 * 1024)
    assert line.startswith("exit 8: ") and "/facts/lang=en/" in line and "writing failed" in line, line
    assert "\n" not in line
    published = Warehouse(str(wh))
    assert published.partitions(FACTS) == []
    assert not list((wh / "facts").rglob("*.parquet"))  # the run's unfinished files were removed
    assert [r["status"] for r in published.read(RUNS).to_pylist()] == ["failed"]
    assert facts(tmp_path / "mlama", wh).startswith("facts: 3,000 facts in 1 language(s)")
    assert Warehouse(str(wh)).row_count(FACTS, {"lang": "en"}) == 3000
