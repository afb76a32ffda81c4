"""Driver-side look at a dump before any task runs: header, wiki, date, splits, header problems."""

from __future__ import annotations

from dataclasses import dataclass, field

from tracer import storage
from tracer.dumps import naming
from tracer.dumps.bz2_tail import TrailingGarbage, find_trailing_garbage
from tracer.dumps.compression import StreamEnd, detect_compression, open_decompressed, read_chunks
from tracer.dumps.page_scanner import Header, scan_pages
from tracer.dumps.siteinfo import NotAMediaWikiExport, SiteInfo, parse_siteinfo
from tracer.dumps.splits import Split, detect_encoding, plan_splits, transcode
from tracer.errors import BadInput, ConfigError, InputNotFound
from tracer.records import Quarantined


@dataclass
class DumpPlan:
    path: str
    wiki: str | None
    dump: str
    siteinfo: SiteInfo | None
    splits: list[Split] = field(default_factory=list)
    problems: list[Quarantined] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return bool(self.splits) and self.siteinfo is not None and self.wiki is not None


def _read_header(path: str, compression: str) -> tuple[bytes, str, StreamEnd, bool]:
    """The bytes before the first ``<page>``, the text encoding, how the stream ended, and whether a page follows."""
    end = StreamEnd()
    with open_decompressed(path, compression) as stream:
        chunks = read_chunks(stream, end)
        first = next(chunks, b"")
        encoding = detect_encoding(first)

        def all_chunks():
            yield first
            yield from chunks

        source = all_chunks() if encoding == "utf-8" else transcode(all_chunks(), encoding)
        try:
            events = scan_pages(source, want_header=True)
            header = next(events)
            has_page = next(events, None) is not None
        except UnicodeDecodeError as err:
            end.clean, end.detail = False, f"not valid {encoding}: {err}"
            return b"", encoding, end, False
    assert isinstance(header, Header)
    return header.data.lstrip(b"\xef\xbb\xbf"), encoding, end, has_page


def _trailing_garbage_problem(path: str, garbage: TrailingGarbage) -> Quarantined:
    detail = (
        f"{garbage.length:,} bytes after the last complete bz2 stream (from byte {garbage.start:,}) are not bz2 data "
        f"({garbage.why}); they were not read, every page before them was"
    )
    return Quarantined(path, garbage.start, "trailing_garbage", detail, None, garbage.head.hex(" "))


def plan_dump(
    path: str,
    *,
    wiki: str | None = None,
    dump: str | None = None,
    strategy: str = "auto",
    split_bytes: int = 64 << 20,
    index: str | None = None,
) -> DumpPlan:
    if storage.is_dir(storage.normalize(path)):
        raise BadInput(
            f"dump {path} is a directory: name the dump files in it (e.g. {storage.join(path, '*.xml.bz2')})"
        )
    path = storage.normalize(path)
    if not storage.is_file(path):
        raise InputNotFound(f"dump {path} does not exist")
    date = naming.dump_date(path, dump)
    plan = DumpPlan(path, naming.wiki_code(path, None, None, wiki), date, None)
    if storage.size(path) == 0:
        plan.problems.append(Quarantined(path, 0, "empty_file", "the file is empty (0 bytes)"))
        return plan
    compression = detect_compression(path)
    header, encoding, end, has_page = _read_header(path, compression)
    if not header.strip() and has_page:
        detail = (
            "the input starts with <page>: a page fragment without the <mediawiki> root and its <siteinfo> "
            "(wiki, namespaces); wrap the pages in a MediaWiki export: <mediawiki><siteinfo>…</siteinfo> … </mediawiki>"
        )
        plan.problems.append(Quarantined(path, 0, "no_mediawiki_root", detail))
        return plan
    if not header.strip():
        reason, detail = ("corrupt_stream", end.detail) if not end.clean else ("empty_file", "no content")
        plan.problems.append(Quarantined(path, 0, reason, f"nothing readable in the file: {detail}"))
        return plan
    try:
        info = parse_siteinfo(header)
    except NotAMediaWikiExport as err:
        snippet = header[:200].decode("utf-8", errors="backslashreplace")
        plan.problems.append(Quarantined(path, 0, "not_mediawiki", f"not a MediaWiki XML export: {err}", None, snippet))
        return plan
    plan.siteinfo = info
    if info.entity_declarations:
        detail = (
            "the DOCTYPE declares entities (possible entity bomb); none was expanded, "
            "and pages that use them are quarantined"
        )
        plan.problems.append(Quarantined(path, 0, "entity_declared", detail))
    if not info.has_namespaces:
        plan.warnings.append(
            f"{storage.name(path)}: <siteinfo> has no namespaces; using each page's <ns>, else canonical title prefixes"
        )
    plan.wiki = naming.wiki_code(path, info.dbname, info.base, wiki)
    if plan.wiki is None:
        raise ConfigError(f"cannot tell which wiki {path} is (no <dbname>, file name or <base>): pass --wiki")
    garbage = find_trailing_garbage(path) if compression == "bz2" else None
    if garbage is not None:
        plan.problems.append(_trailing_garbage_problem(path, garbage))
    data_end = garbage.start if garbage else None
    try:
        plan.splits = plan_splits(
            path, strategy=strategy, split_bytes=split_bytes, index=index, encoding=encoding, data_end=data_end
        )
    except ValueError as err:
        raise ConfigError(str(err)) from None
    return plan
