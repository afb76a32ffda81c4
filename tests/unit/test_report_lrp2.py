"""The report's LRP2 section from ``lrp2_search`` rows: accuracies on the test half, the chosen and oracle layers
beside the paper's optimal ones, transferability against English's correct set, factrace's groups, and the
paper's Table 1 beside this model's figures."""

from __future__ import annotations

import pyarrow as pa
import pytest

from schemas import FACT_CLASSES, LRP2_SEARCH, NEURONS
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
    values = {"dump": "d1", "model": "m", "protocol": "full-match", "intervention": "none", "rules": "default"}
    classes = [_class("a", True, True, "transferred"), _class("b", False, False, None), _class("c", False, None, None)]
    wh.put(FACT_CLASSES, {**values, "lang": "de"}, pa.Table.from_pylist(classes, arrow_schema(FACT_CLASSES)))
    neurons = {("en", "none"): {"a": [1, 2, 3], "b": [4, 5]}, ("de", "none"): {"a": [1, 2]},
               ("de", "lrp2_1_2"): {"a": [1, 2, 3], "b": [4, 5, 6]}}  # fmt: skip
    for (lang, intervention), facts in neurons.items():
        rows = [
            {"uuid": u, "relation": "P36", "neuron_ids": ids, "scores": [1.0] * len(ids)} for u, ids in facts.items()
        ]
        where = {"model": "m", "lang": lang, "protocol": "full-match", "intervention": intervention, "rules": "default"}
        wh.put(NEURONS, where, pa.Table.from_pylist(rows, arrow_schema(NEURONS)))
    section = lrp2_section(wh, values, reference)
    [lang] = section.languages
    assert (lang["lang"], lang["chosen"], lang["oracle"]) == ("de", "1,2", "1,3")
    assert (lang["baseline_acc"], lang["lrp2_acc"], lang["oracle_acc"]) == (0.25, 0.5, 0.75)
    assert (lang["baseline_trans"], lang["lrp2_trans"]) == (1 / 3, 2 / 3)
    assert (lang["neuron_overlap_baseline"], lang["neuron_facts_baseline"]) == (2 / 3, 1)  # fact a: {1,2} vs {1,2,3}
    assert (lang["neuron_overlap_lrp2"], lang["neuron_facts_lrp2"]) == ((1 + 2 / 3) / 2, 2)
    assert lang["paper_optimal"] and lang["indo_european"] and lang["resource"] == resource_levels(reference)["de"]
    assert resource_levels(reference)["en"] == "high" and set(resource_levels(reference).values()) == {
        "high", "medium", "low"
    }  # fmt: skip
    groups = {g["group"]: g for g in section.groups}
    assert groups["indo_european"]["lrp2_acc"] == 0.5 and groups["non_indo_european"]["languages"] == 0
    html = render_lrp2(section, tmp_path / "csv")
    assert "<h2>LRP2</h2>" in html and "mBERT+LRP2 (paper, retrieval_acc)" in html and "this model, LRP2" in html
    assert (tmp_path / "csv" / "lrp2.csv").read_text().splitlines()[1].startswith('de,4,0.25,0.5,"1,2"')
    [gains] = section.gains  # b became correct: absent from the German corpus, known in English
    assert (gains["gained"], gains["gained_absent"], gains["gained_absent_known_in_english"], gains["lost"]) == (
        1,
        1,
        1,
        0,
    )
    assert "absent, known in English" in html and (tmp_path / "csv" / "lrp2_gains.csv").exists()
    assert lrp2_section(wh, {**values, "model": "other-model"}, reference) is None


def _class(uuid: str, correct: bool, present: bool | None, pattern: str | None) -> dict:
    """A ``fact_classes`` row: every column at a neutral value but the four that matter here."""
    row = {field.name: _neutral(field) for field in arrow_schema(FACT_CLASSES)}
    return row | {"uuid": uuid, "correct": correct, "present": present, "pattern": pattern}


def test_losses_are_counted_by_their_baseline_pattern():
    from tracer.report.lrp2 import gains_and_losses

    classes = {"a": (True, "transferred"), "b": (False, "shared"), "c": (None, None)}
    row = gains_and_losses("de", {"a", "b"}, {"c"}, {"c"}, classes)
    assert (row["gained"], row["gained_untraced"], row["lost"], row["lost_transferred"], row["lost_shared"]) == (
        1, 1, 2, 1, 1
    )  # fmt: skip


def _neutral(field: pa.Field) -> object:
    if field.nullable:
        return None
    if pa.types.is_list(field.type):
        return []
    if pa.types.is_boolean(field.type):
        return False
    return 0 if pa.types.is_integer(field.type) or pa.types.is_floating(field.type) else ""
