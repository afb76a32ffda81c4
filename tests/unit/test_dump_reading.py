import bz2
import io
import tracemalloc

import pytest

from tests.helpers import dump_xml, page_xml
from tracer.dumps import bz2_blocks, naming
from tracer.dumps.page_parser import BadPage, parse_page
from tracer.dumps.page_scanner import Header, OversizedPage, PageBlob, TruncatedPage, scan_pages
from tracer.dumps.siteinfo import NotAMediaWikiExport, parse_siteinfo


def chunks_of(data: bytes, size: int):
    return (data[i : i + size] for i in range(0, len(data), size))


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_scanner_finds_pages_across_chunk_boundaries(chunk):
    xml = dump_xml([page_xml(1, "A", "x"), page_xml(2, "B", "y")]).encode()
    events = list(scan_pages(chunks_of(xml, chunk)))
    assert isinstance(events[0], Header) and b"<siteinfo>" in events[0].data
    pages = [e for e in events[1:] if isinstance(e, PageBlob)]
    assert [parse_page(p.data, p.offset).title for p in pages] == ["A", "B"]
    assert xml[pages[1].offset : pages[1].offset + 6] == b"<page>"


def test_scanner_reports_a_cut_page():
    xml = dump_xml([page_xml(1, "A", "x"), page_xml(2, "B", "y")]).encode()
    cut = xml[: xml.rindex(b"</page>") - 3]
    events = list(scan_pages([cut]))
    assert isinstance(events[-1], TruncatedPage) and events[-1].page_id == "2"


def test_gigantic_page_streams_past_without_being_buffered():
    head = dump_xml([]).encode().replace(b"</mediawiki>\n", b"")
    big = 40 << 20

    def stream():
        yield head + b"  <page>\n <title>Huge</title><ns>0</ns><id>7</id><revision><text>"
        for _ in range(big // (1 << 20)):
            yield b"x" * (1 << 20)
        yield b"</text></revision></page>\n" + page_xml(8, "After", "ok").encode() + b"</mediawiki>"

    tracemalloc.start()
    events = list(scan_pages(stream(), max_page_bytes=2 << 20))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    oversized = [e for e in events if isinstance(e, OversizedPage)]
    assert oversized and oversized[0].page_id == "7" and oversized[0].size > big
    assert parse_page(events[-1].data, events[-1].offset).title == "After"
    assert peak < 12 << 20, f"peak {peak} bytes: the page was buffered"


def test_parser_reasons():
    good = page_xml(5, "T", "body").encode()
    assert parse_page(good, 0).wikitext == "body"
    with pytest.raises(BadPage) as bad:
        parse_page(good.replace(b"body", b"b\xffdy"), 100)
    assert bad.value.reason == "invalid_utf8"
    assert f"byte {100 + good.index(b'body') + 1}" in bad.value.detail
    with pytest.raises(BadPage) as bad:
        parse_page(good.replace(b"body", b"&lol9;"), 0)
    assert bad.value.reason == "undefined_entity"
    assert parse_page(page_xml(6, "T", None).encode(), 0).wikitext is None
    with pytest.raises(BadPage) as bad:
        parse_page(b"<page><title>x</title><id>abc</id></page>", 0)
    assert bad.value.reason == "bad_id"


def test_siteinfo_never_expands_declared_entities():
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE mediawiki [\n<!ENTITY a "aaaaaaaaaa">\n'
        + "".join(f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10 if i else "&a;" * 10}">\n' for i in range(10))
        + "]>\n"
    )
    info = parse_siteinfo(dump_xml([], prolog=bomb).encode())
    assert info.entity_declarations and info.dbname == "testwiki"
    assert info.namespaces[14] == "Category"


def test_siteinfo_rejects_other_documents():
    with pytest.raises(NotAMediaWikiExport):
        parse_siteinfo(b"<html><body>hi</body></html>")
    with pytest.raises(NotAMediaWikiExport):
        parse_siteinfo(b"just some text")


def test_namespace_from_title_when_pages_have_no_ns():
    info = parse_siteinfo(dump_xml([], namespaces=False).encode())
    assert not info.has_namespaces
    assert info.namespace_of_title("Category:Cities") == 14
    assert info.namespace_of_title("Star Wars: Episode IV") == 0


def test_names_from_file_and_siteinfo():
    assert naming.dump_date("enwiki-20230501-pages-articles.xml.bz2") == "20230501"
    assert naming.dump_date("enwiki-sample.xml.bz2") == "undated"
    assert naming.wiki_code("x.xml", None, "http://fr.wikipedia.org/wiki/Accueil") == "frwiki"
    assert naming.wiki_code("zh_yuewiki-latest.xml", None, None) == "zh_yuewiki"
    assert naming.wiki_code("x.xml", "jawiki", None, override="other") == "other"


def test_bz2_blocks_decode_alone_and_cover_the_file():
    data = b"".join(f"line {i} {i * i}\n".encode() for i in range(400_000))
    compressed = bz2.compress(data, compresslevel=1)  # 100k blocks: several of them
    f = io.BytesIO(compressed)
    blocks = list(bz2_blocks.iter_blocks(f, 0, len(compressed)))
    assert len(blocks) > 3
    assert b"".join(bz2_blocks.decode_block(f, b"1", b.start_bit, b.end_bit) for b in blocks) == data


@pytest.mark.parametrize("shift", range(8))
def test_magic_found_at_every_bit_shift(shift):
    value = (0b1011 << (48 + shift + 3)) | (bz2_blocks.BLOCK_MAGIC << (shift + 3))
    data = value.to_bytes((value.bit_length() + 7) // 8 + 1, "big")
    total_bits = len(data) * 8
    assert bz2_blocks.find_magic(data, bz2_blocks.BLOCK_PATTERNS) == [total_bits - 48 - shift - 3]
