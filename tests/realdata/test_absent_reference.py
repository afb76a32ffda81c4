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
from tracer.classify.inputs import token_strings
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
def facts_by_sentence(shared_data):
    reader = MlamaReader(shared_data / "mlama1.1")
    cache: dict[str, dict[str, list[Fact]]] = {}

    def lookup(lang: str, sentence: str) -> list[Fact]:
        if lang not in cache:
            index = defaultdict(list)
            for fact in reader.read(lang):
                if isinstance(fact, Fact) and fact.template:
                    filled = fact.template.replace("[X]", fact.subject_label).replace("[Y]", fact.object_label)
                    index[sentence_key(filled)].append(fact)
            cache[lang] = index
        return cache[lang].get(sentence_key(sentence), [])

    return lookup


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_reference_example_gets_its_type(name, shared_data, xlmr_tokenizer_path, facts_by_sentence):
    reference = shared_data / "reference"
    with open(reference / "p1_table_mbert_xlmr.csv", encoding="utf-8") as f:
        codes = {row["language"]: row["lang"] for row in csv.DictReader(f)}
    tokenize = token_strings(Tokenizer.from_file(str(xlmr_tokenizer_path)))
    with open(reference / f"{name}.csv", encoding="utf-8") as f:
        examples = list(csv.DictReader(f))
    assert len(examples) >= 35
    wrong = []
    for example in examples:
        lang = codes[example["Language"]]
        matches = facts_by_sentence(lang, example["Absent & Predictable fact"])
        assert matches, f"{name}: no mLAMA fact fills to {example['Absent & Predictable fact']!r} ({lang})"
        kinds = {absent_type(f.subject_label, f.object_label, f.relation, lang, tokenize) for f in matches}
        if not kinds <= EXPECTED[name]:
            wrong.append((lang, example["Absent & Predictable fact"], kinds))
    assert not wrong, f"{name}: {len(wrong)} of {len(examples)} examples typed otherwise: {wrong}"
