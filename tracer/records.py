"""The records that flow between stages, as tiny slotted dataclasses.

Their Parquet form lives only in ``schemas/``; these are the in-memory shapes
that the stage objects take and yield, with Spark or without.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class RawPage:
    """A ``<page>`` element as read from the dump, before any cleaning."""

    page_id: int
    title: str
    ns: int | None
    rev_id: int | None
    redirect: bool
    wikitext: str | None
    offset: int


@dataclass(slots=True)
class Page:
    """An article as clean text, one line."""

    page_id: int
    rev_id: int | None
    title: str
    text: str
    content_sha1: str
    char_count: int
    paragraph_count: int


@dataclass(slots=True)
class Segment:
    """A chunk of at most ``max_tokens`` token ids of one page."""

    page_id: int
    seg_no: int
    char_start: int
    char_end: int
    text: str
    token_ids: list[int]
    content_sha1: str

    @property
    def token_count(self) -> int:
        return len(self.token_ids)


@dataclass(slots=True)
class Quarantined:
    """An input record a stage could not use, and why."""

    source: str
    position: int
    reason: str
    detail: str
    record_id: str | None = None
    snippet: str | None = None


@dataclass(slots=True)
class Skipped:
    """A record deliberately not used (a redirect, another namespace), counted by reason."""

    reason: str


@dataclass(slots=True)
class ExtraDocument:
    """A second ``<mediawiki>`` document in one input, where it starts and which wiki it names."""

    offset: int
    wiki: str | None


@dataclass(slots=True)
class Fact:
    """One mLAMA query in one language: a triple with its labels and cloze template."""

    uuid: str
    relation: str
    subject_label: str
    subject_uri: str
    object_label: str
    object_uri: str
    template: str | None
    dataset: str
    source: str
    line_no: int


def as_row(record: Any) -> dict[str, Any]:
    """A record's fields as a dict, shallow (``dataclasses.asdict`` deep-copies, which costs more than the write)."""
    return {name: getattr(record, name) for name in record.__slots__}
