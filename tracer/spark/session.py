"""Build (or reuse) the SparkSession: embedded local mode by default, whatever spark-submit says otherwise."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession


def spark_session(app: str, master: str | None = None) -> SparkSession:
    """A session for a stage. Under spark-submit the cluster's settings rule (``master`` still
    overrides); otherwise an embedded local session bound to loopback, with this Python."""
    builder = SparkSession.builder.appName(f"factrace-{app}").config("spark.ui.showConsoleProgress", "true")
    if master or not _submitted():
        master = master or os.environ.get("FACTRACE_SPARK_MASTER", "local[*]")
        builder = builder.master(master)
    if master and master.startswith("local"):
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
