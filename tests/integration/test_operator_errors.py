"""Every failure a user can cause ends in one line that names the input and what to do, with its exit code
(README, "Exit codes"), and comes before Spark starts where the inputs can tell."""

import json

import pytest

import tracer.spark.session
from schemas import PAGES, PREDICTIONS, QUARANTINE, RUNS, SEGMENTS
from schemas.arrow import arrow_schema
from tests.helpers import damage_a_published_file, dump_xml, page_xml, train_wordpiece, write_dump, write_mlama
from tracer.cli import main
from tracer.stages.common import LocalRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.warehouse import Warehouse

PAGES_XML = [page_xml(i, f"Town {i}", f"Town {i} lies in Region {i % 3}. " * 20) for i in range(1, 6)]


@pytest.fixture
def no_spark(monkeypatch):
    """These failures must come before the JVM starts."""

    def refuse(*args, **kwargs):
        raise AssertionError("Spark was started for an error the inputs could tell")

    monkeypatch.setattr(tracer.spark.session, "spark_session", refuse)


@pytest.fixture
def warehouse(tmp_path):
    """A warehouse with pages and facts, built without Spark."""
    dump = write_dump(tmp_path / "testwiki-20240101.xml", dump_xml(PAGES_XML))
    wh = tmp_path / "wh"
    ExtractStage(ExtractConfig(dumps=[str(dump)], warehouse=str(wh)), LocalRunner()).run()
    write_mlama(tmp_path / "mlama", "test", {"P131": [("Town 1", "Region 1")]})
    FactsStage(FactsConfig(mlama=str(tmp_path / "mlama"), warehouse=str(wh)), LocalRunner()).run()
    return wh


@pytest.fixture
def tokenizer(tmp_path):
    path = tmp_path / "tok.json"
    train_wordpiece([f"Town {i} lies in Region {i % 3}." for i in range(30)], vocab_size=120).save(str(path))
    return path


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line, no trace
    return err[0]


def test_a_file_that_is_no_tokenizer(no_spark, warehouse, tmp_path, capsys):
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"not": "a tokenizer"}')
    assert main(["segment", "--warehouse", str(warehouse), "--tokenizer", str(bad)]) == 3
    assert f"{bad} is not a tokenizer.json" in error_line(capsys)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("a\nb\nc\n")
    assert main(["segment", "--warehouse", str(warehouse), "--tokenizer", str(vocab)]) == 3
    assert f"{vocab} is not a BERT WordPiece vocabulary" in error_line(capsys)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["segment", "--tokenizer", "t.json", "--max-tokens", "0"], "--max-tokens must be at least 1, got 0"),
        (["trace", "--evidence", "-1"], "--evidence must be 0 or more, got -1"),
        (["extract", "x.xml", "--split-mb", "0"], "--split-mb must be positive, got 0.0"),
        (["probe", "--model", "m", "--top-k", "0"], "--top-k must be at least 1, got 0"),
        (["probe", "--model", "m", "--shard", "3/2"], "--shard 3/2: need 0 <= i < n"),
        (["classify", "--model", "m", "--alpha", "2"], "--alpha must be in (0, 1), got 2.0"),
    ],
)
def test_bad_values_are_refused_when_the_config_is_built(no_spark, tmp_path, capsys, argv, message):
    assert main([*argv, "--warehouse", str(tmp_path / "wh")]) == 2
    assert message in error_line(capsys)
    assert not (tmp_path / "wh").exists()


def test_a_mistyped_warehouse_is_not_created(no_spark, tmp_path, tokenizer, capsys):
    missing = tmp_path / "whx"
    assert main(["segment", "--warehouse", str(missing), "--tokenizer", str(tokenizer)]) == 3
    assert f"warehouse {missing} does not exist: check --warehouse" in error_line(capsys)
    assert not missing.exists()
    for argv in (["trace"], ["classify", "--model", "m"], ["query", "SELECT 1"], ["probe", "--model", str(tmp_path)]):
        assert main([*argv, "--warehouse", str(missing)]) == 3, argv
        assert "does not exist" in error_line(capsys)
    assert not missing.exists()


def test_a_directory_given_as_a_dump(no_spark, tmp_path, capsys):
    assert main(["extract", str(tmp_path), "--warehouse", str(tmp_path / "wh")]) == 3
    assert f"dump {tmp_path} is a directory: name the dump files in it" in error_line(capsys)


def test_trace_lists_the_languages_that_have_facts(no_spark, warehouse, capsys):
    assert main(["trace", "--warehouse", str(warehouse), "--langs", "xx"]) == 3
    assert "no facts in" in (line := error_line(capsys)) and "languages with facts: test" in line


