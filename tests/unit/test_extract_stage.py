"""The extract stage without Spark (LocalRunner): bad input keeps every good page."""

import bz2
import codecs
import json
import random

import pytest

from schemas import PAGES, TABLES
from tests.helpers import dump_xml, page_xml, write_dump
from tracer.errors import NothingUsable
from tracer.stages.common import LocalRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.warehouse import Warehouse


def extract(tmp_path, *dumps, **kwargs):
    wh = tmp_path / "wh"
    result = ExtractStage(
        ExtractConfig(dumps=[str(d) for d in dumps], warehouse=str(wh), **kwargs), LocalRunner()
    ).run()
    return result, wh


def table(wh, name):
    return Warehouse(wh).read(TABLES[name]).to_pylist()


GOOD = [page_xml(1, "Alpha", "Alpha is a letter."), page_xml(2, "Beta", "Beta [[is]] second.")]


def test_articles_redirects_and_namespaces(tmp_path):
    dump = write_dump(
        tmp_path / "testwiki-20240101-pages.xml.bz2",
        dump_xml(
            [*GOOD, page_xml(3, "Gamma", "#REDIRECT [[Alpha]]", redirect=True), page_xml(4, "Talk:Alpha", "x", ns=1)]
        ),
        compress=True,
    )
    result, wh = extract(tmp_path, dump)
    pages = table(wh, "pages")
    assert sorted(p["title"] for p in pages) == ["Alpha", "Beta"]
    assert {p["dump"] for p in pages} == {"20240101"} and {p["wiki"] for p in pages} == {"testwiki"}
    run = result.run
    assert (run["records_in"], run["records_out"], run["records_quarantined"]) == (4, 2, 0)
    assert dict(run["skipped"]) == {"redirect": 1, "namespace": 1}
    assert run["status"] == "succeeded"
    beta = next(p for p in pages if p["title"] == "Beta")
    assert beta["text"] == "Beta Beta is second." and beta["char_count"] == len(beta["text"])


def test_invalid_utf8_entity_bomb_and_missing_text_are_quarantined(tmp_path):
    bomb = '<!DOCTYPE mediawiki [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n'
    xml = dump_xml(
        [*GOOD, page_xml(5, "Bomb", "&b;"), page_xml(6, "NoText", None), page_xml(7, "Bad", "BADBYTES")], prolog=bomb
    )
    data = xml.encode().replace(b"BADBYTES", b"caf\xe9")
    result, wh = extract(tmp_path, write_dump(tmp_path / "testwiki.xml", data))
    assert sorted(p["title"] for p in table(wh, "pages")) == ["Alpha", "Beta"]
    reasons = sorted(q["reason"] for q in table(wh, "quarantine"))
    assert reasons == ["entity_declared", "invalid_utf8", "no_text", "undefined_entity"]
    assert "4 quarantined" in result.message and result.run["status"] == "partial"
    assert result.run["records_in"] == result.run["records_out"] + result.run["records_quarantined"]


def test_utf16_dump_is_read(tmp_path):
    xml = '<?xml version="1.0" encoding="UTF-16"?>\n' + dump_xml([page_xml(1, "Ünïcode", "Text ✓ here.")])
    dump = write_dump(tmp_path / "testwiki.xml", codecs.BOM_UTF16_LE + xml.encode("utf-16-le"))
    _, wh = extract(tmp_path, dump)
    assert [p["text"] for p in table(wh, "pages")] == ["Ünïcode Text ✓ here."]


def test_siteinfo_without_namespaces_uses_title_prefixes(tmp_path):
    pages = [page_xml(1, "Alpha", "a", ns=None), page_xml(2, "Category:Things", "c", ns=None)]
    result, wh = extract(tmp_path, write_dump(tmp_path / "testwiki.xml", dump_xml(pages, namespaces=False)))
    assert [p["title"] for p in table(wh, "pages")] == ["Alpha"]
    assert dict(result.run["skipped"]) == {"namespace": 1}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty_file"),
        (b"PK\x03\x04 this is a zip, not xml", "not_mediawiki"),
        (b"<html><p>hi</p></html>", "not_mediawiki"),
    ],
)
def test_nothing_usable_raises_after_recording(tmp_path, content, reason):
    dump = write_dump(tmp_path / "testwiki.xml", content)
    with pytest.raises(NothingUsable, match="0 pages written"):
        extract(tmp_path, dump)
    wh = tmp_path / "wh"
    assert [q["reason"] for q in table(wh, "quarantine")] == [reason]
    assert table(wh, "runs")[0]["status"] == "failed"


def test_bad_file_beside_good_one_still_exits_cleanly(tmp_path):
    good = write_dump(tmp_path / "testwiki-20240101.xml", dump_xml(GOOD))
    empty = write_dump(tmp_path / "testwiki-20240101-part2.xml", b"")
    result, _ = extract(tmp_path, good, empty)
    assert result.run["records_out"] == 2 and result.run["records_quarantined"] == 1


