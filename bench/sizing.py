"""Cluster sizing for the 53 mLAMA wikis of 2018, from measured rates: core-hours per stage, warehouse bytes
per table, and wall time on 32, 128 and 512 cores.

Inputs: the wikis' sizes (``reference/sizes_2018_mlama53_from_fact-cl.csv``: uncompressed XML MB and
WikiExtractor clean-text KiB), the per-core rates measured in docs/benchmarks.md (each named below with its
section), and the bytes per clean-text MB of the tables in the 1× warehouse of ``bench/scale.py`` (run it
first). Wall time is core-hours / cores plus each stage's fixed cost from ``bench/scale.py``; it assumes
the rates scale with cores, which the 2-core machine here confirms only in part (1.44× for extract and
1.49× for segment from 1 to 2 cores, docs/benchmarks.md).

    python bench/sizing.py [--markdown]
"""

from __future__ import annotations

import argparse
import csv
import json

import pyarrow.compute as pc
from _common import OUT, emit, shared

from schemas import FACT_PRESENCE, FACTS, PAGES
from tracer.warehouse import Warehouse

# Per-core rates, docs/benchmarks.md (the section and date in each comment).
EXTRACT_XML_MB_S = 5.16  # Extract, 2026-11-22: decompressed XML MB/s/core, end to end, local[1]
SEGMENT_TEXT_MB_S = {"XLM-R": 1.29, "mBERT-sized WordPiece": 2.96 * 1.29 / 2.71}  # Segment, 2026-11-22
# (XLM-R through Spark local[1]: 1.29 MB/s/core; WordPiece measured in process only: scaled by the XLM-R
# Spark/in-process ratio.)
TRACE_TEXT_MB_S = 30.3  # Trace, 2026-11-22: tokens mode, Spark local[1], cold, 904 MB (55.7 warm)
PROBE_QUERIES = 6_964_420  # Probe, 2026-11-22: all of mLAMA, every k, full-match
PROBE_CPU_QUERIES_S = (
    (35.6 + 33.8 + 32.4) / 3 / 2
)  # Probe, 2026-11-22: BERT-base, CPU fp32, mean of runs A–C on 2 cores
MLAMA_FACTS = 843_143  # Probe, 2026-11-22: all of mLAMA, 53 languages
CORES = (32, 128, 512)


def wiki_sizes() -> list[dict]:
    with open(shared() / "reference" / "sizes_2018_mlama53_from_fact-cl.csv", encoding="utf-8") as f:
        return [
            {
                "wiki": row["wiki"],
                "xml_mb": float(row["uncompressed_xml_folder_MB_(du,approx)"]),
                "text_mb": float(row["wikiextractor_text_du_KiB"]) * 1024 / 1e6,
            }
            for row in csv.DictReader(f)
            if row["wiki"] != "TOTAL"
        ]


def bytes_per_text_mb() -> tuple[dict[str, float], dict]:
    """Bytes of each corpus table per MB of clean text, and the fixed costs, from bench/scale.py's run."""
    wh = Warehouse(str(OUT / "scale-1" / "wh"))
    if wh.version(PAGES) is None:
        raise SystemExit("run python bench/scale.py first: sizing uses its 1x warehouse")
    text = wh.read(PAGES, ["text"]).column("text")
    text_mb = pc.sum(pc.binary_length(text.cast("binary"))).as_py() / 1e6
    ratios = {t.name: wh.table_bytes(t) / text_mb for t in wh.tables() if t.name in ("pages", "segments")}
    facts = wh.read(FACTS, ["uuid"]).num_rows
    per_fact = {t.name: wh.table_bytes(t) / facts for t in (FACTS, FACT_PRESENCE)}
    scale = json.loads((OUT / "scale.json").read_text()) if (OUT / "scale.json").exists() else {}
    return ratios, per_fact, scale.get("fit", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", action="store_true", help="also print the docs table")
    args = parser.parse_args()
    sizes = wiki_sizes()
    xml_mb = sum(w["xml_mb"] for w in sizes)
    text_mb = sum(w["text_mb"] for w in sizes)
    ratios, per_fact, fit = bytes_per_text_mb()
    hours = {
        "extract": xml_mb / EXTRACT_XML_MB_S / 3600,
        "segment (XLM-R)": text_mb / SEGMENT_TEXT_MB_S["XLM-R"] / 3600,
        "segment (mBERT-sized WordPiece)": text_mb / SEGMENT_TEXT_MB_S["mBERT-sized WordPiece"] / 3600,
        "trace (tokens)": text_mb / TRACE_TEXT_MB_S / 3600,
        "probe (BERT-base, CPU, full-match)": PROBE_QUERIES / PROBE_CPU_QUERIES_S / 3600,
    }
    fixed = {name: fit.get(name.split(" ")[0], {}).get("fixed_s", 0.0) / 3600 for name in hours}
    wall = {name: {c: round(h / c + fixed[name], 2) for c in CORES} for name, h in hours.items()}
    result = {
        "benchmark": "sizing",
        "wikis": len(sizes),
        "xml_gb": round(xml_mb / 1e3, 1),
        "clean_text_gb": round(text_mb / 1e3, 1),
        "core_hours": {k: round(v, 1) for k, v in hours.items()},
        "wall_hours": wall,
        "warehouse_gb": {
            **{name: round(r * text_mb / 1e9, 1) for name, r in ratios.items()},
            **{name: round(r * MLAMA_FACTS / 1e9, 2) for name, r in per_fact.items()},  # fact_presence: per dump
        },
        "bytes_per_text_mb": {k: round(v) for k, v in ratios.items()},
        "bytes_per_fact": {k: round(v) for k, v in per_fact.items()},
    }
    emit(result)
    if args.markdown:
        print("\n| stage | core-hours | " + " | ".join(f"wall on {c} cores" for c in CORES) + " |")
        print("|---|---|" + "---|" * len(CORES))
        for name, h in hours.items():
            print(f"| {name} | {h:,.1f} | " + " | ".join(f"{wall[name][c]:,.2f} h" for c in CORES) + " |")


if __name__ == "__main__":
    main()
