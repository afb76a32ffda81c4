"""The classify stage on a hand-built warehouse: joins, null presence, threshold, statistics, reruns."""

import json

import pytest

from schemas.tables import FACT_CLASSES, LANGUAGE_PAIRS, LANGUAGE_STATS, QUARANTINE, RUNS
from tests.classified import MODEL, build_warehouse
from tracer.errors import InputNotFound
from tracer.stages.classify import ClassifyConfig, ClassifyStage
from tracer.stages.common import LocalRunner
from tracer.warehouse import Warehouse


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    return build_warehouse(tmp_path / "wh")


def classify(wh: Warehouse, **kwargs) -> dict:
    return ClassifyStage(ClassifyConfig(warehouse=str(wh.root), model=MODEL, **kwargs), LocalRunner()).run()


def read(wh: Warehouse, table) -> dict:
    return {(r["lang"], r["uuid"]): r for r in wh.read(table).to_pylist()}


def test_classes_statistics_and_runs(warehouse):
    out = classify(warehouse)
    classes = read(warehouse, FACT_CLASSES)
    assert {k[0] for k in classes} == {"en", "ja", "zh"} and ("en", "gone") not in classes
    # null: f1/f2 of P36 pair up across languages; f1: en {1,2,3} vs ja {10,11,12}: 0, vs ja's f2 ... all 0
    run = warehouse.read(RUNS).to_pylist()[-1]
    extra = json.loads(run["extra"])
    assert extra["threshold"] == 0.0 and extra["null_pairs"] > 0
    assert (run["records_in"], run["records_out"], run["records_quarantined"]) == (13, 12, 1)
    pattern = {k: r["pattern"] for k, r in classes.items()}
    assert pattern[("en", "f1")] == "shared" and pattern[("ja", "f1")] == "transferred"
    assert pattern[("en", "f2")] == "language-independent"  # correct in ja too, but no shared neuron
    assert pattern[("en", "f3")] == "transferred" and classes[("en", "f3")]["similar_lang"] == "zh"
    assert classes[("en", "f1")]["similar_lang"] == "ja"  # ja (1.0) beats zh (0.5)
    assert classes[("zh", "f1")]["present"] is None and classes[("zh", "f1")]["undecided"] == "no_presence"
    assert classes[("zh", "f1")]["coarse_class"] == "correct-untraced"
    assert classes[("ja", "f4")]["undecided"] == "no_neurons" and classes[("ja", "f4")]["absent_type"] == "naming_cue"
    assert classes[("en", "f3")]["absent_type"] == "other"
    assert classes[("ja", "f2")]["cross_lingual"] is False
    stats = {r["lang"]: r for r in warehouse.read(LANGUAGE_STATS).to_pylist()}
    assert (
        stats["en"]["pages"] == 1
        and stats["en"]["text_bytes"] == len("Paris é".encode())
        and stats["en"]["tokens"] == 3
    )
    assert not stats["zh"]["traced"] and stats["zh"]["absence_rate"] is None
    assert (stats["en"]["queries"], stats["en"]["correct"], stats["en"]["p_at_1"]) == (4, 3, 0.75)
    assert (stats["en"]["shared"], stats["en"]["transferred"], stats["en"]["language_independent"]) == (1, 1, 1)
    pairs = {(r["lang"], r["other_lang"]): r for r in warehouse.read(LANGUAGE_PAIRS).to_pylist()}
    assert pairs[("en", "ja")]["both_correct"] == 2 and pairs[("en", "ja")]["neuron_jaccard"] == pytest.approx(0.5)
    assert warehouse.read(QUARANTINE).column("reason").to_pylist() == ["fact_missing"]
    assert "3 shared" not in out["message"] and "threshold 0.0000" in out["message"]
    classify(warehouse)
    assert read(warehouse, FACT_CLASSES) == classes


def test_a_missing_model_or_protocol_is_a_clear_error(warehouse):
    with pytest.raises(InputNotFound, match=r"no predictions of model .* candidates"):
        classify(warehouse, protocol="candidates")
    with pytest.raises(InputNotFound, match="keeps no tokenizer for model 'other'"):
        ClassifyStage(ClassifyConfig(warehouse=str(warehouse.root), model="other"), LocalRunner()).run()
