"""What an update costs against a full rebuild, measured in one run.

Every real sample dump of a traced language is the "previous month" (dump 20260101). A "next month"
(20260201) is derived from each: 5 % of the articles edited, 1 % deleted, 1 % added (tests/next_dump.py).
Three warehouses, all with the same facts, XLM-R segments and the match modes asked for, built by
``factrace update`` in one Spark session:

* ``update``: holds the previous month; the timed update extracts, segments and traces the next month,
  copying unchanged pages from the previous month;
* ``rebuild``: holds only the facts; the timed update builds the next month from scratch;
* ``retrace``: the ``update`` warehouse after a new fact set (one mLAMA file changed): the timed update
  reruns facts and re-traces both months without segmenting anything.

Ratios: ``update / rebuild`` (target ≤ 0.35) and ``retrace / rebuild of both months`` (target ≤ 0.10).
The stage times come from ``runs`` (each stage's wall time) and the executor task times in its ``extra``.

    python bench/update.py [--master local[1]] [--scale 8] [--match-modes tokens text]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from _common import OUT, REPO, Timer, emit, shared
from scale import replicated, split_dump

sys.path.insert(0, str(REPO))

from schemas import RUNS
from tests.next_dump import derive_dump
from tracer.spark.session import spark_session
from tracer.tokenization import loading
from tracer.update import UpdateConfig, run_update
from tracer.warehouse import Warehouse

WIKIS = {"enwiki": "enwiki-sample-206p", "jawiki": "jawiki-sample", "ukwiki": "ukwiki-sample",
         "hywiki": "hywiki-sample", "viwiki": "viwiki-sample", "mrwiki": "mrwiki-sample"}  # fmt: skip
LANGS = ("en", "ja", "uk", "hy", "vi")  # mr has no mLAMA facts: mrwiki is extracted and segmented only
PREVIOUS, NEXT = "20260101", "20260201"


def add_dump(dumps: Path, wiki: str, date: str, source: Path, scale: int, derive: bool = False) -> dict:
    """The dump of ``wiki`` for ``date``: ``source`` as it is (scale 1, bz2) or each page ``scale`` times
    (uncompressed, page ids offset by 10⁹ per copy, as bench/scale.py does); ``derive``: the next month of it."""
    folder = dumps / wiki / date
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{wiki}-{date}-pages-articles.xml{'.bz2' if scale == 1 else ''}"
    changes = {}
    if derive:
        found = derive_dump(source, target, seed=7, edit=0.05, delete=0.01, add=0.01)
        changes = {k: len(v) if isinstance(v, list) else v for k, v in vars(found).items()}
    elif scale == 1:
        shutil.copyfile(source, target)
    else:
        head, pages, _ = split_dump(source, 10**9)
        target.write_bytes(replicated(head, pages, scale))
    (folder / "verified.json").write_text(json.dumps({target.name: hashlib.sha1(target.read_bytes()).hexdigest()}))
    return changes


def mlama_subset(target: Path, changed: bool) -> Path:
    """The traced languages of mLAMA 1.1 (links to the shared files); ``changed``: one line of one file dropped."""
    source = shared() / "mlama1.1"
    shutil.rmtree(target, ignore_errors=True)
    for lang in LANGS:
        (target / lang).mkdir(parents=True)
        for file in sorted((source / lang).iterdir()):
            (target / lang / file.name).symlink_to(file)
    if changed:
        first = sorted((target / "en").glob("P*.jsonl"))[0]
        lines = first.read_text(encoding="utf-8").splitlines(keepends=True)
        first.unlink()
        first.write_text("".join(lines[1:]), encoding="utf-8")
    return target


def write_config(root: Path, mlama: Path, modes: list[str]) -> Path:
    config = root / "factrace.toml"
    tokenizer = shared() / "tokenizers" / "xlm-roberta-tokenizer.json"
    config.write_text(
        f'warehouse = "wh"\ndumps = "dumps"\nwikis = {json.dumps(list(WIKIS))}\ntokenizer = "{tokenizer}"\n'
        f'mlama = "{mlama}"\nmatch_modes = {json.dumps(modes)}\n'
    )
    return config


def timed_update(config: Path, master: str) -> tuple[float, str]:
    """One update in a Spark session of its own, started before the clock: no Python worker (and no matcher or
    tokenizer an executor caches) is left from an earlier run, as for an update cron starts."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    spark_session("bench-update", master)
    loading._LOADED.clear()  # nor a tokenizer the driver loaded for an earlier run
    with Timer() as t:
        out = run_update(UpdateConfig(str(config)), master)
    return t.seconds, out


