"""The trace stage without Spark: hand-built pages, a trained WordPiece, both modes against brute force."""

from __future__ import annotations

import pytest

from schemas import FACT_PRESENCE, FACTS, PAGES, QUARANTINE, RUNS, SEGMENTS
from tests.helpers import damage_a_published_file, train_wordpiece, write_mlama
from tests.reference import SubstringReference, TextReference, TokenReference, reference_presence
from tracer import storage
from tracer.errors import InputNotFound
from tracer.matching.normalize import nfkc_casefold_v1
from tracer.stages.common import LocalRunner
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.stages.trace import TraceConfig, TraceStage
from tracer.tokenization.loading import load_stored
from tracer.warehouse import PartWriter, Warehouse

PAGES_TEXT = {
    1: "Paris is the capital of France. Paris Saint-Germain plays in Paris.",
    2: "Berlin is the capital of Germany. The Parisian style reached Berlin.",
    3: "New York is in the United States. York is in England. C is a language.",
    4: "Tokyo is the capital of Japan and Kyoto was the capital of Japan before.",
    5: "France France France Germany Paris Berlin Japan Tokyo 1990 C",
}
FACTS_EN = {
    "P36": [("France", "Paris"), ("Germany", "Berlin"), ("Japan", "Tokyo"), ("Japan", "Kyoto"), ("Italy", "Rome")],
    "P17": [("Paris Saint-Germain", "France"), ("Paris Saint-Germain", "Paris"), ("York", "England")],
    "P31": [("C", "language"), ("New York", "United States"), ("1990", "year")],
}


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    root = tmp_path_factory.mktemp("trace-unit")
    w = Warehouse(root)
    for wiki in ("enwiki", "frwiki-no-facts"):
        values = {"dump": "20260101", "wiki": wiki}
        writer = PartWriter(storage.join(w.staged_partition("fixture", PAGES, values), "part-000-00000.parquet"), PAGES)
        for page_id, text in PAGES_TEXT.items():
            writer.add(
                {
                    "page_id": page_id,
                    "rev_id": 1,
                    "title": text.split()[0],
                    "text": text,
                    "content_sha1": "x",
                    "char_count": len(text),
                    "paragraph_count": 1,
                }
            )
        writer.close()
        w.publish("fixture", [(PAGES, values)])
    tokenizer = train_wordpiece(list(PAGES_TEXT.values()) * 10, vocab_size=90)
    tokenizer.save(str(root / "wp.json"))
    SegmentStage(
        SegmentConfig(warehouse=str(root), tokenizer=str(root / "wp.json"), max_tokens=12), LocalRunner()
    ).run()
    mlama = root / "mlama"
    write_mlama(mlama, "en", FACTS_EN)
    write_mlama(mlama, "de", {"P36": [("Deutschland", "Berlin")]})
    FactsStage(FactsConfig(mlama=str(mlama), warehouse=str(root)), LocalRunner()).run()
    return w


@pytest.mark.parametrize("mode", ["tokens", "fact-cl", "text"])
def test_agrees_with_brute_force_including_edges_nesting_and_boundaries(wh, mode):
    result = TraceStage(TraceConfig(warehouse=str(wh.root), mode=mode, evidence=2), LocalRunner()).run()
    segments = wh.read(SEGMENTS, wiki="enwiki").to_pylist()
    assert max(s["token_count"] for s in segments) == 12 and len(segments) > 8  # labels cross segment edges
    tokenizer = load_stored(wh.tokenizer_file(segments[0]["tokenizer"]))
    matchers = {"tokens": TokenReference(tokenizer), "fact-cl": SubstringReference(tokenizer)}
    matcher = matchers.get(mode) or TextReference(nfkc_casefold_v1)
    facts = wh.read(FACTS, lang="en").to_pylist()
    expected = reference_presence(facts, segments, matcher, "text" if mode == "text" else "token_ids", k=2)
    got = {r["uuid"]: r for r in wh.read(FACT_PRESENCE, match_mode=mode).to_pylist()}
    assert set(got) == set(expected)
    for uuid, e in expected.items():
        assert {k: got[uuid][k] for k in e} == e, uuid
    assert got["P36-4"]["present"] is False  # Italy/Rome: absent
    assert got["P31-0"]["flags"] == ["subject:single_char"]
    assert got["P31-2"]["flags"] == ["subject:digits_only"] and got["P31-2"]["subject_segments"] >= 1
    if mode == "fact-cl":  # the authors' rule counts every co-occurrence: a flag is only recorded
        assert got["P31-0"]["present"] is not None and "undecided" not in result.message
    else:
        assert got["P31-0"]["present"] is None and "undecided" in result.message
    assert "not traced, no corpus: 1 language(s), 1 facts" in result.message
    assert sum(r["present"] is True for r in got.values()) >= 3
    # Paris Saint-Germain / Paris: the object is inside the subject, whatever the mode
    assert [u for u, r in sorted(got.items()) if r["self_contained"]] == ["P17-1"]


