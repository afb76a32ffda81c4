"""Turn the typed records that cross between driver and executors into JSON-able data and back.

Every task and every task result is a dataclass declared in ``tracer.stages.tasks``; a runner
sends ``to_payload(task)`` and the executor gets back the same record with ``from_payload``, nested
records (a ``Split``, a ``SiteInfo``), tuples and integer dict keys included. The types come from
the dataclasses' annotations, so a record needs no code of its own to travel.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any


def to_payload(value: Any) -> Any:
    """JSON-able data: dataclasses become dicts, tuples lists, dict keys strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_payload(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_payload(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_payload(v) for k, v in value.items()}
    return value


def from_payload(tp: Any, data: Any) -> Any:
    """The value of type ``tp`` that ``to_payload`` turned into ``data``."""
    if data is None:
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return from_payload(real[0], data) if len(real) == 1 else data
    if origin is list:
        return [from_payload(args[0], v) for v in data] if args else list(data)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_payload(args[0], v) for v in data)
        return tuple(from_payload(a, v) for a, v in zip(args, data, strict=True)) if args else tuple(data)
    if origin is dict:
        key, value = args or (str, Any)
        return {from_payload(key, k): from_payload(value, v) for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return tp(**{f.name: from_payload(hints[f.name], data[f.name]) for f in dataclasses.fields(tp) if f.init})
    if tp is int and isinstance(data, str):
        return int(data)  # a dict key
    return data


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def signature(fn: Callable) -> tuple[Any, Any]:
    """The task type and the result type of an executor function ``fn(task: T) -> R``."""
    hints = typing.get_type_hints(fn)
    task = next((v for k, v in hints.items() if k != "return"), Any)
    return task, hints.get("return", Any)
