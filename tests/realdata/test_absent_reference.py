"""The absent-type rules reproduce the authors' examples (``../shared/data/reference/*_df.csv``).

Each example is a filled-in template ("Die moedertaal van Jean-Baptiste Say is Frans."); it is
matched back to its mLAMA fact by filling every template of that language the same way and comparing
without spaces, full stops and case. Rule 2 uses the real XLM-R tokenizer (mBERT's vocabulary is not
available offline).
"""

import csv
import re
import unicodedata
from collections import defaultdict

import pytest
from tokenizers import Tokenizer

from tracer.classify.absent import absent_type
from tracer.classify.label_tokens import token_strings
from tracer.facts.mlama import MlamaReader
from tracer.records import Fact

pytestmark = pytest.mark.shared_data
EXPECTED = {
    "overlap_df": {"object_in_subject", "shared_token"},
    "naming_df": {"naming_cue"},
    "others_df": {"other"},
}


def sentence_key(text: str) -> str:
    return re.sub(r"[\s.。]+", "", unicodedata.normalize("NFKC", text).casefold())


@pytest.fixture(scope="module")
def examples(shared_data) -> dict[str, list[dict]]:
    """Every reference example, with its language code."""
    reference = shared_data / "reference"
    with open(reference / "p1_table_mbert_xlmr.csv", encoding="utf-8") as f:
        codes = {row["language"]: row["lang"] for row in csv.DictReader(f)}
    found = {}
    for name in EXPECTED:
        with open(reference / f"{name}.csv", encoding="utf-8") as f:
            found[name] = [{**row, "lang": codes[row["Language"]]} for row in csv.DictReader(f)]
    return found


@pytest.fixture(scope="module")
def facts_by_sentence(shared_data, examples):
    """Facts whose filled-in template equals an example sentence, by (lang, sentence key). Only facts
    whose object occurs in some example of their language are filled in (the rest cannot match)."""
    keys: dict[str, set[str]] = defaultdict(set)
    for rows in examples.values():
        for row in rows:
            keys[row["lang"]].add(sentence_key(row["Absent & Predictable fact"]))
    reader = MlamaReader(shared_data / "mlama1.1")
    index: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    for lang, wanted in keys.items():
        for fact in reader.read(lang):
            if not isinstance(fact, Fact) or not fact.template:
                continue
            if not any(sentence_key(fact.object_label) in key for key in wanted):
                continue
            filled = fact.template.replace("[X]", fact.subject_label).replace("[Y]", fact.object_label)
            index[(lang, sentence_key(filled))].append(fact)
    return index


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_reference_example_gets_its_type(name, examples, xlmr_tokenizer_path, facts_by_sentence):
    tokenize = token_strings(Tokenizer.from_file(str(xlmr_tokenizer_path)))
    assert len(examples[name]) >= 35
    wrong = []
    for example in examples[name]:
        lang, sentence = example["lang"], example["Absent & Predictable fact"]
        matches = facts_by_sentence.get((lang, sentence_key(sentence)), [])
        assert matches, f"{name}: no mLAMA fact fills to {sentence!r} ({lang})"
        kinds = {absent_type(f.subject_label, f.object_label, f.relation, lang, tokenize) for f in matches}
        if not kinds <= EXPECTED[name]:
            wrong.append((lang, sentence, kinds))
    assert not wrong, f"{name}: {len(wrong)} of {len(examples[name])} examples typed otherwise: {wrong}"