def test_rerun_replaces_partition_with_identical_contents(tmp_path):
    dump = write_dump(tmp_path / "testwiki.xml.bz2", dump_xml(GOOD), compress=True)
    _, wh = extract(tmp_path, dump)
    first = table(wh, "pages")
    extract(tmp_path, dump)
    assert table(wh, "pages") == first
    assert len(table(wh, "runs")) == 2
    assert not (wh / "_staging").exists() or not any((wh / "_staging").iterdir())
    assert Warehouse(str(wh)).version(PAGES) == 2  # created, then one commit per run
    assert Warehouse(wh).partitions(PAGES) == [{"dump": "undated", "wiki": "testwiki"}]


@pytest.mark.parametrize("version", ["0.8", "0.9", "0.10", "0.11"])
@pytest.mark.parametrize("compression", ["gzip", "xz", "bz2", "none"])
def test_export_versions_and_compressions(tmp_path, version, compression):
    import gzip
    import lzma

    xml = dump_xml(GOOD).replace('version="0.10"', f'version="{version}"').replace("export-0.10", f"export-{version}")
    data = xml.encode()
    packed = {"gzip": gzip.compress, "xz": lzma.compress, "bz2": bz2.compress, "none": lambda d: d}[compression](data)
    dump = write_dump(tmp_path / "testwiki-20240101.xml.dat", packed)  # the extension says nothing
    result, wh = extract(tmp_path, dump)
    assert sorted(p["title"] for p in table(wh, "pages")) == ["Alpha", "Beta"]
    strategy = "bz2-blocks" if compression == "bz2" else "whole-file"
    assert strategy in result.run["extra"]


def test_a_bare_page_fragment_says_what_is_missing(tmp_path):
    dump = write_dump(tmp_path / "testwiki.xml", "".join(GOOD))
    with pytest.raises(NothingUsable, match="0 pages written"):
        extract(tmp_path, dump)
    [problem] = table(tmp_path / "wh", "quarantine")
    assert problem["reason"] == "no_mediawiki_root" and "<mediawiki> root" in problem["detail"]


def second_wiki_pages(n: int) -> list[str]:
    """Pages of another wiki whose ids collide with the first one's, with a category its own namespace names."""
    return [page_xml(i, f"Autre {i}", f"Texte {i}. [[Catégorie:Villes]]") for i in range(1, n + 1)]


@pytest.mark.parametrize(
    ("compress", "split_mb"),
    [(False, 64.0), (True, 64.0), (True, 0.05)],
    ids=["plain-xml", "bz2-one-task", "bz2-many-tasks"],
)
def test_a_second_mediawiki_document_is_quarantined_not_filed_under_the_first(tmp_path, compress, split_mb):
    """Two exports concatenated (two bz2 streams of different wikis in one file): the first document is
    extracted, every page of the second is quarantined with the reason, nothing is duplicated or lost."""
    rng = random.Random(5)

    def filler() -> str:  # ~2.5 KB of bz2 per page, so that the file is cut into several tasks
        return " ".join("".join(rng.choices("abcdefghij", k=6)) for _ in range(1000))

    first = dump_xml([page_xml(i, f"Page {i}", f"{filler()} {i}") for i in range(1, 41)])
    second = dump_xml(second_wiki_pages(30), dbname="frwiki")
    path = tmp_path / ("testwiki-20240101.xml" + (".bz2" if compress else ""))
    data = bz2.compress(first.encode(), 1) + bz2.compress(second.encode(), 1) if compress else (first + second).encode()
    path.write_bytes(data)
    result, wh = extract(tmp_path, path, split_mb=split_mb)
    pages = table(wh, "pages")
    assert len(pages) == 40 and len({p["page_id"] for p in pages}) == 40 and {p["wiki"] for p in pages} == {"testwiki"}
    assert not any("Texte" in p["text"] for p in pages)
    quarantined = [q for q in table(wh, "quarantine") if q["reason"] == "second_document"]
    assert len(quarantined) == 30 and all("frwiki" in q["detail"] for q in quarantined)
    run = result.run
    assert run["records_in"] == run["records_out"] + run["records_quarantined"] + run["records_skipped"] == 70
    assert "1 more <mediawiki> document(s) in the input (frwiki)" in result.message


def multistream_dump(tmp_path, pages: list[str], per_stream: int) -> tuple[bytes, bytes]:
    """A multistream dump as Wikimedia writes it (header stream, streams of pages, footer stream) and its index."""
    xml = dump_xml([])
    head, foot = xml[: xml.index("</mediawiki>")], "</mediawiki>\n"
    streams = [head] + ["".join(pages[i : i + per_stream]) for i in range(0, len(pages), per_stream)] + [foot]
    data, index = b"", []
    for n, stream in enumerate(streams):
        if 0 < n < len(streams) - 1:
            index += [f"{len(data)}:{n}:x"]
        data += bz2.compress(stream.encode(), 1)
    return data, bz2.compress("\n".join(index).encode())


