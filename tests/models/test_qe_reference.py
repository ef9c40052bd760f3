"""The reference-aware stacked QE model's fit (``scripts/train_qe.py: search_reference_model``)."""

from __future__ import annotations

import numpy as np
import pytest

from mtcheck.models.qe import StackedReference
from tests.conftest import import_script


@pytest.fixture(scope="module")
def train_qe():
    return import_script("train_qe")


def _toy(seed: int, items: int = 80, systems: int = 6):
    """Human penalty = source difficulty + the output's own errors.

    The reference-free penalty sees the difficulty only (plus noise); refsim
    sees the output's errors only; chrF is noise. So flat correlation comes
    from the penalty, ranking within a source from refsim.
    """
    rng = np.random.default_rng(seed)
    difficulty = rng.gamma(2.0, 3.0, size=items)
    rows, keys, human = [], [], []
    for i in range(items):
        for s in range(systems):
            errors = rng.exponential(1.5)
            human.append(-(difficulty[i] + errors))
            keys.append((f"sys{s}", i))
            rows.append([difficulty[i] + rng.normal(0, 1.0), rng.uniform(20, 80),
                         0.9 - 0.02 * errors + rng.normal(0, 0.005)])
    return np.array(rows), np.array(human), keys


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_chosen_direction_ranks_within_items_and_keeps_pearson(train_qe, seed):
    x, human, keys = _toy(seed)
    model, table = train_qe.search_reference_model(x, human, keys)
    free = train_qe.quick_stats(dict(zip(keys, human)), dict(zip(keys, -x[:, 0])))
    ref = StackedReference(tuple(model["features"]), tuple(model["coef"]), model["intercept"])
    penalty = np.array([ref.apply(dict(zip(model["features"], row))) for row in x])
    got = train_qe.quick_stats(dict(zip(keys, human)), dict(zip(keys, -penalty)))
    lsq = table["least squares"][2]
    assert got["pearson"] >= free["pearson"]  # the rule's floor
    assert got["item_kendall"] > free["item_kendall"] + 0.2  # the penalty alone cannot rank within an item
    assert got["item_kendall"] >= lsq["item_kendall"]
    assert list(table[tuple(model["direction"])][0]) == pytest.approx(model["coef"], abs=1e-6)
    assert model["coef"][0] > 0 and model["coef"][2] < 0  # more penalty, less similarity -> worse
    # Scaled by least squares: before clipping, the mean prediction is the mean human penalty.
    unclipped = x @ np.array(model["coef"]) + model["intercept"]
    assert unclipped.mean() == pytest.approx(-human.mean(), abs=1e-4)


def test_constant_reference_features_fall_back_without_failing(train_qe):
    x, human, keys = _toy(4)
    x[:, 1] = 50.0
    x[:, 2] = 0.8
    model, table = train_qe.search_reference_model(x, human, keys, grid=(0.0, 1.0))
    assert len(table) == 5  # least squares + 2 x 2 directions
    assert model["coef"][1] == 0.0 and model["coef"][2] == 0.0
    assert "calibration split (480 items)" in model["fitted_on"]
