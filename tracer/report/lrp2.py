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

from schemas.tables import FACT_CLASSES, LRP2_SEARCH, NEURONS
from schemas.values import FULL_MATCH, NO_INTERVENTION
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
    gains: list[dict] = field(default_factory=list)  # per language: what LRP2 gained and lost, by presence and pattern


def gains_and_losses(
    lang: str, baseline: set[str], lrp2: set[str], english: set[str], classes: dict[str, tuple[bool | None, str | None]]
) -> dict:
    """The test-half facts LRP2 made correct (by presence in the language's corpus, and whether English knows them
    already) and those it made wrong (by their baseline pattern). ``classes``: uuid → (present, pattern) from the
    baseline's ``fact_classes``."""
    gained, lost = sorted(lrp2 - baseline), sorted(baseline - lrp2)
    present = [classes.get(u, (None, None))[0] for u in gained]
    row = {
        "lang": lang,
        "gained": len(gained),
        "gained_present": present.count(True),
        "gained_absent": present.count(False),
        "gained_untraced": present.count(None),
        "gained_absent_known_in_english": sum(
            1 for u, p in zip(gained, present, strict=True) if p is False and u in english
        ),
        "lost": len(lost),
    }
    for pattern in PATTERNS:
        row[f"lost_{pattern.replace('-', '_')}"] = sum(1 for u in lost if classes.get(u, (None, None))[1] == pattern)
    return row


def _accuracy(row: dict) -> float:
    return row["test_correct"] / row["test_facts"] if row["test_facts"] else 0.0


def lrp2_section(wh: Warehouse, values: dict[str, str], reference_dir: Path | None) -> Lrp2Section | None:
    """The section for the slice's model, or None when it has no ``lrp2_search`` rows. Under full-match, the gains
    are joined with the slice's baseline classes (its dump's presence and patterns)."""
    model = values["model"]
    rows = wh.read(LRP2_SEARCH, model=model).to_pylist()
    if not rows:
        return None
    by_lang: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_lang.setdefault(row["lang"], {})[row["intervention"]] = row
    english = by_lang.get("en", {}).get(NO_INTERVENTION)
    english_set = set(english["test_correct_uuids"] or []) if english else set()
    optimal = {r["lang"]: f"{r['lirp_layer']},{r['lsrp_layer']}" for r in _reference_rows(reference_dir, OPTIMAL_FILE)}
    levels = resource_levels(reference_dir)
    languages, gains = [], []
    for lang, found in sorted(by_lang.items()):
        if lang == "en":
            continue
        base = found[NO_INTERVENTION]
        chosen = next(r for r in found.values() if r["chosen"])
        oracle = next(r for r in found.values() if r["oracle"])
        if values["protocol"] == FULL_MATCH:
            classes = _baseline_classes(wh, {**values, "lang": lang, "intervention": NO_INTERVENTION})
            before, after = set(base["test_correct_uuids"] or []), set(chosen["test_correct_uuids"] or [])
            gains.append(gains_and_losses(lang, before, after, english_set, classes))
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
    return Lrp2Section(languages, groups, _reference_rows(reference_dir, TABLE1_FILE), gains)


def neuron_overlap(wh: Warehouse, values: dict[str, str], lang: str, intervention: str) -> tuple[float | None, int]:
    """The paper's §5.2 with factrace's neurons: over the facts correct both in English (baseline) and in ``lang``
    under ``intervention``, the mean Jaccard of their top PROBELESS neuron sets, and how many such facts. The paper
    used integrated gradients (Dai et al.); PROBELESS is the stand-in. None when either side has no neurons."""
    keys = {"model": values["model"], "protocol": values["protocol"], "rules": values["rules"]}
    english = {
        r["uuid"]: set(r["neuron_ids"])
        for r in wh.read(NEURONS, ["uuid", "neuron_ids"], **keys, lang="en", intervention=NO_INTERVENTION).to_pylist()
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


def _baseline_classes(wh: Warehouse, values: dict[str, str]) -> dict[str, tuple[bool | None, str | None]]:
    """uuid → (present, pattern) of one language's baseline ``fact_classes`` (empty when not classified)."""
    table = wh.read(FACT_CLASSES, ["uuid", "present", "pattern"], **values)
    return {r["uuid"]: (r["present"], r["pattern"]) for r in table.to_pylist()}


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
