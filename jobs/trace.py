"""spark-submit entry point for the trace stage: ``spark-submit jobs/trace.py --warehouse WH --mode tokens``."""

import sys

from tracer.cli import main

if __name__ == "__main__":
    sys.exit(main(["trace", *sys.argv[1:]]))
