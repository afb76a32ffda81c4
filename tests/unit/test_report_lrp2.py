"""The report's LRP2 section from ``lrp2_search`` rows: accuracies on the test half, the chosen and oracle layers
beside the paper's optimal ones, transferability against English's correct set, factrace's groups, and the
paper's Table 1 beside this model's figures."""

from __future__ import annotations

import pyarrow as pa
import pytest

from schemas import LRP2_SEARCH
from schemas.arrow import arrow_schema
from tracer.report.build import render_lrp2
from tracer.report.lrp2 import INDO_EUROPEAN, lrp2_section, resource_levels, transferability
from tracer.warehouse import Warehouse


def _row(intervention: str, test_correct: list[str], chosen=False, oracle=False, kept=True) -> dict:
    i, j = (int(x) for x in intervention.split("_")[1:]) if intervention != "none" else (None, None)
    return {"intervention": intervention, "lirp": i, "lsrp": j, "dev_correct": 1, "dev_facts": 4,
            "test_correct": len(test_correct), "test_facts": 4, "test_correct_uuids": test_correct if kept else None,
            "chosen": chosen, "oracle": oracle}  # fmt: skip


def test_transferability_is_the_jaccard_of_the_correct_sets():
    assert transferability({"a", "b"}, {"b", "c"}) == 1 / 3
    assert transferability(set(), set()) is None
    assert "en" in INDO_EUROPEAN and "ja" not in INDO_EUROPEAN and len(INDO_EUROPEAN) == 35


@pytest.mark.shared_data
def test_the_section_per_language_and_group_beside_the_paper(shared_data, tmp_path):
    wh = Warehouse(str(tmp_path / "wh"))
    schema = arrow_schema(LRP2_SEARCH)
    wh.put(LRP2_SEARCH, {"model": "m", "lang": "en"}, pa.Table.from_pylist([_row("none", ["a", "b", "c"])], schema))
    de = [
        _row("none", ["a"]),
        _row("lrp2_1_2", ["a", "b"], chosen=True),
        _row("lrp2_1_3", ["a", "b", "c"], oracle=True),
        _row("lrp2_2_3", ["d"], kept=False),
    ]
    wh.put(LRP2_SEARCH, {"model": "m", "lang": "de"}, pa.Table.from_pylist(de, schema))
    reference = shared_data / "reference"
    section = lrp2_section(wh, "m", reference)
    [lang] = section.languages
    assert (lang["lang"], lang["chosen"], lang["oracle"]) == ("de", "1,2", "1,3")
    assert (lang["baseline_acc"], lang["lrp2_acc"], lang["oracle_acc"]) == (0.25, 0.5, 0.75)
    assert (lang["baseline_trans"], lang["lrp2_trans"]) == (1 / 3, 2 / 3)
    assert lang["paper_optimal"] and lang["indo_european"] and lang["resource"] == resource_levels(reference)["de"]
    assert resource_levels(reference)["en"] == "high" and set(resource_levels(reference).values()) == {
        "high", "medium", "low"
    }  # fmt: skip
    groups = {g["group"]: g for g in section.groups}
    assert groups["indo_european"]["lrp2_acc"] == 0.5 and groups["non_indo_european"]["languages"] == 0
    html = render_lrp2(section, tmp_path / "csv")
    assert "<h2>LRP2</h2>" in html and "mBERT+LRP2 (paper, retrieval_acc)" in html and "this model, LRP2" in html
    assert (tmp_path / "csv" / "lrp2.csv").read_text().splitlines()[1].startswith('de,4,0.25,0.5,"1,2"')
    assert lrp2_section(wh, "other-model", reference) is None
