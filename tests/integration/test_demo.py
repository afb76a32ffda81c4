"""``factrace demo``: the bundled sample runs through every stage, deterministically."""

from collections import Counter

import pytest

from schemas import (
    FACT_CLASSES,
    FACT_PRESENCE,
    FACTS,
    INTERVENTION_EFFECTS,
    LANGUAGE_STATS,
    LANGUAGE_VECTORS,
    LRP2_SEARCH,
    NEURONS,
    PAGES,
    PREDICTIONS,
    QUARANTINE,
    RUNS,
    SEGMENTS,
)
from tests.shown import check_shown
from tracer.cli import main
from tracer.demo import run_demo
from tracer.runs import reconciles
from tracer.warehouse import Warehouse

pytestmark = [pytest.mark.spark, pytest.mark.probing]


def probed(row: dict) -> tuple:
    return row["rules"], row["protocol"], row["intervention"], row["lang"]


def contents(wh: Warehouse) -> dict:
    def rows(table):
        return sorted(wh.read(table).to_pylist(), key=lambda r: (r.get("wiki", ""), r["page_id"], r.get("seg_no", 0)))

    presence = sorted(wh.read(FACT_PRESENCE).to_pylist(), key=lambda r: (r["match_mode"], r["lang"], r["uuid"]))
    return {
        "pages": rows(PAGES),
        "segments": rows(SEGMENTS),
        "quarantine": wh.read(QUARANTINE).num_rows,
        "facts": wh.read(FACTS).num_rows,
        "presence": presence,
        "predictions": sorted(wh.read(PREDICTIONS).to_pylist(), key=lambda r: (*probed(r), r["uuid"])),
        "neurons": sorted(wh.read(NEURONS).to_pylist(), key=lambda r: (*probed(r), r["uuid"])),
        "classes": sorted(wh.read(FACT_CLASSES).to_pylist(), key=lambda r: (*probed(r), r["uuid"])),
        "stats": sorted(wh.read(LANGUAGE_STATS).to_pylist(), key=probed),
        "vectors": sorted(wh.read(LANGUAGE_VECTORS).to_pylist(), key=lambda r: (r["lang"], r["layer"])),
        "search": sorted(wh.read(LRP2_SEARCH).to_pylist(), key=lambda r: (r["lang"], r["intervention"])),
        "effects": sorted(wh.read(INTERVENTION_EFFECTS).to_pylist(), key=lambda r: tuple(map(str, r.values()))),
    }


def test_demo_runs_and_reruns_identically(spark, tmp_path, capsys):
    summary = run_demo(str(tmp_path / "demo"))
    assert "extract: 13 pages written" in summary and "segment: 13 pages ->" in summary
    runs = Warehouse(tmp_path / "demo").read(RUNS).to_pylist()
    assert {r["stage"] for r in runs} == {
        "extract", "segment", "facts", "trace", "probe", "classify", "langvec", "lrp2-search"
    }  # fmt: skip
    assert all(reconciles(r) for r in runs), [r["message"] for r in runs if not reconciles(r)]
    first = contents(Warehouse(tmp_path / "demo"))
    titles = {(r["wiki"], r["title"]) for r in first["pages"]}
    assert ("zhwiki", "北京") in titles and ("enwiki", "Peking") not in titles  # a redirect
    beijing = next(r for r in first["pages"] if r["title"] == "北京")
    assert "计算机" in beijing["text"] and "-{" not in beijing["text"]
    paris = next(r for r in first["pages"] if r["title"] == "Paris")
    assert "[[" not in paris["text"] and "Capitals in Europe" not in paris["text"] and "skyline" not in paris["text"]
    assert first["facts"] == 72 and "trace (tokens): 72 facts in 4 partition(s)" in summary
    present = {(r["match_mode"], r["lang"], r["uuid"]): r["present"] for r in first["presence"]}
    for mode in ("tokens", "text"):
        assert present[(mode, "en", "demo-p36-france")] and present[(mode, "ja", "demo-p36-japan")]
        assert present[(mode, "en", "demo-p36-uk")] is False  # London is in no English article
        assert present[(mode, "zh", "demo-p37-beijing")]
    # 英国/伦敦 (simplified labels) against the traditional 倫敦 article: only text mode converts scripts
    assert present[("text", "zh", "demo-p36-uk")] and present[("tokens", "zh", "demo-p36-uk")] is False
    assert "trace (fact-cl): 72 facts" in summary
    assert len(first["predictions"]) == 4 * 72 and "P@1 full-match" in summary and "candidates" in summary
    assert {(r["rules"], r["protocol"], r["intervention"]) for r in first["predictions"]} == {
        ("default", "full-match", "none"), ("default", "candidates", "none"), ("fact-cl", "full-match", "none"),
        ("default", "full-match", "lrp2_1_2"),
    }  # fmt: skip
    check_classes([r for r in first["classes"] if r["rules"] == "default" and r["intervention"] == "none"])
    check_lrp2(first)
    assert "classify: model demo-model-" in summary
    assert "(full-match, rules fact-cl; presence: fact-cl, tokenizer demo-tokenizer-" in summary
    page = (tmp_path / "demo" / "report" / "report.html").read_text()
    assert page.count("<img ") == 7 and "data-empty" not in page  # every figure has something to show
    assert "<h2>The paper's tables and figures</h2>" in page and "P@1 % (fact-cl)" in page  # both rule sets
    assert "<h2>LRP2</h2>" in page and "What LRP2 gained and lost, joined with tracing" in page
    assert f"{(tmp_path / 'demo' / 'report' / 'report.html').resolve()}" in summary
    check_shown("demo", "$ make demo\n...\n" + summary, {str(tmp_path / "demo"): "demo-warehouse"})
    run_demo(str(tmp_path / "demo"))
    assert contents(Warehouse(tmp_path / "demo")) == first
    # the same stages through the CLI: the other protocol, by model id, then its report
    wh, model = str(tmp_path / "demo"), first["classes"][0]["model"]
    assert main(["classify", "--warehouse", wh, "--model", model, "--protocol", "candidates"]) == 0
    assert "classify: model demo-model-" in capsys.readouterr().out
    assert main(["report", "--warehouse", wh, "--out", str(tmp_path / "r")]) == 0  # both classified: full-match
    assert ", full-match -> " in capsys.readouterr().out
    assert main(["report", "--warehouse", wh, "--out", str(tmp_path / "r"), "--protocol", "candidates"]) == 0
    assert (tmp_path / "r" / "csv" / "patterns.csv").exists()


