"""Build (or reuse) the SparkSession: embedded local mode by default, whatever spark-submit says otherwise."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession


def spark_session(app: str, master: str | None = None) -> SparkSession:
    """A session for a stage; ``master`` only applies when spark-submit did not set one."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName(f"factrace-{app}")
    if master or not _submitted():
        builder = builder.master(master or os.environ.get("FACTRACE_SPARK_MASTER", "local[*]"))
    builder = (
        builder.config("spark.ui.showConsoleProgress", "true")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.python.worker.reuse", "true")
        .config("spark.ui.enabled", os.environ.get("FACTRACE_SPARK_UI", "false"))
        .config("spark.driver.host", os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"))
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("FACTRACE_SPARK_LOG_LEVEL", "WARN"))
    return spark


def _submitted() -> bool:
    """True under spark-submit: its JVM is already running and told us its gateway port."""
    return "PYSPARK_GATEWAY_PORT" in os.environ
