"""Named points where a crash test stops factrace, as a kill, a power cut or a lost executor would.

``FACTRACE_PAUSE_AT=<point>``: the process that reaches the point writes its pid to ``FACTRACE_PAUSE_FILE``
and waits there; the test kills the whole process group with SIGKILL, then reruns and compares.
``FACTRACE_CRASH_ONCE=<point>``: the first process to reach the point (``FACTRACE_PAUSE_FILE`` not yet there)
exits at once, as an executor killed for memory would; Spark runs the task again. Unset (always, outside
tests), a point costs one check of a flag read at import.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_AT, CRASH_ONCE, MARKER = "FACTRACE_PAUSE_AT", "FACTRACE_CRASH_ONCE", "FACTRACE_PAUSE_FILE"
# read once: a test sets these before the process (and its Spark workers) starts; extract reaches a point per page
_ARMED = PAUSE_AT in os.environ or CRASH_ONCE in os.environ


def reached(point: str) -> None:
    if not _ARMED:
        return
    if os.environ.get(PAUSE_AT) == point:
        Path(os.environ[MARKER]).write_text(str(os.getpid()))
        time.sleep(600)
    elif os.environ.get(CRASH_ONCE) == point:
        try:
            fd = os.open(os.environ[MARKER], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(fd)
        os._exit(137)
