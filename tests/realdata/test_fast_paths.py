"""The table-driven fast paths give exactly the tokenizer's ids, and decline what they cannot prove."""

import pytest

from tests.helpers import train_wordpiece
from tracer.tokenization.fast_encoder import FastEncoder
from tracer.tokenization.loading import load_stored

TRICKY = [
    "Paris is the capital of France.",
    "Երևան և Գյումրի… ½ km²",  # NFKC expansions: և -> եւ, … -> ..., ½ -> 1⁄2
    "Діа́метр кола — відрізок.",  # a stress mark joins a short grapheme cluster
    "東京は日本の首都である。北京是中国的首都。",
    "  leading and  double spaces\u00a0 and nbsp",
    "a literal ▁ marker and ▁▁ two",
    "emoji 👍🏽 keycap 1\ufe0f\u20e3 flag 🇫🇷 zwj 👩‍💻",
    "العربية مَكْتَبَة and Devanagari मराठी भाषा",
    "tab\tand\r\nnewline ﬁ ligature Ⅻ ｆｕｌｌ",
    "",
]


@pytest.fixture(scope="module")
def tokenizers(xlmr_tokenizer_path):
    wordpiece = train_wordpiece(TRICKY * 5, vocab_size=500)
    return {"xlm-r": load_stored(xlmr_tokenizer_path), "wordpiece": wordpiece}


@pytest.mark.shared_data
@pytest.mark.parametrize("kind", ["xlm-r", "wordpiece"])
@pytest.mark.parametrize("text", TRICKY)
def test_fast_path_equals_reference_and_tokenizer(tokenizers, kind, text):
    tok = tokenizers[kind]
    fast, reference = FastEncoder(tok), FastEncoder(tok, fast_path=False)
    a, b = fast.encode(text), reference.encode(text)
    assert a.ids == b.ids == tok.encode(text, add_special_tokens=False).ids
    assert [a.offset(i) for i in range(len(a.ids))] == [b.offset(i) for i in range(len(b.ids))]


@pytest.mark.shared_data
def test_fast_path_takes_plain_pages_and_declines_short_clusters(tokenizers):
    enc = FastEncoder(tokenizers["xlm-r"])
    for text in (TRICKY[0], TRICKY[1], TRICKY[3]):
        enc.encode(text)
    assert (enc.pages_fast, enc.pages_reference) == (3, 0)
    enc.encode(TRICKY[2])
    assert enc.pages_reference == 1
