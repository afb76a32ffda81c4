import itertools

import pytest

from tests.helpers import train_wordpiece
from tracer.records import Page
from tracer.segmentation import Segmenter
from tracer.tokenization.fast_encoder import FastEncoder
from tracer.tokenization.loading import load_tokenizer

TEXTS = [
    "Paris is the capital of France. Tokyo is the capital of Japan!",
    "東京は日本の首都である。北京是中国的首都。",
    "Київ — столиця України.  Double  spaces and\ttabs, ﬁ ligatures, café, naïve.",
    "[MASK] appears literally here, and [UNK] too.",
]


@pytest.fixture(scope="module")
def wordpiece():
    return train_wordpiece(TEXTS * 20, vocab_size=400)


def page(text: str, page_id: int = 1) -> Page:
    return Page(page_id, 1, "t", text, "sha", len(text), 1)


@pytest.mark.parametrize("text", [*TEXTS, "", " leading space", "x" * 300])
def test_fast_encoder_is_exact_for_wordpiece(wordpiece, text):
    plain = wordpiece.encode(text, add_special_tokens=False)
    for fast_path in (True, False):
        enc = FastEncoder(wordpiece, fast_path=fast_path)
        for _ in range(2):  # cold cache, then warm cache
            fast = enc.encode(text)
            assert fast.ids == plain.ids
            assert [fast.offset(i) for i in range(len(fast.ids))] == [tuple(o) for o in plain.offsets]


@pytest.mark.parametrize("max_tokens", [1, 3, 8, 512])
def test_segments_concatenate_to_the_page_ids(wordpiece, max_tokens):
    text = " ".join(TEXTS * 3)
    segs = Segmenter(wordpiece, max_tokens).segments(page(text))
    ids = [i for s in segs for i in s.token_ids]
    assert ids == wordpiece.encode(text, add_special_tokens=False).ids
    assert all(0 < len(s.token_ids) <= max_tokens for s in segs)
    assert [s.seg_no for s in segs] == list(range(len(segs)))
    for s in segs:
        assert s.text == text[s.char_start : s.char_end]
    assert all(a.char_end <= b.char_start for a, b in itertools.pairwise(segs))


def test_wordpiece_from_vocab_txt_and_directory(tmp_path, wordpiece):
    vocab = tmp_path / "model" / "vocab.txt"
    vocab.parent.mkdir()
    ordered = sorted(wordpiece.get_vocab().items(), key=lambda kv: kv[1])
    vocab.write_text("".join(f"{tok}\n" for tok, _ in ordered), encoding="utf-8")
    from_file = load_tokenizer(str(vocab))
    from_dir = load_tokenizer(str(vocab.parent))
    assert from_file.tokenizer_id == from_dir.tokenizer_id and from_file.tokenizer_id.startswith("model-")
    assert (
        from_file.tokenizer.encode("Paris is", add_special_tokens=False).ids
        == wordpiece.encode("Paris is", add_special_tokens=False).ids
    )


def test_hub_name_not_cached_is_a_clear_error(tmp_path, monkeypatch):
    from tracer.errors import InputNotFound

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(InputNotFound, match="never downloads"):
        load_tokenizer("bert-base-multilingual-cased")
