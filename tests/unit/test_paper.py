"""The paper's statistics, computed as the authors' notebooks compute them, on hand-built rows and the reference."""

import json

import pytest

from tracer.report import paper
from tracer.report.reference import read_reference


def fact(lang, relation, obj, tokens, correct):
    return {"lang": lang, "relation": relation, "object_uri": obj, "object_tokens": tokens, "correct": correct}


FACTS = [
    fact("en", "P36", "Q90", 1, True),  # Paris: 2 of 3 correct, across relations
    fact("en", "P36", "Q90", 1, True),
    fact("en", "P19", "Q90", 1, False),
    fact("en", "P36", "Q1", 1, False),  # a one-token object never predicted
    fact("en", "P37", "Q150", 2, True),  # two tokens: not in the one-token P@1
    fact("en", "date_of_birth", "Q3", 1, True),
    fact("ja", "P36", "Q90", 2, False),
]


def test_one_token_p_at_1_averages_objects_not_facts():
    found = paper.one_token_p_at_1(FACTS)
    assert found["en"] == (3, pytest.approx((2 / 3 + 0 + 1) / 3))  # Q90, Q1, Q3
    assert found["ja"] == (0, None)


def test_micro_and_macro_over_relations_without_dates():
    micro, macro = paper.relation_p_at_1(FACTS)["en"]
    assert micro == pytest.approx(4 / 6)
    assert macro == pytest.approx((2 / 3 + 0 + 1) / 3)  # P36, P19, P37; date_of_birth left out


def test_pooled_is_over_queries_and_the_papers_is_recomputed_with_our_counts():
    stats = [{"lang": "en", "queries": 100, "correct": 20, "p_at_1": 0.2},
             {"lang": "ja", "queries": 300, "correct": 6, "p_at_1": 0.02}]  # fmt: skip
    assert paper.pooled_p_at_1(stats) == pytest.approx(26 / 400)
    assert paper.paper_pooled_p_at_1({"en": 0.19, "ja": 0.0134, "xx": 0.5}, {"en": 100, "ja": 300}) == pytest.approx(
        (19 + 0.0134 * 300) / 400
    )


def test_absent_types_are_pooled_before_shares():
    stats = [{"object_in_subject": 3, "shared_token": 1, "naming_cue": 2, "other": 4},
             {"object_in_subject": 0, "shared_token": 0, "naming_cue": 0, "other": 10}]  # fmt: skip
    shares = paper.pooled_absent_shares(stats)
    assert shares["shared entity tokens"] == (4, pytest.approx(4 / 20)) and shares["other"] == (14, 0.7)


def test_subword_correlation_normalizes_per_language_then_sums():
    rows = [fact("en", "P1", f"o{i}", 1 + i % 3, i % 3 == 0) for i in range(30)]
    rows += [fact("de", "P1", f"o{i}", 1 + i % 3, i % 6 == 0) for i in range(30)]
    r, lengths = paper.subword_correlation(rows)
    assert lengths == 1 and r is None  # only length 1 has correct facts: nothing to correlate
    rows += [fact("de", "P1", "long", 3, True), fact("en", "P1", "mid", 2, True), fact("en", "P1", "mid2", 2, False)]
    r, lengths = paper.subword_correlation(rows)
    assert lengths == 3 and r < 0


def test_pairs_and_top_languages():
    pairs = [{"lang": "de", "other_lang": "en", "x": 0.2}, {"lang": "en", "other_lang": "de", "x": 0.2},
             {"lang": "de", "other_lang": "ja", "x": 0.6}, {"lang": "en", "other_lang": "ja", "x": None}]  # fmt: skip
    assert paper.mean_pair_value(pairs, ["de", "en", "ja"], "x") == (pytest.approx(0.4), 2)
    assert paper.top_languages({"a": 0.1, "b": 0.3, "c": 0.3}, 2) == ["b", "c"]


@pytest.mark.shared_data
def test_the_papers_macro_is_its_pooled_p_at_1(shared_data):
    """8.85 (mBERT) and 6.88 (XLM-R large) are reproduced by pooling the reference P@1 over mLAMA's queries."""
    queries = {}
    for lang_dir in sorted((shared_data / "mlama1.1").iterdir()):
        queries[lang_dir.name] = sum(
            1 for p in lang_dir.glob("*.jsonl") if p.name != "templates.jsonl"
            for line in p.read_text(encoding="utf-8").splitlines() if line.strip() and json.loads(line)
        )  # fmt: skip
    assert sum(queries.values()) == 843_143
    reference = shared_data / "reference"
    mbert = read_reference(reference, "bert-base-multilingual-cased-0123456789")
    xlmr = read_reference(reference, "xlm-roberta-large-0123456789")
    assert round(100 * paper.paper_pooled_p_at_1(mbert.p_at_1, queries), 2) == 8.85
    assert round(100 * paper.paper_pooled_p_at_1(xlmr.p_at_1, queries), 2) == 6.88
    assert len(mbert.sizes["all_titles_in_ns0_minus1"]) == 53
