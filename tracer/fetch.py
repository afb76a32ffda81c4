"""``factrace fetch``: bring the newest finished dumps of some wikis from a mirror into a dump directory, verified.

A mirror is a URL (the public layout) or a local directory, which is read in place. Downloads resume
after a dropped connection, are checked against the dump's status file, and appear under their final
name only once checked; a rerun downloads nothing that is already there.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tracer.config import option, require
from tracer.errors import NothingUsable
from tracer.mirror.download import Fetched, fetch_file, in_place
from tracer.mirror.layout import DATE, Dump, Mirror, choose
from tracer.progress import Progress, Work

log = logging.getLogger("factrace.fetch")


@dataclass
class FetchConfig:
    mirror: str = option(help="a dump mirror: an http(s) URL of the public layout, or a local directory")
    wikis: list[str] = option(help="wiki database names, e.g. enwiki jawiki")
    dest: str = option("", help="dump directory to fetch into (<dest>/<wiki>/<date>/); not used for a local mirror")
    date: str = option("latest", help="'latest' (the newest finished dump) or a date YYYYMMDD")
    connections: int = option(2, help="most concurrent downloads (the public mirrors ask for 2)")
    retries: int = option(2, help="downloads again after a checksum mismatch, before giving up")

    def __post_init__(self) -> None:
        require(bool(self.wikis), "name at least one wiki with --wikis")
        require(self.date == "latest" or bool(DATE.match(self.date)), f"--date: latest or YYYYMMDD, got {self.date!r}")
        require(self.connections >= 1, f"--connections must be at least 1, got {self.connections}")
        require(self.retries >= 0, f"--retries must be 0 or more, got {self.retries}")


def run_fetch(config: FetchConfig) -> str:
    mirror = Mirror(config.mirror)
    require(mirror.local or bool(config.dest), "--dest: the dump directory to fetch into")
    dumps, skipped = [], []
    for wiki in config.wikis:
        dump, passed = choose(mirror, wiki, config.date)
        skipped += passed
        if dump is None:
            log.warning("fetch: %s: no finished dump to fetch (%s)", wiki, "; ".join(passed) or "none listed")
        else:
            dumps.append(dump)
    if not dumps:
        raise NothingUsable(f"fetch: no finished dump for {', '.join(config.wikis)}: {'; '.join(skipped)}")
    results = {dump: fetch_dump(mirror, dump, config) for dump in dumps}
    return summary(results, skipped, mirror.local)


def fetch_dump(mirror: Mirror, dump: Dump, config: FetchConfig) -> list[Fetched]:
    if mirror.local:
        return in_place(mirror, dump)
    folder = Path(config.dest) / dump.wiki / dump.date
    progress = Progress(
        f"fetch {dump.wiki} {dump.date}", len(dump.files), Work("MB", [f.size / 1e6 for f in dump.files])
    )
    done: list[Fetched] = []
    with ThreadPoolExecutor(max_workers=config.connections) as pool:
        futures = [pool.submit(fetch_file, mirror, f, folder, config.retries) for f in dump.files]
        for future in futures:
            done.append(future.result())
            progress.update(len(done), sum(d.file.size for d in done) / 1e6)
    return done


def summary(results: dict[Dump, list[Fetched]], skipped: list[str], local: bool) -> str:
    parts = []
    for dump, fetched in results.items():
        got = sum(f.downloaded for f in fetched)
        how = "read in place" if local else (f"{got / 1e6:,.1f} MB downloaded" if got else "already there")
        parts.append(f"{dump.wiki} {dump.date} ({len(fetched)} file(s), {how})")
    line = f"fetch: {len(results)} dump(s): {', '.join(parts)}"
    if skipped:
        line += f"; skipped: {'; '.join(skipped)}"
    paths = "\n".join(str(f.path) for fetched in results.values() for f in fetched if f.file.name.endswith(".xml.bz2"))
    return f"{line}\n{paths}"
