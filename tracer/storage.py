"""Files wherever pyarrow reaches them: a plain path, ``file://``, ``s3://``, ``gs://``, ``hdfs://``, ``abfs://``.

Every location the warehouse hands to a task is a string: an absolute local path, or a URI. Credentials
and endpoints come from each store's standard environment and config files (``AWS_*``, ``~/.aws``,
``GOOGLE_APPLICATION_CREDENTIALS``, ``AZURE_STORAGE_*``, Hadoop's ``core-site.xml``); nothing here takes
a secret. Writes are atomic for readers: a local file is written beside its name and renamed into
place, and an object store shows an object only once its upload completes.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import os
import posixpath
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO, TypeVar
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from tracer.errors import StorageError

T = TypeVar("T")
REMOTE_SCHEMES = ("s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss", "az")


def normalize(location: str | Path) -> str:
    """A plain path or ``file://`` URI becomes an absolute local path; other URIs stay as they are."""
    text = str(location)
    scheme = urlsplit(text).scheme
    if scheme == "file":
        return str(Path(urlsplit(text).path).resolve())
    if scheme in REMOTE_SCHEMES:
        return text.rstrip("/")
    if scheme and len(scheme) > 1:
        raise StorageError(
            f"{text}: unknown storage scheme {scheme!r}; use a path or one of file, {', '.join(REMOTE_SCHEMES)}"
        )
    return str(Path(text).resolve())


def is_local(location: str) -> bool:
    return urlsplit(location).scheme not in REMOTE_SCHEMES


def join(base: str, *parts: str) -> str:
    return posixpath.join(base, *parts) if not is_local(base) else os.path.join(base, *parts)


def name(location: str) -> str:
    return posixpath.basename(location.rstrip("/"))


def relative(location: str, base: str) -> str:
    """``location`` below ``base``, with ``/`` separators."""
    return posixpath.relpath(location, base) if not is_local(base) else Path(location).relative_to(base).as_posix()


@functools.cache
def _filesystem(scheme: str, netloc: str) -> pafs.FileSystem:
    if scheme in ("", "file"):
        return pafs.LocalFileSystem()
    uri = f"{scheme}://{netloc}/"
    try:
        return pafs.FileSystem.from_uri(uri)[0]
    except (OSError, ValueError) as exc:
        raise StorageError(
            f"{uri}: cannot open this store ({_reason(exc)}); check its credentials and endpoint"
        ) from exc


def resolve(location: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem that holds ``location`` (one per store and process) and the path inside it."""
    parts = urlsplit(location)
    if parts.scheme not in REMOTE_SCHEMES:
        return _filesystem("", ""), location
    fs = _filesystem(parts.scheme, parts.netloc)
    if parts.scheme in ("s3", "gs", "gcs", "abfs", "abfss", "az"):
        return fs, f"{parts.netloc}{parts.path}".rstrip("/")
    return fs, parts.path.rstrip("/") or "/"


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _fail(operation: str, location: str, exc: BaseException) -> StorageError:
    return StorageError(f"{location}: {operation} failed ({_reason(exc)})")


def _on(location: str, operation: str, action: Callable[[pafs.FileSystem, str], T]) -> T:
    """``action(filesystem, path)`` for ``location``; a store's error becomes one line naming both."""
    fs, path = resolve(location)
    try:
        return action(fs, path)
    except OSError as exc:
        raise _fail(operation, location, exc) from exc


def info(location: str) -> pafs.FileInfo:
    return _on(location, "looking up", lambda fs, path: fs.get_file_info(path))


def exists(location: str) -> bool:
    return info(location).type != pafs.FileType.NotFound


def is_dir(location: str) -> bool:
    return info(location).type == pafs.FileType.Directory


def is_file(location: str) -> bool:
    return info(location).type == pafs.FileType.File


def _entries(directory: str, recursive: bool) -> tuple[str, list[pafs.FileInfo]]:
    def listing(fs: pafs.FileSystem, path: str) -> tuple[str, list[pafs.FileInfo]]:
        return path, fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=recursive))

    return _on(directory, "listing", listing)


def list_files(directory: str, suffix: str = "", recursive: bool = False) -> list[str]:
    """Files under ``directory`` whose names end with ``suffix``, hidden ones (``.``/``_``) excluded, sorted."""
    path, found = _entries(directory, recursive)
    base = directory.rstrip("/")
    out = []
    for entry in found:
        if entry.type != pafs.FileType.File or not entry.base_name.endswith(suffix):
            continue
        rel = posixpath.relpath(entry.path, path)
        if any(part.startswith((".", "_")) for part in rel.split("/")):
            continue
        out.append(join(base, *rel.split("/")))
    return sorted(out)


