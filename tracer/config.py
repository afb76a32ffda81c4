"""Stage configuration as dataclasses whose fields carry their help text; argparse is derived."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, TypeVar

from tracer.errors import ConfigError

C = TypeVar("C")


def require(condition: bool, message: str) -> None:
    """Check a configuration value when the config is built, before anything runs."""
    if not condition:
        raise ConfigError(message)


def option(
    default: Any = dataclasses.MISSING, *, help: str, positional: bool = False, choices: tuple | None = None
) -> Any:
    """A config field: its default, one line of help, and how it shows on the command line."""
    meta = {"help": help, "positional": positional, "choices": choices}
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _base_type(tp: Any) -> tuple[Any, bool]:
    """(element type, is_list) of an annotation such as ``list[str]`` or ``int | None``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _base_type(args[0])
    if origin is list:
        return typing.get_args(tp)[0], True
    return tp, False


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        meta = f.metadata
        tp, is_list = _base_type(hints[f.name])
        kwargs: dict[str, Any] = {"help": meta.get("help", "")}
        if meta.get("choices"):
            kwargs["choices"] = meta["choices"]
        flag = "--" + f.name.replace("_", "-")
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, **kwargs)
            continue
        kwargs["type"] = tp
        if meta.get("positional"):
            parser.add_argument(f.name, nargs="+" if is_list else None, **kwargs)
            continue
        if is_list:
            kwargs["nargs"] = "+"
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if not required:
            kwargs["default"] = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if "default" not in kwargs["help"]:
                kwargs["help"] += f" (default: {kwargs['default']})"
        parser.add_argument(flag, required=required, **kwargs)


def to_argv(config: Any) -> list[str]:
    """The command-line arguments that ``from_args`` turns back into ``config`` (defaults left out): how a
    scheduler runs a planned step as ``factrace <stage> …`` or ``spark-submit jobs/<stage>.py …``."""
    argv: list[str] = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        if value == default and not f.metadata.get("positional"):
            continue
        flag = "--" + f.name.replace("_", "-")
        values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + f.name.replace("_", "-"))
        elif f.metadata.get("positional"):
            argv += values
        elif values:
            argv += [flag, *values]
    return argv


def from_args(cls: type[C], args: argparse.Namespace) -> C:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in vars(args).items() if k in names})
