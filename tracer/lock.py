"""The warehouse's one lock, ``<warehouse>/_locks/update.lock``: ``factrace update`` and ``factrace gc`` take
it, so neither runs beside the other or beside itself."""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime
from pathlib import Path

from tracer import storage
from tracer.errors import ConfigError, Locked

LOCK = "_locks/update.lock"


class WarehouseLock:
    """Created exclusively; a lock left by a process that is gone (same host) is taken over. POSIX warehouses (a
    local disk or a shared mount)."""

    def __init__(self, warehouse: str, command: str) -> None:
        if not storage.is_local(storage.normalize(warehouse)):
            raise ConfigError(
                f"factrace {command} keeps its lock on a POSIX filesystem: use a local or mounted warehouse"
            )
        self.path = Path(storage.normalize(warehouse)) / LOCK
        self.command = command

    def __enter__(self) -> WarehouseLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        holder = {
            "pid": os.getpid(), "host": socket.gethostname(), "since": datetime.now().isoformat(),
            "command": self.command,
        }  # fmt: skip
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                held = _holder(self.path)
                pid = held.get("pid")
                if held.get("host") == holder["host"] and isinstance(pid, int) and not _alive(pid):
                    self.path.unlink(missing_ok=True)  # its process is gone: a crash left it
                    continue
                raise Locked(
                    f"another {held.get('command', 'update')} holds {self.path} (pid {held.get('pid')} on "
                    f"{held.get('host')}, since {held.get('since')}); this {self.command} did nothing: run it "
                    "again later"
                ) from None
            with os.fdopen(fd, "w") as f:
                json.dump(holder, f)
            return self
        raise Locked(f"could not take {self.path}; run it again later")

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


def _holder(path: Path) -> dict:
    """What a lock file says of its holder; an unreadable one (a crash while writing it) says nothing."""
    try:
        held = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return held if isinstance(held, dict) else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0
