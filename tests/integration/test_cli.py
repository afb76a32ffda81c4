"""The factrace CLI on Spark local[2]: exit codes, one-line summaries, idempotent reruns."""

import pytest

from schemas import FACT_PRESENCE, PAGES, QUARANTINE, SEGMENTS
from tests.helpers import dump_xml, page_xml, train_wordpiece, write_dump, write_mlama
from tracer.cli import main
from tracer.warehouse import Warehouse

pytestmark = pytest.mark.spark

PAGES_XML = [page_xml(i, f"Page {i}", f"Page {i} is about [[topic {i}]]. " * 400) for i in range(1, 30)]


def sorted_rows(table):
    return sorted(table.to_pylist(), key=lambda r: tuple(str(v) for v in r.values()))


def test_extract_and_segment_through_the_cli(spark, tmp_path, capsys):
    dump = write_dump(tmp_path / "testwiki-20240101-pages-articles.xml.bz2", dump_xml(PAGES_XML), compress=True)
    truncated = write_dump(tmp_path / "otherwiki-20240101.xml", dump_xml(PAGES_XML[:3], dbname="otherwiki")[:-40])
    wh = tmp_path / "wh"
    assert main(["extract", str(dump), str(truncated), "--warehouse", str(wh), "--split-mb", "0.001"]) == 0
    out = capsys.readouterr().out
    assert "extract: 31 pages written" in out and "1 quarantined (1 truncated)" in out
    w = Warehouse(wh)
    assert len(w.files(PAGES, {"dump": "20240101", "wiki": "testwiki"})) > 1, "the dump was read by one task only"
    [q] = w.read(QUARANTINE).to_pylist()
    assert q["reason"] == "truncated" and q["scope"] == "otherwiki" and q["record_id"] == "3"

    tok = train_wordpiece(w.read(PAGES)["text"].to_pylist(), vocab_size=300)
    tok_path = tmp_path / "tok.json"
    tok.save(str(tok_path))
    assert main(["segment", "--warehouse", str(wh), "--tokenizer", str(tok_path), "--max-tokens", "64"]) == 0
    assert "segment: 31 pages ->" in capsys.readouterr().out
    first = sorted_rows(w.read(SEGMENTS))
    assert all(r["token_count"] <= 64 for r in first)

    assert main(["extract", str(dump), str(truncated), "--warehouse", str(wh), "--split-mb", "0.001"]) == 0
    assert main(["segment", "--warehouse", str(wh), "--tokenizer", str(tok_path), "--max-tokens", "64"]) == 0
    assert sorted_rows(w.read(SEGMENTS)) == first
    assert len(w.read(QUARANTINE)) == 1


def test_nothing_usable_exits_non_zero_with_one_readable_line(spark, tmp_path, capsys):
    empty = write_dump(tmp_path / "testwiki.xml.bz2", b"")
    assert main(["extract", str(empty), "--warehouse", str(tmp_path / "wh")]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("factrace extract: error: extract: 0 pages written")
    assert "1 quarantined (1 empty_file)" in err[-1]


def test_missing_inputs_are_clear_errors(spark, tmp_path, capsys):
    assert main(["extract", str(tmp_path / "nope.xml"), "--warehouse", str(tmp_path / "wh")]) == 3
    assert "does not exist" in capsys.readouterr().err
    dump = write_dump(tmp_path / "testwiki.xml", dump_xml(PAGES_XML[:2]))
    assert main(["extract", str(dump), "--warehouse", str(tmp_path / "wh")]) == 0
    assert main(["segment", "--warehouse", str(tmp_path / "wh"), "--tokenizer", str(tmp_path / "t.json")]) == 3
    assert "not found" in capsys.readouterr().err


def test_facts_trace_and_query_through_the_cli(spark, tmp_path, capsys):
    pages = [
        page_xml(i, f"Town {i}", f"Town {i} lies in [[Region {i % 3}]]. Town {i} is small. " * 30) for i in range(1, 9)
    ]
    dump = write_dump(tmp_path / "testwiki-20240101-pages-articles.xml", dump_xml(pages))
    wh = tmp_path / "wh"
    assert main(["extract", str(dump), "--warehouse", str(wh)]) == 0
    tok = tmp_path / "tok.json"
    train_wordpiece([f"Town {i} lies in Region {i % 3}." for i in range(50)], vocab_size=200).save(str(tok))
    assert main(["segment", "--warehouse", str(wh), "--tokenizer", str(tok), "--max-tokens", "32"]) == 0
    mlama = tmp_path / "mlama"
    write_mlama(mlama, "test", {"P131": [("Town 1", "Region 1"), ("Town 2", "Region 1"), ("Town 5", "5")]})
    write_mlama(mlama, "xx", {"P131": [("A", "B")]})
    capsys.readouterr()
    assert main(["facts", "--mlama", str(mlama), "--warehouse", str(wh)]) == 0
    assert "facts: 4 facts in 2 language(s)" in capsys.readouterr().out
    for mode in ("tokens", "text"):
        assert main(["trace", "--warehouse", str(wh), "--mode", mode]) == 0
        out = capsys.readouterr().out
        assert f"trace ({mode}): 3 facts in 1 partition(s) (test): 1 present (33.3%), 1 absent, 1 undecided" in out
        assert "not traced, no corpus: 1 language(s), 1 facts" in out
    rows = {r["uuid"]: r for r in Warehouse(wh).read(FACT_PRESENCE, match_mode="tokens").to_pylist()}
    assert rows["P131-0"]["evidence"][0] == {"page_id": 1, "seg_no": 0}
    sql = (
        "SELECT lang, match_mode, count(*) FILTER (WHERE present) AS present FROM fact_presence GROUP BY ALL ORDER BY 2"
    )
    assert main(["query", sql, "--warehouse", str(wh), "--format", "csv"]) == 0
    assert capsys.readouterr().out.strip() == "lang,match_mode,present\ntest,text,1\ntest,tokens,1"
    assert main(["query", "SELECT * FROM nope", "--warehouse", str(wh)]) == 2  # a bad argument
    assert "query failed" in capsys.readouterr().err
