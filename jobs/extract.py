"""spark-submit entry point for the extract stage: ``spark-submit jobs/extract.py DUMP... --warehouse WH``."""

import sys

from tracer.cli import main

if __name__ == "__main__":
    sys.exit(main(["extract", *sys.argv[1:]]))
