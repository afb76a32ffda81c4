"""Forward hooks only through a context manager that always removes them (hooks are global state)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch


@contextmanager
def forward_hooks(model: torch.nn.Module, hooks: dict[str, Callable[[Any, Any, Any], Any]]) -> Iterator[None]:
    """Register ``{module path: hook}`` for the duration of the block; removed even on error."""
    modules = dict(model.named_modules())
    missing = [path for path in hooks if path not in modules]
    if missing:
        raise KeyError(f"no module {missing[0]!r} in {type(model).__name__}")
    handles = [modules[path].register_forward_hook(hook) for path, hook in hooks.items()]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
