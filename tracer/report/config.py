"""The report's options (kept apart from the drawing code so the CLI loads without matplotlib)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tracer.config import option

DEFAULT_REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "reference"


@dataclass
class ReportConfig:
    warehouse: str = option(help="warehouse directory (reads language_stats, language_pairs, fact_classes)")
    out: str = option(help="directory for report.html and csv/")
    dump: str = option("", help="dump label (default: the only one classified)")
    model: str = option("", help="model id (default: the only one classified)")
    protocol: str = option("", help="protocol (default: full-match when classified, else the only one)")
    intervention: str = option("", help="intervention (default: none when classified, else the only one)")
    rules: str = option("", help="rule set (default: `default` when classified, else the only one)")
    reference: str = option(
        "", help="folder with p1_table_mbert_xlmr.csv for the paper's P@1 (default: ../shared/data/reference if any)"
    )
