"""Build (or reuse) the SparkSession: embedded local mode by default, whatever spark-submit says otherwise."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark import SparkConf
from pyspark.sql import SparkSession

EXECUTOR_GPUS = "spark.executor.resource.gpu.amount"
TASK_GPUS = "spark.task.resource.gpu.amount"
CONSOLE_PROGRESS = "spark.ui.showConsoleProgress"
LOG4J = Path(__file__).with_name("log4j2.properties")


def spark_session(app: str, master: str | None = None, one_gpu_per_task: bool = False) -> SparkSession:
    """A session for a stage. Under spark-submit the cluster's settings rule (``master`` still
    overrides); otherwise an embedded local session bound to loopback, with this Python.

    ``one_gpu_per_task``: when the executors have GPUs (``spark.executor.resource.gpu.amount``),
    each task asks for one (``spark.task.resource.gpu.amount=1``) unless that is set already.
    """
    builder = SparkSession.builder.appName(f"factrace-{app}")
    conf = SparkConf()
    if not conf.contains(CONSOLE_PROGRESS):  # factrace logs its own progress, in units (tracer.progress)
        builder = builder.config(CONSOLE_PROGRESS, os.environ.get("FACTRACE_SPARK_CONSOLE_PROGRESS", "false"))
    if one_gpu_per_task and conf.get(EXECUTOR_GPUS) and not conf.get(TASK_GPUS):
        builder = builder.config(TASK_GPUS, "1")
    if master or not _submitted():
        master = master or os.environ.get("FACTRACE_SPARK_MASTER", "local[*]")
        builder = builder.master(master)
    if master and master.startswith("local"):
        os.environ.setdefault(
            "PYSPARK_SUBMIT_ARGS", f"--driver-java-options -Dlog4j2.configurationFile={LOG4J} pyspark-shell"
        )
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            builder.config("spark.driver.host", os.environ["SPARK_LOCAL_IP"])
            .config("spark.python.worker.reuse", "true")
            .config("spark.ui.enabled", os.environ.get("FACTRACE_SPARK_UI", "false"))
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("FACTRACE_SPARK_LOG_LEVEL", "WARN"))
    return spark


def _submitted() -> bool:
    """True under spark-submit: its JVM is already running and told us its gateway port."""
    return "PYSPARK_GATEWAY_PORT" in os.environ
