"""Resumable, verified downloads: a file appears under its final name only once its size and sha1 match the
dump's status file; a dropped connection resumes with an HTTP Range request; a checksum mismatch deletes the
file and retries a bounded number of times."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tracer.errors import BadInput, StorageError
from tracer.mirror.layout import TIMEOUT_S, Dump, DumpFile, Mirror

log = logging.getLogger("factrace.fetch")
CHUNK = 1 << 20
READ = 64 << 10  # bytes per network read: a broken connection loses at most this much of what it sent
VERIFIED = "verified.json"  # per dump folder: the files whose size and sha1 were checked, and their digests


@dataclass
class Fetched:
    file: DumpFile
    path: Path
    downloaded: int  # bytes transferred by this run (0: already there)
    attempts: int


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def verified(folder: Path) -> dict[str, str]:
    """name -> sha1 of the files already fetched and checked into ``folder``."""
    marker = folder / VERIFIED
    if not marker.exists():
        return {}
    try:
        found = json.loads(marker.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        found = None
    if not isinstance(found, dict):
        raise BadInput(f"{marker}: not the name -> sha1 object factrace fetch writes; delete it and fetch again")
    return found


def _mark(folder: Path, name: str, sha1: str) -> None:
    done = {**verified(folder), name: sha1}
    tmp = folder / f".{VERIFIED}.tmp"
    tmp.write_text(json.dumps(done, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / VERIFIED)


def _transfer(mirror: Mirror, file: DumpFile, part: Path, resumes: int) -> int:
    """Bring ``part`` to the file's full size, resuming after dropped connections. Returns bytes received."""
    received = 0
    for _ in range(resumes + 1):
        have = part.stat().st_size if part.exists() else 0
        if have >= file.size:
            return received
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with mirror.session.get(file.url, headers=headers, stream=True, timeout=TIMEOUT_S) as response:
                if response.status_code >= 400:
                    raise StorageError(f"{file.url}: the mirror answered HTTP {response.status_code}; retry later")
                if have and response.status_code != 206:  # the server ignored the range: start over
                    have = 0
                with open(part, "ab" if have else "wb") as out:
                    for block in response.iter_content(READ):
                        out.write(block)
                        received += len(block)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            log.warning("fetch: %s: connection dropped after %s bytes (%s); resuming", file.name,
                        f"{part.stat().st_size if part.exists() else 0:,}", type(exc).__name__)  # fmt: skip
            time.sleep(0.2)
        except requests.RequestException as exc:  # before OSError: requests' errors are OSErrors too
            raise StorageError(f"{file.url}: the download failed ({type(exc).__name__}: {exc})") from exc
        except OSError as exc:  # a full disk or no permission in the dump directory
            raise StorageError(f"{part}: writing the download failed ({exc})") from exc
    if not part.exists() or part.stat().st_size < file.size:
        raise StorageError(f"{file.url}: the download kept breaking off ({resumes} resumes); rerun to continue")
    return received


def fetch_file(mirror: Mirror, file: DumpFile, folder: Path, retries: int = 2, resumes: int = 5) -> Fetched:
    """One verified file in ``folder`` (skipped when it is there and verified already)."""
    final = folder / file.name
    if final.exists() and verified(folder).get(file.name) == file.sha1 and final.stat().st_size == file.size:
        return Fetched(file, final, 0, 0)
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{file.name}.part"
    received = 0
    for attempt in range(1, retries + 2):
        received += _transfer(mirror, file, part, resumes)
        size, sha1 = part.stat().st_size, sha1_of(part)
        if size == file.size and sha1 == file.sha1:
            os.replace(part, final)
            _mark(folder, file.name, sha1)
            return Fetched(file, final, received, attempt)
        part.unlink()
        log.warning("fetch: %s: sha1 %s, size %s; the status file says %s, %s (attempt %d)", file.name, sha1,
                    f"{size:,}", file.sha1, f"{file.size:,}", attempt)  # fmt: skip
    raise BadInput(
        f"{file.url}: the download does not match the dump's status file after {retries + 1} attempts "
        f"(sha1 {sha1}, expected {file.sha1}); it was deleted"
    )


def in_place(mirror: Mirror, dump: Dump) -> list[Fetched]:
    """A local mirror is read where it is: each file must be there with the listed size (sha1 is left to
    extract's own checks, rather than reading every dump twice)."""
    out = []
    for file in dump.files:
        path = Path(file.url)
        if not path.is_file() or path.stat().st_size != file.size:
            found = f"{path.stat().st_size:,} bytes" if path.is_file() else "missing"
            raise BadInput(f"{path}: {found}, the status file says {file.size:,} bytes; the mirror copy is incomplete")
        out.append(Fetched(file, path, 0, 0))
    return out
