"""The report's LRP2 section: per language the baseline against the chosen layer pair on the test half of the
TREx facts, transferability to English, group averages, the chosen layers beside the paper's optimal layers,
and the paper's Table 1 beside ours.

Transferability as issue 17 gives the paper's: ``Trans_l = |R_l ∩ R_en| / |R_l ∪ R_en|``, the correct fact sets
of language ``l`` and of English (English is never projected, so its baseline set serves both). The groups are
factrace's own lists, written out below, because the paper's language lists are not in the shared data:
Indo-European by language family, and high, medium and low resource by the thirds of the 2018 Wikipedia sizes
(the sizes the tracing paper's authors' code used, ``sizes_2018_mlama53_from_fact-cl.csv``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from schemas.tables import INTERVENTION_EFFECTS, LRP2_SEARCH, NEURONS
from schemas.values import ENGLISH_LANG, NO_INTERVENTION
from tracer.classify.effects import GAINED, UNDECIDED
from tracer.classify.patterns import PATTERNS
from tracer.warehouse import Warehouse

# mLAMA's languages of the Indo-European family (the others: ar az ceb et eu fi he hu id ja ka ko ms ta th tr vi zh)
INDO_EUROPEAN = frozenset(
    "af be bg bn ca cs cy da de el en es fa fr ga gl hi hr hy it la lt lv nl pl pt ro ru sk sl sq sr sv uk ur".split()
)
SIZES_FILE = "sizes_2018_mlama53_from_fact-cl.csv"
OPTIMAL_FILE = "optimal_layers_mbert.csv"
TABLE1_FILE = "table1_mlama.csv"
GROUPS = ("indo_european", "non_indo_european", "high_resource", "medium_resource", "low_resource")


def transferability(correct: set[str], english: set[str]) -> float | None:
    """|R_l ∩ R_en| / |R_l ∪ R_en|; None when neither has a correct fact."""
    union = correct | english
    return len(correct & english) / len(union) if union else None


def resource_levels(reference_dir: Path | None) -> dict[str, str]:
    """``high``, ``medium`` or ``low`` per language: the thirds of the 2018 dump sizes, largest first."""
    path = reference_dir / SIZES_FILE if reference_dir else None
    if path is None or not path.exists():
        return {}
    with open(path, encoding="utf-8") as f:
        sizes = {row["wiki"]: float(row["pages_articles_bz2_KiB"]) for row in csv.DictReader(f)}
    ordered = sorted(sizes, key=lambda lang: -sizes[lang])
    third = -(-len(ordered) // 3)
    return {lang: ("high", "medium", "low")[n // third] for n, lang in enumerate(ordered)}


def _reference_rows(reference_dir: Path | None, name: str) -> list[dict]:
    path = reference_dir / name if reference_dir else None
    if path is None or not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass
class Lrp2Section:
    languages: list[dict]  # per language: accuracies, transferability, pairs
    groups: list[dict]  # per group: mean baseline and LRP2 accuracy and transferability
    table1: list[dict] = field(default_factory=list)  # the paper's Table 1 rows
    # per intervention and language: what it gained and lost, joined with tracing (``intervention_effects``)
    gains: list[dict] = field(default_factory=list)


def effects_summary(rows: list[dict]) -> list[dict]:
    """Per (intervention, language), from ``intervention_effects`` rows: the facts it made correct, by presence in
    the language's corpus, and those absent from it that English knows; the facts it made wrong, by their
    baseline pattern."""
    out: dict[tuple[str, str], dict] = {}
    for r in rows:
        row = out.setdefault((r["intervention"], r["lang"]), {
            "intervention": r["intervention"], "lang": r["lang"], "gained": 0, "gained_present": 0,
            "gained_absent": 0, "gained_untraced": 0, "gained_absent_known_in_english": 0, "lost": 0,
            **{f"lost_{p.replace('-', '_')}": 0 for p in (*PATTERNS, UNDECIDED)},
        })  # fmt: skip
        n = r["facts"]
        if r["change"] == GAINED:
            row["gained"] += n
            row[f"gained_{r['presence']}"] += n
            row["gained_absent_known_in_english"] += n if r["presence"] == "absent" and r["known_in_english"] else 0
        else:
            row["lost"] += n
            row[f"lost_{r['pattern'].replace('-', '_')}"] += n
    return [out[k] for k in sorted(out)]


def _accuracy(row: dict) -> float:
    return row["test_correct"] / row["test_facts"] if row["test_facts"] else 0.0


def lrp2_section(wh: Warehouse, values: dict[str, str], reference_dir: Path | None) -> Lrp2Section | None:
    """The section for the slice's model, or None when it has no ``lrp2_search`` rows. The gains are those
    ``classify --intervention lrp2_<i>_<j>`` counted for the slice's dump, protocol and rules."""
    model = values["model"]
    rows = wh.read(LRP2_SEARCH, model=model).to_pylist()
    if not rows:
        return None
    by_lang: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_lang.setdefault(row["lang"], {})[row["intervention"]] = row
    english = by_lang.get(ENGLISH_LANG, {}).get(NO_INTERVENTION)
    english_set = set(english["test_correct_uuids"] or []) if english else set()
    optimal = {r["lang"]: f"{r['lirp_layer']},{r['lsrp_layer']}" for r in _reference_rows(reference_dir, OPTIMAL_FILE)}
    levels = resource_levels(reference_dir)
    languages = []
    for lang, found in sorted(by_lang.items()):
        if lang == ENGLISH_LANG:
            continue
        base = found[NO_INTERVENTION]
        chosen = next(r for r in found.values() if r["chosen"])
        oracle = next(r for r in found.values() if r["oracle"])
        pair = f"lrp2_{chosen['lirp']}_{chosen['lsrp']}"
        overlap_before, shared_before = neuron_overlap(wh, values, lang, NO_INTERVENTION)
        overlap_after, shared_after = neuron_overlap(wh, values, lang, pair)
        languages.append({
            "lang": lang,
            "test_facts": base["test_facts"],
            "baseline_acc": _accuracy(base),
            "lrp2_acc": _accuracy(chosen),
            "chosen": f"{chosen['lirp']},{chosen['lsrp']}" if chosen["lirp"] else "none",
            "oracle": f"{oracle['lirp']},{oracle['lsrp']}" if oracle["lirp"] else "none",
            "oracle_acc": _accuracy(oracle),
            "paper_optimal": optimal.get(lang, ""),
            "baseline_trans": transferability(set(base["test_correct_uuids"] or []), english_set) if english else None,
            "lrp2_trans": transferability(set(chosen["test_correct_uuids"] or []), english_set) if english else None,
            "indo_european": lang in INDO_EUROPEAN,
            "resource": levels.get(lang, ""),
            "neuron_overlap_baseline": overlap_before, "neuron_facts_baseline": shared_before,
            "neuron_overlap_lrp2": overlap_after, "neuron_facts_lrp2": shared_after,
        })  # fmt: skip
    members = {
        "indo_european": [r for r in languages if r["indo_european"]],
        "non_indo_european": [r for r in languages if not r["indo_european"]],
        **{
            f"{level}_resource": [r for r in languages if r["resource"] == level] for level in ("high", "medium", "low")
        },
        "avg_non_english": languages,
    }
    groups = []
    for name, group in members.items():
        trans = [r["baseline_trans"] for r in group if r["baseline_trans"] is not None]
        trans_lrp2 = [r["lrp2_trans"] for r in group if r["lrp2_trans"] is not None]
        groups.append({
            "group": name,
            "languages": len(group),
            "baseline_acc": _mean([r["baseline_acc"] for r in group]),
            "lrp2_acc": _mean([r["lrp2_acc"] for r in group]),
            "baseline_trans": _mean(trans),
            "lrp2_trans": _mean(trans_lrp2),
        })  # fmt: skip
    slice_keys = {k: values[k] for k in ("dump", "model", "protocol", "rules")}
    gains = effects_summary(wh.read(INTERVENTION_EFFECTS, **slice_keys).to_pylist())
    return Lrp2Section(languages, groups, _reference_rows(reference_dir, TABLE1_FILE), gains)


