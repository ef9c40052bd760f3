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


def test_a_fourth_feature_is_searched_with_its_own_sign(train_qe):
    """qe_ref is a penalty (more errors, higher): it gets a positive weight when it ranks."""
    x, human, keys = _toy(5)
    rng = np.random.default_rng(5)
    x[:, 2] = 0.8 + rng.normal(0, 0.01, size=len(x))  # refsim now noise
    qe_ref = -human + rng.normal(0, 0.3, size=len(x))  # the reference cross-encoder sees the whole penalty
    x4 = np.column_stack([x, qe_ref])
    features = ("qe", "chrf", "refsim", "qe_ref")
    model, table = train_qe.search_reference_model(x4, human, keys, grid=(0.0, 1.0, 3.0), features=features)
    assert len(table) == 1 + 3 ** 3
    assert model["features"] == list(features)
    assert model["direction"][2] > 0 and model["coef"][3] > 0
    ref = StackedReference(features, tuple(model["coef"]), model["intercept"])
    penalty = np.array([ref.apply(dict(zip(features, row))) for row in x4])
    got = train_qe.quick_stats(dict(zip(keys, human)), dict(zip(keys, -penalty)))
    assert got["item_kendall"] > 0.5


def test_columns_must_match_the_features(train_qe):
    x, human, keys = _toy(6, items=10)
    with pytest.raises(ValueError, match="one column per feature"):
        train_qe.search_reference_model(x, human, keys, features=("qe", "chrf", "refsim", "qe_ref"))


def test_reference_net_predictions_read_the_reference_and_are_cached_by_weights(tmp_path, monkeypatch):
    """bench_qe.reference_net_predictions: MT against the first reference; a second call reads the cache."""
    import types

    import mtcheck.models.qe as qe

    bench_qe = import_script("bench_qe")
    calls = []

    class Fake:
        def predict(self, firsts, mts):
            calls.append((list(firsts), list(mts)))
            return [qe.QEPrediction(float(len(m)), 0.0, 0.0, 1.0, ((0, 1, 0.5),)) for m in mts]

        predict_reference_net = predict

    monkeypatch.setattr(qe, "load_qe_dir", lambda directory, name: Fake())
    net_dir = tmp_path / "net"
    net_dir.mkdir()
    (net_dir / "qe.safetensors").write_bytes(b"weights v1")
    (net_dir / "config.json").write_text('{"n_top": 1, "unit": 5.0, "train": {"first": "reference"}}')
    items = [types.SimpleNamespace(mt="ab", references=("the ref", "other")),
             types.SimpleNamespace(mt="abcd", references=("ref two",))]
    first = bench_qe.reference_net_predictions(net_dir, items, tmp_path / "cache", "toy")
    assert calls == [(["the ref", "ref two"], ["ab", "abcd"])]
    assert [p.penalty for p in first] == [2.0, 4.0]
    again = bench_qe.reference_net_predictions(net_dir, items, tmp_path / "cache", "toy")
    assert again == first and len(calls) == 1  # from the cache, token probabilities included
    (net_dir / "qe.safetensors").write_bytes(b"weights v2")  # other weights: computed again
    bench_qe.reference_net_predictions(net_dir, items, tmp_path / "cache", "toy")
    assert len(calls) == 2


def test_reference_net_predictions_from_a_model_that_carries_the_network(tmp_path, monkeypatch):
    """The shipped layout (reference_net in config.json) shares the cache of the network trained alone."""
    import json
    import types

    import mtcheck.models.qe as qe

    bench_qe = import_script("bench_qe")
    used = []

    class Fake:
        def predict(self, firsts, mts):
            used.append("predict")
            return [qe.QEPrediction(1.0, 96.0, 0.0, 2.0) for _ in mts]

        def predict_reference_net(self, firsts, mts):
            used.append("predict_reference_net")
            return [qe.QEPrediction(2.0, 92.0, 0.0, 3.0) for _ in mts]

    monkeypatch.setattr(qe, "load_qe_dir", lambda directory, name: Fake())
    items = [types.SimpleNamespace(mt="ab", references=("r",))]
    alone, shipped, plain = (tmp_path / d for d in ("alone", "shipped", "plain"))
    for d in (alone, shipped, plain):
        d.mkdir()
        (d / "qe.safetensors").write_bytes(b"qe weights")
    (alone / "qe.safetensors").write_bytes(b"reference weights")
    (alone / "config.json").write_text(json.dumps({"n_top": 3, "unit": 5.0, "train": {"first": "reference"}}))
    (shipped / "qe-reference.safetensors").write_bytes(b"reference weights")
    (shipped / "config.json").write_text(json.dumps({"n_top": 3, "unit": 5.0, "reference_net": {
        "file": "qe-reference.safetensors", "n_top": 3, "unit": 5.0}}))
    (plain / "config.json").write_text(json.dumps({"n_top": 3, "unit": 5.0, "train": {}}))
    got = bench_qe.reference_net_predictions(shipped, items, tmp_path / "cache", "toy")
    assert used == ["predict_reference_net"] and got[0].penalty == 2.0  # not the QE network
    assert bench_qe.reference_net_predictions(alone, items, tmp_path / "cache", "toy") == got
    assert used == ["predict_reference_net"]  # same network, same cache
    with pytest.raises(ValueError, match="no reference cross-encoder"):
        bench_qe.reference_net_predictions(plain, items, tmp_path / "cache", "toy")


