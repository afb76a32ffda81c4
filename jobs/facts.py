"""spark-submit entry point for the facts stage: ``spark-submit jobs/facts.py --mlama DIR --warehouse WH``."""

import sys

from tracer.cli import main

if __name__ == "__main__":
    sys.exit(main(["facts", *sys.argv[1:]]))
