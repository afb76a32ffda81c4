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
PAPER_CSVS = ("paper_table2_p_at_1", "paper_table1_one_token", "paper_relations", "paper_fig3_fig5",
              "paper_fig6_presence", "paper_fig7_absent_types", "paper_correlations")  # fmt: skip


def classified(root: Path, model: str, rule_sets=("default", "fact-cl")):
    wh = build_warehouse(root, model, rule_sets)
    for rules in rule_sets:
        ClassifyStage(ClassifyConfig(warehouse=str(wh.root), model=model, rules=rules), LocalRunner()).run()
    return wh


@pytest.fixture
def reference(tmp_path) -> Path:
    folder = tmp_path / "reference"
    folder.mkdir()
    (folder / "p1_table_mbert_xlmr.csv").write_text(
        "lang,language,mbert_full_match_p1,mbert_partial_match_p1,xlmr_large_full_match_p1,xlmr_large_partial_match_p1\n"
        "en,English,19.07,22.57,17.08,21.17\nja,Japanese,8.66,10.0,5.0,6.0\n"
    )
    (folder / "sizes_2018_mlama53_from_fact-cl.csv").write_text(
        "wiki,dump_date_source,pages_articles_bz2_KiB,wikiextractor_text_du_KiB,"
        '"uncompressed_xml_folder_MB_(du,approx)",all_titles_in_ns0_minus1\n'
        "en,x,100,90,80,70\nja,x,10,9,8,7\nzh,x,20,18,16,14\nTOTAL,,130,117,104,91\n"
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
    headings = re.findall(r"<h[1-3]>(.*?)</h[1-3]>", page)
    assert len(headings) == len(set(headings)), sorted(h for h in headings if headings.count(h) > 1)
    assert "presence: tokens matching, segments of tokenizer tok-abcdef0123" in page
    # counts with their shares, so that languages of any size compare: en has 3 correct facts, 1 shared
    assert re.search(r"<tr><td>en</td><td class=\"num\">3</td>.*?1 \(33\.3 %\)", page)
    for name in CSVS + PAPER_CSVS:
        assert (tmp_path / "out" / "csv" / f"{name}.csv").exists(), name
    # the paper section, under both rule sets, each beside the paper's value
    assert "<h2>The paper's tables and figures</h2>" in page and "P@1 % (fact-cl)" in page
    with open(tmp_path / "out" / "csv" / "paper_table2_p_at_1.csv") as f:
        rows = {r["lang"]: r for r in csv.DictReader(f)}
    assert rows["en"]["p_at_1_default"] == rows["en"]["p_at_1_fact-cl"] == "0.75"
    assert rows["en"]["paper_p_at_1"] == "0.1907"
    with open(tmp_path / "out" / "csv" / "paper_correlations.csv") as f:
        sizes = {r["statistic"]: r for r in csv.DictReader(f)}
    assert sizes["p_at_1_vs_article titles (count)"]["languages"] == "3"
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
    page = (tmp_path / "out" / "report.html").read_text()
    assert "paper P@1 %" not in page and "this is another model" in page


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
    result = check_page(tmp_path / "out" / "report.html", browser, font_selectors=('tr[lang="ja"] td:nth-child(4)',))
    shot = REPO / "test-output" / "report-screenshot.png"
    shot.parent.mkdir(exist_ok=True)
    shot.write_bytes(result.screenshot)
    print(f"screenshot: {shot}")
    assert result.title.startswith("factrace report: bert-base-multilingual-cased")
    assert result.errors == []  # the paper section (both rule sets) included
    assert "Table 2: P@1 per language" in (tmp_path / "out" / "report.html").read_text()
    assert len(result.images) == 7
    for alt, complete, width, height in result.images:
        assert complete and width > 100 and height > 100, alt
    assert result.screenshot.startswith(b"\x89PNG") and len(result.screenshot) > 50_000
    # a Japanese subject label is drawn with a CJK font, every glyph of it (no boxes)
    [(family, glyphs)] = result.fonts['tr[lang="ja"] td:nth-child(4)']
    assert "CJK" in family and glyphs >= 2, result.fonts


def test_the_scatter_has_its_least_squares_line():
    import matplotlib.pyplot as plt

    from tracer.report.figures import _fit_line

    _, ax = plt.subplots()
    _fit_line(ax, [3.0, 4.0, 5.0], [10.0, 20.0, 30.0])
    [line] = ax.lines
    assert list(line.get_xdata()) == [1000.0, 100000.0] and list(line.get_ydata()) == [10.0, 30.0]
    assert "+10.00 points per 10x tokens" in ax.get_legend().get_texts()[0].get_text()
    _, ax = plt.subplots()
    _fit_line(ax, [3.0, 3.0], [10.0, 20.0])  # no spread: no line
    assert len(ax.lines) == 0
    plt.close("all")
