"""Tracing throughput: the matchers against a per-fact substring scan and a pure-Python token scan, same run.

On the segments of every shared dump whose language is in mLAMA (real XLM-R tokenizer), with the
full mLAMA label set of each language:

* ``matcher``: ``TokenMatcher.match`` (ids to bytes, Aho-Corasick, word-end and segment checks,
  unique pairs) per engine, and ``TextMatcher.match`` (normalization included); MB of original
  segment text per second on one core.
* baselines: (a) per fact, ``subject in text and object in text`` over every segment (timed on a
  sample of facts, scaled to all of them); (b) a pure-Python scan of the token ids (a dict from
  first id to the keys that start with it, checked at every position).
* the automaton of the largest label set (en): build time, memory.
* the Spark job end to end (Parquet segments in, ``fact_presence`` out) on ``local[1]``, with where
  the time goes, cold (new session) and warm (again), on the dumps as they are and on copies with
  every segments file's rows repeated 8 and 32 times (same tasks, same label sets, more text).

    python bench/trace.py [--skip-spark]
"""

from __future__ import annotations

import argparse
import os
import re
import time
import tracemalloc
import unicodedata
from pathlib import Path

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import pyarrow.compute as pc
import pyarrow.parquet as pq
from _common import OUT, Timer, emit, pages_warehouse, shared

from schemas import FACTS, SEGMENTS
from tracer.dumps.naming import wiki_language
from tracer.matching.engines import ENGINES
from tracer.matching.language import _labels, _matcher, _tokenizer, language_matcher
from tracer.matching.normalize import normalizer, normalizer_name
from tracer.matching.presence import partial_of
from tracer.matching.text_matcher import TextMatcher
from tracer.matching.token_matcher import TokenMatcher
from tracer.stages.common import LocalRunner
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.warehouse import Warehouse


def trace_warehouse() -> Warehouse:
    """Pages of every shared dump, XLM-R segments and all of mLAMA, built once and reused."""
    path = OUT / "trace-wh"
    if not (path / "segments" / "_delta_log").is_dir():  # absent, or written before tables were Delta tables
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(pages_warehouse() / "pages", path / "pages")
        tokenizer = shared() / "tokenizers" / "xlm-roberta-tokenizer.json"
        SegmentStage(SegmentConfig(warehouse=str(path), tokenizer=str(tokenizer)), LocalRunner()).run()
    if not (path / "facts" / "_delta_log").is_dir():
        FactsStage(FactsConfig(mlama=str(shared() / "mlama1.1"), warehouse=str(path)), LocalRunner()).run()
    return Warehouse(str(path))


