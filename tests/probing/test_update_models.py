"""``factrace update`` with a model: probed once per fact set, classified per dump; a new dump classifies again
without probing again."""

from __future__ import annotations

import pytest

from schemas import FACT_CLASSES, PREDICTIONS
from tests.integration.test_update import add_dump, setup  # noqa: F401 - the fixture
from tracer.update import Settings, UpdateConfig, plan, run_update
from tracer.warehouse import Warehouse

pytestmark = [pytest.mark.probing, pytest.mark.spark]


def test_a_model_is_probed_once_and_classified_per_dump(setup, tiny_bert):  # noqa: F811
    root, config, sources = setup
    text = config.read_text().replace(f'tokenizer = "{root / "tok" / "tokenizer.json"}"', f'tokenizer = "{tiny_bert}"')
    config.write_text(text + f'[[models]]\npath = "{tiny_bert}"\nprotocols = ["full-match"]\n')
    stages = [s.stage for s in plan(Settings.load(str(config)))[0]]
    assert stages[-2:] == ["probe", "classify"]
    run_update(UpdateConfig(str(config)))
    wh = Warehouse(str(root / "wh"))
    assert {v["lang"] for v in wh.partitions(PREDICTIONS)} == {"en", "ja"}
    assert {v["dump"] for v in wh.partitions(FACT_CLASSES)} == {"20260101"}
    assert run_update(UpdateConfig(str(config))) == "update: nothing new"
    add_dump(root / "dumps", "enwiki", "20260201", sources["enwiki"])
    assert [(s.stage, s.what.split()[-1]) for s in plan(Settings.load(str(config)))[0]] == [
        ("extract", "20260201"), ("segment", "20260201"), ("trace", "20260201"), ("classify", "20260201"),
    ]  # fmt: skip
    run_update(UpdateConfig(str(config)))
    assert {v["dump"] for v in Warehouse(str(root / "wh")).partitions(FACT_CLASSES)} == {"20260101", "20260201"}
