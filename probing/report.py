"""P@1 per language (and overall) from per-relation counts, as the probe stage reports them."""

from __future__ import annotations

Counts = dict[str, dict[str, dict[str, list[int]]]]  # protocol → lang → relation → [correct, probed]


def p_at_1(by_relation: dict[str, list[int]]) -> tuple[int, int]:
    """(correct, probed) of one language: P@1 = correct / probed queries."""
    return sum(c for c, _ in by_relation.values()), sum(n for _, n in by_relation.values())


def overall_p_at_1(counts: Counts) -> str:
    """``full-match 1.2% (10/800; best en 3.0%)`` for each protocol."""
    parts = []
    for protocol, langs in counts.items():
        per_lang = {lang: p_at_1(rel) for lang, rel in langs.items()}
        correct = sum(c for c, _ in per_lang.values())
        probed = sum(n for _, n in per_lang.values())
        best = max(per_lang, key=lambda lang: (_ratio(*per_lang[lang]), lang), default=None)
        text = f"{protocol} {_ratio(correct, probed):.2%} ({correct:,}/{probed:,}"
        if best is not None and len(per_lang) > 1:
            text += f"; best {best} {_ratio(*per_lang[best]):.2%}"
        parts.append(text + ")")
    return ", ".join(parts)


def language_table(counts: Counts, facts: dict[str, int]) -> str:
    """A plain-text table: one line per language, its facts and P@1 under each protocol."""
    protocols = list(counts)
    lines = [f"{'lang':<6} {'facts':>9} " + " ".join(f"{p:>11}" for p in protocols)]
    for lang in sorted(facts):
        cells = []
        for protocol in protocols:
            if lang in counts[protocol]:
                cells.append(f"{_ratio(*p_at_1(counts[protocol][lang])):>11.2%}")
            else:
                cells.append(f"{'-':>11}")
        lines.append(f"{lang:<6} {facts[lang]:>9,} " + " ".join(cells))
    return "\n".join(lines)


def _ratio(correct: int, probed: int) -> float:
    return correct / probed if probed else 0.0
