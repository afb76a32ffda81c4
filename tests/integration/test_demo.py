"""``factrace demo``: the bundled sample runs through every stage, deterministically."""

import pytest

from schemas import FACT_PRESENCE, FACTS, NEURONS, PAGES, PREDICTIONS, QUARANTINE, SEGMENTS
from tracer.demo import run_demo
from tracer.warehouse import Warehouse

pytestmark = [pytest.mark.spark, pytest.mark.probing]


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
        "predictions": sorted(wh.read(PREDICTIONS).to_pylist(), key=lambda r: (r["protocol"], r["lang"], r["uuid"])),
        "neurons": sorted(wh.read(NEURONS).to_pylist(), key=lambda r: (r["protocol"], r["lang"], r["uuid"])),
    }


def test_demo_runs_and_reruns_identically(spark, tmp_path):
    summary = run_demo(str(tmp_path / "demo"))
    assert "extract: 8 pages written" in summary and "segment: 8 pages ->" in summary
    first = contents(Warehouse(tmp_path / "demo"))
    titles = {(r["wiki"], r["title"]) for r in first["pages"]}
    assert ("zhwiki", "北京") in titles and ("enwiki", "Peking") not in titles  # a redirect
    beijing = next(r for r in first["pages"] if r["title"] == "北京")
    assert "计算机" in beijing["text"] and "-{" not in beijing["text"]
    paris = next(r for r in first["pages"] if r["title"] == "Paris")
    assert "[[" not in paris["text"] and "Capitals in Europe" not in paris["text"] and "skyline" not in paris["text"]
    assert first["facts"] == 17 and "trace (tokens): 17 facts in 3 partition(s)" in summary
    present = {(r["match_mode"], r["lang"], r["uuid"]): r["present"] for r in first["presence"]}
    for mode in ("tokens", "text"):
        assert present[(mode, "en", "demo-p36-france")] and present[(mode, "ja", "demo-p36-japan")]
        assert present[(mode, "en", "demo-p36-uk")] is False  # London is in no English article
        assert present[(mode, "zh", "demo-p37-beijing")]
    # 英国/伦敦 (simplified labels) against the traditional 倫敦 article: only text mode converts scripts
    assert present[("text", "zh", "demo-p36-uk")] and present[("tokens", "zh", "demo-p36-uk")] is False
    assert len(first["predictions"]) == 2 * 17 and "P@1 full-match" in summary and "candidates" in summary
    run_demo(str(tmp_path / "demo"))
    assert contents(Warehouse(tmp_path / "demo")) == first
