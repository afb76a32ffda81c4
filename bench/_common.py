"""Helpers shared by the benchmarks: the shared data, a pages warehouse built once, JSON output."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACTRACE_SHARED_DATA", REPO.parent / "shared" / "data"))
OUT = REPO / "bench" / "out"


def shared() -> Path:
    if not (SHARED / "wiki").is_dir():
        sys.exit(f"shared data not found at {SHARED} (set FACTRACE_SHARED_DATA)")
    return SHARED


def real_dumps() -> list[Path]:
    """The real sample dumps (the truncated copy and the duplicate ltg file left out)."""
    wiki = shared() / "wiki"
    skip = ("index", "truncated", "multistream.xml")
    return sorted(p for p in wiki.glob("*.xml.bz2") if not any(s in p.name for s in skip))


def pages_warehouse() -> Path:
    """A warehouse with the pages of every real dump, extracted once and reused."""
    from tracer.stages.common import LocalRunner
    from tracer.stages.extract import ExtractConfig, ExtractStage

    wh = OUT / "pages-wh"
    if not (wh / "pages" / "_delta_log").is_dir():  # absent, or written before tables were Delta tables
        import shutil

        shutil.rmtree(wh, ignore_errors=True)
        for path in real_dumps():
            label = path.name.split(".xml")[0].replace("_", "-")
            ExtractStage(ExtractConfig(dumps=[str(path)], warehouse=str(wh), dump=label), LocalRunner()).run()
    return wh


def tool_python(name: str, requirement: str) -> Path:
    """The Python of an environment of its own under bench/.venvs with ``requirement`` installed (once): tools
    the benchmarks compare against are run there, never imported into factrace's environment."""
    import subprocess

    venv = REPO / "bench" / ".venvs" / name
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], check=True)
    return python


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def emit(result: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    print(json.dumps(result, indent=2, sort_keys=True))
