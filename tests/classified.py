"""A hand-built warehouse with everything classify reads, for the classify and report tests."""

from pathlib import Path

import pyarrow as pa

from schemas.arrow import arrow_schema
from schemas.tables import FACT_PRESENCE, FACTS, NEURONS, PAGES, PREDICTIONS, SEGMENTS
from tracer.demo import build_wordpiece
from tracer.warehouse import Warehouse

MODEL, DUMP, TOK = "tiny-0123456789", "20260101", "tok-abcdef0123"
#          uuid    relation subject  object   correct by language    neurons by language
FACTS_ = {
    "f1": ("P36", "Paris City", "Paris", {"en": 1, "ja": 1, "zh": 1},
           {"en": [1, 2, 3], "ja": [1, 2, 3], "zh": [1, 2, 4]}),
    "f2": ("P36", "Tokyo", "Japan", {"en": 1, "ja": 1, "zh": 0}, {"en": [7, 8, 9], "ja": [10, 11, 12]}),
    "f3": ("P36", "Kyiv", "Ukraine", {"en": 1, "ja": 0, "zh": 1}, {"en": [20, 21, 22], "zh": [20, 21, 22]}),
    "f4": ("P103", "Jean Say", "French", {"en": 0, "ja": 1, "zh": 0}, {}),
}  # fmt: skip
# Japanese labels (the report shows them; its browser test checks they render in a CJK font), built so that
# each fact keeps its absent type: object inside subject for f1, no shared token for the others.
JA_LABELS = {
    "f1": ("パリ市", "パリ"),
    "f2": ("東京", "日本"),
    "f3": ("キーウ", "ウクライナ"),
    "f4": ("ジャン・セイ", "仏語"),
}
PRESENT = {
    "en": {"f1": True, "f2": True, "f3": False, "f4": True},
    "ja": {"f1": False, "f2": True, "f3": None, "f4": False},
}


def put(wh: Warehouse, table, values: dict, rows: list[dict]) -> None:
    wh.put(table, values, pa.Table.from_pylist(rows, arrow_schema(table)))


def build_warehouse(root: Path, model: str = MODEL, rule_sets: tuple[str, ...] = ("default",)) -> Warehouse:
    """Facts, predictions, neurons, presence, pages and segments of four facts in en, ja and zh (zh untraced).

    Under ``rule_sets`` (``fact-cl`` too: the same probe rows, presence by the ``fact-cl`` match mode)."""
    wh = Warehouse(root)
    words = ["Paris City Tokyo Japan Kyiv Ukraine Jean Say French", *(" ".join(v) for v in JA_LABELS.values())]
    tokenizer = build_wordpiece(words, root / "_tok" / "tok.json")
    wh.keep_tokenizer(model, tokenizer.read_text())
    wh.keep_tokenizer(TOK, tokenizer.read_text())  # presence traced with the model's own tokenization
    for lang in ("en", "ja", "zh"):
        put(wh, FACTS, {"lang": lang}, [
            {"uuid": u, "relation": r, "subject_label": JA_LABELS[u][0] if lang == "ja" else s, "subject_uri": "Q1",
             "object_label": JA_LABELS[u][1] if lang == "ja" else o, "object_uri": "Q2", "template": "[X] : [Y]",
             "dataset": "TREx", "source": f"{lang}/{r}.jsonl", "line_no": 1}
            for u, (r, s, o, _, _) in FACTS_.items()
        ])  # fmt: skip
        for rules in rule_sets:
            _probe_rows(wh, model, lang, rules)
    modes = {"default": "tokens", "fact-cl": "fact-cl"}
    for lang, present in PRESENT.items():
        for rules in rule_sets:
            _presence_rows(wh, lang, present, modes[rules])
    put(wh, PAGES, {"dump": DUMP, "wiki": "enwiki"}, [
        {"page_id": 7, "rev_id": 1, "title": "Paris", "text": "Paris é", "content_sha1": "0", "char_count": 7,
         "paragraph_count": 1}
    ])  # fmt: skip
    put(wh, SEGMENTS, {"dump": DUMP, "wiki": "enwiki", "tokenizer": TOK}, [
        {"page_id": 7, "seg_no": 0, "char_start": 0, "char_end": 7, "text": "Paris é", "token_count": 3,
         "token_ids": [1, 2, 3], "content_sha1": "0"}
    ])  # fmt: skip
    return wh


def _probe_rows(wh: Warehouse, model: str, lang: str, rules: str) -> None:
    pred = {"model": model, "lang": lang, "protocol": "full-match", "intervention": "none", "rules": rules}
    put(wh, PREDICTIONS, pred, [
        {"uuid": u, "relation": r, "n_masks_tried": 1, "matched_masks": None, "predicted_ids": [1],
         "predicted_text": "x", "correct": bool(ok[lang]), "gold_rank": None, "gold_log_prob": None}
        for u, (r, _, _, ok, _) in FACTS_.items()
    ] + ([{"uuid": "gone", "relation": "P36", "n_masks_tried": 1, "matched_masks": None, "predicted_ids": [1],
           "predicted_text": "x", "correct": True, "gold_rank": None, "gold_log_prob": None}]
        if lang == "en" else []))  # fmt: skip
    put(wh, NEURONS, pred, [
        {"uuid": u, "relation": r, "neuron_ids": n[lang], "scores": [1.0] * len(n[lang])}
        for u, (r, _, _, _, n) in FACTS_.items() if lang in n
    ])  # fmt: skip


def _presence_rows(wh: Warehouse, lang: str, present: dict, mode: str) -> None:
    put(wh, FACT_PRESENCE, {"dump": DUMP, "lang": lang, "match_mode": mode, "tokenizer": TOK}, [
        {"uuid": u, "relation": FACTS_[u][0], "subject_segments": 1, "object_segments": 1,
         "cooccurrence_segments": int(bool(p)), "present": p,
         "evidence": [{"page_id": 7, "seg_no": 0}] if p else [], "flags": [] if p is not None else ["x:y"],
         "matcher": "tokens_v1", "self_contained": False}
        for u, p in present.items()
    ])  # fmt: skip
