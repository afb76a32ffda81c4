"""Versions of the code that makes a table's rows, as digests of its source files.

Reuse across dumps copies rows an earlier run made instead of making them again; that is only
right when the code that made them is the code that would make them now. A digest of the source
files changes with any edit, so nobody has to remember to bump a number.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_ROOT = Path(__file__).resolve().parent

CLEANER_SOURCES = ("wikitext", "extraction.py", "dumps/page_parser.py", "dumps/siteinfo.py", "records.py")
SEGMENTER_SOURCES = ("segmentation.py", "tokenization", "records.py")


@cache
def code_digest(*sources: str) -> str:
    """SHA-1 prefix of the named files and packages of ``tracer`` (``.py`` files, in path order)."""
    h = hashlib.sha1()
    for source in sources:
        path = _ROOT / source
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            h.update(file.relative_to(_ROOT).as_posix().encode())
            h.update(b"\0")
            h.update(file.read_bytes())
    return h.hexdigest()[:12]


def cleaner_version() -> str:
    """The version of the wikitext cleaner: what turns a revision's wikitext into a page's clean text."""
    return code_digest(*CLEANER_SOURCES)


def segmenter_version() -> str:
    """The version of the segmenter: what turns a page's text into token ids and segments."""
    return code_digest(*SEGMENTER_SOURCES)


def code_version() -> str:
    """The version of the whole ``tracer`` package (lineage in ``runs``)."""
    return code_digest(".")
