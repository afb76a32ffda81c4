"""Every real dump in ../shared/data/wiki: page counts, reconciled runs, exact segment ids."""

from __future__ import annotations

import bz2
import lzma
import re
from pathlib import Path

import pytest

from schemas import PAGES, QUARANTINE, RUNS, SEGMENTS
from tests.helpers import article_count, train_wordpiece
from tracer.spark.runner import SparkRunner
from tracer.stages.common import LocalRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.tokenization.loading import load_tokenizer
from tracer.warehouse import Warehouse

pytestmark = [pytest.mark.shared_data, pytest.mark.spark]


def dumps(shared: Path) -> list[Path]:
    wiki = shared / "wiki"
    return sorted(p for p in [*wiki.glob("*.xml.*"), *(wiki / "pages").glob("*.xml.*")] if "index" not in p.name)


def raw_xml(path: Path) -> bytes:
    opener = lzma.open if path.suffix == ".xz" else bz2.open
    with opener(path) as f:
        try:
            return f.read()
        except EOFError:
            pass
    with opener(path) as f:  # truncated: read what there is
        out = bytearray()
        try:
            while chunk := f.read(1 << 16):
                out += chunk
        except EOFError:
            pass
        return bytes(out)


def label(path: Path) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.name.lower().split(".xml")[0]) + (
        "-pages" if path.parent.name == "pages" else ""
    )


@pytest.fixture(scope="module")
def warehouse(shared_data, spark, tmp_path_factory) -> Warehouse:
    wh = tmp_path_factory.mktemp("shared-wh")
    runner = SparkRunner(spark)
    for path in dumps(shared_data):
        config = ExtractConfig(dumps=[str(path)], warehouse=str(wh), dump=label(path), split_mb=0.5)
        ExtractStage(config, runner).run()
    return Warehouse(wh)


def test_page_counts_equal_article_counts(shared_data, warehouse):
    pages = warehouse.read(PAGES, columns=["page_id", "dump"]).to_pylist()
    quarantine = warehouse.read(QUARANTINE).to_pylist()
    for path in dumps(shared_data):
        xml = raw_xml(path)
        complete = xml[: xml.rfind(b"</page>") + len(b"</page>")]
        got = sum(1 for p in pages if p["dump"] == label(path))
        assert got == article_count(complete), path.name
        cut = [q for q in quarantine if q["dump"] == label(path)]
        if "truncated" in path.name:
            assert [q["reason"] for q in cut] == ["truncated"], cut
        else:
            assert cut == [], path.name


def test_runs_reconcile(shared_data, warehouse):
    runs = [r for r in warehouse.read(RUNS).to_pylist() if r["stage"] == "extract"]
    assert len(runs) == len(dumps(shared_data))
    for run in runs:
        assert run["records_in"] == run["records_out"] + run["records_quarantined"] + run["records_skipped"]
        xml = raw_xml(Path(run["inputs"][0]["path"]))
        assert run["records_in"] == xml.count(b"<page>"), run["inputs"][0]["path"]


def test_split_strategies_agree(shared_data, tmp_path):
    wiki = shared_data / "wiki"
    cases = [
        (wiki / "ltgwiki-pages-articles-multistream.xml.bz2", ["whole-file", "multistream-index", "bz2-blocks"]),
        (wiki / "ltgwiki-pages-articles.xml.bz2", ["whole-file", "bz2-blocks"]),
        (wiki / "hywiki-sample.xml.bz2", ["whole-file", "bz2-blocks"]),
    ]
    for path, strategies in cases:
        tables = []
        for strategy in strategies:
            wh = tmp_path / f"{path.name}-{strategy}"
            config = ExtractConfig(dumps=[str(path)], warehouse=str(wh), split_strategy=strategy, split_mb=0.3)
            result = ExtractStage(config, LocalRunner()).run()
            assert result.run["extra"] and strategy in result.run["extra"]
            tables.append(sorted(Warehouse(wh).read(PAGES).to_pylist(), key=lambda r: r["page_id"]))
        assert all(t == tables[0] for t in tables), path.name


