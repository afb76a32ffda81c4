"""The report on a hand-built classified warehouse: every figure and CSV, the paper's P@1 beside ours,
and the page in a real headless browser (no console error, every image decoded, a screenshot)."""

import csv
import re
from pathlib import Path

import pytest

from tests.browser import check_page, find_browser
from tests.classified import build_warehouse
from tracer.errors import InputNotFound
from tracer.report.build import ReportConfig, run_report
from tracer.stages.classify import ClassifyConfig, ClassifyStage
from tracer.stages.common import LocalRunner

REPO = Path(__file__).resolve().parents[2]
MBERT = "bert-base-multilingual-cased-0123456789"
CSVS = ("p_at_1", "p_at_1_vs_corpus", "language_pairs", "presence_among_correct", "absent_types", "patterns",
        "examples", "correlations")  # fmt: skip


def classified(root: Path, model: str, protocols=("full-match",)):
    wh = build_warehouse(root, model)
    for protocol in protocols:
        ClassifyStage(ClassifyConfig(warehouse=str(wh.root), model=model, protocol=protocol), LocalRunner()).run()
    return wh


@pytest.fixture
def reference(tmp_path) -> Path:
    folder = tmp_path / "reference"
    folder.mkdir()
    (folder / "p1_table_mbert_xlmr.csv").write_text(
        "lang,language,mbert_full_match_p1,mbert_partial_match_p1,xlmr_large_full_match_p1,xlmr_large_partial_match_p1\n"
        "en,English,19.07,22.57,17.08,21.17\nja,Japanese,8.66,10.0,5.0,6.0\n"
    )
    return folder


def test_every_figure_and_csv_with_the_papers_p_at_1(tmp_path, reference):
    wh = classified(tmp_path / "wh", MBERT)
    message = run_report(ReportConfig(warehouse=str(wh.root), out=str(tmp_path / "out"), reference=str(reference)))
    assert "3 language(s)" in message
    page = (tmp_path / "out" / "report.html").read_text()
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', page)) == 7  # none marked data-empty
    assert "paper P@1 %" in page and "19.07" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page  # works offline
    for name in CSVS:
        assert (tmp_path / "out" / "csv" / f"{name}.csv").exists(), name
    with open(tmp_path / "out" / "csv" / "p_at_1.csv") as f:
        rows = {r["lang"]: r for r in csv.DictReader(f)}
    assert rows["en"]["p_at_1"] == "0.75" and rows["en"]["reference_p_at_1"] == "0.1907"
    with open(tmp_path / "out" / "csv" / "examples.csv") as f:
        examples = list(csv.DictReader(f))
    assert {e["pattern"] for e in examples} == {"language-independent", "shared", "transferred"}
    shared = next(e for e in examples if e["pattern"] == "shared" and e["lang"] == "en")
    assert shared["evidence_text"] == "Paris é"  # the segment named by the fact's evidence


def test_the_papers_p_at_1_only_for_the_same_model(tmp_path, reference):
    wh = classified(tmp_path / "wh", "tiny-0123456789")
    run_report(ReportConfig(warehouse=str(wh.root), out=str(tmp_path / "out"), reference=str(reference)))
    assert "paper P@1" not in (tmp_path / "out" / "report.html").read_text()


def test_an_ambiguous_or_missing_slice_is_a_clear_error(tmp_path):
    with pytest.raises(InputNotFound, match="run 'factrace classify' first"):
        run_report(ReportConfig(warehouse=str(tmp_path / "none"), out=str(tmp_path / "out")))


@pytest.mark.browser
def test_the_report_in_headless_chromium(tmp_path, reference):
    browser = find_browser()
    if browser is None:
        pytest.fail("no chromium on PATH: 'make test' installs it (apt-get install chromium); or -m 'not browser'")
    wh = classified(tmp_path / "wh", MBERT)
    run_report(ReportConfig(warehouse=str(wh.root), out=str(tmp_path / "out"), reference=str(reference)))
    result = check_page(tmp_path / "out" / "report.html", browser)
    shot = REPO / "test-output" / "report-screenshot.png"
    shot.parent.mkdir(exist_ok=True)
    shot.write_bytes(result.screenshot)
    print(f"screenshot: {shot}")
    assert result.title.startswith("factrace report: bert-base-multilingual-cased")
    assert result.errors == []
    assert len(result.images) == 7
    for alt, complete, width, height in result.images:
        assert complete and width > 100 and height > 100, alt
    assert result.screenshot.startswith(b"\x89PNG") and len(result.screenshot) > 50_000
