"""The report's figures, drawn with matplotlib (Agg, no display) and returned as PNG bytes.

Each function takes the plain rows of ``tracer.report.data`` and returns one PNG; a figure with
nothing to draw says so in its image instead of failing, so the page always renders.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tracer.classify.absent import ABSENT_TYPES

COLORS = {"language-independent": "#4c72b0", "shared": "#55a868", "transferred": "#c44e52", "undecided": "#b0b0b0"}
ABSENT_COLORS = dict(zip(ABSENT_TYPES, ("#8172b2", "#64b5cd", "#ccb974", "#937860"), strict=True))
DPI = 110
MAX_LABELLED_CELLS = 30  # languages up to which heatmap cells carry their value


@dataclass(frozen=True, slots=True)
class Chart:
    """A drawn figure; ``empty`` when there was nothing to draw (the image says so)."""

    png: bytes
    empty: bool = False


def _png(fig: Figure, empty: bool = False) -> Chart:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return Chart(buffer.getvalue(), empty)


def _width(n: int) -> float:
    return min(24.0, max(6.0, 0.32 * n + 2))


def _empty(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in this slice", ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def p_at_1_bars(stats: list[dict], reference: dict[str, float], reference_name: str | None) -> Chart:
    fig, ax = plt.subplots(figsize=(_width(len(stats)), 3.6))
    langs = [s["lang"] for s in stats]
    xs = range(len(langs))
    shift = 0.2 if reference else 0.0
    ax.bar([x - shift for x in xs], [100 * s["p_at_1"] for s in stats], width=0.4 if reference else 0.7, label="ours")
    if reference:
        ax.bar([x + shift for x in xs], [100 * reference.get(lang, math.nan) for lang in langs], width=0.4,
               color="#dd8452", label=f"paper ({reference_name})")  # fmt: skip
        ax.legend(frameon=False)
    ax.set_xticks(list(xs), langs, rotation=90)
    ax.set_ylabel("P@1 (%)")
    ax.set_title("P@1 per language")
    return _png(fig)


def p_at_1_vs_corpus(stats: list[dict], r: float | None) -> Chart:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    traced = [s for s in stats if s["traced"] and s["tokens"] > 0]
    if not traced:
        _empty(ax, "traced language")
        return _png(fig, empty=True)
    ax.scatter([s["tokens"] for s in traced], [100 * s["p_at_1"] for s in traced], color="#4c72b0")
    for s in traced:
        ax.annotate(s["lang"], (s["tokens"], 100 * s["p_at_1"]), textcoords="offset points", xytext=(3, 3), fontsize=8)
    _fit_line(ax, [math.log10(s["tokens"]) for s in traced], [100 * s["p_at_1"] for s in traced])
    ax.set_xscale("log")
    ax.set_xlabel("corpus size (tokens, log scale)")
    ax.set_ylabel("P@1 (%)")
    ax.set_title(f"P@1 vs corpus size: Pearson r = {r:.2f} (log tokens)" if r is not None else "P@1 vs corpus size")
    return _png(fig)


def _fit_line(ax: Axes, log_x: list[float], y: list[float]) -> None:
    """The least-squares line of ``y`` on ``log10(x)``, drawn over the points' range (two or more x values)."""
    n = len(log_x)
    mean_x, mean_y = sum(log_x) / n, sum(y) / n
    spread = sum((x - mean_x) ** 2 for x in log_x)
    if n < 2 or spread == 0:
        return
    slope = sum((x - mean_x) * (v - mean_y) for x, v in zip(log_x, y, strict=True)) / spread
    ends = [min(log_x), max(log_x)]
    ax.plot([10**x for x in ends], [mean_y + slope * (x - mean_x) for x in ends], color="#c44e52", lw=1.2,
            label=f"least squares: {slope:+.2f} points per 10x tokens")  # fmt: skip
    ax.legend(frameon=False, fontsize=8)


def heatmap(langs: list[str], pairs: list[dict], value: str, title: str) -> Chart:
    """A language × language matrix of ``value`` from ``language_pairs`` rows (diagonal left blank)."""
    index = {lang: i for i, lang in enumerate(langs)}
    matrix = [[math.nan] * len(langs) for _ in langs]
    for p in pairs:
        if p[value] is not None and p["lang"] in index and p["other_lang"] in index:
            matrix[index[p["lang"]]][index[p["other_lang"]]] = p[value]
    side = min(14.0, max(4.5, 0.28 * len(langs) + 2))
    fig, ax = plt.subplots(figsize=(side + 1, side))
    if all(math.isnan(v) for row in matrix for v in row):
        _empty(ax, "language pair with a value")
        return _png(fig, empty=True)
    image = ax.imshow(matrix, cmap="viridis", vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if len(langs) <= MAX_LABELLED_CELLS:
        top = max(v for row in matrix for v in row if not math.isnan(v)) or 1.0
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                if not math.isnan(v):
                    color = "black" if v > 0.6 * top else "white"  # readable on viridis' light and dark ends
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(len(langs)), langs, rotation=90, fontsize=8)
    ax.set_yticks(range(len(langs)), langs, fontsize=8)
    ax.set_title(title)
    return _png(fig)


def stacked(stats: list[dict], parts: dict[str, str], title: str, ylabel: str) -> Chart:
    """Stacked bars per language of the ``language_stats`` columns in ``parts`` (column → colour): counts on
    the left, shares of each language's total on the right, so that languages of any size compare."""
    fig, (counts, shares) = plt.subplots(1, 2, figsize=(2 * _width(len(stats)), 3.6))
    langs = [s["lang"] for s in stats]
    if not any(s[c] for s in stats for c in parts):
        for ax in (counts, shares):
            _empty(ax, "facts of these kinds")
        return _png(fig, empty=True)
    totals = [sum(s[c] for c in parts) or 1 for s in stats]
    for ax, scale, label in ((counts, None, ylabel), (shares, totals, f"share of the language's {ylabel} (%)")):
        bottom = [0.0] * len(stats)
        for column, color in parts.items():
            values = [s[column] if scale is None else 100 * s[column] / t for s, t in zip(stats, scale or totals,
                                                                                      strict=True)]  # fmt: skip
            ax.bar(langs, values, bottom=bottom, color=color, label=column.replace("_", " "))
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_xticks(range(len(langs)), langs, rotation=90)
        ax.set_ylabel(label)
    counts.set_title(title)
    shares.set_title("the same, as shares")
    shares.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)


def presence_among_correct(stats: list[dict]) -> Chart:
    rows = [{**s, "correct_untraced": s["correct"] - s["correct_present"] - s["correct_absent"]} for s in stats]
    parts = {"correct_present": "#55a868", "correct_absent": "#c44e52", "correct_untraced": "#b0b0b0"}
    return stacked(rows, parts, "Correct facts: present in / absent from the language's corpus", "facts")


def absent_types(stats: list[dict]) -> Chart:
    return stacked(stats, ABSENT_COLORS, "Correct but absent facts by absent type", "facts")


def patterns(stats: list[dict]) -> Chart:
    parts = {"language_independent": COLORS["language-independent"], "shared": COLORS["shared"],
             "transferred": COLORS["transferred"], "undecided": COLORS["undecided"]}  # fmt: skip
    return stacked(stats, parts, "Correct facts by pattern", "facts")