@pytest.mark.parametrize("kind", ["xlm-r", "wordpiece"])
def test_segments_are_exactly_the_whole_page_ids(warehouse, xlmr_tokenizer_path, spark, tmp_path, kind):
    if kind == "xlm-r":
        spec = str(xlmr_tokenizer_path)
    else:
        texts = warehouse.read(PAGES, columns=["text"])["text"].to_pylist()
        spec = str(tmp_path / "wordpiece.json")
        train_wordpiece(texts[::6], vocab_size=30000).save(spec)
    result = SegmentStage(SegmentConfig(warehouse=str(warehouse.root), tokenizer=spec), SparkRunner(spark)).run()
    tokenizer_id = result.run["parameters"].split('"tokenizer_id": "')[1].split('"')[0]
    tokenizer = load_tokenizer(spec).tokenizer
    pages = warehouse.read(PAGES, columns=["page_id", "text", "dump"]).to_pylist()
    segments: dict[tuple[str, int], list[dict]] = {}
    for s in warehouse.read(SEGMENTS, tokenizer=tokenizer_id).to_pylist():
        segments.setdefault((s["dump"], s["page_id"]), []).append(s)
    encodings = tokenizer.encode_batch([p["text"] for p in pages], add_special_tokens=False)
    for page, enc in zip(pages, encodings, strict=True):
        segs = sorted(segments[(page["dump"], page["page_id"])], key=lambda s: s["seg_no"])
        assert [i for s in segs for i in s["token_ids"]] == enc.ids, (page["dump"], page["page_id"])
        assert all(s["token_count"] == len(s["token_ids"]) <= 512 for s in segs)
        assert all(s["text"] == page["text"][s["char_start"] : s["char_end"]] for s in segs)
        edges = [(s["char_start"], s["char_end"]) for s in segs]  # the tokenizer's own offsets at each cut
        offsets = enc.offsets  # (each read of the property builds the whole list)
        firsts = range(0, len(offsets), 512)
        assert edges == [(offsets[i][0], offsets[min(i + 512, len(offsets)) - 1][1]) for i in firsts]
    assert result.run["records_out"] == len(pages)


def test_the_readmes_truncated_dump_output(shared_data, spark, tmp_path, capsys):
    from tests.shown import check_shown
    from tracer.cli import main

    path = shared_data / "wiki" / "ukwiki-truncated.xml.xz"
    assert main(["extract", str(path), "--warehouse", str(tmp_path / "wh")]) == 0
    command = "$ factrace extract ../shared/data/wiki/ukwiki-truncated.xml.xz --warehouse wh\n"
    check_shown("extract-truncated", command + capsys.readouterr().out)


def test_the_compiled_and_the_python_word_loops_encode_every_page_alike(warehouse, xlmr_tokenizer_path):
    from tracer.tokenization import wordloop
    from tracer.tokenization.fast_encoder import FastEncoder
    from tracer.tokenization.loops import IMPLEMENTATION, LOOPS

    if IMPLEMENTATION != "compiled":
        pytest.fail("the compiled word loop is not built: 'make venv' builds it with the package (needs a C compiler)")
    texts = warehouse.read(PAGES, columns=["text"])["text"].to_pylist()
    wordpiece = train_wordpiece(texts[::12], vocab_size=8000)
    for tokenizer in (load_tokenizer(str(xlmr_tokenizer_path)).tokenizer, wordpiece):
        compiled, python = FastEncoder(tokenizer, loops=LOOPS), FastEncoder(tokenizer, loops=wordloop)
        for text in texts:
            a, b = compiled.encode(text), python.encode(text)
            assert a.ids == b.ids
            edges = sorted({*range(0, len(a.ids), 511), len(a.ids) - 1} - {-1})
            assert [a.offset(i) for i in edges] == [b.offset(i) for i in edges]
        assert (compiled.pages_fast, compiled.pages_reference) == (python.pages_fast, python.pages_reference)
        assert all(compiled.fast.cluster_candidates(t) == python.fast.cluster_candidates(t) for t in texts)
        assert compiled.pages_fast >= 0.99 * len(texts)  # the fast path takes 99 % of the shared pages at least
        full = FastEncoder(tokenizer, max_cache=2000, loops=LOOPS)  # the cache fills on the first pages
        assert all(full.encode(t).ids == python.encode(t).ids for t in texts[::15])
        assert full.words.cached_words() == 2000
