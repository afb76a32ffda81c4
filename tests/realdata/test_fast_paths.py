"""The table-driven fast paths give exactly the tokenizer's ids, and decline what they cannot prove."""

import json

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
# Where the fast path must prove or decline: short grapheme clusters and XLM-R's collapsed space runs.
ADVERSARIAL = [
    "cafe\u0301 and e\u0301te",  # a cluster the normalizer composes whole (é): declined
    "\u0301 starts with a mark, ends with one a\u0301",
    "a\u0301\u0302\u0303 seven bytes: never looked up whole",
    "Đa\u0300 Na\u0306\u0303ng, Đà Nẵng",
    "ﾊﾞｶ ﾊﾟﾝ halfwidth voiced marks",
    "\u0e01\u0e33 Thai sara am, \u0915\u094d\u0937 a conjunct",
    "\u0600\u0661\u0662 an Arabic number sign (Prepend) \u0600",
    "zwj a\u200db 👨\u200d👩\u200d👧 ©\u200d© ☺\u200d\u0301",
    "\r\u0301 CR then a mark, \r\n CRLF, lone \r",
    "   runs   of  spaces   everywhere   ",
    "x\u00a8y  z: an expansion with a space, and a run",
    "\u00a0 \u00a0nbsp\u3000\u3000runs\u2003 \u2003",
    "… ½  expansions  before … and after  runs",
    "▁ ▁  marker ▁▁  runs",
    "soft\u00adhyphen, zero\u200bwidth, \u200djoiner\u200c at\u200e the edges\u200b",  # WordPiece removes them
    "\u200b\u200c",
    "\u200b東京\u00ad,\u200dx \u200b",
]


@pytest.fixture(scope="module")
def tokenizers(xlmr_tokenizer_path):
    wordpiece = train_wordpiece((TRICKY + ADVERSARIAL) * 5, vocab_size=500)
    return {"xlm-r": load_stored(xlmr_tokenizer_path), "wordpiece": wordpiece}


@pytest.mark.shared_data
@pytest.mark.parametrize("kind", ["xlm-r", "wordpiece"])
@pytest.mark.parametrize("text", TRICKY + ADVERSARIAL)
def test_fast_path_equals_reference_and_tokenizer(tokenizers, kind, text):
    from tracer.tokenization import wordloop

    tok = tokenizers[kind]
    fast, reference = FastEncoder(tok), FastEncoder(tok, fast_path=False)
    python = FastEncoder(tok, loops=wordloop)  # the pure-Python loops and model.tokenize
    a, b, plain = fast.encode(text), reference.encode(text), tok.encode(text, add_special_tokens=False)
    c = python.encode(text)
    assert a.ids == b.ids == c.ids == plain.ids
    offsets = [tuple(o) for o in plain.offsets]
    assert [a.offset(i) for i in range(len(a.ids))] == [c.offset(i) for i in range(len(c.ids))] == offsets


@pytest.mark.shared_data
def test_fast_path_proves_short_clusters_and_space_runs_and_declines_the_rest(tokenizers):
    enc = FastEncoder(tokenizers["xlm-r"])
    for text in (TRICKY[0], TRICKY[1], TRICKY[2], TRICKY[3], ADVERSARIAL[9], ADVERSARIAL[11]):
        enc.encode(text)  # plain, expansions, a stress mark, CJK, space runs, nbsp runs
    assert (enc.pages_fast, enc.pages_reference) == (6, 0)
    enc.encode(ADVERSARIAL[0])  # é composed whole from e and a combining acute
    enc.encode(ADVERSARIAL[10])  # ¨ normalizes to a space and a mark, next to a run of spaces
    assert enc.pages_reference == 2
    wordpiece = FastEncoder(tokenizers["wordpiece"])
    for text in ADVERSARIAL[-3:]:
        wordpiece.encode(text)  # the characters the normalizer removes are stripped, positions mapped back
    assert (wordpiece.pages_fast, wordpiece.pages_reference) == (3, 0)  # one of nothing but them: no tokens


@pytest.mark.shared_data
def test_the_compiled_models_give_the_models_ids_and_offsets(tokenizers):
    import random

    from tracer.tokenization.loops import IMPLEMENTATION, LOOPS
    from tracer.tokenization.offsets import word_offsets_for
    from tracer.tokenization.word_ids import compiled_model

    if IMPLEMENTATION != "compiled":
        pytest.fail("the compiled word loop is not built: 'make venv' builds it with the package (needs a C compiler)")
    tok = tokenizers["xlm-r"]
    unigram, wordpiece = (
        compiled_model(json.loads(t.to_str())["model"], LOOPS) for t in (tok, tokenizers["wordpiece"])
    )
    rng = random.Random(11)
    codes = [c for c in (rng.randrange(0x20, 0x30000) for _ in range(400)) if not 0xD800 <= c < 0xE000]
    pool = "▁abé東京ฤ🧿\u0301\u200d<>sunk" + "".join(map(chr, codes))  # pieces, and characters no piece covers
    words = ["▁", "▁▁", "<unk>", "▁<s>", "▁" + "x" * 300, "▁🧿🧾", "▁a🧿🧾b", *(w for t in TRICKY for w in t.split())]
    words += ["▁" + "".join(rng.choice(pool) for _ in range(rng.randint(0, 16))) for _ in range(20_000)]
    bare = [w.lstrip("▁") or "x" for w in words] + ["x" * 100, "x" * 101, "ab" * 60, "##ab", "[UNK]"]
    for model, compiled, checked in ((tok, unigram, words), (tokenizers["wordpiece"], wordpiece, bare)):
        # WordPiece: longest match first, unk for a word too long or with no match
        assert LOOPS.model_ids(compiled, checked) == [[t.id for t in model.model.tokenize(w)] for w in checked]
        model_span = word_offsets_for(model)  # the model's byte offsets, in characters
        for word in checked[:3000]:
            count = len(model.model.tokenize(word))
            assert [LOOPS.token_span(compiled, word, j) for j in range(count)] == [
                model_span(word, j) for j in range(count)
            ], word
            with pytest.raises(IndexError, match="tokens"):
                LOOPS.token_span(compiled, word, count)


@pytest.mark.shared_data
def test_the_compiled_cluster_scan_finds_the_patterns_candidates(tokenizers):
    from tracer.tokenization import wordloop

    compiled, python = FastEncoder(tokenizers["xlm-r"]), FastEncoder(tokenizers["xlm-r"], loops=wordloop)
    texts = [*TRICKY, *ADVERSARIAL, "\u0600", "\u0600\u0600", "a\u0600", "\u0301\u0600x\u0301", "\r", "\r\n\r"]
    for text in texts:
        compiled.encode(text), python.encode(text)
    for text in texts:
        assert compiled.fast.cluster_candidates(text) == python.fast.cluster_candidates(text), ascii(text)
