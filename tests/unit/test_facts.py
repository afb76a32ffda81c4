"""The mLAMA reader and the facts stage: every line becomes a fact or a quarantined record with a reason."""

from __future__ import annotations

import json

import pytest

from schemas import FACTS, QUARANTINE, RUNS
from tests.helpers import write_mlama
from tracer.errors import InputNotFound
from tracer.facts.mlama import MAX_LINE_BYTES, MlamaReader
from tracer.records import Fact, Quarantined
from tracer.runs import reconciles
from tracer.stages.common import LocalRunner
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.warehouse import Warehouse


def test_reads_facts_with_templates_and_datasets(tmp_path):
    write_mlama(tmp_path, "en", {"P36": [("France", "Paris")], "place_of_birth": [("Curie", "Warsaw")]})
    facts = list(MlamaReader(tmp_path).read("en"))
    assert [type(f) for f in facts] == [Fact, Fact]
    assert {(f.relation, f.dataset, f.template) for f in facts} == {
        ("P36", "TREx", "[X] is related to [Y] ."),
        ("place_of_birth", "GoogleRE", "[X] is related to [Y] ."),
    }


def test_bad_lines_are_quarantined_with_reasons_and_good_ones_kept(tmp_path):
    d = write_mlama(tmp_path, "en", {"P17": [("Berlin", "Germany"), ("  Padded  ", "Country")]})
    good = {"sub_uri": "Q1", "obj_uri": "Q2", "sub_label": "A", "obj_label": "B"}
    lines = [
        b"\xef\xbb\xbf" + json.dumps({**good, "uuid": "bom"}).encode(),  # BOM on line 1: fine
        b"",  # blank: not a record
        b"{not json",
        json.dumps({**good, "uuid": "u1", "sub_label": "   "}).encode(),
        json.dumps({**good, "uuid": "u2", "obj_label": ""}).encode(),
        json.dumps({"uuid": "u3", "sub_label": "A"}).encode(),
        json.dumps([1, 2]).encode(),
        b'{"uuid": "u4", "sub_label": "\xff\xfe"}',
        json.dumps({**good, "uuid": "bom"}).encode(),  # duplicate uuid
        b'{"x": "' + b"a" * (MAX_LINE_BYTES + 10) + b'"}',
        json.dumps({**good, "uuid": "last"}).encode(),
    ]
    (d / "P31.jsonl").write_bytes(b"\n".join(lines))  # no final newline
    (d / "P530.jsonl").write_bytes(b"")  # empty relation file: fine
    records = list(MlamaReader(tmp_path).read("en"))
    facts = [r for r in records if isinstance(r, Fact)]
    bad = [r for r in records if isinstance(r, Quarantined)]
    assert {f.uuid for f in facts} == {"P17-0", "P17-1", "bom", "last"}
    assert next(f for f in facts if f.uuid == "P17-1").subject_label == "Padded"
    assert next(f for f in facts if f.uuid == "bom").template is None  # P31 has no template: kept
    assert sorted((b.position, b.reason) for b in bad) == [
        (3, "malformed_json"),
        (4, "empty_label"),
        (5, "empty_label"),
        (6, "missing_field"),
        (7, "malformed_json"),
        (8, "invalid_utf8"),
        (9, "duplicate_uuid"),
        (10, "line_too_long"),
    ]
    assert all(b.source == "en/P31.jsonl" and b.detail for b in bad)


def test_bad_templates_are_quarantined(tmp_path):
    d = write_mlama(tmp_path, "fr", {"P17": [("Berlin", "Allemagne")]}, templates=False)
    rows = [
        {"relation": "P17", "template": "[X] sans objet"},
        {"relation": "P17"},
        {"relation": "P19", "template": "[X] [Y]"},
    ]
    (d / "templates.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    records = list(MlamaReader(tmp_path).read("fr"))
    assert sorted(r.reason for r in records if isinstance(r, Quarantined)) == ["bad_template", "missing_field"]
    assert [r.template for r in records if isinstance(r, Fact)] == [None]


def test_stage_writes_partitions_quarantine_and_a_reconciled_run(tmp_path):
    root = tmp_path / "mlama"
    write_mlama(root, "en", {"P17": [("Berlin", "Germany"), ("Paris", "France")]})
    d = write_mlama(root, "de", {"P17": [("Berlin", "Deutschland")]})
    (d / "P19.jsonl").write_text('{"uuid": "x"}\n')
    wh = tmp_path / "wh"
    result = FactsStage(FactsConfig(mlama=str(root), warehouse=str(wh)), LocalRunner()).run()
    w = Warehouse(wh)
    assert [p["lang"] for p in w.partitions(FACTS)] == ["de", "en"]
    assert w.read(FACTS, lang="en").num_rows == 2
    assert w.read(QUARANTINE, stage="facts").column("reason").to_pylist() == ["missing_field"]
    run = w.read(RUNS).to_pylist()[0]
    assert reconciles(run)
    assert run["records_in"] == 4 == run["records_out"] + run["records_quarantined"]
    assert "3 facts in 2 language(s)" in result.message and "1 missing_field" in result.message
    again = FactsStage(FactsConfig(mlama=str(root), warehouse=str(wh)), LocalRunner()).run()
    assert again.run["records_out"] == 3
    assert w.read(FACTS).sort_by("uuid").equals(w.read(FACTS).sort_by("uuid"))
    assert w.read(QUARANTINE, stage="facts").num_rows == 1  # rerun replaces, does not append


def test_unknown_language_and_missing_directory_are_clear_errors(tmp_path):
    write_mlama(tmp_path, "en", {"P17": [("Berlin", "Germany")]})
    with pytest.raises(InputNotFound, match="no language directory for \\['xx'\\]"):
        FactsStage(FactsConfig(mlama=str(tmp_path), warehouse=str(tmp_path / "wh"), langs=["xx"]), LocalRunner()).run()
    with pytest.raises(InputNotFound, match="does not exist"):
        MlamaReader(tmp_path / "nope")
