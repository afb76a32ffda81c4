"""The report's "paper" section: the paper's tables and figures from the warehouse, as HTML tables and CSVs.

Each table puts our value (under every classified rule set) beside the paper's, with the difference, or
says why the paper's value cannot be shown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from schemas.values import CANDIDATES
from tracer.report.page import escape, table
from tracer.report.paper import (
    FIG3_LANGUAGES,
    FIG5_TOP,
    NOT_IN_REFERENCE,
    PaperSection,
    RuleSet,
    mean_p_at_1,
    mean_pair_value,
    one_token_p_at_1,
    paper_pooled_p_at_1,
    pooled_absent_shares,
    pooled_p_at_1,
    relation_p_at_1,
    size_correlations,
    subword_correlation,
    top_languages,
)

WriteCsv = Callable[[Path, list[dict], list[str] | None], None]


def pct(value: float | None) -> str:
    return f"{100 * value:.2f}" if value is not None else "–"


def num(value: float | None, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if value is not None else "–"


def diff(ours: float | None, paper: float | None) -> str:
    return f"{100 * (ours - paper):+.2f}" if ours is not None and paper is not None else "–"


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def render_paper(section: PaperSection, csv_dir: Path, write_csv: WriteCsv) -> str:
    """The section's HTML; its rows go to ``csv_dir/paper_*.csv``."""
    ref = section.reference
    why = ref.why_not()
    first = section.rule_sets[0]
    names = [rs.rules for rs in section.rule_sets]
    parts = [
        "<h2>The paper's tables and figures</h2>",
        _note(
            f"Recomputed from this warehouse as the authors' notebooks compute them, under the rule sets classified "
            f"here ({', '.join(names)}), beside the paper's values from the reference folder. Paper: "
            + (f"{ref.model_name} full-match P@1 ({ref.folder})." if not why else f"not shown: {why}.")
        ),
        *(_note(n) for n in section.notes),
        _table2(section, csv_dir, write_csv),
        _table1(first, csv_dir, write_csv),
        _relations(first, section.protocol, csv_dir, write_csv),
        _fig3_fig5(section, csv_dir, write_csv),
        _fig6(section, csv_dir, write_csv),
        _fig7(section, csv_dir, write_csv),
        _correlations(section, csv_dir, write_csv),
    ]
    return "".join(parts)


def _table2(section: PaperSection, csv_dir: Path, write_csv: WriteCsv) -> str:
    ref, sets = section.reference, section.rule_sets
    paper = ref.p_at_1
    langs = [s["lang"] for s in sets[0].stats]
    by = {rs.rules: {s["lang"]: s for s in rs.stats} for rs in sets}
    rows, csv_rows = [], []
    for lang in langs:
        ours = [by[rs.rules][lang]["p_at_1"] for rs in sets]
        rows.append(
            [
                lang,
                by[sets[0].rules][lang]["queries"],
                *map(pct, ours),
                pct(paper.get(lang)),
                diff(ours[0], paper.get(lang)),
            ]
        )
        csv_rows.append(
            {
                "lang": lang,
                **{f"p_at_1_{rs.rules}": p for rs, p in zip(sets, ours, strict=True)},
                "paper_p_at_1": paper.get(lang),
            }
        )
    queries = {s["lang"]: s["queries"] for s in sets[0].stats}
    pooled = [pooled_p_at_1(rs.stats) for rs in sets]
    paper_pooled = paper_pooled_p_at_1(paper, queries) if paper else None
    means = [mean_p_at_1(rs.stats) for rs in sets]
    known = [paper[lang] for lang in langs if lang in paper]
    paper_mean = sum(known) / len(known) if known else None
    total = sum(queries.values())
    rows.append(["pooled (all queries)", total, *map(pct, pooled), pct(paper_pooled), diff(pooled[0], paper_pooled)])
    rows.append(["mean of languages", total, *map(pct, means), pct(paper_mean), diff(means[0], paper_mean)])
    write_csv(csv_dir / "paper_table2_p_at_1.csv", csv_rows, None)
    head = ["lang", "queries", *(f"P@1 % ({rs.rules})" for rs in sets), "paper %", "difference (points)"]
    return (
        "<h3>Table 2: P@1 per language</h3>"
        + _note(
            "P@1 = correct / queries of the language. The paper's 'macro' average (8.85 % for mBERT, 6.88 % for "
            "XLM-R large) is the pooled P@1 over all 843,143 queries, not a mean of languages (7.25 % / 5.79 %): "
            "the pooled row recomputes it from the paper's per-language P@1 and this warehouse's query counts."
        )
        + table(head, rows, [False, True, *[True] * len(sets), True, True])
    )


