"""The public dump layout: ``<mirror>/<wiki>/`` lists dates, ``<mirror>/<wiki>/<date>/dumpstatus.json`` says per
job whether it is ``done`` and gives each file's size, md5 and sha1. A mirror is a URL or a local directory
(a cluster that mounts a mirror reads it in place)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import requests

from tracer import __version__
from tracer.errors import BadInput, InputNotFound, StorageError

USER_AGENT = f"factrace/{__version__} (Wikipedia dump fetcher; https://github.com/factrace/factrace)"
DATE = re.compile(r"^\d{8}$")
TIMEOUT_S = 60


@dataclass(frozen=True)
class DumpFile:
    """One file a dump job lists: its name, where to get it, and what it must be."""

    name: str
    url: str
    size: int
    sha1: str
    md5: str


@dataclass(frozen=True)
class Dump:
    """The files to fetch of one wiki's dump, or why there are none yet."""

    wiki: str
    date: str
    files: tuple[DumpFile, ...]
    job: str


def is_url(mirror: str) -> bool:
    return mirror.startswith(("http://", "https://"))


class Mirror:
    """Read a mirror's listings and status files over HTTP(S) (one session, the project's User-Agent) or from a
    local directory."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.local = not is_url(root)
        if self.local and not Path(root).is_dir():
            raise InputNotFound(f"mirror {root} is neither an http(s) URL nor a directory")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def location(self, *parts: str) -> str:
        return "/".join([self.root, *parts]) if not self.local else str(Path(self.root, *parts))

    def _get(self, url: str) -> requests.Response:
        try:
            response = self.session.get(url, timeout=TIMEOUT_S)
        except requests.RequestException as exc:
            raise StorageError(f"{url}: the mirror cannot be reached ({type(exc).__name__}); check --mirror") from exc
        if response.status_code == 404:
            raise InputNotFound(f"{url}: not on the mirror (HTTP 404)")
        if response.status_code >= 400:
            raise StorageError(f"{url}: the mirror answered HTTP {response.status_code}; retry later")
        return response

    def dates(self, wiki: str) -> list[str]:
        """The dump dates the mirror lists for ``wiki``, oldest first."""
        if self.local:
            folder = Path(self.root, wiki)
            if not folder.is_dir():
                raise InputNotFound(f"{folder}: the mirror has no folder for {wiki}")
            return sorted(p.name for p in folder.iterdir() if p.is_dir() and DATE.match(p.name))
        page = self._get(self.location(wiki) + "/").text
        return sorted({m for m in re.findall(r'href="(?:\./)?(\d{8})/?"', page)})

    def status(self, wiki: str, date: str) -> dict:
        """``dumpstatus.json`` of one dump, checked to be JSON with a ``jobs`` object."""
        where = self.location(wiki, date, "dumpstatus.json")
        try:
            text = Path(where).read_text(encoding="utf-8") if self.local else self._get(where).text
        except FileNotFoundError:
            raise InputNotFound(f"{where}: no dumpstatus.json; the dump is not published there") from None
        try:
            status = json.loads(text)
        except json.JSONDecodeError:
            raise BadInput(
                f"{where}: not JSON (it starts {text[:40]!r}); the mirror serves something else there"
            ) from None
        if not isinstance(status, dict) or not isinstance(status.get("jobs"), dict):
            raise BadInput(f"{where}: JSON without a 'jobs' object; not a dump status file")
        return status


def wanted_names(wiki: str, date: str) -> list[tuple[str, ...]]:
    """The file sets a dump may offer, in order of preference: the multistream dump and its index, then the
    plain pages-articles dump (a wiki without the multistream job)."""
    base = f"{wiki}-{date}-pages-articles"
    return [(f"{base}-multistream.xml.bz2", f"{base}-multistream-index.txt.bz2"), (f"{base}.xml.bz2",)]


def finished_dump(mirror: Mirror, wiki: str, date: str) -> Dump | str:
    """The dump's files when the job that makes them is done; else the reason it cannot be fetched yet."""
    jobs = mirror.status(wiki, date)["jobs"]
    where = mirror.location(wiki, date, "dumpstatus.json")
    for names in wanted_names(wiki, date):
        found: dict[str, tuple[str, dict, str]] = {}
        for job_name, job in jobs.items():
            files = job.get("files") if isinstance(job, dict) else None
            for name in names:
                if isinstance(files, dict) and name in files and name not in found:
                    found[name] = (job_name, files[name], str(job.get("status")))
        if not found:
            continue
        if len(found) < len(names):
            missing = ", ".join(n for n in names if n not in found)
            raise BadInput(f"{where}: lists {', '.join(found)} but not {missing}; the status file is incomplete")
        pending = sorted({job for job, _, state in found.values() if state != "done"})
        if pending:
            return f"{wiki} {date}: job {', '.join(pending)} is {found[names[0]][2]}, not done"
        out = []
        for name in names:
            _, entry, _ = found[name]
            if not str(entry.get("size", "")).isdigit() or not isinstance(entry.get("sha1"), str):
                raise BadInput(f"{where}: the entry of {name} has no size or sha1")
            url = mirror.location(wiki, date, name)  # the layout, not the status file's host-relative "url"
            out.append(DumpFile(name, url, int(entry["size"]), str(entry["sha1"]), str(entry.get("md5", ""))))
        return Dump(wiki, date, tuple(out), found[names[0]][0])
    return f"{wiki} {date}: no pages-articles dump in its status file"


def choose(mirror: Mirror, wiki: str, date: str) -> tuple[Dump | None, list[str]]:
    """The dump to fetch (``latest``: the newest finished one) and the dates skipped, with why."""
    skipped: list[str] = []
    if date != "latest":
        found = finished_dump(mirror, wiki, date)
        return (found, skipped) if isinstance(found, Dump) else (None, [found])
    for candidate in reversed(mirror.dates(wiki)):
        try:
            found = finished_dump(mirror, wiki, candidate)
        except InputNotFound as err:
            skipped.append(str(err))
            continue
        if isinstance(found, Dump):
            return found, skipped
        skipped.append(found)
    return None, skipped
