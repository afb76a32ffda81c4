"""The classify stage on a hand-built warehouse: joins, null presence, the cross-lingual test, statistics, reruns."""

import json

import pytest

from schemas.tables import FACT_CLASSES, LANGUAGE_PAIRS, LANGUAGE_STATS, QUARANTINE, RUNS
from tests.classified import MODEL, build_warehouse
from tracer import storage
from tracer.errors import ConfigError, InputNotFound
from tracer.runs import reconciles
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
    # the null: different facts of P36 never share a neuron, so every same-fact overlap is significant (p = 0)
    run = warehouse.read(RUNS).to_pylist()[-1]
    assert reconciles(run)
    extra = json.loads(run["extra"])
    assert extra["alpha"] == 0.01 and extra["calibration"]["tested"] == 7
    assert (run["records_in"], run["records_out"], run["records_quarantined"]) == (13, 12, 1)
    pattern = {k: r["pattern"] for k, r in classes.items()}
    assert pattern[("en", "f1")] == "shared" and pattern[("ja", "f1")] == "transferred"
    assert classes[("en", "f1")]["p_value"] == 0.0 and classes[("en", "f1")]["partners"] == 2
    assert pattern[("en", "f2")] == "language-independent"  # correct in ja too, but no shared neuron
    assert classes[("en", "f2")]["p_value"] == 1.0 and classes[("en", "f2")]["cross_lingual"] is False
    assert pattern[("en", "f3")] == "transferred" and classes[("en", "f3")]["best_match_lang"] == "zh"
    assert classes[("en", "f1")]["best_match_lang"] == "ja"  # ja (1.0) beats zh (0.5)
    assert classes[("zh", "f1")]["present"] is None and classes[("zh", "f1")]["undecided"] == "no_presence"
    assert classes[("zh", "f1")]["coarse_class"] == "correct-untraced" and classes[("zh", "f1")]["cross_lingual"]
    # absent and without neurons (the only correct P103 fact): transferred all the same, as the paper counts it
    f4 = classes[("ja", "f4")]
    assert (f4["pattern"], f4["undecided"], f4["cross_lingual"], f4["absent_type"]) == (
        "transferred",
        None,
        None,
        "naming_cue",
    )
    assert classes[("en", "f3")]["absent_type"] == "other"
    assert classes[("ja", "f2")]["cross_lingual"] is False
    assert classes[("en", "f1")]["object_uri"] == "Q2" and classes[("en", "f1")]["object_tokens"] >= 1
    assert not any(r["pattern"] == "language-independent" and r["present"] is False for r in classes.values())
    stats = {r["lang"]: r for r in warehouse.read(LANGUAGE_STATS).to_pylist()}
    assert (
        stats["en"]["pages"] == 1
        and stats["en"]["text_bytes"] == len("Paris é".encode())
        and stats["en"]["tokens"] == 3
    )
    assert not stats["zh"]["traced"] and stats["zh"]["absence_rate"] is None
    assert (stats["en"]["queries"], stats["en"]["correct"], stats["en"]["p_at_1"]) == (4, 3, 0.75)
    assert (stats["en"]["shared"], stats["en"]["transferred"], stats["en"]["language_independent"]) == (1, 1, 1)
    assert (stats["ja"]["transferred"], stats["ja"]["transferred_cross_lingual"]) == (2, 1)
    pairs = {(r["lang"], r["other_lang"]): r for r in warehouse.read(LANGUAGE_PAIRS).to_pylist()}
    assert pairs[("en", "ja")]["both_correct"] == 2 and pairs[("en", "ja")]["neuron_jaccard"] == pytest.approx(0.5)
    assert pairs[("en", "ja")]["both_probed"] == 4 and pairs[("en", "ja")]["correct_jaccard"] == pytest.approx(2 / 4)
    assert warehouse.read(QUARANTINE).column("reason").to_pylist() == ["fact_missing"]
    assert "3 transferred (2 with cross-lingual neurons)" in out.message
    assert "alpha 0.01: 5 of 7 facts with a partner language" in out.message
    classify(warehouse)
    assert read(warehouse, FACT_CLASSES) == classes


