"""PROBELESS equals its direct formula; top-k ties break deterministically, block by block too."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from probing.probeless import probeless_scores, probeless_top, top_neurons

pytestmark = pytest.mark.probing


def direct(q: np.ndarray) -> np.ndarray:
    n = q.shape[0]
    return np.array([[sum(abs(q[z, d] - q[o, d]) for o in range(n) if o != z) / (n - 1) for d in range(q.shape[1])]
                     for z in range(n)])  # fmt: skip


def random_activations(seed: int, classes: int = 17, neurons: int = 23) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(classes, neurons)).astype(np.float32)
    q[3] = q[5]  # equal rows and equal values within a column
    q[:, 7] = 0.25
    return q


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_equal_the_direct_formula(seed):
    q = random_activations(seed)
    got = probeless_scores(torch.from_numpy(q)).numpy()
    np.testing.assert_allclose(got, direct(q.astype(np.float64)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("block", [4, 7, 64])
def test_blockwise_top_k_equals_one_sort_of_the_direct_scores(block):
    q = random_activations(3, classes=9, neurons=40)
    q[:, 20:30] = q[:, 10:20]  # duplicated neurons: equal scores, the lower index must win
    expected = direct(q.astype(np.float64))
    order = np.array([sorted(range(q.shape[1]), key=lambda d: (-round(row[d], 9), d))[:12] for row in expected])
    ids, scores = probeless_top(torch.from_numpy(q), k=12, block=block)
    assert ids.tolist() == order.tolist()
    np.testing.assert_allclose(scores.numpy(), np.take_along_axis(expected, order, axis=1), rtol=1e-10)


def test_one_class_scores_zero_and_ties_break_to_the_lower_neuron():
    assert not probeless_scores(torch.ones((1, 4))).any()
    scores = torch.tensor([[1.0, 3.0, 3.0, 2.0, 3.0]])
    ids, values = top_neurons(scores, k=3)
    assert ids.tolist() == [[1, 2, 4]] and values.tolist() == [[3.0, 3.0, 3.0]]