def per_fact_scan(facts: list[dict], texts: list[str], sample: int) -> float:
    """Seconds for the whole fact set, from a sample: each fact scans every segment for both labels."""
    chosen = facts[:: max(1, len(facts) // sample)]
    with Timer() as t:
        for fact in chosen:
            subject, obj = fact["subject_label"], fact["object_label"]
            sum(1 for text in texts if subject in text and obj in text)
    return t.seconds * len(facts) / len(chosen)


def python_token_scan(keys: list[tuple[int, ...]], segments: list[list[int]]) -> float:
    starting: dict[int, list[tuple[int, ...]]] = {}
    for key in keys:
        if key:
            starting.setdefault(key[0], []).append(key)
    with Timer() as t:
        for ids in segments:
            found = set()
            for i, token in enumerate(ids):
                for key in starting.get(token, ()):
                    if tuple(ids[i : i + len(key)]) == key:
                        found.add(key)
    return t.seconds


def unicodedata_nfkc_casefold(text: str) -> str:
    """``nfkc_casefold_v1`` as it was before the piecewise NFKC: ``unicodedata.normalize`` on the whole segment."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return folded if folded.isprintable() else " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", folded).split())


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_language(wh: Warehouse, seg_values: dict, lang: str, engines: list[str]) -> dict:
    segments = wh.read(SEGMENTS, dump=seg_values["dump"], wiki=seg_values["wiki"], tokenizer=seg_values["tokenizer"])
    mb = pc.sum(pc.binary_length(segments.column("text").cast("binary"))).as_py() / 1e6
    facts_file = str(wh.files(FACTS, {"lang": lang})[0])
    tokenizer_file = str(wh.tokenizer_file(seg_values["tokenizer"]))
    ids = segments.column("token_ids").combine_chunks()
    texts = segments.column("text").to_pylist()
    out: dict = {"segments": segments.num_rows, "text_mb": round(mb, 3), "tokens": len(ids.flatten())}
    with Timer() as built:
        tokens = language_matcher(facts_file, lang, "tokens", tokenizer_file, engines[0])
    out["facts"] = tokens.labels.fact_count
    out["token_keys"] = len(tokens.labels.keys)
    out["build_tokens_s"] = round(built.seconds, 3)
    for engine in engines:
        matcher = TokenMatcher(tokens.labels.keys, tokens.matcher.boundaries, engine)
        seconds = best_of(lambda m=matcher: m.match(ids), 1 if engine == "pyahocorasick" else 3)
        out[f"tokens_{engine}_mb_s"] = round(mb / seconds, 1)
    segment, key = tokens.matcher.match(ids)
    page_id = segments.column("page_id").to_numpy()
    seg_no = segments.column("seg_no").to_numpy()
    out["aggregate_s"] = round(best_of(lambda: partial_of(tokens.index, segment, key, page_id, seg_no, 5)), 4)
    text_lm = language_matcher(facts_file, lang, "text", tokenizer_file, engines[0])
    normalize = normalizer(normalizer_name(lang))
    text_matcher = TextMatcher(text_lm.labels.keys, normalize, engines[0])
    out["text_daachorse_mb_s"] = round(mb / best_of(lambda: text_matcher.match(texts), 2), 1)
    if normalizer_name(lang) == "nfkc_casefold_v1":  # the same matcher with the normalizer as it was: whole segments
        before = TextMatcher(text_lm.labels.keys, unicodedata_nfkc_casefold, engines[0])
        out["text_unicodedata_nfkc_mb_s"] = round(mb / best_of(lambda: before.match(texts), 2), 1)
    facts = wh.read(FACTS, lang=lang, columns=["subject_label", "object_label"]).to_pylist()
    out["baseline_per_fact_scan_mb_s"] = round(mb / per_fact_scan(facts, texts, 150), 3)
    seg_lists = ids.to_pylist()
    out["baseline_python_token_scan_mb_s"] = round(mb / python_token_scan(tokens.labels.keys, seg_lists), 2)
    return out


def automaton_cost(wh: Warehouse, tokenizer_id: str) -> dict:
    facts_file = str(wh.files(FACTS, {"lang": "en"})[0])
    tokenizer_file = str(wh.tokenizer_file(tokenizer_id))
    _matcher.cache_clear()
    _labels.cache_clear()
    _tokenizer.cache_clear()
    tracemalloc.start()
    with Timer() as t:
        lm = language_matcher(facts_file, "en", "tokens", tokenizer_file, "daachorse")
    python_mb = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    keys = lm.labels.keys
    with Timer() as auto:
        matcher = TokenMatcher(keys, lm.matcher.boundaries, "daachorse")
    return {
        "labels_and_automaton_s": round(t.seconds, 3),
        "automaton_only_s": round(auto.seconds, 3),
        "python_heap_mb": round(python_mb, 1),
        "automaton_bytes": len(matcher.automaton._pma.serialize()),
        "keys": len(keys),
        "patterns": len(matcher.key_numbers),
    }


def replicated(wh: Warehouse, copies: int) -> Warehouse:
    """The same warehouse with each segments file's rows repeated ``copies`` times in one file: a corpus
    ``copies`` times larger with the same label sets and as many tasks, as on a real wiki whose
    segments files hold hundreds of MB of text each."""
    import shutil

    import pyarrow as pa

    from tracer import storage
    from tracer.warehouse import write_table

    path = OUT / f"trace-wh-x{copies}"
    if not (path / "segments" / "_delta_log").is_dir():
        shutil.rmtree(path, ignore_errors=True)
        for sub in ("facts", "_tokenizers"):
            shutil.copytree(Path(wh.root) / sub, path / sub)
        target = Warehouse(str(path))
        for values in wh.partitions(SEGMENTS):
            staged = target.staged_partition("replicated", SEGMENTS, values)
            for file in wh.files(SEGMENTS, values):
                table = pq.read_table(file)
                write_table(storage.join(staged, storage.name(file)), pa.concat_tables([table] * copies))
            target.publish("replicated", [(SEGMENTS, values)])
    return Warehouse(str(path))


def traced_mb(wh: Warehouse) -> float:
    langs = {v["lang"] for v in wh.partitions(FACTS)}
    total = 0
    for values in wh.partitions(SEGMENTS):
        if wiki_language(values["wiki"]) in langs:
            for file in wh.files(SEGMENTS, values):
                text = pq.read_table(file, columns=["text"]).column("text")
                total += pc.sum(pc.binary_length(text.cast("binary"))).as_py()
    return total / 1e6


def spark_end_to_end(wh: Warehouse, modes: tuple[str, ...] = ("tokens", "text")) -> dict:
    """Cold (new session: worker start, automaton builds) and warm (same session again) runs, local[1]."""
    import json

    from tracer.spark.runner import SparkRunner
    from tracer.spark.session import spark_session
    from tracer.stages.trace import TraceConfig, TraceStage

    mb = traced_mb(wh)
    out: dict = {"text_mb": round(mb, 1)}
    for mode in modes:
        spark = spark_session(f"bench-trace-{mode}", "local[1]")
        runner = SparkRunner(spark)
        for run in ("cold", "warm"):
            with Timer() as t:
                result = TraceStage(TraceConfig(warehouse=str(wh.root), mode=mode), runner).run()
            task = json.loads(result.run["extra"])["task_seconds"]
            out[f"{mode}_{run}"] = {
                "wall_s": round(t.seconds, 2),
                "mb_s_core": round(mb / t.seconds, 1),
                "in_tasks_s": task,
                "outside_tasks_s": round(t.seconds - sum(task.values()), 2),
            }
        spark.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES))
    args = parser.parse_args()
    wh = trace_warehouse()
    fact_langs = {v["lang"] for v in wh.partitions(FACTS)}
    per_language = {}
    for values in wh.partitions(SEGMENTS):
        lang = wiki_language(values["wiki"])
        if lang in fact_langs and values["dump"] != "enwiki-sample-3p-export09":
            per_language[lang] = bench_language(wh, values, lang, args.engines)
    mb = sum(r["text_mb"] for r in per_language.values())

    def overall(field: str) -> float:
        return round(mb / sum(r["text_mb"] / r[field] for r in per_language.values()), 2)

    totals = {f: overall(f) for f in next(iter(per_language.values())) if f.endswith("_mb_s")}
    totals["text_mb"] = round(mb, 2)
    totals["aggregate_s"] = round(sum(r["aggregate_s"] for r in per_language.values()), 3)
    result = {
        "per_language": per_language,
        "overall": totals,
        "ratios": {
            "tokens_daachorse_vs_per_fact_scan": round(
                totals["tokens_daachorse_mb_s"] / totals["baseline_per_fact_scan_mb_s"], 1
            ),
            "tokens_daachorse_vs_python_token_scan": round(
                totals["tokens_daachorse_mb_s"] / totals["baseline_python_token_scan_mb_s"], 1
            ),
        },
        "automaton_en": automaton_cost(wh, wh.partitions(SEGMENTS)[0]["tokenizer"]),
    }
    if not args.skip_spark:
        result["spark_local1"] = spark_end_to_end(wh)
        result["spark_local1_x8"] = spark_end_to_end(replicated(wh, 8))
        result["spark_local1_x32"] = spark_end_to_end(replicated(wh, 32), ("tokens",))
    (OUT / "trace.json").write_text(__import__("json").dumps(result, indent=2, sort_keys=True))
    emit(result)


if __name__ == "__main__":
    main()
