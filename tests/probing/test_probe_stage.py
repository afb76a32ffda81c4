"""The probe stage end to end with a tiny model: tables, quarantine, runs, resume, shards, Spark, CLI."""

from __future__ import annotations

import shutil

import pyarrow.compute as pc
import pytest
import torch

from probing.models import load_masked_lm
from schemas import NEURONS, PREDICTIONS, QUARANTINE, RUNS
from tests.helpers import write_mlama
from tracer.cli import main, run_probe
from tracer.errors import InputNotFound
from tracer.runs import reconciles
from tracer.stages.common import LocalRunner
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.probe import ProbeConfig, ProbeStage, balanced_shards
from tracer.warehouse import Warehouse

pytestmark = pytest.mark.probing

CAPITALS = [("France", "Paris"), ("Texas", "Paris"), ("Japan", "Tokyo"), ("Germany", "Berlin"), ("Maine", "Paris")]
LANGUAGES = [("France", "French"), ("Japan", "Japanese"), ("Germany", "German"), ("Tokyo", "\u200b")]


@pytest.fixture(scope="module")
def knowing_bert(tiny_bert, tmp_path_factory):
    """The tiny BERT with its decoder bias pushed to "Paris": every Paris fact is correct in full-match."""
    directory = tmp_path_factory.mktemp("knows-paris")
    shutil.copytree(tiny_bert, directory, dirs_exist_ok=True)
    loaded = load_masked_lm(str(directory))
    [paris] = loaded.tokenizer("Paris", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        loaded.model.get_output_embeddings().bias[paris] = 1e4
    loaded.model.save_pretrained(directory)
    return directory


def facts_warehouse(root):
    mlama = root / "mlama"
    write_mlama(mlama, "en", {"P36": CAPITALS, "P37": LANGUAGES})
    write_mlama(mlama, "fr", {"P36": CAPITALS[:3]})
    write_mlama(mlama, "de", {"P36": CAPITALS[:2]}, templates=False)
    FactsStage(FactsConfig(mlama=str(mlama), warehouse=str(root)), LocalRunner()).run()
    return Warehouse(root)


def probe(wh: Warehouse, model, runner=None, **options) -> dict:
    config = ProbeConfig(model=str(model), warehouse=str(wh.root), model_id="tiny", **options)
    return ProbeStage(config, runner or LocalRunner()).run()


def contents(wh: Warehouse, table) -> list[dict]:
    rows = wh.read(table).to_pylist()
    return sorted(rows, key=lambda r: (r["lang"], r["protocol"], r["uuid"]))


def test_both_protocols_with_neurons_write_every_table(knowing_bert, tmp_path):
    wh = facts_warehouse(tmp_path)
    out = probe(wh, knowing_bert, protocol=["full-match", "candidates"], neurons=True)
    predictions = wh.read(PREDICTIONS)
    assert sorted({(r["lang"], r["protocol"]) for r in predictions.to_pylist()}) == [
        ("en", "candidates"), ("en", "full-match"), ("fr", "candidates"), ("fr", "full-match"),
    ]  # fmt: skip
    en_fm = [r for r in predictions.to_pylist() if r["lang"] == "en" and r["protocol"] == "full-match"]
    correct = {r["uuid"] for r in en_fm if r["correct"]}
    assert correct == {"P36-0", "P36-1", "P36-4"}  # the three Paris facts
    assert all(r["matched_masks"] == 1 and r["predicted_text"] == "Paris" for r in en_fm if r["correct"])
    neurons = [r for r in wh.read(NEURONS).to_pylist() if r["lang"] == "en" and r["protocol"] == "full-match"]
    assert {r["uuid"] for r in neurons} == correct
    layers_x_dff = 2 * 37
    for r in neurons:
        assert len(r["neuron_ids"]) == 50 and all(0 <= n < layers_x_dff for n in r["neuron_ids"])
        assert r["scores"] == sorted(r["scores"], reverse=True)
    # "Tokyo -> zero-width space" has an object with no tokens; "de" has no templates: quarantined with the reason
    bad = {(r["scope"], r["reason"]) for r in wh.read(QUARANTINE, stage="probe").to_pylist()}
    assert bad == {("tiny.en", "empty_object"), ("tiny.de", "no_template")}
    [run] = [r for r in wh.read(RUNS).to_pylist() if r["stage"] == "probe"]
    assert reconciles(run)
    assert run["records_in"] == 5 + 4 + 3 + 2 and run["records_out"] == 11 and run["records_quarantined"] == 3
    assert "full-match" in out.details and out.message.startswith("probe: model tiny on cpu float32")
    assert {(r["intervention"], r["rules"]) for r in predictions.to_pylist()} == {("none", "default")}
    # the authors' rules go to their own partitions; the default rows stay as they were
    before = contents(wh, PREDICTIONS)
    probe(wh, knowing_bert, protocol=["full-match"], neurons=True, rules="fact-cl")
    assert [r for r in contents(wh, PREDICTIONS) if r["rules"] == "default"] == before
    fact_cl = [r for r in contents(wh, PREDICTIONS) if r["rules"] == "fact-cl"]
    assert {r["protocol"] for r in fact_cl} == {"full-match"}
    assert {r["uuid"] for r in fact_cl if r["correct"] and r["lang"] == "en"} == correct


def test_reruns_resume_and_force_gives_identical_tables(tiny_bert, tmp_path):
    wh = facts_warehouse(tmp_path)
    probe(wh, tiny_bert, protocol=["candidates"], langs=["en"])
    first = contents(wh, PREDICTIONS)
    out = probe(wh, tiny_bert, protocol=["candidates", "full-match"], langs=["en", "fr"])
    assert out.run["records_in"] == 5 + 4 + 3  # fr entirely, en only for full-match
    assert "1 finished partition(s) skipped" in out.message
    assert "nothing to do" in probe(wh, tiny_bert, protocol=["candidates", "full-match"], langs=["en", "fr"]).message
    probe(wh, tiny_bert, protocol=["candidates"], langs=["en"], force=True)
    assert [r for r in contents(wh, PREDICTIONS) if r["protocol"] == "candidates" and r["lang"] == "en"] == first
    ranks = pc.max(wh.read(PREDICTIONS, protocol="candidates").column("gold_rank")).as_py()
    assert ranks is not None and ranks >= 1


def test_shards_split_the_languages_and_cover_them_once(tiny_bert, tmp_path):
    assert balanced_shards({"a": 10, "b": 6, "c": 5, "d": 1}, 2) == [["a", "d"], ["b", "c"]]
    wh = facts_warehouse(tmp_path)
    for shard in ("0/2", "1/2"):
        probe(wh, tiny_bert, shard=shard, langs=["en", "fr"])
    langs = [r["lang"] for r in contents(wh, PREDICTIONS)]
    assert sorted(set(langs)) == ["en", "fr"] and len(langs) == 8 + 3
    runs = [r for r in wh.read(RUNS).to_pylist() if r["stage"] == "probe"]
    assert sorted(r["records_in"] for r in runs) == [3, 9]


@pytest.mark.spark
def test_spark_tasks_write_the_same_tables_as_one_process(tiny_bert, tmp_path, spark):
    here, there = facts_warehouse(tmp_path / "here"), facts_warehouse(tmp_path / "there")
    probe(here, tiny_bert, protocol=["full-match", "candidates"])
    # as jobs/probe.py runs it: --spark-tasks -1 = Spark's default parallelism (2 on local[2])
    config = ProbeConfig(
        model=str(tiny_bert), warehouse=str(there.root), model_id="tiny", protocol=["full-match", "candidates"],
        spark_tasks=-1,
    )  # fmt: skip
    assert "P@1 full-match" in run_probe(config)
    assert contents(here, PREDICTIONS) == contents(there, PREDICTIONS)
    [run] = [r for r in there.read(RUNS).to_pylist() if r["stage"] == "probe"]
    assert '"spark_tasks": 2' in run["parameters"]


def test_cli_reports_p_at_1_per_language_and_fails_clearly(tiny_bert, tmp_path, capsys):
    wh = facts_warehouse(tmp_path)
    assert main(["probe", "--model", str(tiny_bert), "--warehouse", str(wh.root), "--langs", "en", "fr"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["lang", "facts", "full-match"]
    assert [line.split()[0] for line in lines[2:]] == ["en", "fr"]
    assert main(["probe", "--model", str(tmp_path / "missing"), "--warehouse", str(wh.root)]) == 3
    assert "never downloads" in capsys.readouterr().err
    with pytest.raises(InputNotFound, match="no facts for"):
        probe(wh, tiny_bert, langs=["xx"])


@pytest.mark.s3
def test_a_model_in_a_bucket_probes_as_its_local_copy(knowing_bert, s3_bucket, tmp_path):
    """``--model s3://…``: the driver and every executor copy the folder to local disk once; the model id and
    the predictions are those of the same folder on disk."""
    from tracer import storage

    remote = f"{s3_bucket}/models/{knowing_bert.name}"
    for path in sorted(p for p in knowing_bert.iterdir() if p.is_file()):
        storage.write_bytes(storage.join(remote, path.name), path.read_bytes())
    local_wh, remote_wh = facts_warehouse(tmp_path / "local"), facts_warehouse(tmp_path / "remote")
    ProbeStage(ProbeConfig(model=str(knowing_bert), warehouse=local_wh.root), LocalRunner()).run()
    ProbeStage(ProbeConfig(model=remote, warehouse=remote_wh.root), LocalRunner()).run()
    assert contents(local_wh, PREDICTIONS) == contents(remote_wh, PREDICTIONS)
    assert {v["model"] for v in remote_wh.partitions(PREDICTIONS)} == {
        v["model"] for v in local_wh.partitions(PREDICTIONS)
    }
