"""Which per-page loops the fast paths run: the compiled ones (``_wordloop``, built with the package) when they load,
else the pure-Python ones (``wordloop``), after one warning line. A missing compiler costs speed, never results."""

from __future__ import annotations

import logging
from types import ModuleType

from tracer.tokenization import wordloop

log = logging.getLogger("factrace.segment")


def _loops() -> ModuleType:
    try:
        from tracer.tokenization import _wordloop
    except ImportError as err:
        log.warning(
            "segment: the compiled word loop is not built (%s): the pure-Python one gives the same ids, slower; "
            "reinstall factrace where a C compiler is present",
            err,
        )
        return wordloop
    return _wordloop


LOOPS = _loops()
IMPLEMENTATION = "compiled" if LOOPS is not wordloop else "python"
