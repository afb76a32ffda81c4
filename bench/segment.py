"""Segmentation throughput (clean-text MB/s per core) vs. a plain ``Tokenizer.encode_batch``, same run.

Both sides run on one core (RAYON_NUM_THREADS=1 is set before tokenizers loads) over
the clean pages of every shared dump, with the real XLM-R tokenizer and with a
WordPiece tokenizer of mBERT's vocabulary size trained on those pages. The ids
must be identical; the ratio is ours / plain. A second pass over the same pages
(``warm``) shows the steady state of a large wiki, where nearly every word is
already in the executor's word cache.

    python bench/segment.py [--pages N]
"""

from __future__ import annotations

import argparse
import json
import os

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from _common import OUT, Timer, emit, pages_warehouse, shared

from schemas import PAGES
from tracer.records import Page
from tracer.segmentation import Segmenter
from tracer.tokenization import wordloop
from tracer.tokenization.fast_encoder import FastEncoder
from tracer.tokenization.loading import load_tokenizer
from tracer.tokenization.loops import IMPLEMENTATION
from tracer.warehouse import Warehouse

MBERT_VOCAB = 119_547


def wordpiece(texts: list[str]) -> str:
    path = OUT / f"wordpiece-{MBERT_VOCAB}.json"
    if not path.exists():
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, handle_chinese_chars=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=MBERT_VOCAB, special_tokens=special))
        tok.save(str(path))
    return str(path)


def edges(offsets: list[tuple[int, int]], size: int = 512) -> list[tuple[int, int]]:
    """The character span of each ``size``-token segment, from the tokenizer's offsets of the whole page."""
    return [(offsets[i][0], offsets[min(i + size, len(offsets)) - 1][1]) for i in range(0, len(offsets), size)]


def measure(spec: str, pages: list[Page]) -> dict:
    loaded = load_tokenizer(spec)
    texts = [p.text for p in pages]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    with Timer() as plain:
        reference = loaded.tokenizer.encode_batch(texts, add_special_tokens=False)
    segmenter = Segmenter(loaded.tokenizer, 512)
    with Timer() as ours:
        segmented = [segmenter.segments(p) for p in pages]
    with Timer() as warm:  # the same pages again: every word cached, as on a big wiki
        for p in pages:
            segmenter.segments(p)
    python = Segmenter(loaded.tokenizer, 512)
    python.encoder = FastEncoder(loaded.tokenizer, loops=wordloop)  # the pure-Python per-page loops
    with Timer() as python_first:
        python_segmented = [python.segments(p) for p in pages]
    with Timer() as python_warm:
        for p in pages:
            python.segments(p)
    identical = all(
        [i for s in segs for i in s.token_ids] == enc.ids for segs, enc in zip(segmented, reference, strict=True)
    )
    same_edges = all(  # every segment's char span is the tokenizer's own offsets at its first and last token
        [(s.char_start, s.char_end) for s in segs] == edges(enc.offsets)
        for segs, enc in zip(segmented, reference, strict=True)
    )
    enc = segmenter.encoder
    return {
        "tokenizer": loaded.tokenizer_id,
        "vocab_size": loaded.tokenizer.get_vocab_size(),
        "text_mb": round(mb, 2),
        "plain_encode_batch_mb_s_core": round(mb / plain.seconds, 3),
        "factrace_segment_mb_s_core": round(mb / ours.seconds, 3),
        "ratio": round(plain.seconds / ours.seconds, 2),
        "factrace_warm_cache_mb_s_core": round(mb / warm.seconds, 3),
        "warm_ratio": round(plain.seconds / warm.seconds, 2),
        "python_loop_mb_s_core": round(mb / python_first.seconds, 3),
        "python_loop_warm_mb_s_core": round(mb / python_warm.seconds, 3),
        "python_loop_identical": python_segmented == segmented,
        "word_loop": IMPLEMENTATION,
        "identical_ids": identical,
        "identical_offsets": same_edges,
        "pages_on_fast_path": round(enc.pages_fast / max(1, enc.pages_fast + enc.pages_reference), 3),
        "word_cache_entries": enc.words.cached_words(),
        "segments": sum(len(s) for s in segmented),
    }


def spark_scaling(spec: str) -> dict:
    """The segment stage through Spark local mode with 1, then 2 cores (XLM-R, all pages)."""
    import shutil

    from pyspark.sql import SparkSession

    from tracer.spark.runner import SparkRunner
    from tracer.spark.session import spark_session
    from tracer.stages.segment import SegmentConfig, SegmentStage

    wh = OUT / "segment-wh"
    shutil.rmtree(wh, ignore_errors=True)
    shutil.copytree(pages_warehouse() / "pages", wh / "pages")
    seconds = {}
    for cores in (1, 2):
        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()
        runner = SparkRunner(spark_session("bench-segment", f"local[{cores}]"))
        runner.map(_identity, [{}], "warm-up")
        with Timer() as t:
            result = SegmentStage(SegmentConfig(warehouse=str(wh), tokenizer=spec), runner).run()
        seconds[cores] = t.seconds
        mb = json.loads(result.run["extra"])["text_bytes"] / 1e6
    return {
        "text_mb": round(mb, 2),
        "local1_mb_s_core": round(mb / seconds[1], 3),
        "local2_mb_s_core": round(mb / seconds[2] / 2, 3),
        "speedup_1_to_2_cores": round(seconds[1] / seconds[2], 2),
    }


def _identity(task: dict) -> dict:
    return task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=0, help="use only the first N pages (0: all)")
    parser.add_argument("--spark", action="store_true", help="also time the Spark stage with 1 and 2 cores")
    args = parser.parse_args()
    table = Warehouse(pages_warehouse()).read(PAGES)
    pages = [Page(**{k: r[k] for k in Page.__slots__}) for r in table.to_pylist()]
    pages.sort(key=lambda p: (p.page_id, p.content_sha1))
    if args.pages:
        pages = pages[: args.pages]
    xlmr = str(shared() / "tokenizers" / "xlm-roberta-tokenizer.json")
    results = [measure(xlmr, pages), measure(wordpiece([p.text for p in pages]), pages)]
    report = {"benchmark": "segment", "pages": len(pages), "cores": 1, "results": results}
    if args.spark:
        report["spark_local_xlmr"] = spark_scaling(xlmr)
    emit(report)


if __name__ == "__main__":
    main()