def test_reference_net_cache_tells_a_shallower_network_apart(tmp_path, monkeypatch):
    import json
    import types

    import mtcheck.models.qe as qe

    bench_qe = import_script("bench_qe")
    calls = []

    class Fake:
        def predict(self, firsts, mts):
            calls.append(1)
            return [qe.QEPrediction(1.0, 96.0, 0.0, 2.0) for _ in mts]

    monkeypatch.setattr(qe, "load_qe_dir", lambda directory, name: Fake())
    net = tmp_path / "net"
    net.mkdir()
    (net / "qe.safetensors").write_bytes(b"weights")
    items = [types.SimpleNamespace(mt="ab", references=("r",))]
    for depth, expected_calls in ((None, 1), (None, 1), (6, 2), (6, 2), (8, 3)):
        cfg = {"n_top": 3, "unit": 5.0, "train": {"first": "reference"}}
        if depth is not None:
            cfg["depth"] = depth
        (net / "config.json").write_text(json.dumps(cfg))
        bench_qe.reference_net_predictions(net, items, tmp_path / "cache", "toy")
        assert len(calls) == expected_calls


@pytest.mark.parametrize("engine, suffix", [("torch", "-int8"), ("onnx", "-int8-ort")])
def test_bench_model_from_a_directory_keeps_int8_predictions_apart(tmp_path, monkeypatch, engine, suffix):
    """int8 predictions get their own cache key, and onnxruntime's int8 another (it quantises differently)."""
    import types

    import mtcheck.models.qe as qe

    bench_qe = import_script("bench_qe")
    monkeypatch.setattr(qe, "load_qe_dir", lambda directory, name, int8: types.SimpleNamespace(
        name=name + ("-int8" if int8 else ""), engine=engine))
    model_dir = tmp_path / "qe-d6"
    model_dir.mkdir()
    (model_dir / "qe.safetensors").write_bytes(b"weights")
    (model_dir / "config.json").write_text('{"n_top": 3, "depth": 6, "unit": 5.0, "history": [1]}')
    monkeypatch.delenv(qe.INT8_ENV, raising=False)
    location, label, model, digest = bench_qe.load_bench_model(model_dir)
    assert (location, label, model.name) == (model_dir, "qe-d6", "qe-d6")
    assert digest == bench_qe.model_digest(model_dir) and len(digest) == 16
    monkeypatch.setenv(qe.INT8_ENV, "1")
    *_, model8, digest8 = bench_qe.load_bench_model(model_dir)
    assert model8.name == "qe-d6-int8" and digest8 == digest + suffix


def test_bench_predictions_of_a_model_without_a_reference_part(tmp_path):
    """A model whose stack is not fitted yet is benchmarked reference-free (no qe+ref), not refused."""
    import types

    import mtcheck.models.qe as qe

    bench_qe = import_script("bench_qe")

    class Fake:
        config = {"n_top": 3, "unit": 5.0, "reference_model": None}
        calls = 0

        def predict(self, sources, mts):
            Fake.calls += 1
            return [qe.QEPrediction(1.5, 94.0, 0.5, 2.5, ((0, 2, 0.25),)) for _ in mts]

        def predict_with_reference(self, *args, **kwargs):
            raise AssertionError("no reference-aware part to call")

    items = [types.SimpleNamespace(source="公司", mt="ab", references=("r",))]
    free, ref = bench_qe.predictions(Fake(), items, tmp_path / "c.json")
    assert ref is None and free[0].penalty == 1.5
    again, ref2 = bench_qe.predictions(Fake(), items, tmp_path / "c.json")
    assert again == free and ref2 is None and Fake.calls == 1
    # --reference-free: a model with a stack is not asked for it either
    Fake.config = {**Fake.config, "reference_model": {"features": ["qe"], "coef": [1.0], "intercept": 0.0}}
    with pytest.raises(AssertionError, match="no reference-aware part"):
        bench_qe.predictions(Fake(), items, tmp_path / "c.json")
    free3, ref3 = bench_qe.predictions(Fake(), items, tmp_path / "c.json", with_reference=False)
    assert free3 == free and ref3 is None


@pytest.mark.parametrize("a, b", [
    # same frozen layers (9), different networks: full depth with 3 trained vs depth 10 with 1 trained
    ((None, 3), (10, 1)),
    # same frozen layers (3): depth 6 with 3 trained vs depth 4 with 1 trained
    ((6, 3), (4, 1)),
])
def test_networks_sharing_frozen_states_get_their_own_checkpoints(train_qe, a, b):
    (depth_a, top_a), (depth_b, top_b) = a, b
    assert (depth_a or 12) - top_a == (depth_b or 12) - top_b  # one work directory
    assert train_qe.checkpoint_shape(depth_a) != train_qe.checkpoint_shape(depth_b)


def test_full_depth_checkpoints_keep_their_names(train_qe):
    assert train_qe.checkpoint_shape(None) == ""
