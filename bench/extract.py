"""Extract throughput: MB of decompressed XML per second per core, compressed dump → Parquet.

Runs the extract stage through Spark local mode with 1 and then 2 cores over every real
shared dump at once (one run; each dump read by several tasks), and reports MB/s/core and
the 1 → 2 core scaling; ``in_task`` counts only the time spent inside the tasks. Baseline
in the same run: decompressing the same files with Python's bz2 module alone (the floor
any extractor pays).

    python bench/extract.py [--split-mb 1]
"""

from __future__ import annotations

import argparse
import bz2
import json
import shutil
import time

from _common import OUT, Timer, emit, real_dumps

from schemas import RUNS
from tracer.spark.runner import SparkRunner
from tracer.spark.session import spark_session
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.warehouse import Warehouse


def xml_bytes(path) -> int:
    with bz2.open(path) as f:
        return sum(len(chunk) for chunk in iter(lambda: f.read(1 << 20), b""))


def run_stage(cores: int, dumps: list, split_mb: float) -> tuple[float, float]:
    """Wall seconds of the stage runs, and the seconds their tasks spent (summed over tasks)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    spark = spark_session("bench-extract", f"local[{cores}]")
    runner = SparkRunner(spark)
    wh = OUT / f"extract-wh-{cores}"
    shutil.rmtree(wh, ignore_errors=True)
    runner.map(_identity, [{}], "warm-up")  # JVM and Python workers up before timing
    start = time.perf_counter()
    config = ExtractConfig(dumps=[str(p) for p in dumps], warehouse=str(wh), split_mb=split_mb)
    ExtractStage(config, runner).run()  # one run, one Spark job over every split of every dump
    seconds = time.perf_counter() - start
    spark.stop()
    runs = Warehouse(wh).read(RUNS).to_pylist()
    task_seconds = sum(json.loads(r["extra"])["task_seconds"] for r in runs)
    return seconds, task_seconds


def _identity(task: dict) -> dict:
    return task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split-mb", type=float, default=1.0, help="compressed MB per task")
    args = parser.parse_args()
    dumps = real_dumps()
    total = sum(xml_bytes(p) for p in dumps) / 1e6
    with Timer() as decompress:
        for p in dumps:
            xml_bytes(p)
    one, one_tasks = run_stage(1, dumps, args.split_mb)
    two, _ = run_stage(2, dumps, args.split_mb)
    emit(
        {
            "benchmark": "extract",
            "dumps": [p.name for p in dumps],
            "xml_mb": round(total, 2),
            "baseline_bz2_decompress_only_mb_s_core": round(total / decompress.seconds, 2),
            "local1_seconds": round(one, 2),
            "local1_mb_s_core": round(total / one, 2),
            "in_task_mb_s_core": round(total / one_tasks, 2),
            "local2_seconds": round(two, 2),
            "local2_mb_s_core": round(total / two / 2, 2),
            "speedup_1_to_2_cores": round(one / two, 2),
            "ratio_to_decompress_only": round((total / one) / (total / decompress.seconds), 3),
            "split_mb": args.split_mb,
        }
    )


if __name__ == "__main__":
    main()
