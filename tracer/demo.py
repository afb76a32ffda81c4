"""``factrace demo``: run every stage that exists on the sample bundled in ``tracer/demo_data``.

The sample is authored by the project: a few articles in English, Japanese and Chinese, with the
markup the cleaner must handle, and mLAMA-format facts about them (``demo_data/mlama``; the
Chinese labels are simplified while one article is traditional). The demo builds a small
WordPiece tokenizer from the extracted text, so it needs nothing from outside.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from schemas.tables import PAGES
from tracer.stages.common import LocalRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.stages.trace import TraceConfig, TraceStage
from tracer.warehouse import Warehouse

log = logging.getLogger("factrace.demo")
DEMO_DATA = Path(__file__).parent / "demo_data"
PRESENCE_QUERY = (
    "SELECT lang, match_mode, count(*) AS facts, count(*) FILTER (WHERE present) AS present "
    "FROM fact_presence GROUP BY ALL ORDER BY lang, match_mode"
)


def sample_dumps() -> list[str]:
    return sorted(str(p) for p in DEMO_DATA.glob("*.xml"))


def build_wordpiece(texts: list[str], path: Path, words: int = 1500, chars: int | None = None) -> Path:
    """A small cased WordPiece tokenizer (mBERT's pipeline) whose vocabulary is built deterministically:
    special tokens, every character (or the ``chars`` most frequent; a word with another one becomes
    ``[UNK]``), alone and as a ``##`` continuation, then the most frequent words, ties broken
    alphabetically. (The ``tokenizers`` trainers break ties by hash order, so two runs could
    differ, and with them the tokenizer id.)"""
    normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, handle_chinese_chars=True)
    pre = pre_tokenizers.BertPreTokenizer()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)))
    char_counts: Counter[str] = Counter()
    for word, n in counts.items():
        for c in word:
            char_counts[c] += n
    kept = sorted(char_counts, key=lambda c: (-char_counts[c], c))[:chars] if chars else char_counts
    chars_kept = sorted(kept)
    frequent = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if len(w) > 1][:words]
    vocab_list = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars_kept, *(f"##{c}" for c in chars_kept), *frequent]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(vocab_list))}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return path


def _probe(root: Path, tokenizer: Path) -> str:
    """Probe the demo facts with a tiny BERT of random weights around the demo tokenizer (so P@1 is
    about chance: the point is the tables, not the answers)."""
    from probing.random_model import save_random_bert
    from probing.stage import ProbeConfig, ProbeStage

    model = save_random_bert(root / "demo-model", tokenizer)
    config = ProbeConfig(
        model=str(model), warehouse=str(root), protocol=["full-match", "candidates"], neurons=True, top_k=10
    )
    out = ProbeStage(config, LocalRunner()).run()
    return f"{out['message']}\n{out['table']}"


def run_demo(warehouse: str, master: str | None = None) -> str:
    from tracer.spark.runner import SparkRunner
    from tracer.spark.session import spark_session

    root = Path(warehouse)
    shutil.rmtree(root, ignore_errors=True)
    runner = SparkRunner(spark_session("demo", master))
    lines = [ExtractStage(ExtractConfig(dumps=sample_dumps(), warehouse=warehouse), runner).run().message]
    wh = Warehouse(root)
    texts = [
        t
        for values in wh.partitions(PAGES)
        for f in wh.files(PAGES, values)
        for t in pq.read_table(f)["text"].to_pylist()
    ]
    tokenizer = build_wordpiece(sorted(texts), root / "demo-tokenizer" / "tokenizer.json")
    lines.append(
        SegmentStage(SegmentConfig(warehouse=warehouse, tokenizer=str(tokenizer), max_tokens=32), runner).run()[
            "message"
        ]
    )
    lines.append(FactsStage(FactsConfig(mlama=str(DEMO_DATA / "mlama"), warehouse=warehouse), runner).run()["message"])
    for mode in ("tokens", "text"):
        lines.append(TraceStage(TraceConfig(warehouse=warehouse, mode=mode), runner).run()["message"])
    lines.append(_probe(root, tokenizer))
    lines.append(
        f"tables written under {wh.root}: "
        + ", ".join(sorted(p.name for p in wh.root.iterdir() if not p.name.startswith(("_", "demo-"))))
    )
    lines.append(f'try: factrace query "{PRESENCE_QUERY}" --warehouse {warehouse}')
    return "\n".join(lines)