def test_a_missing_model_or_protocol_is_a_clear_error(warehouse):
    with pytest.raises(InputNotFound, match=r"no predictions of model .* candidates"):
        classify(warehouse, protocol="candidates")
    with pytest.raises(InputNotFound, match=r"rules fact-cl.*full-match/none/default.*--rules fact-cl"):
        classify(warehouse, rules="fact-cl")
    with pytest.raises(ConfigError, match="drop --match-mode tokens"):
        ClassifyConfig(warehouse=str(warehouse.root), model=MODEL, rules="fact-cl", match_mode="tokens")
    with pytest.raises(ConfigError, match="--alpha must be in"):
        ClassifyConfig(warehouse=str(warehouse.root), model=MODEL, alpha=1.5)
    with pytest.raises(InputNotFound, match=r"--model 'other' is neither a model directory nor a model id .*tiny-"):
        ClassifyStage(ClassifyConfig(warehouse=str(warehouse.root), model="other"), LocalRunner()).run()


def test_presence_of_another_tokenization_is_used_only_when_named(tmp_path):
    """Presence traced with a tokenizer that encodes differently from the model's is refused, even when it is the
    only one in the warehouse; --presence-tokenizer names it on purpose, and the line and runs say which."""
    from tests.classified import TOK
    from tracer.demo import build_wordpiece

    wh = build_warehouse(tmp_path / "wh")
    other = build_wordpiece(["Paris Tokyo Japan other words entirely"], tmp_path / "other.json")
    storage.write_text(wh.tokenizer_file(TOK), other.read_text())
    with pytest.raises(ConfigError, match=f"fact_presence exists for {TOK}, and none encodes text as the model"):
        classify(wh)
    out = classify(wh, presence_tokenizer=TOK)
    assert f"presence: tokens, tokenizer {TOK}" in out.message
    assert json.loads(out.run["parameters"])["presence_tokenizer"] == TOK


def test_a_saved_model_tokenizer_matches_its_training_tokenizer():
    """save_pretrained adds a post-processor and other settings; the ids of text without special tokens are the
    same, so that presence traced with the training tokenizer counts as the model's."""
    from tracer.tokenization.loading import same_encoding

    base = {"model": {"vocab": {"a": 0}}, "normalizer": None, "pre_tokenizer": {"type": "BertPreTokenizer"}}
    saved = {**base, "post_processor": {"type": "TemplateProcessing"}, "padding": None, "decoder": {"type": "x"}}
    assert same_encoding(json.dumps(base), json.dumps(saved))
    assert not same_encoding(json.dumps(base), json.dumps({**base, "model": {"vocab": {"a": 0, "b": 1}}}))


def _intervene(wh: Warehouse, name: str, flips: dict[tuple[str, str], bool]) -> None:
    """The baseline's predictions and neurons copied under intervention ``name``, with ``flips`` (lang, uuid) →
    correct applied."""
    import pyarrow as pa

    from schemas.tables import NEURONS, PREDICTIONS

    for values in wh.partitions(PREDICTIONS, intervention="none", rules="default"):
        rows = wh.read(PREDICTIONS, **values).to_pylist()
        for row in rows:
            row["correct"] = flips.get((values["lang"], row["uuid"]), row["correct"])
        target = {**values, "intervention": name}
        wh.put(PREDICTIONS, target, pa.Table.from_pylist(rows).select(PREDICTIONS.column_names))
        neurons = wh.read(NEURONS, **values)
        if neurons.num_rows:
            wh.put(NEURONS, target, neurons.select(NEURONS.column_names))


def test_an_intervention_counts_what_it_gained_and_lost_against_the_baseline(warehouse):
    from schemas.tables import INTERVENTION_EFFECTS

    _intervene(warehouse, "lrp2_1_2", {("ja", "f3"): True, ("ja", "f2"): False})
    with pytest.raises(InputNotFound, match=r"not classified for 20260101/en.*factrace classify --model"):
        classify(warehouse, intervention="lrp2_1_2")
    classify(warehouse)
    classify(warehouse, intervention="lrp2_1_2")
    effects = warehouse.read(INTERVENTION_EFFECTS).to_pylist()
    assert {r["intervention"] for r in effects} == {"lrp2_1_2"}
    cells = sorted(
        (r["lang"], r["change"], r["presence"], r["pattern"], r["known_in_english"], r["facts"]) for r in effects
    )
    assert cells == [
        ("ja", "gained", "untraced", "undecided", True, 1),  # f3: ja has no presence for it; English knows it
        ("ja", "lost", "present", "language-independent", True, 1),  # f2: correct and present in the baseline
    ]
    classify(warehouse, intervention="lrp2_1_2")
    assert warehouse.read(INTERVENTION_EFFECTS).to_pylist() == effects