def _table1(rs: RuleSet, csv_dir: Path, write_csv: WriteCsv) -> str:
    found = one_token_p_at_1(rs.facts)
    rows = [[lang, n, pct(p), NOT_IN_REFERENCE] for lang, (n, p) in found.items()]
    write_csv(
        csv_dir / "paper_table1_one_token.csv",
        [{"lang": lang, "one_token_objects": n, "one_token_p_at_1": p} for lang, (n, p) in found.items()],
        None,
    )
    return (
        "<h3>Table 1: one-token P@1</h3>"
        + _note(
            "Objects of one token (in the model's tokenizer, as the probe counts them), grouped by Wikidata id; "
            "each object's P@1 is its correct facts over its facts, averaged over objects (maskNum_p1.ipynb)."
        )
        + table(["lang", "one-token objects", "one-token P@1 %", "paper"], rows, [False, True, True, False])
    )


def _relations(rs: RuleSet, protocol: str, csv_dir: Path, write_csv: WriteCsv) -> str:
    found = relation_p_at_1(rs.facts)
    rows = [[lang, pct(micro), pct(macro)] for lang, (micro, macro) in found.items()]
    micros = [m for m, _ in found.values() if m is not None]
    macros = [m for _, m in found.values() if m is not None]
    rows.append(
        [
            "mean of languages",
            pct(sum(micros) / len(micros) if micros else None),
            pct(sum(macros) / len(macros) if macros else None),
        ]
    )
    write_csv(
        csv_dir / "paper_relations.csv",
        [{"lang": lang, "micro_p_at_1": a, "macro_p_at_1": b} for lang, (a, b) in found.items()],
        None,
    )
    note = "Micro: over facts. Macro: the mean of the relations' P@1, without date_of_birth."
    if protocol == CANDIDATES:
        note += " mLAMA's published typed-querying (TyQ) numbers are the macro ones."
    return (
        "<h3>P@1 micro and macro over relations</h3>"
        + _note(note)
        + table(["lang", "micro P@1 %", "macro P@1 %"], rows, [False, True, True])
    )


def _fig3_fig5(section: PaperSection, csv_dir: Path, write_csv: WriteCsv) -> str:
    ref, sets = section.reference, section.rule_sets
    present = {s["lang"] for s in sets[0].stats}
    fig3 = [lang for lang in FIG3_LANGUAGES if lang in present]
    source = ref.p_at_1 or {s["lang"]: s["p_at_1"] for s in sets[0].stats}
    top = [lang for lang in top_languages(source, FIG5_TOP) if lang in present]
    rows, csv_rows = [], []
    for rs in sets:
        overlap, n3 = mean_pair_value(rs.pairs, fig3, "correct_jaccard")
        neurons, n5 = mean_pair_value(rs.pairs, top, "neuron_jaccard")
        rows.append(
            [
                rs.rules,
                f"{len(fig3)} of {len(FIG3_LANGUAGES)}",
                n3,
                num(overlap),
                f"{len(top)} of {FIG5_TOP}",
                n5,
                num(neurons),
            ]
        )
        csv_rows.append(
            {
                "rules": rs.rules,
                "fig3_languages": len(fig3),
                "fig3_pairs": n3,
                "fig3_mean_jaccard": overlap,
                "fig5_languages": len(top),
                "fig5_pairs": n5,
                "fig5_mean_neuron_jaccard": neurons,
            }
        )
    write_csv(csv_dir / "paper_fig3_fig5.csv", csv_rows, None)
    ranking = "the paper's mBERT P@1" if ref.p_at_1 else "this model's P@1 (the paper's is not available)"
    return (
        "<h3>Fig. 3 and Fig. 5: shared correct facts and shared neurons</h3>"
        + _note(
            f"Fig. 3: Jaccard of two languages' correct facts among the facts probed in both, averaged over the pairs "
            f"of the paper's {len(FIG3_LANGUAGES)} languages present here. Fig. 5: Jaccard of the same fact's top "
            f"neurons, averaged over facts and then over the pairs of the top {FIG5_TOP} languages by {ranking}. "
            f"The per-pair values are in csv/language_pairs.csv and the heatmaps above. Paper: {NOT_IN_REFERENCE}."
        )
        + table(
            ["rules", "Fig. 3 languages", "pairs", "mean Jaccard", "Fig. 5 languages", "pairs", "mean neuron Jaccard"],
            rows,
            [False, True, True, True, True, True, True],
        )
    )


