"""Derive a "next month" dump from a real one: the changes a wiki goes through between two dumps.

Articles (namespace 0, not redirects) are chosen by a seeded shuffle, so the same source and seed give
the same dump. Edits and redirects get a new revision id, as MediaWiki gives them; the rename keeps
its revision id (a move adds a null revision in MediaWiki, but a reuse rule must not rely on that);
added pages get new page ids after the last one, keeping the dump in page id order.
"""

from __future__ import annotations

import bz2
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_PAGE = re.compile(r"[ \t]*<page>.*?</page>\n?", re.S)
_TITLE = re.compile(r"<title>(.*?)</title>")
_NS = re.compile(r"<ns>(\d+)</ns>")
_PAGE_ID = re.compile(r"(</ns>\s*<id>)(\d+)(</id>)")
_REV_ID = re.compile(r"(<revision>\s*<id>)(\d+)(</id>)")
_TEXT = re.compile(r"(<text[^>]*>)(.*?)(</text>)", re.S)


@dataclass
class Changes:
    """Page ids by what happened to them (``added``: the new ids)."""

    edited: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    added: list[int] = field(default_factory=list)
    renamed: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)  # out of namespace 0
    redirected: list[int] = field(default_factory=list)
    kept: int = 0  # articles left as they were


def _is_article(page: str) -> bool:
    ns = _NS.search(page)
    return ns is not None and ns.group(1) == "0" and "<redirect" not in page and _REV_ID.search(page) is not None


def derive_dump(
    source: Path, target: Path, *, seed: int = 0, edit: float = 0.05, delete: float = 0.01, add: float = 0.01
) -> Changes:
    """Write ``target`` (bz2 when its name ends so) from ``source`` with the given shares of articles edited,
    deleted and added, and one
    article renamed, one moved out of namespace 0 and one turned into a redirect."""
    data = source.read_bytes()
    xml = (bz2.decompress(data) if source.suffix == ".bz2" else data).decode("utf-8")
    pages = _PAGE.findall(xml)
    head, tail = xml[: xml.index(pages[0])], xml[xml.rindex(pages[-1]) + len(pages[-1]) :]
    talk = re.search(r'<namespace key="1"[^>]*>([^<]+)</namespace>', head)
    articles = [i for i, page in enumerate(pages) if _is_article(page)]
    order = articles[:]
    random.Random(seed).shuffle(order)
    n_edit, n_delete, n_add = (max(1, round(share * len(articles))) for share in (edit, delete, add))
    edited = set(order[:n_edit])
    deleted = set(order[n_edit : n_edit + n_delete])
    renamed, moved, redirected = order[n_edit + n_delete : n_edit + n_delete + 3]
    copied = order[n_edit + n_delete + 3 : n_edit + n_delete + 3 + n_add]
    next_rev = max(int(_REV_ID.search(p).group(2)) for p in pages if _REV_ID.search(p)) + 1
    next_page = max(int(_PAGE_ID.search(p).group(2)) for p in pages if _PAGE_ID.search(p)) + 1
    changes = Changes()
    out = []
    for i, page in enumerate(pages):
        page_id = int(_PAGE_ID.search(page).group(2)) if _PAGE_ID.search(page) else None
        if i in deleted:
            changes.deleted.append(page_id)
            continue
        if i in edited:
            page = _new_revision(_append_text(page, f"\n\nThis paragraph was added in edit {next_rev}."), next_rev)
            next_rev += 1
            changes.edited.append(page_id)
        elif i == renamed:
            page = _retitle(page, lambda title: f"{title} (renamed)")
            changes.renamed.append(page_id)
        elif i == moved:
            prefix = talk.group(1) if talk else "Talk"
            page = _retitle(page, lambda title, prefix=prefix: f"{prefix}:{title}")
            page = _NS.sub("<ns>1</ns>", page, count=1)
            changes.moved.append(page_id)
        elif i == redirected:
            page = _redirect(page, _TITLE.search(pages[articles[0]]).group(1))
            page = _new_revision(page, next_rev)
            next_rev += 1
            changes.redirected.append(page_id)
        elif i in articles:
            changes.kept += 1
        out.append(page)
    for i in copied:
        page = _retitle(pages[i], lambda title, number=next_page: f"{title} ({number})")
        page = _PAGE_ID.sub(lambda m, number=next_page: f"{m.group(1)}{number}{m.group(3)}", page, count=1)
        page = _new_revision(_append_text(page, f"\n\nA new page, number {next_page}."), next_rev)
        out.append(page)
        changes.added.append(next_page)
        next_page, next_rev = next_page + 1, next_rev + 1
    target.parent.mkdir(parents=True, exist_ok=True)
    result = (head + "".join(out) + tail).encode("utf-8")
    target.write_bytes(bz2.compress(result) if target.suffix == ".bz2" else result)
    return changes


def _new_revision(page: str, rev_id: int) -> str:
    return _REV_ID.sub(lambda m: f"{m.group(1)}{rev_id}{m.group(3)}", page, count=1)


def _append_text(page: str, paragraph: str) -> str:
    return _TEXT.sub(lambda m: m.group(1) + m.group(2) + paragraph + m.group(3), page, count=1)


def _retitle(page: str, new_title: Callable[[str], str]) -> str:
    return _TITLE.sub(lambda m: f"<title>{new_title(m.group(1))}</title>", page, count=1)


def _redirect(page: str, target: str) -> str:
    page = _PAGE_ID.sub(lambda m: m.group(0) + f'\n    <redirect title="{target}" />', page, count=1)
    return _TEXT.sub(lambda m: f"{m.group(1)}#REDIRECT [[{target}]]{m.group(3)}", page, count=1)
