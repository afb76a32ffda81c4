"""Where a dump's wiki code and date come from: siteinfo, then the file name, overridable."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{6})(?!\d)")
_WIKI_IN_NAME = re.compile(r"^([a-z][a-z0-9_]*wiki)(?=[-_.])")
UNDATED = "undated"


def dump_date(path: str | Path, override: str | None = None) -> str:
    """``YYYYMMDD`` from ``--dump``, else from the file name (``enwiki-20230501-...``), else ``undated``."""
    if override:
        return override
    m = _DATE_IN_NAME.search(Path(path).name)
    return m.group(1) if m else UNDATED


def wiki_code(path: str | Path, dbname: str | None, base_url: str | None, override: str | None = None) -> str | None:
    """``--wiki``, else ``<dbname>``, else the file name prefix, else the ``<base>`` host (``fr.wikipedia.org``)."""
    if override:
        return override
    if dbname:
        return dbname
    m = _WIKI_IN_NAME.match(Path(path).name)
    if m:
        return m.group(1)
    if base_url:
        host = urlparse(base_url).hostname or ""
        parts = host.split(".")
        if len(parts) >= 3 and parts[1] == "wikipedia":
            return parts[0].replace("-", "_") + "wiki"
    return None


def wiki_language(wiki: str) -> str:
    """The language code a wiki traces as: ``jawiki`` → ``ja``, ``zh_yuewiki`` → ``zh-yue``.
    ``simplewiki`` stays ``simple`` (not ``en``)."""
    return wiki.removesuffix("wiki").replace("_", "-")
