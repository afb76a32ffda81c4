"""Progress lines: units, share, rate and ETA; silent for short work; one line per interval, no carriage return."""

import logging

from tracer.progress import Progress, Work
from tracer.stages.common import LocalRunner


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_lines_say_units_share_rate_and_eta(caplog):
    clock = Clock()
    progress = Progress("extract", 4, Work("MB", [100, 100, 200, 100]), first_after=5, every=15, clock=clock)
    with caplog.at_level(logging.INFO, logger="factrace.progress"):
        clock.now = 2
        progress.update(1, 100)  # too early: nothing
        clock.now = 10
        progress.update(2, 200)
        clock.now = 12
        progress.update(3, 400)  # within the interval: nothing
        clock.now = 20
        progress.update(4, 500)  # the end: said, since a line was said before
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "extract: 2/4 tasks, 200.0 of 500.0 MB (40.0 %), 20.0 MB/s, ETA 15s",
        "extract: 4/4 tasks, 500.0 of 500.0 MB (100.0 %), 25.0 MB/s, done in 20s",
    ]
    assert not any("\r" in line for line in lines)


def test_short_work_says_nothing(caplog):
    clock = Clock()
    progress = Progress("facts", 2, Work("languages"), clock=clock)
    with caplog.at_level(logging.INFO, logger="factrace.progress"):
        clock.now = 1
        progress.update(2, 2)
    assert caplog.records == []


def test_the_local_runner_reports_pages(caplog, monkeypatch):
    times = iter(range(0, 1000, 10))
    monkeypatch.setattr("tracer.progress.time.monotonic", lambda: next(times))
    with caplog.at_level(logging.INFO, logger="factrace.progress"):
        LocalRunner().map(lambda task: {"ok": task["n"]}, [{"n": 1}, {"n": 2}], "segment", Work("pages", [1500, 500]))
    assert [r.getMessage() for r in caplog.records] == [
        "segment: 1/2 tasks, 1,500 of 2,000 pages (75.0 %), 150 pages/s, ETA 3s",
        "segment: 2/2 tasks, 2,000 of 2,000 pages (100.0 %), 100 pages/s, done in 20s",
    ]