def test_not_traced_languages_and_wikis_without_facts(wh):
    result = TraceStage(TraceConfig(warehouse=str(wh.root)), LocalRunner()).run()
    assert {v["lang"] for v in wh.partitions(FACT_PRESENCE)} == {"en"}  # de has facts but no corpus
    run = result.run
    assert dict(run["skipped"]) == {"no_corpus": 1}
    assert run["records_in"] == run["records_out"] + run["records_skipped"] == 12
    assert '"frwiki-no-facts"' in run["extra"] and '"not_traced_languages": ["de"]' in run["extra"]


def test_rerun_gives_identical_tables(wh):
    config = TraceConfig(warehouse=str(wh.root), mode="text")
    TraceStage(config, LocalRunner()).run()
    first = wh.read(FACT_PRESENCE, match_mode="text")
    TraceStage(config, LocalRunner()).run()
    assert wh.read(FACT_PRESENCE, match_mode="text").equals(first)
    assert len(wh.files(FACT_PRESENCE, wh.partitions(FACT_PRESENCE, match_mode="text")[0])) == 1


def test_unreadable_segments_file_is_quarantined_and_absence_becomes_undecided(wh, tmp_path):
    import shutil

    copy = Warehouse(tmp_path / "wh")
    shutil.copytree(wh.root, copy.root)
    seg = copy.partitions(SEGMENTS, wiki="enwiki")[0]
    damage_a_published_file(copy, SEGMENTS, seg, "part-000-00001.parquet")
    result = TraceStage(TraceConfig(warehouse=str(copy.root), mode="text"), LocalRunner()).run()
    assert "1 unreadable segments file(s) quarantined" in result.message
    assert copy.read(QUARANTINE, stage="trace").column("reason").to_pylist() == ["unreadable_segments"]
    rows = {r["uuid"]: r for r in copy.read(FACT_PRESENCE, match_mode="text").to_pylist()}
    assert rows["P36-4"]["present"] is None and "corpus:incomplete" in rows["P36-4"]["flags"]
    assert rows["P36-0"]["present"] is True
    [run] = [r for r in copy.read(RUNS).to_pylist() if r["run_id"] == result.run["run_id"]]
    assert run["status"] == "partial"


def test_missing_inputs_are_clear_errors(tmp_path):
    with pytest.raises(InputNotFound, match="run 'factrace facts' first"):
        TraceStage(TraceConfig(warehouse=str(tmp_path)), LocalRunner()).run()


def test_readme_queries_run_and_query_views_follow_the_latest_snapshot(wh, tmp_path):
    import re
    import shutil

    from tests.conftest import REPO
    from tracer.query import QueryConfig, connect, run_query

    TraceStage(TraceConfig(warehouse=str(wh.root)), LocalRunner()).run()
    con = connect(wh.root)
    for sql in re.findall(r"```sql\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), re.S):
        con.execute(sql).fetchall()  # every README query is valid against the real views
    copy = tmp_path / "wh"
    shutil.copytree(wh.root, copy)
    older = Warehouse(str(copy))
    values = older.partitions(FACT_PRESENCE, match_mode="tokens")[0]
    rows = older.read(FACT_PRESENCE, **values).drop_columns(FACT_PRESENCE.partition_names)
    older.put(FACT_PRESENCE, {**values, "dump": "20250101"}, rows)  # an older dump of the same partition
    count = "SELECT count(*) FROM {} WHERE match_mode = 'tokens'"
    assert run_query(QueryConfig(count.format("fact_presence"), str(copy), format="csv")) == "count_star()\n11"
    assert run_query(QueryConfig(count.format("fact_presence_all"), str(copy), format="csv")) == "count_star()\n22"
    empty = run_query(QueryConfig("SELECT * FROM quarantine", str(tmp_path / "wh"), format="json"))
    assert empty == "[]"
    table = run_query(QueryConfig("SELECT 'ロンドン' AS city, 1 AS n", str(copy)))
    assert table.splitlines() == ["city      n", "--------  -", "ロンドン  1", "(1 row)"]