GARBAGE = {
    "random-bytes": bytes(random.Random(3).randrange(256) for _ in range(3000)),
    "zeros": b"\0" * 512,
    "stream-header-then-junk": b"BZh9" + bytes(random.Random(4).randrange(256) for _ in range(3000)),
    "block-header-then-junk": b"BZh91AY&SY" + bytes(random.Random(5).randrange(256) for _ in range(3000)),
    "html-error-page": b"<html><body>502 Bad Gateway</body></html>\n",
}


@pytest.mark.parametrize("garbage", GARBAGE, ids=list(GARBAGE))
@pytest.mark.parametrize("strategy", ["whole-file", "bz2-blocks", "multistream-index"])
def test_garbage_after_the_last_bz2_stream_is_one_quarantine_row_whatever_it_starts_with(tmp_path, garbage, strategy):
    pages = [page_xml(i, f"Page {i}", f"Text {i} " * 400) for i in range(1, 31)]
    data, index = multistream_dump(tmp_path, pages, per_stream=5)
    path = tmp_path / "testwiki-20240101-pages-articles-multistream.xml.bz2"
    path.write_bytes(data + GARBAGE[garbage])
    (tmp_path / "testwiki-20240101-pages-articles-multistream-index.txt.bz2").write_bytes(index)
    result, wh = extract(tmp_path, path, split_strategy=strategy, split_mb=0.002)
    assert len(table(wh, "pages")) == 30
    [problem] = table(wh, "quarantine")
    assert problem["reason"] == "trailing_garbage" and problem["position"] == len(data)
    assert f"{len(GARBAGE[garbage]):,} bytes after the last complete bz2 stream" in problem["detail"]
    extra = json.loads(result.run["extra"])
    assert result.run["records_quarantined"] == 1 and extra["quarantined_by_reason"] == {"trailing_garbage": 1}
    assert "1 quarantined (1 trailing_garbage)" in result.message


def test_a_cut_last_stream_is_truncation_not_garbage(tmp_path):
    pages = [page_xml(i, f"Page {i}", f"Text {i} " * 400) for i in range(1, 31)]
    data, _ = multistream_dump(tmp_path, pages, per_stream=5)
    path = write_dump(tmp_path / "testwiki-20240101.xml.bz2", data[:-200])  # into the last page stream
    _, wh = extract(tmp_path, path)
    reasons = {q["reason"] for q in table(wh, "quarantine")}
    assert "trailing_garbage" not in reasons and reasons <= {"truncated", "corrupt_stream"}, reasons


@pytest.mark.parametrize("split_mb", [64.0, 0.002], ids=["one-task", "many-tasks"])
def test_a_repeated_page_id_keeps_the_first_copy_and_quarantines_the_rest(tmp_path, split_mb):
    """One export that repeats a page id, and a second file of the same wiki and dump that repeats one more:
    ``pages`` keeps one row per page id (the first in input order), the copies are quarantined."""
    rng = random.Random(9)
    body = [page_xml(i, f"Page {i}", " ".join(rng.choices(["ab", "cd", "ef", "gh"], k=3000))) for i in range(1, 21)]
    first = [*body[:10], page_xml(4, "Page 4 again", "Another text."), *body[10:]]
    one = write_dump(tmp_path / "testwiki-20240101-p1.xml.bz2", bz2.compress(dump_xml(first).encode(), 1))
    other = [page_xml(15, "Page 15 elsewhere", "Third text."), page_xml(99, "Page 99", "Fourth text.")]
    two = write_dump(tmp_path / "testwiki-20240101-p2.xml.bz2", bz2.compress(dump_xml(other).encode(), 1))
    result, wh = extract(tmp_path, two, one, split_mb=split_mb)  # input order is by path, not argument order
    pages = {p["page_id"]: p["title"] for p in table(wh, "pages")}
    assert len(pages) == 21 and pages[4] == "Page 4" and pages[15] == "Page 15" and pages[99] == "Page 99"
    copies = sorted((q["record_id"], q["snippet"]) for q in table(wh, "quarantine"))
    assert copies == [("15", "Page 15 elsewhere"), ("4", "Page 4 again")]
    assert {q["reason"] for q in table(wh, "quarantine")} == {"duplicate_key"}
    run = result.run
    assert run["records_out"] == 21 and run["records_in"] == 23 and "2 duplicate_key" in result.message


def test_a_dump_named_twice_is_read_once(tmp_path):
    dump = write_dump(tmp_path / "testwiki-20240101.xml", dump_xml(GOOD))
    result, wh = extract(tmp_path, dump, tmp_path / "." / dump.name)
    assert len(table(wh, "pages")) == 2 and result.run["records_quarantined"] == 0
