"""What an intervention (LRP2) changed in one language, joined with tracing: the facts it made correct and
those it made wrong, counted by the fact's presence in the language's corpus, its pattern where it is
correct, and whether English (the baseline) knows it.

A fact *gained* was wrong in the baseline and is correct under the intervention; its pattern is the one it has
there (a gained absent fact is *transferred*). A fact *lost* was correct in the baseline; its pattern is the
baseline's. Presence does not depend on the model, so it is the same on both sides. The question this answers
is the one the tracing engine alone can ask: does projection recover facts the language's Wikipedia lacks but
English knows?
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

GAINED = "gained"
LOST = "lost"
UNTRACED = "untraced"
UNDECIDED = "undecided"


def _presence(present: bool | None) -> str:
    return UNTRACED if present is None else ("present" if present else "absent")


def intervention_effects(lang: str, baseline: pa.Table, changed: pa.Table, english_correct: set[str]) -> list[dict]:
    """One row per (change, presence, pattern, known in English) with its count of facts, sorted.

    ``baseline`` and ``changed``: the language's ``fact_classes`` (uuid, correct, present, pattern) without and with
    the intervention. Facts probed on one side only are not compared."""
    before = {r["uuid"]: r for r in baseline.select(["uuid", "correct", "present", "pattern"]).to_pylist()}
    counts: Counter[tuple[str, str, str, bool]] = Counter()
    for row in changed.select(["uuid", "correct", "present", "pattern"]).to_pylist():
        old = before.get(row["uuid"])
        if old is None or old["correct"] == row["correct"]:
            continue
        side = row if row["correct"] else old
        change = GAINED if row["correct"] else LOST
        counts[(change, _presence(side["present"]), side["pattern"] or UNDECIDED, row["uuid"] in english_correct)] += 1
    return [
        {"lang": lang, "change": change, "presence": presence, "pattern": pattern, "known_in_english": known,
         "facts": n}
        for (change, presence, pattern, known), n in sorted(counts.items())
    ]  # fmt: skip
