"""spark-submit entry point for the probe stage: each Spark task probes a group of languages, on one GPU
when the executors have GPUs (``--conf spark.executor.resource.gpu.amount=1``), else on CPU::

    spark-submit jobs/probe.py --model DIR --warehouse WH --protocol full-match --neurons --spark-tasks 8

``--spark-tasks`` defaults to Spark's default parallelism.
"""

import sys

from tracer.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--spark-tasks" not in args:
        args += ["--spark-tasks", "-1"]
    sys.exit(main(["probe", *args]))
