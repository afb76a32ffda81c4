"""The ``factrace`` command: one subcommand per stage, all running the same code as ``jobs/``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from tracer import __version__
from tracer.config import add_arguments, from_args
from tracer.errors import EXIT_INTERNAL, FactraceError, Interrupted
from tracer.fetch import FetchConfig, run_fetch
from tracer.gc import GcConfig, run_gc
from tracer.query import QueryConfig, run_query
from tracer.report.config import ReportConfig
from tracer.stages.classify import ClassifyConfig, ClassifyStage
from tracer.stages.common import LocalRunner, TaskRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.langvec import LangvecConfig
from tracer.stages.lrp2_search import SearchConfig
from tracer.stages.probe import ProbeConfig
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.stages.trace import TraceConfig, TraceStage
from tracer.update import StatusConfig, UpdateConfig, run_status, run_update
from tracer.vacuum import VacuumConfig, run_vacuum

log = logging.getLogger("factrace")


def _spark_runner(app: str, master: str | None):
    """A runner whose Spark session starts with the first task: a stage checks its inputs before that."""
    from tracer.spark.runner import SparkRunner
    from tracer.spark.session import spark_session

    return SparkRunner(lambda: spark_session(app, master))


def run_extract(config: ExtractConfig, master: str | None = None) -> str:
    return ExtractStage(config, _spark_runner("extract", master)).run().message


def run_segment(config: SegmentConfig, master: str | None = None) -> str:
    return SegmentStage(config, _spark_runner("segment", master)).run().message


def run_facts(config: FactsConfig, master: str | None = None) -> str:
    return FactsStage(config, _spark_runner("facts", master)).run().message


def run_trace(config: TraceConfig, master: str | None = None) -> str:
    return TraceStage(config, _spark_runner("trace", master)).run().message


def run_probe(config: ProbeConfig, master: str | None = None) -> str:
    from tracer.stages.probe import ProbeStage

    if config.spark_tasks == 0:
        runner: TaskRunner = LocalRunner()
    else:
        from tracer.spark.runner import SparkRunner
        from tracer.spark.session import spark_session

        runner = SparkRunner(lambda: spark_session("probe", master, one_gpu_per_task=True))
    out = ProbeStage(config, runner).run()
    return out.message + (f"\n{out.details}" if out.details else "")


def _model_runner(app: str, spark: bool, master: str | None) -> TaskRunner:
    """This process, or Spark tasks with one GPU each when the executors have GPUs (stages that load a model)."""
    if not spark:
        return LocalRunner()
    from tracer.spark.runner import SparkRunner
    from tracer.spark.session import spark_session

    return SparkRunner(lambda: spark_session(app, master, one_gpu_per_task=True))


def run_langvec(config: LangvecConfig, master: str | None = None) -> str:
    from tracer.stages.langvec import LangvecStage

    return LangvecStage(config, _model_runner("langvec", config.spark, master)).run().message


def run_lrp2_search(config: SearchConfig, master: str | None = None) -> str:
    from tracer.stages.lrp2_search import SearchStage

    return SearchStage(config, _model_runner("lrp2-search", config.spark, master)).run().message


def run_classify(config: ClassifyConfig, master: str | None = None) -> str:
    return ClassifyStage(config, _spark_runner("classify", master)).run().message


def _query(config: QueryConfig, master: str | None = None) -> str:
    return run_query(config)


def _update(config: UpdateConfig, master: str | None = None) -> str:
    return run_update(config, master)


def _status(config: StatusConfig, master: str | None = None) -> str:
    return run_status(config)


def _fetch(config: FetchConfig, master: str | None = None) -> str:
    return run_fetch(config)


def _vacuum(config: VacuumConfig, master: str | None = None) -> str:
    return run_vacuum(config)


def _gc(config: GcConfig, master: str | None = None) -> str:
    return run_gc(config)


def _report(config: ReportConfig, master: str | None = None) -> str:
    from tracer.report.build import run_report

    return run_report(config)


def _demo(args: argparse.Namespace) -> str:
    from tracer.demo import run_demo

    return run_demo(args.warehouse, args.master, args.work)


COMMANDS: dict[str, tuple[str, type | None, Callable]] = {
    "fetch": ("bring the newest finished dumps from a mirror, verified (resumes, retries)", FetchConfig, _fetch),
    "extract": ("Wikipedia dumps -> pages (clean text)", ExtractConfig, run_extract),
    "segment": ("pages -> segments of at most --max-tokens tokens", SegmentConfig, run_segment),
    "facts": ("mLAMA directory -> facts (one partition per language)", FactsConfig, run_facts),
    "trace": ("segments x facts -> fact_presence (--mode tokens|text)", TraceConfig, run_trace),
    "probe": ("facts x masked LM -> predictions, neurons (--protocol full-match|candidates)", ProbeConfig, run_probe),
    "langvec": (
        "a masked LM x sampled sentences -> language_vectors (LRP2's v_l per layer)",
        LangvecConfig,
        run_langvec,
    ),
    "lrp2-search": (
        "every LRP2 layer pair on TREx dev/test halves -> lrp2_search (chosen and oracle pairs)",
        SearchConfig,
        run_lrp2_search,
    ),
    "classify": (
        "fact_presence x predictions x neurons -> fact_classes, language_stats, language_pairs",
        ClassifyConfig,
        run_classify,
    ),
    "report": ("the classified tables -> one offline HTML report with its CSVs", ReportConfig, _report),
    "update": ("run what a dump directory, facts or models make new, in order, under a lock", UpdateConfig, _update),
    "status": ("per wiki and dump: which stages are done, pending or failed, and how old", StatusConfig, _status),
    "query": ("run SQL over the warehouse tables in embedded DuckDB", QueryConfig, _query),
    "vacuum": (
        "delete files no kept table version needs (and those of runs that never published)",
        VacuumConfig,
        _vacuum,
    ),
    "gc": ("drop all but the newest --keep snapshots per wiki, and what unfinished runs left", GcConfig, _gc),
    "demo": ("run every stage that exists on the bundled sample", None, _demo),
}


NO_SPARK = ("report", "query", "vacuum", "gc", "fetch", "status")  # commands that never start Spark: no --master


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
                "--warehouse", default="demo-warehouse", help="warehouse path or URI (default: demo-warehouse)"
            )
            p.add_argument(
                "--work", default=None, help="local directory for the demo's model and report (default: the warehouse)"
            )
        if name not in NO_SPARK:
            p.add_argument(
                "--master",
                default=None,
                help="Spark master (default: $FACTRACE_SPARK_MASTER, else local[*]; under spark-submit, its own)"
                + ("; used with --spark-tasks" if name == "probe" else ""),
            )
    return parser


def configure_logging(verbose: bool) -> None:
    """factrace's own messages at INFO (DEBUG with -v); other libraries' (py4j, urllib3) only from WARNING."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("factrace").setLevel(logging.DEBUG if verbose else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure ends in one line on stderr and a documented exit code (README)."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    _, config_cls, fn = COMMANDS[args.command]
    try:
        master = getattr(args, "master", None)
        message = fn(from_args(config_cls, args), master) if config_cls else fn(args)
    except FactraceError as err:
        return _failed(args, str(err), err.exit_code, getattr(err, "detail", ""))
    except KeyboardInterrupt:
        return _failed(args, "interrupted before any run started: nothing was written", Interrupted.exit_code)
    except Exception as err:  # noqa: BLE001 - an unexpected error is still one line (the trace under -v)
        line = f"internal error: {type(err).__name__}: {_first_line(err)}; rerun with -v for the trace, and report it"
        return _failed(args, line, EXIT_INTERNAL)
    print(message)
    return 0


def _failed(args: argparse.Namespace, line: str, code: int, detail: str = "") -> int:
    if args.verbose and sys.exc_info()[0] is not None:
        log.exception("factrace %s failed", args.command)
    if args.verbose and detail:
        print(detail, file=sys.stderr)
    print(f"factrace {args.command}: error: {line}", file=sys.stderr)
    return code


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else "(no message)"


if __name__ == "__main__":
    sys.exit(main())
