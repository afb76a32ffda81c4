"""What classification reads besides the probe's tables: the size of each language's corpus."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas.tables import PAGES, SEGMENTS
from tracer import storage
from tracer.classify.stats import Corpus
from tracer.dumps.naming import wiki_language
from tracer.warehouse import Warehouse


def corpus_size(wh: Warehouse, dump: str, lang: str, tokenizer_id: str | None) -> Corpus:
    """Pages, clean-text bytes, segments and tokens of the wikis that trace as ``lang`` in ``dump``.

    Page text is read a batch at a time, so an enwiki-sized partition costs one pass, not its size in memory.
    """
    if tokenizer_id is None:
        return Corpus()
    pages = segments = tokens = text_bytes = 0
    for values in wh.partitions(PAGES, dump=dump):
        if wiki_language(values["wiki"]) != lang:
            continue
        for path in wh.files(PAGES, values):
            for batch in pq.ParquetFile(storage.open_input(path)).iter_batches(batch_size=4096, columns=["text"]):
                text = batch.column("text")
                pages += len(text)
                text_bytes += pc.sum(pc.binary_length(pc.cast(text, pa.binary()))).as_py() or 0
        for path in wh.files(SEGMENTS, {**values, "tokenizer": tokenizer_id}):
            counts = pq.read_table(path, columns=["token_count"]).column("token_count")
            segments += len(counts)
            tokens += pc.sum(counts).as_py() or 0
    return Corpus(True, pages, segments, tokens, text_bytes)
