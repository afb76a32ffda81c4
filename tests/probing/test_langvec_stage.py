"""The langvec stage with the tiny BERT: one partition per language from a seeded sample of its own segments
(or a text file), equal to averaging the same sentences by hand; reruns and the Spark job give the same rows;
a language with neither segments nor a text file is a clear error that writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from probing.lrp2 import Pooling, language_vectors
from probing.models import load_masked_lm
from schemas import LANGUAGE_VECTORS, RUNS, SEGMENTS
from tests.helpers import dump_xml, page_xml, write_dump
from tracer.errors import ConfigError, InputNotFound
from tracer.stages.common import LocalRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.langvec import LangvecConfig, LangvecStage, sample_sentences
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.warehouse import Warehouse

pytestmark = pytest.mark.probing

TEXTS = {
    "enwiki": "Paris is the capital of France. Tokyo is the capital of Japan! Berlin is located in Germany. ",
    "dewiki": "Paris ist die Hauptstadt von France. Berlin liegt in Germany. Tokyo ist die Hauptstadt. ",
}


@pytest.fixture(scope="module")
def segmented(tiny_bert, tmp_path_factory) -> Path:
    """en and de wikis of a few pages, segmented with the tiny BERT's own tokenizer."""
    root = tmp_path_factory.mktemp("langvec")
    for wiki, text in TEXTS.items():
        pages = [page_xml(i, f"Page {i}", text * (1 + i % 3)) for i in range(1, 13)]
        dump = write_dump(root / f"{wiki}.xml", dump_xml(pages, dbname=wiki))
        ExtractStage(ExtractConfig(dumps=[str(dump)], warehouse=str(root / "wh"), dump="20260101"), LocalRunner()).run()
    SegmentStage(SegmentConfig(str(root / "wh"), str(tiny_bert), max_tokens=16), LocalRunner()).run()
    return root / "wh"


def vectors(wh: Path) -> list[dict]:
    return sorted(Warehouse(str(wh)).read(LANGUAGE_VECTORS).to_pylist(), key=lambda r: (r["lang"], r["layer"]))


def langvec(tiny_bert, wh: Path, runner=None, **options) -> str:
    config = LangvecConfig(model=str(tiny_bert), warehouse=str(wh), model_id="tiny", samples=8, **options)
    return LangvecStage(config, runner or LocalRunner()).run().message


def test_vectors_per_language_equal_the_sampled_sentences_averaged_by_hand(tiny_bert, segmented, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(segmented, wh)
    message = langvec(tiny_bert, wh)
    assert message.startswith("langvec: model tiny: 2 language(s) x 3 layers from 16 sentences")
    rows = vectors(wh)
    assert [(r["lang"], r["layer"]) for r in rows] == [(lang, n) for lang in ("de", "en") for n in range(3)]
    en = [r for r in rows if r["lang"] == "en"]
    assert en[0]["source"] == "segments dump=20260101 wiki=enwiki seed=0"
    assert en[0]["pooling"] == "mean-tokens-no-special" and en[0]["sentences"] == 8

    from tracer.stages.tasks import LangvecTask

    read = Warehouse(str(wh))
    [values] = read.partitions(SEGMENTS, wiki="enwiki")
    segments = read.files(SEGMENTS, values)
    task = LangvecTask("r", "tiny", str(tiny_bert), "cpu", "en", segments, "", "", 8, 0, False, 128, "")
    sentences = sample_sentences(task)
    assert len(sentences) == 8 and all(s.endswith((".", "!")) for s in sentences)
    loaded = load_masked_lm(str(tiny_bert), "cpu")
    by_hand, _ = language_vectors(loaded, loaded.tokenizer(sentences)["input_ids"], Pooling())
    got = torch.tensor([r["vector"] for r in en], dtype=torch.float64)
    torch.testing.assert_close(got, by_hand, rtol=1e-6, atol=1e-6)

    langvec(tiny_bert, wh)  # a rerun replaces the partitions with the same rows
    assert vectors(wh) == rows
    run = [r for r in Warehouse(str(wh)).read(RUNS).to_pylist() if r["stage"] == "langvec"][-1]
    assert run["records_out"] == 16 and run["parents"]  # lineage: the segments runs it sampled


@pytest.mark.spark
def test_the_spark_job_gives_the_same_rows(tiny_bert, segmented, tmp_path, spark):
    import shutil

    from tracer.spark.runner import SparkRunner

    shutil.copytree(segmented, tmp_path / "local")
    shutil.copytree(segmented, tmp_path / "spark")
    langvec(tiny_bert, tmp_path / "local")
    langvec(tiny_bert, tmp_path / "spark", SparkRunner(spark), spark=True)
    assert vectors(tmp_path / "spark") == vectors(tmp_path / "local")


def test_a_text_file_instead_of_segments_and_the_errors(tiny_bert, segmented, tmp_path):
    wh = tmp_path / "wh"
    shutil.copytree(segmented, wh)
    with pytest.raises(InputNotFound, match=r"language xx has no segments in .* \(and no --text-dir\)"):
        langvec(tiny_bert, wh, langs=["en", "xx"])
    assert Warehouse(str(wh)).read(LANGUAGE_VECTORS).num_rows == 0  # nothing written, en included
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "xx.txt").write_text("Paris is the capital of France.\nTokyo is the capital of Japan.\n\n")
    langvec(tiny_bert, wh, langs=["xx"], text_dir=str(texts))
    [first] = [r for r in vectors(wh) if r["layer"] == 0]
    assert first["source"].startswith(f"file {texts / 'xx.txt'} sha256=") and first["sentences"] == 2