def _fig6(section: PaperSection, csv_dir: Path, write_csv: WriteCsv) -> str:
    rows, csv_rows = [], []
    for rs in section.rule_sets:
        correct = sum(s["correct_present"] + s["correct_absent"] for s in rs.stats)
        absent = sum(s["correct_absent"] for s in rs.stats)
        for s in rs.stats:
            csv_rows.append(
                {
                    "rules": rs.rules,
                    "lang": s["lang"],
                    "correct_present": s["correct_present"],
                    "correct_absent": s["correct_absent"],
                    "correct_absence_rate": s["correct_absence_rate"],
                }
            )
        traced = sum(s["traced"] for s in rs.stats)
        rows.append([rs.rules, traced, correct, absent, pct(absent / correct if correct else None), NOT_IN_REFERENCE])
    write_csv(csv_dir / "paper_fig6_presence.csv", csv_rows, None)
    return (
        "<h3>Fig. 6: present and absent among correct facts</h3>"
        + _note("Pooled over the traced languages; per language in csv/paper_fig6_presence.csv and the figure above.")
        + table(
            ["rules", "traced languages", "correct (traced)", "absent", "absent %", "paper"],
            rows,
            [False, True, True, True, True, False],
        )
    )


def _fig7(section: PaperSection, csv_dir: Path, write_csv: WriteCsv) -> str:
    rows, csv_rows = [], []
    for rs in section.rule_sets:
        for name, (n, share) in pooled_absent_shares(rs.stats).items():
            rows.append([rs.rules, name, n, pct(share), NOT_IN_REFERENCE])
            csv_rows.append({"rules": rs.rules, "group": name, "facts": n, "share": share})
    write_csv(csv_dir / "paper_fig7_absent_types.csv", csv_rows, None)
    return (
        "<h3>Fig. 7: why absent facts are predicted</h3>"
        + _note("Correct absent facts of every language pooled, then shared among the paper's three groups.")
        + table(["rules", "group", "facts", "share %", "paper"], rows, [False, False, True, True, False])
    )


def _correlations(section: PaperSection, csv_dir: Path, write_csv: WriteCsv) -> str:
    ref, rs = section.reference, section.rule_sets[0]
    ours = {s["lang"]: s["p_at_1"] for s in rs.stats}
    rows, csv_rows = [], []
    if ref.sizes:
        mine = size_correlations(ours, ref.sizes)
        papers = size_correlations(ref.p_at_1, ref.sizes) if ref.p_at_1 else {}
        for name, (r, n) in mine.items():
            paper_r, paper_n = papers.get(name, (None, 0))
            rows.append(
                [
                    f"P@1 vs 2018 size: {name}",
                    n,
                    num(r, 2),
                    f"{num(paper_r, 2)} ({paper_n} languages, recomputed)" if papers else ref.why_not(),
                ]
            )
            csv_rows.append({"statistic": f"p_at_1_vs_{name}", "languages": n, "r": r, "paper_r": paper_r})
    else:
        rows.append(["P@1 vs 2018 size", 0, "–", "the 2018 sizes are not in the reference folder"])
    r, lengths = subword_correlation(rs.facts)
    rows.append(["object length (tokens) vs normalized P@1", lengths, num(r, 2), NOT_IN_REFERENCE])
    csv_rows.append({"statistic": "object_tokens_vs_p_at_1", "languages": lengths, "r": r, "paper_r": None})
    write_csv(csv_dir / "paper_correlations.csv", csv_rows, None)
    return (
        "<h3>Correlations</h3>"
        + _note(
            "Pearson r on raw values, as the authors' notebooks compute them: P@1 of each language against its "
            "2018 Wikipedia size (the sizes the authors collected, in the reference folder; the paper's own r is "
            "recomputed here from the reference P@1 and the same sizes), and object length against P@1 "
            "(per-object P@1 by object length, normalized per language, summed over languages; n = lengths). "
            "This warehouse's own corpus sizes are correlated in the summary above."
        )
        + table(["statistic", "n", "r (ours)", "paper"], rows, [False, True, True, False])
    )
