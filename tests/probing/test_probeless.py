"""PROBELESS equals its direct formula; top-k ties break deterministically."""

from __future__ import annotations

import numpy as np
import pytest

from probing.probeless import probeless_scores, top_neurons

pytestmark = pytest.mark.probing


def direct(q: np.ndarray) -> np.ndarray:
    n = q.shape[0]
    return np.array([[sum(abs(q[z, d] - q[o, d]) for o in range(n) if o != z) / (n - 1) for d in range(q.shape[1])]
                     for z in range(n)])  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_equal_the_direct_formula(seed):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(17, 23)).astype(np.float32)
    q[3] = q[5]  # equal rows and equal values within a column
    q[:, 7] = 0.25
    np.testing.assert_allclose(probeless_scores(q), direct(q.astype(np.float64)), rtol=1e-10, atol=1e-12)


def test_one_class_scores_zero_and_ties_break_to_the_lower_neuron():
    assert not probeless_scores(np.ones((1, 4))).any()
    scores = np.array([[1.0, 3.0, 3.0, 2.0, 3.0]])
    ids, values = top_neurons(scores, k=3)
    assert ids.tolist() == [[1, 2, 4]] and values.tolist() == [[3.0, 3.0, 3.0]]
