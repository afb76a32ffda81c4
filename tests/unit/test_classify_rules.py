"""The classification rules on hand-built values: patterns, similarity and its p-value, absent types."""

import itertools

import numpy as np
import pyarrow as pa
import pytest

from tracer.classify.absent import absent_type, object_in_subject, share_token
from tracer.classify.neuron_sets import NeuronSets
from tracer.classify.patterns import INDEPENDENT, SHARED, TRANSFERRED, classify_fact, classify_language
from tracer.classify.similarity import cross_lingual_similarity
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
    ("correct", "present", "neurons", "cross", "expected"),
    [
        (False, True, True, True, (None, None, None, None)),
        (True, True, False, False, (None, None, "no_neurons", "correct-present")),
        (True, True, True, False, (False, INDEPENDENT, None, "correct-present")),
        (True, True, True, True, (True, SHARED, None, "correct-present")),
        (True, False, True, True, (True, TRANSFERRED, None, "correct-absent")),
        (True, False, True, False, (False, TRANSFERRED, None, "correct-absent")),  # absent: transferred, always
        (True, False, False, False, (None, TRANSFERRED, None, "correct-absent")),  # ... even without neurons
        (True, None, True, True, (True, None, "no_presence", "correct-untraced")),  # no corpus: never "absent"
        (True, None, True, False, (False, None, "no_presence", "correct-untraced")),
    ],
)
def test_every_pattern(correct, present, neurons, cross, expected):
    v = classify_fact(correct, present, neurons, cross)
    assert (v.cross_lingual, v.pattern, v.undecided, v.coarse_class) == expected


def test_best_match_ties_go_to_the_smallest_language_and_single_language_facts_have_none():
    ja = sets("ja", {"f1": ("P36", [1, 2, 3, 4]), "f2": ("P36", [5, 6, 7, 8]), "only-ja": ("P36", [1, 9])})
    de = sets("de", {"f1": ("P36", [1, 2, 30, 40]), "f2": ("P36", [5, 6, 7, 80])})
    zh = sets("zh", {"f1": ("P36", [1, 2, 31, 41]), "f2": ("P36", [5, 6, 70, 81])})
    found = cross_lingual_similarity(ja, [zh, de])  # no English anywhere: every other language counts
    by_uuid = dict(zip(ja.uuids, zip(found.best, found.best_lang, found.partners, strict=True), strict=True))
    assert by_uuid["f1"] == (pytest.approx(2 / 6), "de", 2)  # de and zh tie: the smaller code wins
    assert by_uuid["f2"] == (pytest.approx(3 / 5), "de", 2)
    assert np.isnan(by_uuid["only-ja"][0]) and by_uuid["only-ja"][1] is None and by_uuid["only-ja"][2] == 0
    assert np.isnan(found.p_value[list(ja.uuids).index("only-ja")])
    assert found.pairs["zh"].pairs == 2 and found.pairs["zh"].jaccard_sum == pytest.approx(2 / 6 + 2 / 6)


def brute_force_p_value(mine, others, uuid: str, best: float) -> float:
    """P(max over the fact's partners of Jaccard(g, h_O) >= best): every g of the relation in ``mine``, every
    combination of one other fact h_O per partner, enumerated."""
    row = list(mine.uuids).index(uuid)
    relation = mine.relations[row]
    partners = [o for o in others if uuid in set(o.uuids)]

    def members(s):
        return [i for i in range(len(s)) if s.relations[i] == relation]

    def jac(a, i, b, j):
        x, y = set(a.ids[i][: a.sizes[i]].tolist()), set(b.ids[j][: b.sizes[j]].tolist())
        return len(x & y) / len(x | y)

    tails = []
    for g in members(mine):
        choices = [[j for j in members(o) if o.uuids[j] != mine.uuids[g]] for o in partners]
        combos = list(itertools.product(*choices))
        hits = sum(max(jac(mine, g, o, j) for o, j in zip(partners, combo, strict=True)) >= best for combo in combos)
        tails.append(hits / len(combos))
    return float(np.mean(tails))


def test_p_values_equal_the_enumerated_null_max():
    rng = np.random.default_rng(7)

    def random_sets(lang, n):
        return sets(lang, {f"f{i}": (f"P{i % 2}", sorted(rng.choice(12, 4, replace=False).tolist())) for i in range(n)})

    mine, others = random_sets("en", 6), [random_sets("de", 6), random_sets("fr", 5), random_sets("ja", 4)]
    found = cross_lingual_similarity(mine, others)
    assert found.partners.max() == 3  # some fact has all three partners
    for row, uuid in enumerate(mine.uuids):
        expected = brute_force_p_value(mine, others, uuid, found.best[row])
        assert found.p_value[row] == pytest.approx(expected), uuid
    capped = cross_lingual_similarity(mine, others, null_facts=2)  # fewer facts stand for each relation
    assert np.all((capped.p_value >= 0) & (capped.p_value <= 1))
    assert np.array_equal(capped.p_value, cross_lingual_similarity(mine, others, null_facts=2).p_value)


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
@pytest.mark.parametrize("rules", ["default", "fact-cl"])
def test_absent_types_first_rule_wins(subject, obj, relation, lang, expected, rules):
    assert absent_type(subject, obj, relation, lang, words, rules=rules) == expected


