"""``factrace report``: choose a classified slice, draw its figures, write ``report.html`` and ``csv/``."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

from tracer.classify.absent import ABSENT_TYPES
from tracer.classify.stats import correlations
from tracer.errors import InputNotFound, StorageError
from tracer.report import figures
from tracer.report.config import ReportConfig, default_reference
from tracer.report.data import Slice, choose, load_slice
from tracer.report.lrp2 import Lrp2Section
from tracer.report.page import figure, page, table
from tracer.report.paper_page import render_paper
from tracer.warehouse import Warehouse

log = logging.getLogger("factrace.report")


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = columns or (list(rows[0]) if rows else [])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _reference_dir(cfg: ReportConfig) -> Path | None:
    path = Path(cfg.reference) if cfg.reference else default_reference()
    if cfg.reference and not path.is_dir():
        raise InputNotFound(f"--reference {cfg.reference} is not a directory")
    return path if path is not None and path.is_dir() else None


def run_report(cfg: ReportConfig) -> str:
    wh = Warehouse(cfg.warehouse, pinned=True)  # one version of every table, even while a run publishes
    values = choose(
        wh,
        dump=cfg.dump or None,
        model=cfg.model or None,
        protocol=cfg.protocol or None,
        intervention=cfg.intervention or None,
        rules=cfg.rules or None,
    )
    data = load_slice(wh, values, _reference_dir(cfg))
    out = Path(cfg.out)
    html_text = render(data, out / "csv")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(html_text, encoding="utf-8")
    try:  # what the report reads, so that gc keeps it; a warehouse the reader may not write still gets its report
        wh.note_report(str(out.resolve()), {"dump": data.dump, "model": data.model, "protocol": data.protocol})
    except StorageError as err:
        log.warning("report: could not note it in %s (%s): factrace gc will not know this report reads dump %s",
                    wh.root, err, data.dump)  # fmt: skip
    return (
        f"report: {len(data.stats)} language(s), dump {data.dump}, model {data.model}, {data.protocol} -> "
        f"{out / 'report.html'} (CSVs in {out / 'csv'})"
    )


def render(data: Slice, csv_dir: Path) -> str:
    """Write every CSV and return the HTML page."""
    stats, langs = data.stats, data.langs
    corr = correlations(stats)
    r_size = corr["p_at_1_vs_log10_tokens"]["r"]
    r_length = corr["p_at_1_vs_mean_object_tokens"]["r"]
    p1_rows = [{**s, "reference_p_at_1": data.reference.get(s["lang"])} for s in stats]
    write_csv(csv_dir / "p_at_1.csv", p1_rows, ["lang", "queries", "correct", "p_at_1", "reference_p_at_1",
                                                 "mean_object_tokens", "tokens", "pages"])  # fmt: skip
    write_csv(csv_dir / "p_at_1_vs_corpus.csv", [s for s in stats if s["traced"]],
              ["lang", "tokens", "text_bytes", "segments", "pages", "p_at_1"])  # fmt: skip
    write_csv(csv_dir / "language_pairs.csv", data.pairs, ["lang", "other_lang", "both_correct", "correct_jaccard",
                                                           "neuron_pairs", "neuron_jaccard"])  # fmt: skip
    write_csv(
        csv_dir / "presence_among_correct.csv",
        stats,
        ["lang", "correct", "correct_present", "correct_absent", "correct_absence_rate", "absence_rate"],
    )
    write_csv(csv_dir / "absent_types.csv", stats, ["lang", "object_in_subject", "shared_token", "naming_cue", "other"])
    write_csv(csv_dir / "patterns.csv", stats, ["lang", "correct", "language_independent", "shared", "transferred",
                                                "undecided", "mean_similarity"])  # fmt: skip
    write_csv(csv_dir / "examples.csv", data.examples)
    write_csv(csv_dir / "correlations.csv", [{"statistic": k, **v} for k, v in corr.items()])
    extra = json.loads(data.run["extra"]) if data.run else {}
    calibration = extra.get("calibration", {})
    parameters = json.loads(data.run["parameters"]) if data.run else {}
    summary = [
        f"dump {data.dump}, model {data.model}, protocol {data.protocol}, intervention {data.intervention}, "
        f"rules {data.rules}, {len(langs)} language(s)",
        f"presence: {parameters.get('match_mode', 'unknown')} matching, segments of tokenizer "
        f"{parameters.get('presence_tokenizer') or 'none (not traced)'}",
        f"{sum(s['correct'] for s in stats):,} of {sum(s['queries'] for s in stats):,} facts correct",
        f"cross-lingual neuron test (permutation null of the best match, alpha {extra['alpha']:g}): "
        f"{calibration.get('significant', 0):,} of {calibration.get('tested', 0):,} facts with a partner language"
        if "alpha" in extra
        else "cross-lingual test: unknown (no classify run found)",
        f"Pearson r of P@1 with log corpus size: {_r(r_size)}; with mean object length: {_r(r_length)} "
        "(the paper: 0.44–0.51 and −0.81/−0.74)",
    ]
    reference_note = f"beside the paper's {data.reference_name} full-match P@1" if data.reference else ""
    sections = [
        "<h2>P@1 per language</h2>"
        + table(
            [
                "lang",
                "queries",
                "correct",
                "P@1 %",
                *(["paper P@1 %"] if data.reference else []),
                "mean object tokens",
                "corpus tokens",
            ],
            [
                [
                    s["lang"],
                    s["queries"],
                    s["correct"],
                    f"{100 * s['p_at_1']:.2f}",
                    *([_pct(data.reference.get(s["lang"]))] if data.reference else []),
                    f"{s['mean_object_tokens']:.2f}",
                    s["tokens"] if s["traced"] else "no corpus",
                ]
                for s in stats
            ],
            [False, True, True, True, *([True] if data.reference else []), True, True],
        ),
        figure(
            "",
            figures.p_at_1_bars(stats, data.reference, data.reference_name),
            "p_at_1.csv",
            reference_note,
        ),
        figure("P@1 vs corpus size", figures.p_at_1_vs_corpus(stats, r_size), "p_at_1_vs_corpus.csv"),
        figure(
            "Shared correct facts",
            figures.heatmap(langs, data.pairs, "correct_jaccard", "Jaccard of the correctly predicted fact sets"),
            "language_pairs.csv",
        ),
        figure(
            "Neuron similarity",
            figures.heatmap(langs, data.pairs, "neuron_jaccard", "Mean Jaccard of the same fact's top neurons"),
            "language_pairs.csv",
        ),
        figure(
            "Present and absent among correct facts",
            figures.presence_among_correct(stats),
            "presence_among_correct.csv",
        )
        + shares_table(
            [{**s, "correct_untraced": s["correct"] - s["correct_present"] - s["correct_absent"]} for s in stats],
            "correct",
            {"correct_present": "present", "correct_absent": "absent", "correct_untraced": "not traced or undecided"},
        ),
        figure(
            "Absent types",
            figures.absent_types(stats),
            "absent_types.csv",
            "object in subject and shared token together are the paper's shared entity tokens",
        )
        + shares_table(stats, "correct_absent", {t: t.replace("_", " ") for t in ABSENT_TYPES}),
        figure("Patterns", figures.patterns(stats), "patterns.csv")
        + shares_table(stats, "correct", {k: k.replace("_", "-") for k in PATTERN_COLUMNS}),
        "<h2>Examples of each pattern</h2>"
        + table(
            ["pattern", "lang", "relation", "subject", "object", "similarity", "like", "evidence"],
            [
                [
                    e["pattern"],
                    e["lang"],
                    e["relation"],
                    e["subject_label"],
                    e["object_label"],
                    _num(e["similarity"]),
                    e["best_match_lang"],
                    _evidence(e),
                ]
                for e in data.examples
            ],
            row_langs=[e["lang"] for e in data.examples],
        ),
    ]
    if data.paper is not None and data.paper.rule_sets:
        sections.append(render_paper(data.paper, csv_dir, write_csv))
    if data.lrp2 is not None:
        sections.append(render_lrp2(data.lrp2, csv_dir))
    return page(f"factrace report: {data.model}", summary, sections)


PATTERN_COLUMNS = ("language_independent", "shared", "transferred", "undecided")
LRP2_COLUMNS = ["lang", "test_facts", "baseline_acc", "lrp2_acc", "chosen", "oracle", "oracle_acc", "paper_optimal",
                "baseline_trans", "lrp2_trans", "indo_european", "resource", "neuron_overlap_baseline",
                "neuron_facts_baseline", "neuron_overlap_lrp2", "neuron_facts_lrp2"]  # fmt: skip


def render_lrp2(section: Lrp2Section, csv_dir: Path) -> str:
    """Baseline against LRP2 with the dev-chosen layers, per language and per group, beside the paper's figures."""
    write_csv(csv_dir / "lrp2.csv", section.languages, LRP2_COLUMNS)
    write_csv(csv_dir / "lrp2_groups.csv", section.groups)
    per_language = table(
        ["lang", "test facts", "baseline %", "LRP2 %", "layers (dev)", "oracle layers", "oracle %",
         "paper's optimal (mBERT)", "Trans baseline", "Trans LRP2", "neuron overlap with en", "… under LRP2"],
        [[r["lang"], r["test_facts"], _pct(r["baseline_acc"]), _pct(r["lrp2_acc"]), r["chosen"], r["oracle"],
          _pct(r["oracle_acc"]), r["paper_optimal"], _num(r["baseline_trans"]), _num(r["lrp2_trans"]),
          _num(r["neuron_overlap_baseline"]), _num(r["neuron_overlap_lrp2"])]
         for r in section.languages],
        [False, True, True, True, False, False, True, False, True, True, True, True],
        row_langs=[r["lang"] for r in section.languages],
    )  # fmt: skip
    groups = table(
        ["group", "languages", "baseline %", "LRP2 %", "Trans baseline", "Trans LRP2"],
        [[g["group"].replace("_", " "), g["languages"], _pct(g["baseline_acc"]), _pct(g["lrp2_acc"]),
          _num(g["baseline_trans"]), _num(g["lrp2_trans"])] for g in section.groups],
        [False, True, True, True, True, True],
    )  # fmt: skip
    ours = {g["group"]: g for g in section.groups}
    paper_columns = ["indo_european", "non_indo_european", "high_resource", "medium_resource", "low_resource",
                     "avg_non_english"]  # fmt: skip
    table1 = table(
        ["model", *(c.replace("_", " ") for c in paper_columns)],
        [[f"{r['model']} (paper, {r['metric']})", *(r.get(c, "") for c in paper_columns)] for r in section.table1]
        + [[f"this model, {which} (test half)", *(_pct(ours[c][key]) if c in ours else "" for c in paper_columns)]
           for which, key in (("baseline", "baseline_acc"), ("LRP2", "lrp2_acc"))],
        [False] + [True] * len(paper_columns),
    )  # fmt: skip
    gains = ""
    if section.gains:
        write_csv(csv_dir / "lrp2_gains.csv", section.gains)
        lost = [c for c in section.gains[0] if c.startswith("lost_")]
        intro = (
            "<h3>What LRP2 gained and lost, joined with tracing</h3><p>From <code>intervention_effects</code> "
            "(<code>factrace classify --intervention lrp2_i_j</code>), over every probed fact of this dump: facts "
            "correct under LRP2 and wrong in the baseline, by presence in the language's own corpus, and those absent "
            "from it that English already knew; facts LRP2 lost, by their baseline pattern.</p>"
        )
        gains = intro + table(
            ["intervention", "lang", "gained", "present", "absent", "untraced", "absent, known in English", "lost",
             *(c.removeprefix("lost_").replace("_", " ") for c in lost)],
            [[g["intervention"], g["lang"], g["gained"], g["gained_present"], g["gained_absent"], g["gained_untraced"],
              g["gained_absent_known_in_english"], g["lost"], *(g[c] for c in lost)] for g in section.gains],
            [False, False] + [True] * (6 + len(lost)),
            row_langs=[g["lang"] for g in section.gains],
        )  # fmt: skip
    return (
        "<h2>LRP2</h2><p>Full-match accuracy on the test half of each language's TREx facts (split by uuid), the "
        "baseline against LRP2 at the layers chosen on the dev half; the oracle layers are the best on the test half, "
        "as the paper reports its optimal layers. Trans = |R<sub>l</sub> ∩ R<sub>en</sub>| / |R<sub>l</sub> ∪ "
        "R<sub>en</sub>|. Neuron overlap: the mean Jaccard of a fact's top PROBELESS neurons in English and in the "
        "language, over the facts correct in both (the paper used integrated gradients; PROBELESS is factrace's "
        "stand-in), before and under LRP2 at the chosen layers (empty until probe --lrp2 --neurons ran with them). "
        "Groups are factrace's (docs/lrp2.md); the paper's Table 1 is beside ours where it has the same columns.</p>"
        + per_language
        + "<h3>By group</h3>"
        + groups
        + "<h3>The paper's Table 1 beside this model</h3>"
        + table1
        + gains
    )


def shares_table(stats: list[dict], total: str, parts: dict[str, str]) -> str:
    """Counts with their share of ``total`` per language, e.g. ``12 (34.3 %)``."""
    rows = [
        [s["lang"], s[total], *(f"{s[c]:,} ({100 * s[c] / s[total]:.1f} %)" if s[total] else "0" for c in parts)]
        for s in stats
    ]
    return table(["lang", total.replace("_", " "), *parts.values()], rows, [False] + [True] * (len(parts) + 1))


def _r(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "n/a (fewer than 3 languages or no spread)"


def _pct(value: float | None) -> str:
    return f"{100 * value:.2f}" if value is not None else ""


def _num(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else ""


def _evidence(example: dict) -> str:
    if not example.get("evidence_text"):
        return "no co-occurrence segment" if example["present"] is False else ""
    where = f"[{example['evidence_lang']}] " if example["evidence_lang"] != example["lang"] else ""
    return where + example["evidence_text"]
