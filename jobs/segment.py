"""spark-submit entry point for the segment stage: ``spark-submit jobs/segment.py --warehouse WH --tokenizer T``."""

import sys

from tracer.cli import main

if __name__ == "__main__":
    sys.exit(main(["segment", *sys.argv[1:]]))
