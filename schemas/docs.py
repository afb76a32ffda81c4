"""Render ``docs/tables.md`` from the declarations: ``python -m schemas.docs > docs/tables.md``."""

from __future__ import annotations

import sys

from schemas.tables import SCHEMA_VERSION, TABLES, Table


def render_table(table: Table) -> str:
    lines = [f"## `{table.name}`", "", table.doc, ""]
    parts = ", ".join(f"`{p}`" for p in table.partition_names) or "none"
    lines += [f"Partitions: {parts}. Key: {', '.join(f'`{k}`' for k in table.key)}.", ""]
    lines += ["| column | type | null | meaning |", "|---|---|---|---|"]
    for c in table.columns:
        lines.append(f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {c.doc} |")
    for c in table.partitions:
        lines.append(f"| `{c.name}` (partition) | {c.type} | no | {c.doc} |")
    lines.append("")
    lines += [f"{note}\n" for note in table.notes]
    return "\n".join(lines)


def render() -> str:
    head = [
        "# factrace tables",
        "",
        f"Generated from `schemas/tables.py` (schema version {SCHEMA_VERSION}) by `python -m schemas.docs`;",
        "do not edit by hand. Layout: `<warehouse>/<table>/<partition>=<value>/.../part-*.parquet`.",
        "",
    ]
    return "\n".join(head + [render_table(t) for t in TABLES.values()])


if __name__ == "__main__":
    sys.stdout.write(render())