def list_dirs(directory: str) -> list[str]:
    """The folders directly in ``directory`` (none when it does not exist), sorted."""
    _, found = _entries(directory, False)
    base = directory.rstrip("/")
    return sorted(join(base, entry.base_name) for entry in found if entry.type == pafs.FileType.Directory)


def expand(pattern: str) -> list[str]:
    """The files a ``*``/``?`` pattern in the last path part names (a bucket has no shell glob), sorted; a name
    without wildcards stands for itself."""
    if not any(ch in name(pattern) for ch in "*?["):
        return [pattern]
    folder = pattern[: len(pattern) - len(name(pattern))].rstrip("/") or "."
    return [f for f in list_files(folder) if fnmatch.fnmatchcase(name(f), name(pattern))]


def open_input(location: str) -> IO[bytes]:
    """A seekable binary reader."""
    return _on(location, "reading", lambda fs, path: fs.open_input_file(path))


def open_binary(location: str) -> BinaryIO:
    """A seekable binary file: the OS's own for a local path (its errors unchanged), a store's reader otherwise."""
    return open(location, "rb") if is_local(location) else open_input(location)


def size(location: str) -> int:
    found = info(location)
    if found.type != pafs.FileType.File:
        raise StorageError(f"{location}: no such file")
    return found.size


def read_bytes(location: str) -> bytes:
    with open_input(location) as f:
        return f.read()


def read_text(location: str) -> str:
    return read_bytes(location).decode("utf-8")


class AtomicOutput:
    """Write a file that readers see whole or not at all (``with AtomicOutput(loc) as f: ...``)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.fs, self.path = resolve(location)
        self.local = is_local(location)
        head, tail = os.path.split(self.path)  # locally, written hidden beside its final name, then renamed
        self.target = os.path.join(head, f".{tail}.{uuid.uuid4().hex[:8]}.inprogress") if self.local else self.path

    def __enter__(self) -> IO[bytes]:
        try:
            if self.local:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self.stream = self.fs.open_output_stream(self.target)
        except OSError as exc:
            raise _fail("writing", self.location, exc) from exc
        return self.stream

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        """Finish the file; on any error drop it, and a store's error (a full disk, a lost connection) becomes
        one line naming the file."""
        try:
            self.stream.close()
        except OSError as close_error:
            self._discard()
            if exc is None:
                raise _fail("writing", self.location, close_error) from close_error
        if exc is not None:
            self._discard()
            if isinstance(exc, OSError):
                raise _fail("writing", self.location, exc) from exc
            return
        if self.local:
            os.replace(self.target, self.path)

    def _discard(self) -> None:
        try:
            self.fs.delete_file(self.target)
        except OSError:
            pass


def write_bytes(location: str, data: bytes) -> None:
    with AtomicOutput(location) as f:
        f.write(data)


def write_text(location: str, text: str) -> None:
    write_bytes(location, text.encode("utf-8"))


def delete_dir(location: str) -> None:
    """Remove a directory and everything below it; a missing one is fine."""
    if is_dir(location):
        _on(location, "deleting", lambda fs, path: fs.delete_dir(path))


def delete_file(location: str) -> None:
    fs, path = resolve(location)
    try:
        fs.delete_file(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _fail("deleting", location, exc) from exc


def local_copy(location: str, cache: Path | None = None) -> Path:
    """A local file with the content of ``location``: the file itself when it is local, else one copy per
    content digest in a local cache (libraries such as tokenizers and transformers need a real path)."""
    if is_local(location):
        return Path(location)
    data = read_bytes(location)
    digest = hashlib.sha256(data).hexdigest()[:20]
    folder = (cache or Path(tempfile.gettempdir()) / "factrace-cache") / digest
    target = folder / name(location)
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{target.name}.{uuid.uuid4().hex[:8]}"
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return target


def local_tree(location: str, cache: Path | None = None) -> Path:
    """A local directory with the files of ``location`` (a model's folder): the folder itself when it is local,
    else one copy per listing digest (names, sizes, times) in a local cache, made once and shared by the
    processes of a machine."""
    if is_local(location):
        return Path(location)
    files = {f: info(f) for f in list_files(location, recursive=True)}
    if not files:
        raise StorageError(f"{location}: no files there; check the URI")
    listing = "\n".join(f"{relative(f, location)}\t{i.size}\t{i.mtime_ns}" for f, i in files.items())
    digest = hashlib.sha256(listing.encode("utf-8")).hexdigest()[:20]
    target = (cache or Path(tempfile.gettempdir()) / "factrace-cache") / digest / name(location)  # same name
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    for f in files:
        dest = tmp / relative(f, location)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open_input(f) as src, open(dest, "wb") as out:
            while block := src.read(8 << 20):
                out.write(block)
    try:
        os.replace(tmp, target)
    except OSError:  # another process made the same copy first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return target
