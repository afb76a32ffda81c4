"""The report's LRP2 section from ``lrp2_search`` rows: accuracies on the test half, the chosen and oracle layers
beside the paper's optimal ones, transferability against English's correct set, factrace's groups, and the
paper's Table 1 beside this model's figures."""

from __future__ import annotations

import pyarrow as pa
import pytest

from schemas import FACT_CLASSES, INTERVENTION_EFFECTS, LRP2_SEARCH, NEURONS
from schemas.arrow import arrow_schema
from tracer.classify.effects import intervention_effects
from tracer.report.build import render_lrp2
from tracer.report.lrp2 import INDO_EUROPEAN, effects_summary, lrp2_section, resource_levels, transferability
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
    effects = [  # b became correct under LRP2: absent from the German corpus, known in English; c was lost
        {"lang": "de", "change": "gained", "presence": "absent", "pattern": "transferred", "known_in_english": True,
         "facts": 1},
        {"lang": "de", "change": "lost", "presence": "present", "pattern": "shared", "known_in_english": False,
         "facts": 2},
    ]  # fmt: skip
    where = {**values, "intervention": "lrp2_1_2"}
    wh.put(INTERVENTION_EFFECTS, where, pa.Table.from_pylist(effects, arrow_schema(INTERVENTION_EFFECTS)))
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
    [gains] = section.gains
    assert (gains["intervention"], gains["gained"], gains["gained_absent"]) == ("lrp2_1_2", 1, 1)
    assert gains["gained_absent_known_in_english"] == 1
    assert (gains["lost"], gains["lost_shared"], gains["lost_transferred"]) == (2, 2, 0)
    assert "absent, known in English" in html and (tmp_path / "csv" / "lrp2_gains.csv").exists()
    assert lrp2_section(wh, {**values, "model": "other-model"}, reference) is None


def test_effects_count_gains_by_presence_and_losses_by_baseline_pattern():
    baseline = _classes({"a": (True, True, "transferred"), "b": (False, False, None), "c": (True, None, None),
                         "d": (False, True, None), "e": (True, True, "shared")})  # fmt: skip
    changed = _classes({"a": (False, True, None), "b": (True, False, "transferred"), "c": (False, None, None),
                        "d": (True, True, "language-independent"), "e": (True, True, "shared"),
                        "new": (True, True, "shared")})  # fmt: skip
    rows = intervention_effects("de", baseline, changed, english_correct={"b", "c"})
    cells = [(r["change"], r["presence"], r["pattern"], r["known_in_english"], r["facts"]) for r in rows]
    assert cells == [
        ("gained", "absent", "transferred", True, 1),
        ("gained", "present", "language-independent", False, 1),
        ("lost", "present", "transferred", False, 1),
        ("lost", "untraced", "undecided", True, 1),
    ]  # e unchanged, "new" probed on one side only: neither counted
    [summary] = effects_summary([{**r, "intervention": "lrp2_1_2"} for r in rows])
    assert (summary["gained"], summary["gained_absent_known_in_english"], summary["gained_present"]) == (2, 1, 1)
    assert (summary["lost"], summary["lost_transferred"], summary["lost_undecided"]) == (2, 1, 1)


def _classes(rows: dict[str, tuple[bool, bool | None, str | None]]) -> pa.Table:
    """``fact_classes`` rows: every column at a neutral value but the four that matter here."""
    neutral = {field.name: _neutral(field) for field in arrow_schema(FACT_CLASSES)}
    return pa.Table.from_pylist(
        [neutral | {"uuid": u, "correct": c, "present": p, "pattern": t} for u, (c, p, t) in rows.items()],
        arrow_schema(FACT_CLASSES),
    )


def _neutral(field: pa.Field) -> object:
    if field.nullable:
        return None
    if pa.types.is_list(field.type):
        return []
    if pa.types.is_boolean(field.type):
        return False
    return 0 if pa.types.is_integer(field.type) or pa.types.is_floating(field.type) else ""
