"""LRP2's layer grid: every pair's predictions, computed with shared layer prefixes, equal probing with that
pair's hooks; the baseline equals plain probing; and the sharing needs 298 layer passes for 12 layers
where 66 independent probes need 792."""

from __future__ import annotations

import pytest
import torch

from probing.lrp2 import ENGLISH, Projection, Shifts, projected
from probing.lrp2_search import all_pairs, grid_predictions, layer_passes, shifts_for
from probing.models import load_masked_lm
from probing.passes import run_queries
from probing.probe import prepare
from probing.random_model import Size, save_random_bert, save_random_xlmr
from tests.helpers import train_wordpiece
from tests.probing.conftest import FIXTURE_TEXT

FACTS = [
    {"uuid": f"u{n}", "relation": "P36", "subject_label": s, "object_label": o, "template": "[X] has capital [Y] ."}
    for n, (s, o) in enumerate([("France", "Paris"), ("Japan", "Tokyo"), ("Germany", "Berlin"), ("Texas", "Austin")])
]


@pytest.fixture(scope="module", params=["bert", "xlmr"])
def deep(request, tmp_path_factory, xlmr_tokenizer_path):
    """Tiny models with four (BERT) and three (XLM-R) layers: several pairs to share prefixes between."""
    directory = tmp_path_factory.mktemp(f"deep-{request.param}")
    if request.param == "bert":
        tokenizer = directory / "trained-tokenizer.json"
        train_wordpiece(FIXTURE_TEXT + [f["object_label"] for f in FACTS], vocab_size=200).save(str(tokenizer))
        return load_masked_lm(str(save_random_bert(directory, tokenizer, Size(32, 4, 2, 37, 64))), "cpu")
    return load_masked_lm(str(save_random_xlmr(directory, xlmr_tokenizer_path, Size(16, 3, 2, 24, 78))), "cpu")


def test_every_pair_equals_probing_with_its_hooks(deep):
    layers = deep.model.config.num_hidden_layers
    generator = torch.Generator().manual_seed(7)
    vectors = {lang: torch.randn(layers + 1, deep.model.config.hidden_size, generator=generator) * 3
               for lang in (ENGLISH, "xx")}  # fmt: skip
    prompts, _ = prepare(deep, FACTS)
    lirp, lsrp = shifts_for(vectors, "xx")
    pairs = all_pairs(layers)
    baseline, grid = grid_predictions(deep, prompts, lirp, lsrp, pairs, max_tokens=64)
    assert baseline.predicted == run_queries(deep, prompts, max_tokens=64).predicted
    differs = 0
    for i, j in pairs:
        shifts = Shifts(vectors, Projection(i, j), deep.device)
        shifts.set(["xx"])
        with projected(deep, shifts):
            hooked = run_queries(deep, prompts, max_tokens=64)
        assert grid[(i, j)].predicted == hooked.predicted, (i, j)
        differs += grid[(i, j)].predicted != baseline.predicted
    assert differs > 0  # the shifts are large enough to change some prediction: the comparison means something


def test_sharing_prefixes_needs_fewer_layer_passes():
    assert len(all_pairs(12)) == 66
    assert layer_passes(12, all_pairs(12)) == 298
    assert 66 * 12 / layer_passes(12, all_pairs(12)) > 2.6


def test_the_split_is_by_uuid_and_the_search_chooses_on_dev():
    from probing.lrp2_search import split_of
    from tracer.stages.lrp2_search import _best

    halves = [split_of(f"uuid-{n}") for n in range(2000)]
    assert halves == [split_of(f"uuid-{n}") for n in range(2000)]  # a function of the uuid alone
    assert 900 < halves.count("dev") < 1100

    def row(i: int, j: int, dev: int, test: int) -> dict:
        return {"lirp": i, "lsrp": j, "dev_correct": dev, "dev_facts": 10, "test_correct": test, "test_facts": 10}

    planted = [row(1, 2, 3, 9), row(1, 3, 7, 2), row(2, 3, 7, 5)]  # (1,3) and (2,3) tie on dev
    assert (_best(planted, "dev")["lirp"], _best(planted, "dev")["lsrp"]) == (1, 3)  # the tie: smallest (i, j)
    assert (_best(planted, "test")["lirp"], _best(planted, "test")["lsrp"]) == (1, 2)  # the oracle differs