def stage_seconds(wh: Path, after: str) -> dict[str, float]:
    """Wall seconds per stage of the runs that started after ``after`` (an ISO time)."""
    seconds: dict[str, float] = {}
    for row in Warehouse(str(wh)).read(RUNS).to_pylist():
        if row["started_at"].isoformat() > after:
            seconds[row["stage"]] = round(seconds.get(row["stage"], 0.0) + row["duration_s"], 2)
    return seconds


def reuse_counts(wh: Path, after: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in Warehouse(str(wh)).read(RUNS).to_pylist():
        extra = json.loads(row["extra"] or "{}")
        if row["started_at"].isoformat() > after and "pages_reused" in extra:
            mine = counts.setdefault(row["stage"], {})
            for key in ("pages_reused", "pages_cleaned", "pages_segmented"):
                if key in extra:
                    mine[key] = mine.get(key, 0) + extra[key]
    return counts


def latest_start(wh: Path) -> str:
    return max(r["started_at"] for r in Warehouse(str(wh)).read(RUNS).to_pylist()).isoformat()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--master", default="local[1]")
    parser.add_argument("--scale", type=int, default=1, help="every page this many times (fixed costs fade)")
    parser.add_argument("--match-modes", nargs="+", default=["tokens"], help="what the update traces (tokens: default)")
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    work = OUT / f"update-x{args.scale}"
    shutil.rmtree(work, ignore_errors=True)
    wiki_dir = shared() / "wiki"
    mlama = mlama_subset(work / "mlama", changed=False)

    updated, rebuilt = work / "update", work / "rebuild"
    for wiki, name in WIKIS.items():
        add_dump(updated / "dumps", wiki, PREVIOUS, wiki_dir / f"{name}.xml.bz2", args.scale)
    previous_seconds, _ = timed_update(write_config(updated, mlama, args.match_modes), args.master)
    previous_stages = stage_seconds(updated / "wh", "")

    changes = {}
    for wiki in WIKIS:
        previous = next((updated / "dumps" / wiki / PREVIOUS).glob("*pages-articles*"))
        changes[wiki] = add_dump(updated / "dumps", wiki, NEXT, previous, args.scale, derive=True)
        shutil.copytree(updated / "dumps" / wiki / NEXT, rebuilt / "dumps" / wiki / NEXT)
    rebuild_config = write_config(rebuilt, mlama, args.match_modes)
    # the rebuild warehouse gets its facts first, untimed: both timed runs then do the same stages
    from tracer.update import Settings, plan

    facts_step = next(s for s in plan(Settings.load(str(rebuild_config)))[0] if s.stage == "facts")
    from tracer.stages.common import LocalRunner
    from tracer.stages.facts import FactsStage

    FactsStage(facts_step.config, LocalRunner()).run()

    mark = latest_start(updated / "wh")
    update_seconds, update_out = timed_update(write_config(updated, mlama, args.match_modes), args.master)
    update_stages, reused = stage_seconds(updated / "wh", mark), reuse_counts(updated / "wh", mark)
    mark_rebuild = latest_start(rebuilt / "wh")
    rebuild_seconds, _ = timed_update(rebuild_config, args.master)
    rebuild_stages = stage_seconds(rebuilt / "wh", mark_rebuild)

    mlama_subset(work / "mlama", changed=True)
    mark = latest_start(updated / "wh")
    retrace_seconds, retrace_out = timed_update(write_config(updated, mlama, args.match_modes), args.master)
    retrace_stages = stage_seconds(updated / "wh", mark)
    both_months = rebuild_seconds + previous_seconds - previous_stages.get("facts", 0.0)
    emit({
        "benchmark": "update",
        "master": args.master,
        "scale": args.scale,
        "match_modes": args.match_modes,
        "wikis": list(WIKIS),
        "changes": changes,
        "update_s": round(update_seconds, 2),
        "rebuild_s": round(rebuild_seconds, 2),
        "update_over_rebuild": round(update_seconds / rebuild_seconds, 3),
        "update_stages_s": update_stages,
        "rebuild_stages_s": rebuild_stages,
        "reuse": reused,
        "retrace_s": round(retrace_seconds, 2),
        "retrace_stages_s": retrace_stages,
        "rebuild_both_months_s": round(both_months, 2),
        "retrace_over_rebuild_both": round(retrace_seconds / both_months, 3),
        "update_summary": update_out.splitlines(),
        "retrace_summary": retrace_out.splitlines()[:1],
    })  # fmt: skip


if __name__ == "__main__":
    main()
