"""Errors named for what the caller should do about them."""


class FactraceError(Exception):
    """Base class: a problem factrace can explain in one line."""


class ConfigError(FactraceError):
    """The command line or configuration is wrong: fix the arguments."""


class InputNotFound(FactraceError):
    """An input file, table partition, tokenizer or model is missing: check the path."""


class NothingUsable(FactraceError):
    """A stage read its inputs but found no usable record: nothing was published."""


class DependencyMissing(FactraceError):
    """An optional package is needed: the message names the pip extra to install."""


class SchemaMismatch(FactraceError):
    """A table on disk has another layout than this factrace writes: rerun the stage that writes it."""


class DuplicateKeys(FactraceError):
    """A staged partition repeats its table's key: nothing of it was published."""
