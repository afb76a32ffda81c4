"""Errors named for what the caller should do about them, each with its documented exit code.

Exit codes (README, "Exit codes"): 0 done (records may have been quarantined); 2 a bad argument
or configuration value; 3 an input is missing or is not what it should be; 4 the inputs held no
usable record; 5 the warehouse holds something this factrace cannot use or must not publish;
6 an optional package is missing; 7 a task failed on an executor; 8 a store could not be reached,
read or written (a bucket, credentials, permissions, a full disk); 70 an internal error (a bug);
75 another ``factrace update`` holds the lock (try again later); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

EXIT_INTERNAL = 70


class FactraceError(Exception):
    """Base class: a problem factrace can explain in one line."""

    exit_code = 1


class ConfigError(FactraceError):
    """The command line or configuration is wrong: fix the arguments."""

    exit_code = 2


class InputNotFound(FactraceError):
    """An input file, table partition, tokenizer or model is missing: check the path."""

    exit_code = 3


class BadInput(FactraceError):
    """An input exists but is not what it should be (a tokenizer file that is no tokenizer): replace it."""

    exit_code = 3


class NothingUsable(FactraceError):
    """A stage read its inputs but found no usable record: nothing was published."""

    exit_code = 4


class SchemaMismatch(FactraceError):
    """A table on disk has another layout than this factrace writes: rerun the stage that writes it."""

    exit_code = 5


class DuplicateKeys(FactraceError):
    """A staged partition repeats its table's key: nothing of it was published."""

    exit_code = 5


class DependencyMissing(FactraceError):
    """An optional package is needed: the message names the pip extra to install."""

    exit_code = 6


class TaskFailed(FactraceError):
    """A task raised on an executor; the message is the original error's, its trace is in ``detail``."""

    exit_code = 7

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class StorageError(FactraceError):
    """A location could not be reached, read or written: the message names it and the operation.
    Nothing was published; the same command succeeds once the store is fixed."""

    exit_code = 8


class Locked(FactraceError):
    """Another ``factrace update`` holds the warehouse's lock: nothing was done; try again later."""

    exit_code = 75  # EX_TEMPFAIL: schedulers read it as "try again", not as a broken job


class Interrupted(FactraceError):
    """Ctrl-C: the message says what the run published; rerunning the same command is safe."""

    exit_code = 130


def by_name(name: str) -> type[FactraceError] | None:
    """The FactraceError subclass called ``name`` (an error that crossed from an executor by name)."""
    found = globals().get(name)
    return found if isinstance(found, type) and issubclass(found, FactraceError) else None
