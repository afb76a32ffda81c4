"""Run stage tasks as Spark tasks: one JSON task per partition, through ``mapInArrow``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pyarrow as pa
from pyspark.sql import SparkSession

from tracer.stages.common import guarded, raise_task_errors


def _apply(fn: Callable[[dict], dict]) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index, task in zip(batch.column("index").to_pylist(), batch.column("task").to_pylist(), strict=True):
                result = json.dumps(guarded(fn, json.loads(task)))
                yield pa.RecordBatch.from_pydict(
                    {"index": pa.array([index], pa.int64()), "result": pa.array([result], pa.string())}
                )

    return run


class SparkRunner:
    """Each task becomes one Spark partition, so Spark schedules, retries and reports them.

    The session may be given as a factory: it is then started by the first ``map``, after the stage
    has checked its inputs, so that a wrong argument is reported before the JVM starts."""

    def __init__(self, spark: SparkSession | Callable[[], SparkSession]) -> None:
        self._spark = spark

    @property
    def spark(self) -> SparkSession:
        if not isinstance(self._spark, SparkSession):
            self._spark = self._spark()
        return self._spark

    @property
    def parallelism(self) -> int:
        """Task slots of the cluster (``spark.default.parallelism``)."""
        return self.spark.sparkContext.defaultParallelism

    def map(self, fn: Callable[[dict], dict], tasks: list[dict], description: str) -> list[dict]:
        if not tasks:
            return []
        results = self._collect(fn, tasks, description)
        raise_task_errors(results, tasks, description)
        return results

    def _collect(self, fn: Callable[[dict], dict], tasks: list[dict], description: str) -> list[dict]:
        sc = self.spark.sparkContext
        sc.setJobDescription(f"factrace {description}: {len(tasks)} task(s)")
        rows = sc.parallelize([(i, json.dumps(t)) for i, t in enumerate(tasks)], len(tasks))
        frame = self.spark.createDataFrame(rows, "index long, task string")
        out = frame.mapInArrow(_apply(fn), "index long, result string").collect()
        return [json.loads(r["result"]) for r in sorted(out, key=lambda r: r["index"])]
