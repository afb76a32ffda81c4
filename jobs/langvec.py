"""spark-submit entry point for the langvec stage: one Spark task per language, on one GPU when the executors
have GPUs (``--conf spark.executor.resource.gpu.amount=1``), else on CPU::

    spark-submit jobs/langvec.py --model DIR --warehouse WH --samples 1000
"""

import sys

from tracer.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(["langvec", *args, *([] if "--spark" in args else ["--spark"])]))
