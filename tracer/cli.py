"""The ``factrace`` command: one subcommand per stage, all running the same code as ``jobs/``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from probing.config import ProbeConfig
from tracer import __version__
from tracer.config import add_arguments, from_args
from tracer.errors import FactraceError
from tracer.query import QueryConfig, run_query
from tracer.report.config import ReportConfig
from tracer.stages.classify import ClassifyConfig, ClassifyStage
from tracer.stages.common import LocalRunner, TaskRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.stages.trace import TraceConfig, TraceStage

log = logging.getLogger("factrace")


def _spark_runner(app: str, master: str | None):
    from tracer.spark.runner import SparkRunner
    from tracer.spark.session import spark_session

    return SparkRunner(spark_session(app, master))


def run_extract(config: ExtractConfig, master: str | None = None) -> str:
    return ExtractStage(config, _spark_runner("extract", master)).run().message


def run_segment(config: SegmentConfig, master: str | None = None) -> str:
    return SegmentStage(config, _spark_runner("segment", master)).run()["message"]


def run_facts(config: FactsConfig, master: str | None = None) -> str:
    return FactsStage(config, _spark_runner("facts", master)).run()["message"]


def run_trace(config: TraceConfig, master: str | None = None) -> str:
    return TraceStage(config, _spark_runner("trace", master)).run()["message"]


def run_probe(config: ProbeConfig, master: str | None = None) -> str:
    from probing.stage import ProbeStage

    if config.spark_tasks == 0:
        runner: TaskRunner = LocalRunner()
    else:
        from tracer.spark.runner import SparkRunner
        from tracer.spark.session import spark_session

        spark = spark_session("probe", master, one_gpu_per_task=True)
        if config.spark_tasks < 0:
            config.spark_tasks = spark.sparkContext.defaultParallelism
        runner = SparkRunner(spark)
    out = ProbeStage(config, runner).run()
    return out["message"] + (f"\n{out['table']}" if out.get("table") else "")


def run_classify(config: ClassifyConfig, master: str | None = None) -> str:
    return ClassifyStage(config, _spark_runner("classify", master)).run()["message"]


def _query(config: QueryConfig, master: str | None = None) -> str:
    return run_query(config)


def _report(config: ReportConfig, master: str | None = None) -> str:
    from tracer.report.build import run_report

    return run_report(config)


def _demo(args: argparse.Namespace) -> str:
    from tracer.demo import run_demo

    return run_demo(args.warehouse, args.master)


COMMANDS: dict[str, tuple[str, type | None, Callable]] = {
    "extract": ("Wikipedia dumps -> pages (clean text)", ExtractConfig, run_extract),
    "segment": ("pages -> segments of at most --max-tokens tokens", SegmentConfig, run_segment),
    "facts": ("mLAMA directory -> facts (one partition per language)", FactsConfig, run_facts),
    "trace": ("segments x facts -> fact_presence (--mode tokens|text)", TraceConfig, run_trace),
    "probe": ("facts x masked LM -> predictions, neurons (--protocol full-match|candidates)", ProbeConfig, run_probe),
    "classify": (
        "fact_presence x predictions x neurons -> fact_classes, language_stats, language_pairs",
        ClassifyConfig,
        run_classify,
    ),
    "report": ("the classified tables -> one offline HTML report with its CSVs", ReportConfig, _report),
    "query": ("run SQL over the warehouse tables in embedded DuckDB", QueryConfig, _query),
    "demo": ("run every stage that exists on the bundled sample", None, _demo),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="factrace", description="Trace where a multilingual LM got its facts.")
    parser.add_argument("--version", action="version", version=f"factrace {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, config_cls, _) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if config_cls is not None:
            add_arguments(p, config_cls)
        else:
            p.add_argument(
                "--warehouse", default="demo-warehouse", help="warehouse directory (default: demo-warehouse)"
            )
        p.add_argument("--master", default=None, help="Spark master (default: local[*], or what spark-submit set)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    _, config_cls, fn = COMMANDS[args.command]
    try:
        message = fn(from_args(config_cls, args), args.master) if config_cls else fn(args)
    except FactraceError as err:
        print(f"factrace {args.command}: error: {err}", file=sys.stderr)
        return 2
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
