"""The classify stage on a hand-built warehouse: joins, null presence, threshold, statistics, reruns."""

import json

import pyarrow as pa
import pytest

from schemas.arrow import arrow_schema
from schemas.tables import (
    FACT_CLASSES,
    FACT_PRESENCE,
    FACTS,
    LANGUAGE_PAIRS,
    LANGUAGE_STATS,
    NEURONS,
    PAGES,
    PREDICTIONS,
    QUARANTINE,
    RUNS,
    SEGMENTS,
)
from tracer.demo import build_wordpiece
from tracer.errors import InputNotFound
from tracer.stages.classify import ClassifyConfig, ClassifyStage
from tracer.stages.common import LocalRunner
from tracer.warehouse import Warehouse, write_table

MODEL, DUMP, TOK = "tiny-0123456789", "20260101", "tok-abcdef0123"
#          uuid    relation subject  object   correct by language    neurons by language
FACTS_ = {
    "f1": ("P36", "Paris City", "Paris", {"en": 1, "ja": 1, "zh": 1},
           {"en": [1, 2, 3], "ja": [1, 2, 3], "zh": [1, 2, 4]}),
    "f2": ("P36", "Tokyo", "Japan", {"en": 1, "ja": 1, "zh": 0}, {"en": [7, 8, 9], "ja": [10, 11, 12]}),
    "f3": ("P36", "Kyiv", "Ukraine", {"en": 1, "ja": 0, "zh": 1}, {"en": [20, 21, 22], "zh": [20, 21, 22]}),
    "f4": ("P103", "Jean Say", "French", {"en": 0, "ja": 1, "zh": 0}, {}),
}  # fmt: skip
PRESENT = {
    "en": {"f1": True, "f2": True, "f3": False, "f4": True},
    "ja": {"f1": False, "f2": True, "f3": None, "f4": False},
}


def put(wh: Warehouse, table, values: dict, rows: list[dict]) -> None:
    write_table(wh.partition_dir(table, values) / "part-00000.parquet", pa.Table.from_pylist(rows, arrow_schema(table)))


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    wh = Warehouse(tmp_path / "wh")
    tokenizer = build_wordpiece(["Paris City Tokyo Japan Kyiv Ukraine Jean Say French"], tmp_path / "tok.json")
    wh.keep_tokenizer(MODEL, tokenizer.read_text())
    for lang in ("en", "ja", "zh"):
        put(wh, FACTS, {"lang": lang}, [
            {"uuid": u, "relation": r, "subject_label": s, "subject_uri": "Q1", "object_label": o, "object_uri": "Q2",
             "template": "[X] : [Y]", "dataset": "TREx", "source": f"{lang}/{r}.jsonl", "line_no": 1}
            for u, (r, s, o, _, _) in FACTS_.items()
        ])  # fmt: skip
        pred = {"model": MODEL, "lang": lang, "protocol": "full-match"}
        put(wh, PREDICTIONS, pred, [
            {"uuid": u, "relation": r, "n_masks_tried": 1, "matched_masks": None, "predicted_ids": [1],
             "predicted_text": "x", "correct": bool(ok[lang]), "gold_rank": None, "gold_log_prob": None,
             "intervention": "none"}
            for u, (r, _, _, ok, _) in FACTS_.items()
        ] + ([{"uuid": "gone", "relation": "P36", "n_masks_tried": 1, "matched_masks": None, "predicted_ids": [1],
               "predicted_text": "x", "correct": True, "gold_rank": None, "gold_log_prob": None,
               "intervention": "none"}] if lang == "en" else []))  # fmt: skip
        put(wh, NEURONS, pred, [
            {"uuid": u, "relation": r, "neuron_ids": n[lang], "scores": [1.0] * len(n[lang])}
            for u, (r, _, _, _, n) in FACTS_.items() if lang in n
        ])  # fmt: skip
    for lang, present in PRESENT.items():
        put(wh, FACT_PRESENCE, {"dump": DUMP, "lang": lang, "match_mode": "tokens", "tokenizer": TOK}, [
            {"uuid": u, "relation": FACTS_[u][0], "subject_segments": 1, "object_segments": 1,
             "cooccurrence_segments": int(bool(p)), "present": p,
             "evidence": [{"page_id": 7, "seg_no": 0}] if p else [], "flags": [] if p is not None else ["x:y"],
             "matcher": "tokens_v1"}
            for u, p in present.items()
        ])  # fmt: skip
    put(wh, PAGES, {"dump": DUMP, "wiki": "enwiki"}, [
        {"page_id": 7, "rev_id": 1, "title": "Paris", "text": "Paris é", "content_sha1": "0", "char_count": 7,
         "paragraph_count": 1}
    ])  # fmt: skip
    put(wh, SEGMENTS, {"dump": DUMP, "wiki": "enwiki", "tokenizer": TOK}, [
        {"page_id": 7, "seg_no": 0, "char_start": 0, "char_end": 7, "text": "Paris é", "token_count": 3,
         "token_ids": [1, 2, 3], "content_sha1": "0"}
    ])  # fmt: skip
    return wh


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
