"""The report page: plain HTML with every figure inlined as a PNG data URI, no script, no external resource."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracer.report.figures import Chart

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
.note{color:#555;font-size:.9em}.evidence{max-width:36em;font-size:.9em;color:#333}
"""


def escape(value: object) -> str:
    return html.escape("" if value is None else str(value))


def figure(title: str, chart: Chart, csv_name: str, note: str = "") -> str:
    """A section with one inlined figure (no heading when ``title`` is empty: it follows the table it draws);
    an empty one is marked ``data-empty`` (the demo test looks)."""
    data = base64.b64encode(chart.png).decode("ascii")
    empty = ' data-empty="1"' if chart.empty else ""
    return (
        (f"<h2>{escape(title)}</h2>" if title else "")
        + (f'<p class="note">{escape(note)}</p>' if note else "")
        + f'<img alt="{escape(title or csv_name)}"{empty} src="data:image/png;base64,{data}">'
        + f'<p class="note">Data: <a href="csv/{escape(csv_name)}">csv/{escape(csv_name)}</a></p>'
    )


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    numeric: Sequence[bool] | None = None,
    row_langs: Sequence[str] | None = None,
) -> str:
    """An HTML table; ``row_langs`` marks each row's language (``<tr lang="ja">``), so that the browser picks
    a font that has its script."""
    numeric = numeric or [False] * len(columns)
    langs = row_langs or [""] * len(rows)
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        (f'<tr lang="{escape(lang)}">' if lang else "<tr>")
        + "".join(
            f'<td class="num">{escape(v)}</td>' if num else f"<td>{escape(v)}</td>"
            for v, num in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row, lang in zip(rows, langs, strict=True)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, summary: Sequence[str], sections: Sequence[str]) -> str:
    items = "".join(f"<li>{escape(s)}</li>" for s in summary)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f'<link rel="icon" href="data:,"><style>{STYLE}</style></head><body>'
        f"<h1>{escape(title)}</h1><ul>{items}</ul>{''.join(sections)}</body></html>"
    )
