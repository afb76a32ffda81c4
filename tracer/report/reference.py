"""The published figures in ``../shared/data/reference`` that the report compares with (read in place)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

P1_TABLE = "p1_table_mbert_xlmr.csv"
SIZES_2018 = "sizes_2018_mlama53_from_fact-cl.csv"
# Columns of the 2018 size table, and what each measures.
SIZE_COLUMNS = {
    "pages_articles_bz2_KiB": "pages-articles bz2 (KiB)",
    "wikiextractor_text_du_KiB": "WikiExtractor text (KiB)",
    "uncompressed_xml_folder_MB_(du,approx)": "uncompressed XML (MB)",
    "all_titles_in_ns0_minus1": "article titles (count)",
}
# Full-match P@1 columns of the P@1 table, for model ids that start with these names.
REFERENCE_MODELS = {
    "bert-base-multilingual-cased": ("mBERT", "mbert_full_match_p1"),
    "xlm-roberta-large": ("XLM-R large", "xlmr_large_full_match_p1"),
}


@dataclass
class Reference:
    """What the folder holds for one probed model: the paper's P@1 (fractions) and the 2018 sizes."""

    model_name: str | None = None
    p_at_1: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, dict[str, float]] = field(default_factory=dict)  # column -> lang -> size
    folder: Path | None = None

    def why_not(self) -> str:
        """Why the paper's P@1 is not shown, or '' when it is."""
        if self.folder is None:
            return "no reference folder: pass --reference DIR, or set FACTRACE_REFERENCE or FACTRACE_SHARED_DATA"
        if self.model_name is None:
            return "the paper probed mBERT (bert-base-multilingual-cased) and XLM-R large; this is another model"
        return "" if self.p_at_1 else f"{P1_TABLE} is not in {self.folder}"


def base_model(model: str) -> str:
    """A model id without its ``-<sha1 prefix>``."""
    return re.sub(r"-[0-9a-f]{10}$", "", model)


def read_reference(folder: Path | None, model: str) -> Reference:
    if folder is None or not folder.is_dir():
        return Reference()
    out = Reference(folder=folder, sizes=read_sizes(folder))
    name_column = REFERENCE_MODELS.get(base_model(model))
    path = folder / P1_TABLE
    if name_column is None:
        return out
    out.model_name = name_column[0]
    if path.exists():
        with open(path, encoding="utf-8") as f:
            out.p_at_1 = {r["lang"]: float(r[name_column[1]]) / 100 for r in csv.DictReader(f) if r[name_column[1]]}
    return out


def read_sizes(folder: Path) -> dict[str, dict[str, float]]:
    """The 2018 dump sizes of the 53 mLAMA languages, by column, as the authors collected them."""
    path = folder / SIZES_2018
    if not path.exists():
        return {}
    sizes: dict[str, dict[str, float]] = {column: {} for column in SIZE_COLUMNS}
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["wiki"] == "TOTAL":
                continue
            for column in SIZE_COLUMNS:
                if row.get(column):
                    sizes[column][row["wiki"]] = float(row[column])
    return sizes
