"""Facts from the real mLAMA, traced over the real dumps in both modes, checked against brute force."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from schemas import FACT_PRESENCE, FACTS, PAGES, QUARANTINE, RUNS, SEGMENTS
from tests.reference import SubstringReference, TextReference, TokenReference, reference_presence
from tracer.matching.normalize import normalizer, normalizer_name
from tracer.spark.runner import SparkRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.stages.trace import TraceConfig, TraceStage
from tracer.tokenization.loading import load_tokenizer
from tracer.warehouse import Warehouse

pytestmark = [pytest.mark.shared_data, pytest.mark.spark]

DUMPS = ["enwiki-sample-206p", "jawiki-sample", "ukwiki-sample", "hywiki-sample", "viwiki-sample", "mrwiki-sample"]
PAGE_DUMPS = ["zhwiki-pages", "dewiki-pages"]
TRACED = {"en", "ja", "uk", "hy", "vi", "zh", "de"}
SUBSET_PAGES = 6


MODES = ("tokens", "fact-cl", "text")


def _trace_both(wh: Path, runner: SparkRunner) -> dict[str, dict]:
    return {mode: TraceStage(TraceConfig(warehouse=str(wh), mode=mode), runner).run() for mode in MODES}


@pytest.fixture(scope="module")
def full(shared_data, spark, xlmr_tokenizer_path, tmp_path_factory):
    """All of mLAMA, the dumps of traced languages (and mr, which has no facts), XLM-R segments, every mode."""
    wh = tmp_path_factory.mktemp("trace-full")
    runner = SparkRunner(spark)
    facts = FactsStage(FactsConfig(mlama=str(shared_data / "mlama1.1"), warehouse=str(wh)), runner).run()
    for name in DUMPS:
        config = ExtractConfig(dumps=[str(shared_data / "wiki" / f"{name}.xml.bz2")], warehouse=str(wh), dump="d1")
        ExtractStage(config, runner).run()
    for name in PAGE_DUMPS:
        path = shared_data / "wiki" / "pages" / f"{name}.xml.bz2"
        ExtractStage(ExtractConfig(dumps=[str(path)], warehouse=str(wh), dump="d1"), runner).run()
    SegmentStage(SegmentConfig(warehouse=str(wh), tokenizer=str(xlmr_tokenizer_path)), runner).run()
    return Warehouse(wh), facts, _trace_both(wh, runner)


@pytest.fixture(scope="module")
def subset(full, spark, xlmr_tokenizer_path, tmp_path_factory):
    """The first pages of every traced wiki, small enough for the brute force to check every fact."""
    source, _, _ = full
    wh = Warehouse(tmp_path_factory.mktemp("trace-subset"))
    for values in source.partitions(PAGES):
        pages = source.read(PAGES, dump=values["dump"], wiki=values["wiki"]).drop_columns(["dump", "wiki"])
        first = sorted(pages.column("page_id").to_pylist())[:SUBSET_PAGES]
        pages = pages.filter(pc.is_in(pages.column("page_id"), pa.array(first, pa.int64())))
        wh.put(PAGES, values, pages)
    (Path(wh.root) / "facts").symlink_to(Path(source.root) / "facts")  # a Delta table's paths are relative
    runner = SparkRunner(spark)
    SegmentStage(SegmentConfig(warehouse=str(wh.root), tokenizer=str(xlmr_tokenizer_path)), runner).run()
    return wh, _trace_both(wh.root, runner)


def test_all_of_mlama_loads_and_nothing_valid_is_quarantined(full):
    wh, facts, _ = full
    assert facts.run["records_out"] == 843_143
    assert facts.run["records_quarantined"] == 0
    assert wh.read(QUARANTINE, stage="facts").num_rows == 0
    assert len(wh.partitions(FACTS)) == 53
    en = wh.read(FACTS, lang="en")
    assert en.num_rows == 37_498 and set(en.column("dataset").to_pylist()) == {"TREx", "GoogleRE"}
    assert en.column("template").null_count == 0


def test_every_language_with_a_dump_is_traced_and_the_rest_is_not(full):
    wh, _, traced = full
    for mode, result in traced.items():
        langs = {v["lang"] for v in wh.partitions(FACT_PRESENCE, match_mode=mode)}
        assert langs == TRACED, mode
        run = result.run
        assert run["records_in"] == 843_143 and run["records_in"] == run["records_out"] + run["records_skipped"]
        assert dict(run["skipped"])["no_corpus"] == 843_143 - sum(wh.read(FACTS, lang=lang).num_rows for lang in TRACED)
        assert "mrwiki" in run["extra"] and "not traced, no corpus: 46 language(s)" in result.message
        for lang in TRACED:
            rows = wh.read(FACT_PRESENCE, lang=lang, match_mode=mode)
            assert rows.num_rows == wh.read(FACTS, lang=lang).num_rows
            if (mode, lang) != ("fact-cl", "zh"):  # XLM-R writes "▁" before a lone Chinese label, not in running text
                assert rows.column("present").to_pylist().count(True) > 0, (mode, lang)


@lru_cache(maxsize=2)
def _token_reference(path: str) -> TokenReference:
    return TokenReference(load_tokenizer(path).tokenizer)


@lru_cache(maxsize=2)
def _substring_reference(path: str) -> SubstringReference:
    return SubstringReference(load_tokenizer(path).tokenizer)


def _compare(wh: Warehouse, mode: str, lang: str, facts: list[dict]) -> int:
    tokenizer_id = wh.partitions(SEGMENTS, wiki=f"{lang}wiki")[0]["tokenizer"]
    segments = wh.read(SEGMENTS, wiki=f"{lang}wiki").to_pylist()
    tokenizer = str(wh.tokenizer_file(tokenizer_id))
    if mode == "tokens":
        matcher = _token_reference(tokenizer)
    elif mode == "fact-cl":
        matcher = _substring_reference(tokenizer)
    else:
        matcher = TextReference(normalizer(normalizer_name(lang)))
    expected = reference_presence(facts, segments, matcher, "text" if mode == "text" else "token_ids")
    got = {r["uuid"]: r for r in wh.read(FACT_PRESENCE, lang=lang, match_mode=mode).to_pylist()}
    mismatches = [(u, e, got[u]) for u, e in expected.items() if any(got[u][k] != v for k, v in e.items())]
    assert not mismatches, f"{mode}/{lang}: {len(mismatches)} facts differ, first: {mismatches[:2]}"
    return sum(1 for e in expected.values() if e["present"])


@pytest.mark.parametrize("mode", MODES)
def test_every_fact_on_the_first_pages_agrees_with_brute_force(subset, mode):
    wh, _ = subset
    present = 0
    for lang in sorted(TRACED):
        facts = wh.read(FACTS, lang=lang).to_pylist()
        present += _compare(wh, mode, lang, facts)
    assert present > 100


# text mode: every fact on the first pages (above) keeps CI short
@pytest.mark.parametrize("mode", ["tokens", "fact-cl"])
def test_whole_dumps_agree_with_brute_force_on_every_present_fact_and_a_sample(full, mode):
    wh, _, _ = full
    for lang in sorted(TRACED):
        rows = wh.read(FACT_PRESENCE, lang=lang, match_mode=mode, columns=["uuid", "present"]).to_pylist()
        chosen = {r["uuid"] for i, r in enumerate(rows) if r["present"] is not False or i % 397 == 0}
        facts = [f for f in wh.read(FACTS, lang=lang).to_pylist() if f["uuid"] in chosen]
        _compare(wh, mode, lang, facts)


def test_trace_runs_are_recorded(full):
    wh, _, _ = full
    runs = [r for r in wh.read(RUNS).to_pylist() if r["stage"] == "trace"]
    assert len(runs) == 3 and all(r["status"] == "succeeded" for r in runs)


@pytest.mark.parametrize("name", ["query-absence", "query-evidence", "query-en-ja"])
def test_the_readmes_query_outputs(full, name):
    from tests.shown import check_shown, sql_before
    from tracer.query import QueryConfig, run_query

    wh, _, _ = full
    check_shown(name, run_query(QueryConfig(sql=sql_before(name), warehouse=str(wh.root))))


def test_the_readmes_trace_line(full):
    from tests.shown import check_shown

    _, _, traced = full
    check_shown("trace-shared", traced["tokens"].message)
