"""The classification rules on hand-built values: patterns, similarity, the null threshold, absent types."""

from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from tracer.classify.absent import absent_type, object_in_subject, share_token
from tracer.classify.neuron_sets import NeuronSets
from tracer.classify.patterns import INDEPENDENT, SHARED, TRANSFERRED, classify_fact, classify_language
from tracer.classify.similarity import best_matches, null_sample, percentile_threshold
from tracer.classify.stats import pair_rows, pearson


def sets(lang: str, rows: dict[str, tuple[str, list[int]]]) -> NeuronSets:
    uuids = sorted(rows)
    table = pa.table(
        {
            "uuid": uuids,
            "relation": [rows[u][0] for u in uuids],
            "neuron_ids": pa.array([rows[u][1] for u in uuids], pa.list_(pa.int32())),
        }
    )
    return NeuronSets.from_table(lang, table)


@pytest.mark.parametrize(
    ("correct", "present", "neurons", "similarity", "expected"),
    [
        (False, True, True, 0.9, (None, None, None, None)),
        (True, True, False, None, (None, None, "no_neurons", "correct-present")),
        (True, False, True, None, (False, INDEPENDENT, None, "correct-absent")),  # correct in one language only
        (True, True, True, 0.25, (False, INDEPENDENT, None, "correct-present")),  # equal to the threshold
        (True, True, True, 0.26, (True, SHARED, None, "correct-present")),
        (True, False, True, 0.5, (True, TRANSFERRED, None, "correct-absent")),
        (True, None, True, 0.5, (True, None, "no_presence", "correct-untraced")),  # no corpus: never "absent"
        (True, None, True, 0.1, (False, INDEPENDENT, None, "correct-untraced")),
    ],
)
def test_every_pattern(correct, present, neurons, similarity, expected):
    v = classify_fact(correct, present, neurons, similarity, threshold=0.25)
    assert (v.cross_lingual, v.pattern, v.undecided, v.coarse_class) == expected


def test_best_match_ties_go_to_the_smallest_language_and_single_language_facts_have_none():
    ja = sets("ja", {"f1": ("P36", [1, 2, 3, 4]), "f2": ("P36", [5, 6, 7, 8]), "only-ja": ("P36", [1, 9])})
    de = sets("de", {"f1": ("P36", [1, 2, 30, 40]), "f2": ("P36", [5, 6, 7, 80])})
    zh = sets("zh", {"f1": ("P36", [1, 2, 31, 41]), "f2": ("P36", [5, 6, 70, 81])})
    found = best_matches(ja, [zh, de])  # no English anywhere: every other language counts
    by_uuid = dict(zip(ja.uuids, zip(found.best, found.best_lang, strict=True), strict=True))
    assert by_uuid["f1"] == (pytest.approx(2 / 6), "de")  # de and zh tie: the smaller code wins
    assert by_uuid["f2"] == (pytest.approx(3 / 5), "de")
    assert np.isnan(by_uuid["only-ja"][0]) and by_uuid["only-ja"][1] is None
    assert found.pairs["zh"].pairs == 2 and found.pairs["zh"].jaccard_sum == pytest.approx(2 / 6 + 2 / 6)


def test_null_pairs_are_different_facts_of_the_same_relation():
    a = sets("de", {"f1": ("P36", [1, 2]), "f2": ("P36", [2, 3]), "g1": ("P37", [1, 2])})
    b = sets("en", {"f1": ("P36", [1, 2]), "f2": ("P36", [1, 3]), "g1": ("P37", [9, 10])})
    null = null_sample(a, b)
    # P36: (f1, f2): {1,2} vs {1,3} -> 1/3; (f2, f1): {2,3} vs {1,2} -> 1/3. P37 has one fact: no pair.
    assert null == Counter({(1, 3): 2})


def test_null_sample_is_capped_and_deterministic():
    rng = np.random.default_rng(0)
    rows_a = {f"f{i:03d}": ("P1", sorted(rng.choice(100, 5, replace=False).tolist())) for i in range(100)}
    rows_b = {f"f{i:03d}": ("P1", sorted(rng.choice(100, 5, replace=False).tolist())) for i in range(100)}
    a, b = sets("de", rows_a), sets("en", rows_b)
    first = null_sample(a, b, per_relation=300)
    assert sum(first.values()) == 200  # 3 shifts per fact; shift 0 pairs each fact with itself and is dropped
    assert null_sample(a, b, per_relation=300) == first


