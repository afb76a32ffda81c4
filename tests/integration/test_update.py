"""``factrace update``: the plan runs only what is missing, in order; nothing new is one line; a new verified dump
runs extract, segment and trace for it alone; an unverified folder is never extracted; a failing stage names
the wiki, dump and stage, keeps what succeeded, and the rerun resumes; a second update meets the lock."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
from pathlib import Path

import pytest

from schemas import FACT_PRESENCE, PAGES, RUNS, SEGMENTS
from tracer.cli import main
from tracer.demo import DEMO_DATA, build_wordpiece, sample_dumps
from tracer.errors import ConfigError, InputNotFound, NothingUsable
from tracer.gc import GcConfig, run_gc
from tracer.update import Settings, StatusConfig, UpdateConfig, plan, run_status, run_update
from tracer.warehouse import Warehouse

pytestmark = pytest.mark.spark
WIKIS = ("enwiki", "jawiki")


def add_dump(dumps: Path, wiki: str, date: str, source: Path, verified: bool = True) -> Path:
    folder = dumps / wiki / date
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{wiki}-{date}-pages-articles.xml"
    shutil.copyfile(source, target)
    if verified:  # what factrace fetch writes once a file's sha1 matched
        (folder / "verified.json").write_text(json.dumps({target.name: hashlib.sha1(target.read_bytes()).hexdigest()}))
    return target


@pytest.fixture
def setup(tmp_path):
    sources = {Path(p).name.split("-")[0]: Path(p) for p in sample_dumps()}
    dumps = tmp_path / "dumps"
    for wiki in WIKIS:
        add_dump(dumps, wiki, "20260101", sources[wiki])
    tok = build_wordpiece([sources[w].read_text(encoding="utf-8") for w in WIKIS], tmp_path / "tok" / "tokenizer.json")
    config = tmp_path / "factrace.toml"
    config.write_text(
        f'warehouse = "wh"\ndumps = "dumps"\nwikis = {json.dumps(list(WIKIS))}\ntokenizer = "{tok}"\n'
        f'mlama = "{DEMO_DATA / "mlama"}"\nmatch_modes = ["tokens"]\n'
    )
    return tmp_path, config, sources


def steps_of(config: Path) -> list[tuple[str, str]]:
    return [(s.stage, s.what) for s in plan(Settings.load(str(config)))[0]]


def test_update_runs_what_is_missing_and_only_that(setup):
    root, config, sources = setup
    dry = run_update(UpdateConfig(str(config), dry_run=True))
    assert dry.splitlines()[0] == "update (dry run): 6 step(s)"
    assert steps_of(config) == [
        ("facts", "en, ja"), ("extract", "enwiki 20260101"), ("segment", "enwiki 20260101"),
        ("extract", "jawiki 20260101"), ("segment", "jawiki 20260101"), ("trace", "tokens 20260101"),
    ]  # fmt: skip
    assert not (root / "wh").exists()  # a dry run writes nothing
    out = run_update(UpdateConfig(str(config)))
    assert out.splitlines()[0] == "update: 6 step(s)" and "trace (tokens):" in out
    assert run_update(UpdateConfig(str(config))) == "update: nothing new"

    add_dump(root / "dumps", "enwiki", "20260201", sources["enwiki"], verified=False)  # still being fetched
    assert run_update(UpdateConfig(str(config))) == "update: nothing new"
    add_dump(root / "dumps", "enwiki", "20260201", sources["enwiki"])
    assert steps_of(config) == [
        ("extract", "enwiki 20260201"), ("segment", "enwiki 20260201"), ("trace", "tokens 20260201"),
    ]  # fmt: skip
    run_update(UpdateConfig(str(config)))
    wh = Warehouse(str(root / "wh"))
    assert {(v["wiki"], v["dump"]) for v in wh.partitions(PAGES)} == {
        ("enwiki", "20260101"), ("jawiki", "20260101"), ("enwiki", "20260201"),
    }  # fmt: skip
    assert len(wh.partitions(SEGMENTS)) == 3 and {v["dump"] for v in wh.partitions(FACT_PRESENCE)} == {
        "20260101", "20260201",
    }  # fmt: skip
    assert run_update(UpdateConfig(str(config))) == "update: nothing new"
    from tracer.query import QueryConfig, run_query

    sql = "SELECT wiki, dump FROM pages GROUP BY ALL ORDER BY wiki"
    latest = run_query(QueryConfig(sql, str(root / "wh"), format="csv"))
    assert latest.splitlines()[1:] == ["enwiki,20260201", "jawiki,20260101"]  # the newest dump of each wiki
    chosen = run_query(QueryConfig(sql, str(root / "wh"), format="csv", dump="20260101"))
    assert chosen.splitlines()[1:] == ["enwiki,20260101", "jawiki,20260101"]
    with pytest.raises(InputNotFound, match="--dump 20991231: no table holds that dump; there are 20260101, 20260201"):
        run_query(QueryConfig(sql, str(root / "wh"), dump="20991231"))

    # lineage: each run names the runs whose files it read, the code that ran and its config's digest
    runs = Warehouse(str(root / "wh")).read(RUNS).to_pylist()
    [extract] = [
        r for r in runs if r["stage"] == "extract" and '"enwiki"' in r["parameters"] and "0201" in r["parameters"]
    ]
    [segment] = [
        r for r in runs if r["stage"] == "segment" and "enwiki" in r["parameters"] and "0201" in r["parameters"]
    ]
    earlier = [
        r["run_id"]
        for r in runs
        if r["stage"] == "extract" and "enwiki" in r["parameters"] and "0101" in r["parameters"]
    ]
    assert extract["parents"] == earlier  # it copied unchanged pages from the January pages
    assert extract["run_id"] in segment["parents"]
    assert all(r["code_version"] == runs[0]["code_version"] and len(r["config_sha256"]) == 64 for r in runs)

    # gc keeps the newest snapshot of each wiki and any dump a report reads
    Warehouse(str(root / "wh")).note_report(str(root / "report"), {"dump": "20260101", "model": "m", "protocol": "p"})
    assert run_gc(GcConfig(str(root / "wh"), keep=1)).startswith("gc: dropped no snapshot")
    shutil.rmtree(root / "wh" / "_reports")
    assert run_gc(GcConfig(str(root / "wh"), keep=1, dry_run=True)).startswith(
        "gc (dry run): would drop enwiki 20260101"
    )
    assert run_gc(GcConfig(str(root / "wh"), keep=1)).startswith("gc: dropped enwiki 20260101 (")
    wh = Warehouse(str(root / "wh"))
    assert {(v["wiki"], v["dump"]) for v in wh.partitions(PAGES)} == {("enwiki", "20260201"), ("jawiki", "20260101")}
    assert {(v["lang"], v["dump"]) for v in wh.partitions(FACT_PRESENCE)} == {("en", "20260201"), ("ja", "20260101")}
    assert run_update(UpdateConfig(str(config))) == "update: nothing new"  # a dropped dump is not built again
    assert "enwiki     20260101  dropped by factrace gc" in run_status(StatusConfig(str(config)))


def test_a_failing_stage_names_itself_keeps_what_succeeded_and_the_rerun_resumes(setup):
    root, config, sources = setup
    broken = add_dump(root / "dumps", "jawiki", "20260101", sources["jawiki"])
    broken.write_bytes(b"")
    (broken.parent / "verified.json").write_text(json.dumps({broken.name: hashlib.sha1(b"").hexdigest()}))
    with pytest.raises(NothingUsable, match=r"^update: extract jawiki 20260101 failed: .*rerun to resume"):
        run_update(UpdateConfig(str(config)))
    assert ("extract", "enwiki 20260101") not in steps_of(config)  # what succeeded stays done
    add_dump(root / "dumps", "jawiki", "20260101", sources["jawiki"])
    assert steps_of(config)[0] == ("extract", "jawiki 20260101")
    run_update(UpdateConfig(str(config)))
    assert run_update(UpdateConfig(str(config))) == "update: nothing new"


def test_config_errors_and_the_lock_are_one_line(setup, capsys):
    root, config, _ = setup
    bad = root / "bad.toml"
    bad.write_text(config.read_text() + 'colour = "blue"\n')
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        Settings.load(str(bad))
    bad.write_text("\n".join(line for line in config.read_text().splitlines() if not line.startswith("mlama")))
    with pytest.raises(ConfigError, match="missing required key 'mlama'"):
        Settings.load(str(bad))
    lock = root / "wh" / "_locks" / "update.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": "2026-11-25T03:00"}))
    assert main(["update", "--config", str(config)]) == 75
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "another update holds" in line and f"pid {os.getpid()}" in line and "run it again later" in line
    lock.write_text(json.dumps({"pid": 2**22 + 12345, "host": socket.gethostname(), "since": "yesterday"}))
    assert main(["update", "--config", str(config), "--dry-run"]) == 0  # a dry run takes no lock
    assert main(["update", "--config", str(config)]) == 0  # the dead holder's lock is taken over
    assert not lock.exists()


def test_status_says_what_is_done_pending_or_failed(setup):
    from datetime import UTC, datetime, timedelta

    from tracer.update import status

    root, config, sources = setup
    settings = Settings.load(str(config))
    assert (
        status(settings, datetime.now(UTC))
        .splitlines()[0]
        .startswith("enwiki     20260101  extract pending (new dump), segment pending (new pages), trace pending")
    )
    broken = add_dump(root / "dumps", "jawiki", "20260101", sources["jawiki"])
    broken.write_bytes(b"")
    (broken.parent / "verified.json").write_text(json.dumps({broken.name: hashlib.sha1(b"").hexdigest()}))
    with pytest.raises(NothingUsable):
        run_update(UpdateConfig(str(config)))
    lines = status(settings, datetime.now(UTC) + timedelta(hours=2)).splitlines()
    assert (
        lines[0]
        == "enwiki     20260101  extract done 2h ago, segment done 2h ago, trace pending (new segments or new facts)"
    )
    assert lines[1].startswith("jawiki     20260101  extract failed (")
    assert lines[2] == "facts, probe and classify: up to date"
    # without the config: what the warehouse holds (jawiki was never extracted, so it is not there)
    from tracer.update import warehouse_status

    later = datetime.now(UTC) + timedelta(hours=2)
    held = warehouse_status(Warehouse(str(root / "wh")), later)
    assert held == "enwiki     20260101  extract done 2h ago, segment done 2h ago, trace missing"
    with pytest.raises(ConfigError, match="give --config or --warehouse, one of them"):
        StatusConfig()


def test_each_planned_step_is_a_command_that_parses_back_to_its_config(setup):
    """What the Airflow DAG (jobs/schedule/factrace_update_dag.py) and ``--dry-run --commands`` run."""
    import shlex

    from tracer.cli import COMMANDS, build_parser
    from tracer.config import from_args

    _, config, _ = setup
    steps, _ = plan(Settings.load(str(config)))
    for step in steps:
        args = build_parser().parse_args(step.argv())
        assert from_args(COMMANDS[step.stage][1], args) == step.config
    printed = run_update(UpdateConfig(str(config), dry_run=True, commands=True)).splitlines()
    assert printed == [shlex.join(["factrace", *s.argv()]) for s in steps]
    assert printed[1].startswith("factrace extract ") and printed[1].endswith(" --wiki enwiki --dump 20260101")
