import re

import pyarrow as pa
import pytest

from schemas import TABLES, table
from schemas.arrow import arrow_schema
from schemas.docs import render
from schemas.tables import PREDICTIONS
from tests.conftest import REPO
from tracer.errors import SchemaMismatch
from tracer.warehouse import Warehouse


def test_docs_are_generated_from_the_declarations():
    assert (REPO / "docs" / "tables.md").read_text(encoding="utf-8") == render()


def test_every_table_has_documented_columns_and_a_key():
    for t in TABLES.values():
        assert t.key, t.name
        assert set(t.key) <= set(t.column_names), t.name
        for c in t.all_columns:
            assert c.doc.strip(), f"{t.name}.{c.name} has no meaning line"


def test_arrow_schema_carries_types_and_version():
    schema = arrow_schema(table("segments"))
    assert schema.field("token_ids").type == pa.list_(pa.field("element", pa.int32(), nullable=False))
    assert schema.metadata[b"factrace.schema_version"] == b"1"
    assert "dump" not in schema.names
    assert "tokenizer" in arrow_schema(table("segments"), with_partitions=True).names


def test_unknown_table_lists_known_ones():
    with pytest.raises(KeyError, match="known tables: fact_classes, fact_presence, facts, intervention_effects, "):
        table("nope")


def test_a_table_written_with_fewer_partition_levels_is_a_clear_error(tmp_path):
    old = tmp_path / "predictions" / "model=m" / "lang=en" / "protocol=full-match"
    old.mkdir(parents=True)
    (old / "part-00000.parquet").write_bytes(b"")
    with pytest.raises(
        SchemaMismatch,
        match=r"predictions .* has Parquet files in 3 partition level.*no Delta log.*expects 5.*older version",
    ):
        Warehouse(tmp_path).partitions(PREDICTIONS)


def test_every_shown_output_is_checked_or_recorded():
    """A command output in the README is either rerun by a test (tests/shown.py CHECKED) or marked as recorded
    by a named command on a date; nothing is shown that nobody ran."""
    from tests.shown import CHECKED, REPO, shown_blocks

    blocks = shown_blocks()
    assert set(CHECKED) <= set(blocks), set(CHECKED) - set(blocks)
    for name, block in blocks.items():
        if block.recorded is None:
            assert name in CHECKED, f"{name}: rerun it in a test, or mark it recorded COMMAND, DATE"
            assert f'"{name}"' in (REPO / CHECKED[name]).read_text(encoding="utf-8"), name
        else:
            assert re.search(r"\d{4}-\d{2}-\d{2}", block.recorded), f"{name}: a recorded output needs its date"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    unmarked = [
        m.group(0)[:60]
        for m in re.finditer(r"(?<!-->\n)```\n(?:\$ |extract: |trace \(|probe: |classify: |lang  )", readme)
    ]
    assert unmarked == [], unmarked