def test_threshold_is_the_nearest_rank_percentile():
    null = Counter({(0, 10): 98, (1, 9): 1, (5, 5): 1})
    assert percentile_threshold(null, 98) == 0.0
    assert percentile_threshold(null, 99) == pytest.approx(1 / 9)
    assert percentile_threshold(null, 100) == 1.0
    assert percentile_threshold(Counter(), 99) == 0.0


def words(text: str) -> list[str]:
    return text.lower().split()


@pytest.mark.parametrize(
    ("subject", "obj", "relation", "lang", "expected"),
    [
        ("Split Airport", "split", "P138", "en", "object_in_subject"),  # lowercased
        ("意大利雜菜湯", "汤", "P279", "zh", "object_in_subject"),  # traditional subject, simplified object
        ("Honda", "honda", "P138", "zh", "shared_token"),  # Chinese is not lowercased: rule 1 fails
        ("Sheffield United", "Leeds United", "P159", "en", "shared_token"),
        ("Jean-Baptiste Say", "French", "P103", "en", "naming_cue"),
        ("Aigle", "French", "P37", "en", "other"),
        ("Aigle", "", "P37", "en", "other"),  # an empty object is never a substring
    ],
)
def test_absent_types_first_rule_wins(subject, obj, relation, lang, expected):
    assert absent_type(subject, obj, relation, lang, words) == expected


def test_only_tokens_with_a_letter_or_digit_are_shared():
    assert not share_token(["▁", "-", "Jean"], ["▁", "-", "French"])
    assert share_token(["▁Jam", "aika"], ["▁V", "aika"])
    assert not object_in_subject("Paris", "", "en")


def presence(rows):
    return pa.table(
        {
            "uuid": [r[0] for r in rows],
            "present": pa.array([r[1] for r in rows], pa.bool_()),
            "cooccurrence_segments": [r[2] for r in rows],
            "evidence": pa.array([[{"page_id": 1, "seg_no": 0}] * r[2] for r in rows]),
        }
    )


def test_a_language_is_classified_from_its_tables():
    predictions = pa.table(
        {
            "uuid": ["a", "b", "c", "d", "e"],
            "relation": ["P36", "P36", "P36", "P103", "P36"],
            "correct": [True, True, True, True, False],
        }
    )
    facts = pa.table(
        {
            "uuid": ["a", "b", "c", "d", "e"],
            "subject_label": ["Vlag van Jamaika", "Kyiv", "Tokyo", "Jean Say", "Lyon"],
            "object_label": ["Jamaika", "Ukraine", "Japan", "Frans", "France"],
        }
    )
    similarity = pa.table(
        {"uuid": ["a", "b", "c", "d"], "similarity": [0.9, 0.9, 0.1, float("nan")], "similar_lang": ["en"] * 3 + [None]}
    )
    traced = presence([("a", False, 0), ("b", True, 2), ("c", True, 1), ("d", False, 0), ("e", None, 0)])
    args = (predictions, facts, traced, similarity, {"a", "b", "c", "d"}, 0.5, words)
    rows = {r["uuid"]: r for r in classify_language("af", *args).to_pylist()}
    assert [rows[u]["pattern"] for u in "abcde"] == [TRANSFERRED, SHARED, INDEPENDENT, INDEPENDENT, None]
    assert rows["a"]["absent_type"] == "object_in_subject" and rows["a"]["absent_group"] == "shared_entity_tokens"
    assert rows["d"]["absent_type"] == "naming_cue" and rows["d"]["similarity"] is None
    assert rows["b"]["evidence"] == [{"page_id": 1, "seg_no": 0}] * 2 and rows["b"]["similar_lang"] == "en"
    untraced = {r["uuid"]: r for r in classify_language("af", predictions, facts, None, *args[3:]).to_pylist()}
    assert {untraced[u]["present"] for u in "abcde"} == {None}
    assert [untraced[u]["pattern"] for u in "abcd"] == [None, None, INDEPENDENT, INDEPENDENT]
    assert untraced["a"]["undecided"] == "no_presence" and untraced["a"]["absent_type"] is None


def test_pearson_and_language_pairs():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [1, 1, 1]) is None and pearson([1, 2], [1, 2]) is None
    rows = pair_rows({"en": {"a", "b"}, "ja": {"b", "c"}}, {("en", "ja"): (1, 0.5)})
    assert rows[0] == {
        "lang": "en",
        "other_lang": "ja",
        "both_correct": 1,
        "correct_jaccard": pytest.approx(1 / 3),
        "neuron_pairs": 1,
        "neuron_jaccard": 0.5,
    }
    assert rows[1]["neuron_jaccard"] is None
