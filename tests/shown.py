"""Command outputs shown in the README come from real runs, and the tests fail when they drift.

A shown output is a fenced block right after a marker::

    <!-- output: demo -->
    ```
    $ make demo
    ...
    ```

The test that runs the command calls ``check_shown("demo", output)``: the block must equal the output
once both are normalized (run ids and the test's temporary paths vary from run to run, nothing
else may). ``FACTRACE_WRITE_OUTPUTS=1`` makes the same call write the output into the block
instead (``make outputs``). Outputs too slow for ``make test`` (a 52-minute probe of all of
mLAMA) are marked ``<!-- output: NAME recorded COMMAND, DATE -->``: they were produced by that
command on that date and are not rerun; ``test_every_shown_output_is_checked_or_recorded`` keeps
every other block honest.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = (REPO / "README.md",)
MARKER = re.compile(
    r"<!-- output: (?P<name>[\w-]+)(?P<recorded> recorded [^>]*)? -->\n```[^\n]*\n(?P<body>.*?)```", re.S
)
RUN_ID = re.compile(r"\b([a-z]+)-\d{8}T\d{6}-[0-9a-f]{6}\b")
# Every block a test reruns, and the test that does: the others must be marked ``recorded``.
CHECKED = {
    "demo": "tests/integration/test_demo.py",
    "extract-truncated": "tests/realdata/test_shared_dumps.py",
    "trace-shared": "tests/realdata/test_trace_shared.py",
    "query-absence": "tests/realdata/test_trace_shared.py",
    "query-evidence": "tests/realdata/test_trace_shared.py",
    "query-en-ja": "tests/realdata/test_trace_shared.py",
}


@dataclass(frozen=True, slots=True)
class Shown:
    path: Path
    name: str
    body: str
    recorded: str | None
    start: int
    end: int


def shown_blocks() -> dict[str, Shown]:
    found = {}
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        for m in MARKER.finditer(text):
            recorded = m.group("recorded").strip() if m.group("recorded") else None
            found[m.group("name")] = Shown(path, m.group("name"), m.group("body"), recorded, *m.span("body"))
    return found


def normalize(text: str, replace: dict[str, str] | None = None) -> str:
    """What may differ between two runs of the same command: run ids, and the paths a test chose."""
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    text = RUN_ID.sub(r"\1-RUN", text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def check_shown(name: str, output: str, replace: dict[str, str] | None = None) -> None:
    """Compare ``output`` (with the test's paths replaced by the ones the README shows) with the block."""
    block = shown_blocks()[name]
    actual = normalize(output, replace)
    if os.environ.get("FACTRACE_WRITE_OUTPUTS"):
        text = block.path.read_text(encoding="utf-8")
        shown = "\n".join(line.rstrip() for line in output_for_readme(output, replace).splitlines()) + "\n"
        block.path.write_text(text[: block.start] + shown + text[block.end :], encoding="utf-8")
        return
    expected = normalize(block.body)
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "shown", "actual"))
        raise AssertionError(
            f"{block.path.name}: the output shown as {name!r} drifted from what the command prints now; "
            f"rewrite it with 'make outputs' (FACTRACE_WRITE_OUTPUTS=1) and review the diff:\n{diff}"
        )


def output_for_readme(output: str, replace: dict[str, str] | None = None) -> str:
    for old, new in (replace or {}).items():
        output = output.replace(old, new)
    return output.strip("\n") + "\n"


def sql_before(name: str) -> str:
    """The ``sql`` block the README shows right before the output ``name`` (the query that printed it)."""
    block = shown_blocks()[name]
    text = block.path.read_text(encoding="utf-8")[: block.start]
    return re.findall(r"```sql\n(.*?)```", text, re.S)[-1]
