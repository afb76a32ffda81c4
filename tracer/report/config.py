"""The report's options (kept apart from the drawing code so the CLI loads without matplotlib)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tracer.config import option


def default_reference() -> Path | None:
    """The paper's reference figures: ``$FACTRACE_REFERENCE``, else ``$FACTRACE_SHARED_DATA/reference``; none
    otherwise (the report then says how to point at them). Never a path of one machine."""
    if os.environ.get("FACTRACE_REFERENCE"):
        return Path(os.environ["FACTRACE_REFERENCE"])
    if os.environ.get("FACTRACE_SHARED_DATA"):
        return Path(os.environ["FACTRACE_SHARED_DATA"]) / "reference"
    return None


@dataclass
class ReportConfig:
    warehouse: str = option(help="warehouse path or URI (reads language_stats, language_pairs, fact_classes)")
    out: str = option(help="directory for report.html and csv/")
    dump: str = option("", help="dump label (default: the only one classified)")
    model: str = option("", help="model id (default: the only one classified)")
    protocol: str = option("", help="protocol (default: full-match when classified, else the only one)")
    intervention: str = option("", help="intervention (default: none when classified, else the only one)")
    rules: str = option("", help="rule set (default: `default` when classified, else the only one)")
    reference: str = option(
        "",
        help="folder with p1_table_mbert_xlmr.csv for the paper's P@1 (default: $FACTRACE_REFERENCE, else "
        "$FACTRACE_SHARED_DATA/reference)",
    )