def test_classify_lists_the_probed_model_ids(no_spark, warehouse, capsys):
    assert main(["classify", "--warehouse", str(warehouse), "--model", "nope"]) == 3
    assert "probed model ids: none (run factrace probe first)" in error_line(capsys)
    values = {"model": "tiny-1234", "lang": "test", "protocol": "full-match", "intervention": "none"}
    values["rules"] = "default"
    Warehouse(str(warehouse)).put(PREDICTIONS, values, arrow_schema(PREDICTIONS).empty_table())
    assert main(["classify", "--warehouse", str(warehouse), "--model", "nope"]) == 3
    assert "probed model ids: tiny-1234" in error_line(capsys)


def test_query_refuses_an_empty_warehouse_and_two_statements(no_spark, warehouse, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["query", "SELECT 1", "--warehouse", str(empty)]) == 3
    assert "holds no table yet" in error_line(capsys)
    assert main(["query", "SELECT 1; DROP VIEW pages", "--warehouse", str(warehouse)]) == 2
    assert "exactly one SQL statement; got 2" in error_line(capsys)
    assert main(["query", "SELEC 1", "--warehouse", str(warehouse)]) == 2
    assert "query failed: Parser Error" in error_line(capsys)


def test_a_corrupt_pages_file_is_quarantined_and_the_rest_segmented(warehouse, tokenizer, tmp_path):
    wh = Warehouse(warehouse)
    values = wh.partitions(PAGES)[0]
    damage_a_published_file(wh, PAGES, values, "part-999-00000.parquet")
    result = SegmentStage(SegmentConfig(warehouse=str(warehouse), tokenizer=str(tokenizer)), LocalRunner()).run()
    assert "5 pages ->" in result.message and "1 quarantined (1 unreadable_pages)" in result.message
    [problem] = [q for q in wh.read(QUARANTINE).to_pylist() if q["stage"] == "segment"]
    assert problem["reason"] == "unreadable_pages" and problem["source"].endswith("part-999-00000.parquet")
    run = result.run
    assert run["records_in"] == run["records_out"] + run["records_quarantined"]


class Interrupting:
    """A runner whose tasks are interrupted, as Ctrl-C interrupts a Spark job."""

    parallelism = 1

    def map(self, fn, tasks, description, work=None):
        raise KeyboardInterrupt


class Failing:
    parallelism = 1

    def map(self, fn, tasks, description, work=None):
        return LocalRunner().map(_explode, tasks, description)


def _explode(task: dict) -> dict:
    raise ValueError("the tokenizer ran out of ids")


@pytest.mark.parametrize("runner", [Interrupting, Failing])
def test_an_interrupt_or_a_task_failure_is_one_line_and_a_runs_row(monkeypatch, warehouse, tokenizer, capsys, runner):
    monkeypatch.setattr("tracer.cli._spark_runner", lambda app, master: runner())
    code = main(["segment", "--warehouse", str(warehouse), "--tokenizer", str(tokenizer)])
    line = error_line(capsys)
    [row] = [r for r in Warehouse(warehouse).read(RUNS).to_pylist() if r["stage"] == "segment"]
    if runner is Interrupting:
        assert code == 130
        assert (
            line
            == f"factrace segment: error: interrupted: run {row['run_id']} published nothing; rerun the same command"
        )
        assert row["status"] == "aborted"
    else:
        assert code == 7
        assert "segment task 1 of 1" in line and "failed: ValueError: the tokenizer ran out of ids" in line
        assert row["status"] == "failed" and "the tokenizer ran out of ids" in row["message"]
    assert not Warehouse(warehouse).partitions(SEGMENTS)


def test_a_trace_appears_only_under_verbose(monkeypatch, warehouse, tokenizer, capsys):
    monkeypatch.setattr("tracer.cli._spark_runner", lambda app, master: Failing())
    assert main(["-v", "segment", "--warehouse", str(warehouse), "--tokenizer", str(tokenizer)]) == 7
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("factrace segment: error:")


@pytest.mark.spark
def test_an_executor_error_comes_back_as_its_own_message(spark):
    from tracer.errors import InputNotFound, TaskFailed
    from tracer.spark.runner import SparkRunner

    with pytest.raises(TaskFailed, match=r"demo task 2 of 2 \(b.parquet\) failed: ValueError: bad row 7$") as info:
        SparkRunner(spark).map(_fail_on_b, [{"pages_file": "a.parquet"}, {"pages_file": "b.parquet"}], "demo")
    assert "Traceback" in info.value.detail and "_fail_on_b" in info.value.detail
    with pytest.raises(InputNotFound, match="facts file gone"):
        SparkRunner(spark).map(_missing_input, [{"lang": "en"}], "demo")


def _fail_on_b(task: dict) -> dict:
    if task["pages_file"] == "b.parquet":
        raise ValueError("bad row 7")
    return {"ok": json.dumps(task)}


def _missing_input(task: dict) -> dict:
    from tracer.errors import InputNotFound

    raise InputNotFound("facts file gone")
