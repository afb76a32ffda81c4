"""The paper's tables and figures recomputed from a warehouse, each beside the paper's value.

Every number is computed the way the authors' notebooks compute it (named in each function), so the
two can be compared; where the paper's value is not in the reference folder, or cannot be compared
(another model, other dumps), the section says so instead of showing a number.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from tracer.classify.absent import ABSENT_TYPES
from tracer.classify.stats import pearson
from tracer.report.reference import SIZE_COLUMNS, Reference

# The paper's languages for Fig. 3 (``language_similarity.ipynb``) and the number of languages in Fig. 5.
FIG3_LANGUAGES = ("en", "de", "nl", "da", "id", "ms", "vi", "pl", "cs", "sk", "hu", "hi", "bn", "ur")
FIG5_TOP = 30
# mLAMA's published TyQ numbers average relations without the date relation.
DATE_RELATIONS = frozenset({"date_of_birth"})
NOT_IN_REFERENCE = "not in the reference folder"


@dataclass
class RuleSet:
    """One rule set's classified rows of the slice."""

    rules: str
    stats: list[dict]  # language_stats rows
    pairs: list[dict]  # language_pairs rows
    facts: list[dict]  # fact_classes rows: lang, relation, object_uri, object_tokens, correct


@dataclass
class PaperSection:
    rule_sets: list[RuleSet]
    reference: Reference
    protocol: str
    notes: list[str] = field(default_factory=list)


def pooled_p_at_1(stats: list[dict]) -> float | None:
    """P@1 over all queries of all languages: what the paper calls its macro average (8.85 for mBERT)."""
    queries = sum(s["queries"] for s in stats)
    return sum(s["correct"] for s in stats) / queries if queries else None


def mean_p_at_1(stats: list[dict]) -> float | None:
    return sum(s["p_at_1"] for s in stats) / len(stats) if stats else None


def paper_pooled_p_at_1(reference: dict[str, float], queries: dict[str, int]) -> float | None:
    """The paper's per-language P@1 pooled with these query counts (the authors' ``table_for_all_p1.ipynb``:
    matched facts over all 843,143 queries)."""
    langs = [lang for lang in queries if lang in reference]
    total = sum(queries[lang] for lang in langs)
    return sum(reference[lang] * queries[lang] for lang in langs) / total if total else None


def one_token_p_at_1(facts: list[dict]) -> dict[str, tuple[int, float | None]]:
    """Per language: (one-token objects, their mean per-object P@1), as ``maskNum_p1.ipynb`` (objects grouped by
    Wikidata id across relations; each object's P@1 is its correct facts over its facts)."""
    per_object: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for f in facts:
        if f["object_tokens"] == 1:
            cell = per_object[f["lang"]][f["object_uri"]]
            cell[0] += bool(f["correct"])
            cell[1] += 1
    langs = sorted({f["lang"] for f in facts})
    out = {}
    for lang in langs:
        objects = per_object.get(lang, {})
        shares = [c / n for c, n in objects.values()]
        out[lang] = (len(objects), sum(shares) / len(shares) if shares else None)
    return out


def relation_p_at_1(facts: list[dict]) -> dict[str, tuple[float | None, float | None]]:
    """Per language: (micro P@1 over its facts, macro P@1 over its relations without ``date_of_birth``)."""
    by: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for f in facts:
        cell = by[f["lang"]][f["relation"]]
        cell[0] += bool(f["correct"])
        cell[1] += 1
    out = {}
    for lang, relations in sorted(by.items()):
        correct, total = (sum(c[i] for c in relations.values()) for i in (0, 1))
        kept = [c / n for r, (c, n) in relations.items() if r not in DATE_RELATIONS and n]
        out[lang] = (correct / total if total else None, sum(kept) / len(kept) if kept else None)
    return out


def pooled_absent_shares(stats: list[dict]) -> dict[str, tuple[int, float | None]]:
    """Absent types summed over languages, then shared (``display_mathes_and_wiki.ipynb`` pools the counts of
    every language before taking shares): shared entity tokens, naming cues, others."""
    counts = {kind: sum(s[kind] for s in stats) for kind in ABSENT_TYPES}
    groups = {
        "shared entity tokens": counts["object_in_subject"] + counts["shared_token"],
        "naming cue": counts["naming_cue"],
        "other": counts["other"],
    }
    total = sum(groups.values())
    return {name: (n, n / total if total else None) for name, n in groups.items()}


def subword_correlation(facts: list[dict]) -> tuple[float | None, int]:
    """Pearson r between an object's length in tokens and P@1, as ``maskNum_p1.ipynb``'s
    ``display_cnt_p1_correlation``: per language, the mean per-object P@1 of each object length is divided by
    their sum over lengths; these shares are summed over languages; r is taken over the lengths that have a
    non-zero sum. Returns (r, number of lengths)."""
    per_object: dict[tuple[str, int, str], list[int]] = defaultdict(lambda: [0, 0])
    for f in facts:
        cell = per_object[(f["lang"], f["object_tokens"], f["object_uri"])]
        cell[0] += bool(f["correct"])
        cell[1] += 1
    by_length: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (lang, length, _), (c, n) in per_object.items():
        by_length[lang][length].append(c / n)
    shares: dict[int, float] = defaultdict(float)
    for lengths in by_length.values():
        means = {length: sum(v) / len(v) for length, v in lengths.items()}
        total = sum(means.values())
        for length, mean in means.items():
            shares[length] += mean / total if total else 0.0
    kept = sorted(length for length, share in shares.items() if share > 0)
    return pearson(kept, [shares[length] for length in kept]), len(kept)


def size_correlations(p_at_1: dict[str, float], sizes: dict[str, dict[str, float]]) -> dict[str, tuple]:
    """Pearson r of P@1 with each 2018 size, on raw sizes (as the authors' ``datatsize_vs_p1`` notebooks do)."""
    out = {}
    for column, by_lang in sizes.items():
        langs = sorted(set(p_at_1) & set(by_lang))
        out[SIZE_COLUMNS[column]] = (pearson([by_lang[g] for g in langs], [p_at_1[g] for g in langs]), len(langs))
    return out


def top_languages(reference: dict[str, float], n: int = FIG5_TOP) -> list[str]:
    """The paper's top-n languages by its P@1 (Fig. 5 uses mBERT's top 30)."""
    return sorted(reference, key=lambda lang: (-reference[lang], lang))[:n]


def mean_pair_value(pairs: list[dict], langs: list[str], column: str) -> tuple[float | None, int]:
    """Mean of a ``language_pairs`` column over the unordered pairs of ``langs`` that have a value."""
    wanted = set(langs)
    values = [p[column] for p in pairs if p["lang"] < p["other_lang"] and {p["lang"], p["other_lang"]} <= wanted
              and p[column] is not None and not math.isnan(p[column])]  # fmt: skip
    return (sum(values) / len(values) if values else None), len(values)
