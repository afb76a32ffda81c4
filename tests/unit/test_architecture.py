"""Dependencies point one way: the import-linter contracts of setup.cfg hold (libraries know nothing of stages,
the CLI or Spark; only probing imports torch)."""

import subprocess
import sys

from tests.shown import REPO


def test_the_import_contracts_hold():
    """In a process of its own: import-linter reconfigures logging."""
    code = (
        "from importlinter.cli import lint_imports; "
        f"raise SystemExit(lint_imports(config_filename={str(REPO / 'setup.cfg')!r}, no_cache=True, no_logo=True))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
