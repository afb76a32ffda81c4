"""What the report shows, read from the warehouse: one (dump, model, protocol) slice of the classify output.

Everything here is plain rows (lists of dicts) so the figures, the HTML and the CSVs share them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from schemas.tables import FACT_CLASSES, LANGUAGE_PAIRS, LANGUAGE_STATS, RUNS, SEGMENTS
from schemas.values import DEFAULT_RULES, FULL_MATCH, NO_INTERVENTION
from tracer.classify.patterns import PATTERNS, TRANSFERRED
from tracer.dumps.naming import wiki_language
from tracer.errors import InputNotFound
from tracer.report.lrp2 import Lrp2Section, lrp2_section
from tracer.report.paper import PaperSection, RuleSet
from tracer.report.reference import read_reference
from tracer.warehouse import Warehouse

EXAMPLES_PER_PATTERN = 8
EVIDENCE_CHARS = 300


@dataclass
class Slice:
    """The rows of one report."""

    dump: str
    model: str
    protocol: str
    intervention: str
    rules: str
    stats: list[dict]
    pairs: list[dict]
    examples: list[dict]
    run: dict = field(default_factory=dict)
    reference: dict[str, float] = field(default_factory=dict)
    reference_name: str | None = None
    paper: PaperSection | None = None
    lrp2: Lrp2Section | None = None

    @property
    def langs(self) -> list[str]:
        return [s["lang"] for s in self.stats]


# When a choice is left open and several were classified, these are preferred.
PREFERRED = {"protocol": FULL_MATCH, "intervention": NO_INTERVENTION, "rules": DEFAULT_RULES}
SLICE_KEYS = ("dump", "model", "protocol", "intervention", "rules")


def choose(wh: Warehouse, **wanted: str | None) -> dict[str, str]:
    """The one (dump, model, protocol, intervention, rules) slice to report.

    Unset choices prefer full-match, no intervention and the default rules when those were classified.
    """
    found = wh.partitions(LANGUAGE_STATS, **wanted)
    for key, value in PREFERRED.items():
        if len(found) > 1 and wanted.get(key) is None and any(v[key] == value for v in found):
            found = [v for v in found if v[key] == value]
    if len(found) == 1:
        return found[0]
    if not found:
        raise InputNotFound(f"no language_stats in {wh.root} for that choice: run 'factrace classify' first")
    options = "; ".join(" ".join(f"--{k} {v[k]}" for k in SLICE_KEYS) for v in found)
    raise InputNotFound(f"{len(found)} classified slices in {wh.root}; pick one: {options}")


def latest_classify_run(wh: Warehouse, values: dict[str, str]) -> dict:
    """The newest classify run that wrote this slice."""
    keys = ("protocol", "intervention", "rules")
    runs = [
        r
        for r in wh.read(RUNS).to_pylist()
        if r["stage"] == "classify" and json.loads(r["extra"]).get("model") == values["model"]
        and all(json.loads(r["parameters"]).get(k) == values[k] for k in keys)
    ]  # fmt: skip
    return max(runs, key=lambda r: r["started_at"]) if runs else {}


def load_slice(wh: Warehouse, values: dict[str, str], reference_dir: Path | None) -> Slice:
    stats = sorted(wh.read(LANGUAGE_STATS, **values).to_pylist(), key=lambda r: r["lang"])
    pairs = wh.read(LANGUAGE_PAIRS, **values).to_pylist()
    run = latest_classify_run(wh, values)
    tokenizer = json.loads(run["parameters"]).get("presence_tokenizer") if run else None
    out = Slice(
        values["dump"],
        values["model"],
        values["protocol"],
        values["intervention"],
        values["rules"],
        stats,
        pairs,
        examples(wh, values, tokenizer),
        run,
    )
    out.paper = paper_section(wh, values, reference_dir, run)
    out.lrp2 = lrp2_section(wh, values, reference_dir)
    if values["protocol"] == FULL_MATCH and out.paper.reference.p_at_1:
        out.reference_name, out.reference = out.paper.reference.model_name, out.paper.reference.p_at_1
    return out


def paper_section(wh: Warehouse, values: dict[str, str], reference_dir: Path | None, run: dict) -> PaperSection:
    """The slice under every rule set classified for it (default first), with the reference figures."""
    others = {k: v for k, v in values.items() if k != "rules"}
    found = sorted(wh.partitions(LANGUAGE_STATS, **others), key=lambda v: (v["rules"] != DEFAULT_RULES, v["rules"]))
    sets = [
        RuleSet(
            v["rules"],
            sorted(wh.read(LANGUAGE_STATS, **v).to_pylist(), key=lambda r: r["lang"]),
            wh.read(LANGUAGE_PAIRS, **v).to_pylist(),
            wh.read(FACT_CLASSES, ["lang", "relation", "object_uri", "object_tokens", "correct"], **v).to_pylist(),
        )
        for v in found
    ]
    section = PaperSection(sets, read_reference(reference_dir, values["model"]), values["protocol"])
    tokenizer = json.loads(run["parameters"]).get("presence_tokenizer") if run else None
    if not values["dump"].startswith("2018"):
        section.notes.append(
            f"The paper traced the Wikipedia dumps of October-November 2018 with mBERT's tokenizer; this slice "
            f"traced dump {values['dump']} (presence tokenizer {tokenizer or 'none'}), so the presence figures "
            "(Fig. 6, Fig. 7) are not comparable with the paper's even where its values are known."
        )
    if values["protocol"] != FULL_MATCH:
        section.notes.append(f"The paper's P@1 is full-match; this slice is {values['protocol']}.")
    return section


def examples(wh: Warehouse, values: dict[str, str], tokenizer: str | None) -> list[dict]:
    """Up to ``EXAMPLES_PER_PATTERN`` facts of each pattern, those with corpus evidence first, with the text
    of their first evidence segment (a transferred fact shows the evidence of the language it came from)."""
    columns = ["lang", "uuid", "relation", "subject_label", "object_label", "pattern", "present", "similarity",
               "best_match_lang", "cross_lingual", "cooccurrence_segments", "evidence", "absent_type"]  # fmt: skip
    table = wh.read(FACT_CLASSES, columns, **values)
    classified = table.filter(pc.is_valid(table.column("pattern"))).to_pylist()
    by_key = {(r["lang"], r["uuid"]): r for r in classified}
    chosen = []
    for pattern in PATTERNS:
        rows = [r for r in classified if r["pattern"] == pattern]
        for row in rows:
            source = by_key.get((row["best_match_lang"], row["uuid"])) if pattern == TRANSFERRED else row
            row["evidence_lang"] = source["lang"] if source and source["evidence"] else None
            row["first_evidence"] = source["evidence"][0] if source and source["evidence"] else None
        rows.sort(
            key=lambda r: (
                r["first_evidence"] is None,
                r["cross_lingual"] is not True,
                -(r["similarity"] or 0.0),
                r["lang"],
                r["uuid"],
            )
        )
        chosen += rows[:EXAMPLES_PER_PATTERN]
    texts = segment_texts(wh, values["dump"], tokenizer, chosen)
    for row in chosen:
        ev = row.pop("first_evidence")
        row["evidence_text"] = texts.get((row["evidence_lang"], ev["page_id"], ev["seg_no"])) if ev else None
        row.pop("evidence")
    return chosen


def segment_texts(wh: Warehouse, dump: str, tokenizer: str | None, rows: list[dict]) -> dict[tuple, str]:
    wanted = {(r["evidence_lang"], r["first_evidence"]["page_id"], r["first_evidence"]["seg_no"])
              for r in rows if r["first_evidence"]}  # fmt: skip
    if not wanted or tokenizer is None:
        return {}
    found = {}
    for part in wh.partitions(SEGMENTS, dump=dump, tokenizer=tokenizer):
        lang = wiki_language(part["wiki"])
        pages = {p for lg, p, _ in wanted if lg == lang}
        if not pages:
            continue
        table = wh.read(SEGMENTS, ["page_id", "seg_no", "text"], **part)
        table = table.filter(pc.is_in(table.column("page_id"), value_set=pa.array(sorted(pages))))
        for r in table.to_pylist():
            if (lang, r["page_id"], r["seg_no"]) in wanted:
                found[(lang, r["page_id"], r["seg_no"])] = r["text"][:EVIDENCE_CHARS]
    return found