def test_only_tokens_with_a_letter_or_digit_are_shared_by_default():
    assert not share_token(["▁", "-", "Jean"], ["▁", "-", "French"])
    assert share_token(["▁", "-", "Jean"], ["▁", "-", "French"], rules="fact-cl")  # the authors' set intersection
    assert share_token(["▁Jam", "aika"], ["▁V", "aika"])
    assert not object_in_subject("Paris", "", "en")


def test_chinese_tokens_are_compared_in_simplified_characters():
    assert share_token(["▁", "倫", "敦"], ["伦", "敦", "塔"][:1], chinese=True)  # 倫 (traditional) is 伦
    assert not share_token(["▁", "倫"], ["伦"], chinese=False)
    chars = list  # one token per character, as a character-level tokenizer would
    assert absent_type("倫敦眼", "伦敦", "P131", "zh", chars) == "object_in_subject"
    assert absent_type("倫敦大學", "英格蘭倫", "P131", "zh", chars) == "shared_token"
    # only ``zh`` is Chinese to the authors' code; factrace converts every Chinese code
    assert absent_type("倫X", "伦Y", "P131", "zh-yue", chars) == "shared_token"
    assert absent_type("倫X", "伦Y", "P131", "zh-yue", chars, rules="fact-cl") == "other"


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
            "object_uri": ["Q1", "Q2", "Q3", "Q4", "Q5"],
        }
    )
    nan = float("nan")
    similarity = pa.table(
        {
            "uuid": ["a", "b", "c", "d"],
            "similarity": [0.9, 0.9, 0.1, nan],
            "best_match_lang": ["en"] * 3 + [None],
            "partners": pa.array([1, 1, 1, 0], pa.int32()),
            "p_value": [0.001, 0.001, 0.4, nan],
        }
    )
    traced = presence([("a", False, 0), ("b", True, 2), ("c", True, 1), ("d", False, 0), ("e", None, 0)])
    args = (predictions, facts, traced, similarity, 0.01, words)
    rows = {r["uuid"]: r for r in classify_language("af", *args).to_pylist()}
    assert [rows[u]["pattern"] for u in "abcde"] == [TRANSFERRED, SHARED, INDEPENDENT, TRANSFERRED, None]
    assert [rows[u]["cross_lingual"] for u in "abcde"] == [True, True, False, False, None]
    assert rows["a"]["absent_type"] == "object_in_subject" and rows["a"]["absent_group"] == "shared_entity_tokens"
    assert rows["d"]["absent_type"] == "naming_cue" and rows["d"]["similarity"] is None and rows["d"]["partners"] == 0
    assert rows["b"]["evidence"] == [{"page_id": 1, "seg_no": 0}] * 2 and rows["b"]["best_match_lang"] == "en"
    assert rows["b"]["p_value"] == 0.001 and rows["d"]["p_value"] is None and rows["a"]["object_uri"] == "Q1"
    untraced = {r["uuid"]: r for r in classify_language("af", predictions, facts, None, *args[3:]).to_pylist()}
    assert {untraced[u]["present"] for u in "abcde"} == {None}
    assert [untraced[u]["pattern"] for u in "abcd"] == [None] * 4
    assert untraced["a"]["undecided"] == "no_presence" and untraced["a"]["absent_type"] is None


def test_pearson_and_language_pairs():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [1, 1, 1]) is None and pearson([1, 2], [1, 2]) is None
    probed = {"en": {"a", "b", "c", "x"}, "ja": {"a", "b", "c"}}
    rows = pair_rows(probed, {"en": {"a", "b", "x"}, "ja": {"b", "c"}}, {("en", "ja"): (1, 0.5)})
    assert rows[0] == {  # x was not probed in ja: it does not count against the overlap
        "lang": "en",
        "other_lang": "ja",
        "both_probed": 3,
        "both_correct": 1,
        "correct_jaccard": pytest.approx(1 / 3),
        "neuron_pairs": 1,
        "neuron_jaccard": 0.5,
    }
    assert rows[1]["neuron_jaccard"] is None


def test_self_contained_follows_each_rule_sets_chinese():
    from tracer.facts.containment import object_in_subject

    assert object_in_subject("Split Airport", "split", "en")
    assert object_in_subject("北京機場", "北京机场", "zh-yue")  # default: every zh* code in simplified characters
    assert not object_in_subject("北京機場", "北京机场", "zh-yue", rules="fact-cl")  # the authors: only zh
    assert not object_in_subject("Paris", "", "en")
