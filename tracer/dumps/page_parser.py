"""Parse one ``<page>`` blob into a RawPage, or say precisely why it cannot be used."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tracer.records import RawPage


class BadPage(ValueError):
    """A page that must be quarantined; ``reason`` is a stable code, ``detail`` the explanation."""

    def __init__(self, reason: str, detail: str, record_id: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.record_id = record_id


def _int(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def parse_page(blob: bytes, offset: int) -> RawPage:
    """Parse the bytes of one ``<page>...</page>`` element (UTF-8, no DTD, so no entity is expanded)."""
    try:
        blob.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadPage("invalid_utf8", f"invalid UTF-8 at byte {offset + err.start} ({err.reason})") from None
    try:
        page = ET.fromstring(blob)
    except ET.ParseError as err:
        reason = "undefined_entity" if "undefined entity" in str(err) else "malformed_xml"
        raise BadPage(reason, f"page at byte {offset} is not well-formed: {err}") from None
    page_id = _int(page.findtext("id"))
    if page_id is None:
        raise BadPage("bad_id", f"page at byte {offset} has no integer <id>")
    title = page.findtext("title")
    if title is None or not title.strip():
        raise BadPage("no_title", f"page {page_id} has no <title>", str(page_id))
    revisions = page.findall("revision")
    revision = revisions[-1] if revisions else None
    text_el = revision.find("text") if revision is not None else None
    wikitext = None if text_el is None or text_el.get("deleted") is not None else (text_el.text or "")
    return RawPage(
        page_id=page_id,
        title=title,
        ns=_int(page.findtext("ns")),
        rev_id=_int(revision.findtext("id")) if revision is not None else None,
        redirect=page.find("redirect") is not None,
        wikitext=wikitext,
        offset=offset,
    )
