"""Run stage tasks as Spark tasks: one JSON task per partition, through ``mapInArrow``."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
from pyspark import TaskContext
from pyspark.accumulators import Accumulator
from pyspark.sql import SparkSession

from tracer.progress import TASKS, Progress, Work
from tracer.stages.common import TASK_CPUS, TASK_GPU, execute, results_of
from tracer.stages.payloads import to_payload


def _apply(
    fn: Callable[[Any], Any], sizes: list[float], done: Accumulator, units: Accumulator
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The executor side: run each task, and count it in the accumulators the driver's progress reads."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _tell_task_resources()
        for batch in batches:
            for index, task in zip(batch.column("index").to_pylist(), batch.column("task").to_pylist(), strict=True):
                result = json.dumps(execute(fn, json.loads(task)))
                done.add(1)
                units.add(sizes[index])
                yield pa.RecordBatch.from_pydict(
                    {"index": pa.array([index], pa.int64()), "result": pa.array([result], pa.string())}
                )

    return run


def _tell_task_resources() -> None:
    """Say in the environment what Spark gave this task (cores, a GPU), for the stage's executor code."""
    context = TaskContext.get()
    if context is None:
        return
    os.environ[TASK_CPUS] = str(context.cpus())
    gpus = context.resources().get("gpu")
    os.environ[TASK_GPU] = gpus.addresses[0] if gpus and gpus.addresses else ""


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

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any], description: str, work: Work = TASKS) -> list:
        if not tasks:
            return []
        return results_of(fn, self._collect(fn, tasks, description, work), tasks, description)

    def _collect(self, fn: Callable[[Any], Any], tasks: Sequence[Any], description: str, work: Work) -> list[dict]:
        sc = self.spark.sparkContext
        sc.setJobDescription(f"factrace {description}: {len(tasks)} task(s)")
        done, units = sc.accumulator(0), sc.accumulator(0.0)
        sizes = [work.size(i) for i in range(len(tasks))]
        rows = sc.parallelize([(i, json.dumps(to_payload(t))) for i, t in enumerate(tasks)], len(tasks))
        frame = self.spark.createDataFrame(rows, "index long, task string")
        with _reporting(Progress(description, len(tasks), work), done, units):
            out = frame.mapInArrow(_apply(fn, sizes, done, units), "index long, result string").collect()
        return [json.loads(r["result"]) for r in sorted(out, key=lambda r: r["index"])]


@contextmanager
def _reporting(progress: Progress, done: Accumulator, units: Accumulator, poll: float = 1.0) -> Iterator[None]:
    """Poll the accumulators (Spark merges them on the driver as tasks finish) while the job runs."""
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(poll):
            progress.update(done.value, units.value)

    thread = threading.Thread(target=watch, name="factrace-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    progress.update(done.value, units.value)
