"""spark-submit entry point for the classify stage: ``spark-submit jobs/classify.py --warehouse WH --model M``."""

import sys

from tracer.cli import main

if __name__ == "__main__":
    sys.exit(main(["classify", *sys.argv[1:]]))
