"""Reuse across dumps: an update that copies the pages and segments of unchanged pages from the previous dump
gives, row for row, the tables a full rebuild of the new dump gives. The new dump is derived from a real one:
pages edited, deleted, added, renamed, moved out of namespace 0 and turned into a redirect."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from schemas import FACT_PRESENCE, PAGES, QUARANTINE, RUNS, SEGMENTS
from tests.next_dump import derive_dump
from tracer.demo import DEMO_DATA
from tracer.update import UpdateConfig, run_update
from tracer.warehouse import Warehouse

pytestmark = [pytest.mark.spark, pytest.mark.shared_data]
SOURCE = "enwiki-sample-206p.xml.bz2"


def _verified(folder: Path) -> None:
    """What ``factrace fetch`` writes once every file of a dump folder matched its checksum."""
    sums = {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in folder.glob("*.bz2")}
    (folder / "verified.json").write_text(json.dumps(sums))


def _config(root: Path, tokenizer: Path) -> Path:
    config = root / "factrace.toml"
    config.write_text(
        f'warehouse = "wh"\ndumps = "dumps"\nwikis = ["enwiki"]\ntokenizer = "{tokenizer}"\n'
        f'mlama = "{DEMO_DATA / "mlama"}"\nmatch_modes = ["tokens", "text"]\n'
    )
    return config


def _rows(wh: Warehouse, dump: str) -> dict[str, list]:
    """The new dump's rows of every table it has, sorted, without run ids."""
    found = {}
    for table in (PAGES, SEGMENTS, FACT_PRESENCE, QUARANTINE):
        rows = wh.read(table, dump=dump).drop_columns([c for c in ("run_id",) if c in table.column_names])
        found[table.name] = sorted(repr(sorted(row.items())) for row in rows.to_pylist())
    return found


def _extra(wh: Warehouse, stage: str) -> dict:
    runs = [r for r in wh.read(RUNS).to_pylist() if r["stage"] == stage]
    return json.loads(max(runs, key=lambda r: r["started_at"])["extra"])


def test_update_copies_unchanged_pages_and_equals_a_full_rebuild(shared_data, xlmr_tokenizer_path, tmp_path):
    source = shared_data / "wiki" / SOURCE
    updated, rebuilt = tmp_path / "updated", tmp_path / "rebuilt"
    first = updated / "dumps" / "enwiki" / "20260101"
    first.mkdir(parents=True)
    shutil.copyfile(source, first / "enwiki-20260101-pages-articles.xml.bz2")
    _verified(first)
    config = _config(updated, xlmr_tokenizer_path)
    run_update(UpdateConfig(str(config)))

    name = "enwiki/20260201/enwiki-20260201-pages-articles.xml.bz2"
    changes = derive_dump(source, updated / "dumps" / name, seed=1)
    assert all((changes.edited, changes.deleted, changes.added, changes.renamed, changes.moved, changes.redirected))
    _verified((updated / "dumps" / name).parent)
    out = run_update(UpdateConfig(str(config)))
    assert f"{changes.kept:,} unchanged page(s) copied from dump(s) 20260101" in out

    (rebuilt / "dumps" / name).parent.mkdir(parents=True)
    shutil.copyfile(updated / "dumps" / name, rebuilt / "dumps" / name)
    _verified((rebuilt / "dumps" / name).parent)
    run_update(UpdateConfig(str(_config(rebuilt, xlmr_tokenizer_path))))

    wh, full = Warehouse(str(updated / "wh")), Warehouse(str(rebuilt / "wh"))
    assert _rows(wh, "20260201") == _rows(full, "20260201")
    assert len(_rows(wh, "20260201")["segments"]) > 0

    extract, segment = _extra(wh, "extract"), _extra(wh, "segment")
    recomputed = len(changes.edited) + len(changes.added) + len(changes.renamed)
    assert (extract["pages_reused"], extract["pages_cleaned"]) == (changes.kept, recomputed)
    assert (segment["pages_reused"], segment["pages_segmented"]) == (changes.kept, recomputed)
    assert extract["reused_from"] == {"pages/dump=20260201/wiki=enwiki": "20260101"}
    assert len(extract["cleaner_version"]) == 12 and len(segment["segmenter_version"]) == 12
    assert _extra(full, "extract")["pages_reused"] == 0  # the rebuild had nothing to copy from


def test_reuse_needs_the_same_code_and_settings(shared_data, xlmr_tokenizer_path, tmp_path):
    """Segments made with another length are never copied; ``--no-reuse`` recomputes everything."""
    from tracer.stages.common import LocalRunner
    from tracer.stages.extract import ExtractConfig, ExtractStage
    from tracer.stages.segment import SegmentConfig, SegmentStage

    source = shared_data / "wiki" / SOURCE
    derived = derive_dump(source, tmp_path / "next.xml.bz2", seed=2)
    wh, runner = str(tmp_path / "wh"), LocalRunner()
    ExtractStage(ExtractConfig(dumps=[str(source)], warehouse=wh, dump="20260101"), runner).run()
    SegmentStage(SegmentConfig(warehouse=wh, tokenizer=str(xlmr_tokenizer_path), max_tokens=128), runner).run()
    again = ExtractConfig(dumps=[str(tmp_path / "next.xml.bz2")], warehouse=wh, dump="20260201", wiki="enwiki")
    assert (
        "unchanged page(s) copied"
        not in ExtractStage(ExtractConfig(**{**vars(again), "reuse": False}), runner).run().message
    )
    assert f"{derived.kept:,} unchanged page(s) copied" in ExtractStage(again, runner).run().message
    other_length = SegmentConfig(warehouse=wh, tokenizer=str(xlmr_tokenizer_path), dumps=["20260201"])
    assert "copied" not in SegmentStage(other_length, runner).run().message