def neuron_overlap(wh: Warehouse, values: dict[str, str], lang: str, intervention: str) -> tuple[float | None, int]:
    """The paper's §5.2 with factrace's neurons: over the facts correct both in English (baseline) and in ``lang``
    under ``intervention``, the mean Jaccard of their top PROBELESS neuron sets, and how many such facts. The paper
    used integrated gradients (Dai et al.); PROBELESS is the stand-in. None when either side has no neurons."""
    keys = {"model": values["model"], "protocol": values["protocol"], "rules": values["rules"]}
    english = {
        r["uuid"]: set(r["neuron_ids"])
        for r in wh.read(
            NEURONS, ["uuid", "neuron_ids"], **keys, lang=ENGLISH_LANG, intervention=NO_INTERVENTION
        ).to_pylist()
    }
    own = {
        r["uuid"]: set(r["neuron_ids"])
        for r in wh.read(NEURONS, ["uuid", "neuron_ids"], **keys, lang=lang, intervention=intervention).to_pylist()
    }
    shared = sorted(english.keys() & own.keys())
    if not shared:
        return None, 0
    jaccards = [len(english[u] & own[u]) / len(english[u] | own[u]) for u in shared if english[u] | own[u]]
    return (sum(jaccards) / len(jaccards) if jaccards else None), len(shared)  # fmt: skip


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