CAPITALS = [("France", "Paris"), ("Japan", "Tokyo"), ("Germany", "Berlin")]


@pytest.fixture
def with_facts(segmented, tmp_path) -> Path:
    from tests.helpers import write_mlama
    from tracer.stages.facts import FactsConfig, FactsStage

    wh = tmp_path / "wh"
    shutil.copytree(segmented, wh)
    for lang in ("en", "de", "fr"):
        write_mlama(tmp_path / "mlama", lang, {"P36": CAPITALS})
    FactsStage(FactsConfig(mlama=str(tmp_path / "mlama"), warehouse=str(wh)), LocalRunner()).run()
    return wh


def predictions(wh: Path, intervention: str) -> dict[tuple, list]:
    from schemas import PREDICTIONS

    rows = Warehouse(str(wh)).read(PREDICTIONS, intervention=intervention).to_pylist()
    return {(r["lang"], r["uuid"]): r["predicted_ids"] for r in rows}


def test_probing_with_lrp2_writes_beside_the_baseline(tiny_bert, with_facts):
    from tracer.stages.probe import ProbeConfig, ProbeStage

    def probe(**options) -> str:
        config = ProbeConfig(model=str(tiny_bert), warehouse=str(with_facts), model_id="tiny", langs=["en", "de"],
                             neurons=True, **options)  # fmt: skip
        return ProbeStage(config, LocalRunner()).run().message

    with pytest.raises(
        InputNotFound, match=r"--lrp2: model tiny has no language vectors for de, en .*factrace langvec"
    ):
        probe(lrp2="1,2")
    langvec(tiny_bert, with_facts, langs=["en", "de"])
    with pytest.raises(ConfigError, match=r"model tiny has 2 encoder layers; need i < j <= 2"):
        probe(lrp2="1,3")
    with pytest.raises(ConfigError, match=r"need 1 <= i < j"):
        probe(lrp2="2,2")
    probe()
    assert "with lrp2_1_2" in probe(lrp2="1,2")
    base, lrp2 = predictions(with_facts, "none"), predictions(with_facts, "lrp2_1_2")
    assert base.keys() == lrp2.keys()
    assert {k: v for k, v in lrp2.items() if k[0] == "en"} == {k: v for k, v in base.items() if k[0] == "en"}

    # with German's vectors equal to English's, the projection is the identity: the same predictions
    wh = Warehouse(str(with_facts))
    english = wh.read(LANGUAGE_VECTORS, lang="en").drop_columns(["model", "lang"])
    wh.put(LANGUAGE_VECTORS, {"model": "tiny", "lang": "de"}, english)
    probe(lrp2="1,2", force=True)
    assert predictions(with_facts, "lrp2_1_2") == base


def test_the_layer_search_writes_every_pair_and_one_chosen(tiny_bert, with_facts):
    from schemas import LRP2_SEARCH
    from tracer.stages.lrp2_search import SearchConfig, SearchStage

    def search(**options) -> str:
        config = SearchConfig(model=str(tiny_bert), warehouse=str(with_facts), model_id="tiny", **options)
        return SearchStage(config, LocalRunner()).run().message

    with pytest.raises(InputNotFound, match="model tiny has no English language vectors"):
        search()
    langvec(tiny_bert, with_facts, langs=["en", "de"])
    with pytest.raises(InputNotFound, match=r"no facts or no language vectors of model tiny for fr"):
        search(langs=["de", "fr"])
    message = search()
    assert message.startswith("lrp2-search: model tiny, 2 language(s), 1 pairs each on TREx dev/test halves: de ")
    rows = Warehouse(str(with_facts)).read(LRP2_SEARCH).to_pylist()
    de = sorted((r for r in rows if r["lang"] == "de"), key=lambda r: r["intervention"])
    assert [r["intervention"] for r in de] == ["lrp2_1_2", "none"]
    assert [r["intervention"] for r in rows if r["lang"] == "en"] == ["none"]
    assert sum(r["chosen"] for r in de) == 1 and sum(r["oracle"] for r in de) == 1
    assert all(r["dev_facts"] + r["test_facts"] == len(CAPITALS) for r in rows)
    search()  # a rerun gives the same rows
    again = Warehouse(str(with_facts)).read(LRP2_SEARCH).to_pylist()
    assert sorted(again, key=lambda r: (r["lang"], r["intervention"])) == sorted(
        rows, key=lambda r: (r["lang"], r["intervention"])
    )


@pytest.mark.spark
def test_the_layer_search_through_spark_gives_the_same_rows(tiny_bert, with_facts, tmp_path, spark):
    from schemas import LRP2_SEARCH
    from tracer.spark.runner import SparkRunner
    from tracer.stages.lrp2_search import SearchConfig, SearchStage

    langvec(tiny_bert, with_facts, langs=["en", "de"])
    shutil.copytree(with_facts, tmp_path / "spark")
    for wh, runner, spark_tasks in ((with_facts, LocalRunner(), False), (tmp_path / "spark", SparkRunner(spark), True)):
        config = SearchConfig(model=str(tiny_bert), warehouse=str(wh), model_id="tiny", spark=spark_tasks)
        SearchStage(config, runner).run()
    local, through_spark = (
        sorted(Warehouse(str(wh)).read(LRP2_SEARCH).to_pylist(), key=lambda r: (r["lang"], r["intervention"]))
        for wh in (with_facts, tmp_path / "spark")
    )
    assert through_spark == local and len(local) == 3