def check_lrp2(first: dict) -> None:
    """LRP2 on the demo: vectors of every wiki's language at the embeddings and both layers, the one layer pair of a
    two-layer model searched, English untouched, and what the projection changed counted against the baseline."""
    assert {(r["lang"], r["layer"]) for r in first["vectors"]} == {
        (lang, layer) for lang in ("de", "en", "ja", "zh") for layer in (0, 1, 2)
    }  # fmt: skip
    assert all(r["sentences"] > 0 for r in first["vectors"])
    searched = {(r["lang"], r["intervention"]) for r in first["search"]}
    assert searched == {("en", "none")} | {(lang, i) for lang in ("de", "ja", "zh") for i in ("none", "lrp2_1_2")}
    assert sorted(r["lang"] for r in first["search"] if r["chosen"]) == ["de", "en", "ja", "zh"]
    full = [r for r in first["predictions"] if (r["protocol"], r["rules"]) == ("full-match", "default")]
    by = {(r["intervention"], r["lang"], r["uuid"]): r for r in full}
    english = [k for k in by if k[:2] == ("none", "en")]
    assert all(by[k]["predicted_ids"] == by[("lrp2_1_2", "en", k[2])]["predicted_ids"] for k in english)
    classes = {(r["intervention"], r["lang"], r["uuid"]): r for r in first["classes"] if r["rules"] == "default"}
    flips = Counter(
        ("gained" if r["correct"] else "lost", lang)
        for (intervention, lang, uuid), r in classes.items()
        if intervention == "lrp2_1_2" and r["correct"] != classes[("none", lang, uuid)]["correct"]
    )
    counted = Counter()
    for r in first["effects"]:
        counted[(r["change"], r["lang"])] += r["facts"]
    assert counted == flips and not any(lang == "en" for _, lang in counted)


def check_classes(rows: list[dict]) -> None:
    """What the sample was built to contain (``tracer/demo_data/taught.tsv`` and the four wikis)."""
    classes = {(r["lang"], r["uuid"]): r for r in rows}
    correct = [r for r in rows if r["correct"]]
    assert {r["pattern"] for r in correct} >= {"language-independent", "shared", "transferred"}
    assert {r["absent_type"] for r in correct} >= {"object_in_subject", "shared_token", "naming_cue", "other"}
    # Osaka is in Japan: taught in en and de with the same object, co-occurring in both wikis
    assert classes[("en", "demo-p17-osaka")]["pattern"] == classes[("de", "demo-p17-osaka")]["pattern"] == "shared"
    # Odesa is in Ukraine: the English wiki says so, the German one never does
    assert classes[("de", "demo-p17-odesa")]["present"] is False
    assert classes[("de", "demo-p17-odesa")]["pattern"] == "transferred"
    assert classes[("de", "demo-p17-odesa")]["best_match_lang"] == "en"
    # absent from the English wiki, each for its own reason
    for uuid, kind in [("demo-p138-tokyo-station", "object_in_subject"), ("demo-p131-tokyo-tower", "shared_token"),
                       ("demo-p17-lyon", "naming_cue"), ("demo-p36-uk", "other")]:  # fmt: skip
        assert classes[("en", uuid)]["correct"] and classes[("en", uuid)]["absent_type"] == kind, uuid
    # taught in English only: correct nowhere else, so not cross-lingual
    kyiv = classes[("en", "demo-p37-kyiv")]
    assert kyiv["pattern"] == "language-independent" and kyiv["similarity"] is None
    assert not any(r["correct"] for (lang, uuid), r in classes.items() if uuid == "demo-p37-kyiv" and lang != "en")
