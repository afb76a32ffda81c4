"""The extract stage without Spark (LocalRunner): bad input keeps every good page."""

import codecs

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
    assert not any((wh / "_staging").iterdir())
    assert Warehouse(wh).partitions(PAGES) == [{"dump": "undated", "wiki": "testwiki"}]


@pytest.mark.parametrize("version", ["0.8", "0.9", "0.10", "0.11"])
@pytest.mark.parametrize("compression", ["gzip", "xz", "bz2", "none"])
def test_export_versions_and_compressions(tmp_path, version, compression):
    import bz2
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
