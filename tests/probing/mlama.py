"""Real mLAMA facts for probing tests, and the naive reference every optimized path is checked against."""

from __future__ import annotations

import json
from collections import defaultdict

import torch

from probing.queries import masked_text


def mlama_facts(shared, lang: str, relations: tuple[str, ...], per_relation: int) -> list[dict]:
    templates = {}
    for line in (shared / "mlama1.1" / lang / "templates.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        templates[row["relation"]] = row["template"]
    facts = []
    for relation in relations:
        lines = (shared / "mlama1.1" / lang / f"{relation}.jsonl").read_text(encoding="utf-8").splitlines()
        for line in lines[:per_relation]:
            row = json.loads(line)
            facts.append({"uuid": row["uuid"], "relation": relation, "subject_label": row["sub_label"],
                          "object_label": row["obj_label"], "template": templates[relation]})  # fmt: skip
    return facts


def naive_gold(loaded, label: str) -> list[int]:
    ids = loaded.tokenizer(label, add_special_tokens=False)["input_ids"]
    marker = naive_marker(loaded)
    return ids[1:] if marker is not None and len(ids) > 1 and ids[0] == marker else ids


def naive_marker(loaded) -> int | None:
    bare = loaded.family.bare_marker
    return loaded.tokenizer.convert_tokens_to_ids(bare) if bare else None


def naive_k(loaded, facts: list[dict]) -> dict[str, int]:
    """K as the authors compute it: len(tokenizer.tokenize(obj)), a lone ``▁`` included."""
    k: dict[str, int] = defaultdict(int)
    for fact in facts:
        k[fact["relation"]] = max(k[fact["relation"]], len(loaded.tokenizer.tokenize(fact["object_label"])))
    return k


def naive_log_probs(loaded, fact: dict, n_masks: int) -> torch.Tensor:
    """[n_masks, vocab] log-probs: the text tokenized alone, the full LM head at every position."""
    tok = loaded.tokenizer
    text = masked_text(fact["template"], fact["subject_label"], n_masks, tok.mask_token)
    ids = tok(text, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        logits = loaded.model(input_ids=ids).logits[0]
    positions = [i for i, t in enumerate(ids[0].tolist()) if t == tok.mask_token_id]
    assert len(positions) == n_masks
    return torch.log_softmax(logits[positions].float(), dim=-1)


def naive_full_match(loaded, facts: list[dict]) -> tuple[dict, dict]:
    """Predicted ids per (uuid, k) and correctness per uuid, one query at a time, plain loops."""
    marker = naive_marker(loaded)
    strip = (lambda ids: [i for i in ids if i != marker]) if marker is not None else list
    k_of = naive_k(loaded, facts)
    predicted, correct = {}, {}
    for fact in facts:
        gold = strip(naive_gold(loaded, fact["object_label"]))
        correct[fact["uuid"]] = False
        for k in range(1, k_of[fact["relation"]] + 1):
            log_probs = naive_log_probs(loaded, fact, k)
            predicted[(fact["uuid"], k)] = [int(row.argmax()) for row in log_probs]
            correct[fact["uuid"]] |= strip(predicted[(fact["uuid"], k)]) == gold
    return predicted, correct
