"""Fluency metric: features from LM scores, segment and corpus scores, signature, lazy loading.

Scores are checked against log-probabilities computed independently (plain
forward pass + log_softmax) on a tiny random causal LM built by the LM tests.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mtcheck
from mtcheck.errors import UsageError
from mtcheck.metrics.fluency import FEATURES, Fluency, fluency_features
from mtcheck.models import registry
from mtcheck.models.lm import LMScore

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from tests.models.test_lm import build_tiny_lm, manual_logprobs  # noqa: E402

HYPS = [
    "Revenue rose 32% to ¥19.1 billion.",
    "",
    "阿里巴巴 announced 双十一 results，全角。",
    "𠀀 is in CJK Extension B.",
]


def lm_score(logprobs):
    n = len(logprobs)
    return LMScore(tokens=["t"] * n, offsets=[(i, i + 1) for i in range(n)], logprobs=np.array(logprobs, dtype=float))


@pytest.mark.parametrize(
    "logprobs, expected",
    [
        ([-1.0, -2.0, -3.0], {"sum": -6.0, "mean": -2.0, "min": -3.0, "ppl": math.exp(2.0), "n_tokens": 3}),
        ([-0.25], {"sum": -0.25, "mean": -0.25, "min": -0.25, "ppl": math.exp(0.25), "n_tokens": 1}),
        ([-4.0, 0.0], {"sum": -4.0, "mean": -2.0, "min": -4.0, "ppl": math.exp(2.0), "n_tokens": 2}),
    ],
)
def test_features_by_hand(logprobs, expected):
    feats = fluency_features([lm_score(logprobs)])
    assert set(feats) == set(FEATURES)
    for key, value in expected.items():
        assert feats[key].shape == (1,)
        assert feats[key][0] == pytest.approx(value)


def test_features_of_empty_segment_and_order():
    feats = fluency_features([lm_score([-1.0]), lm_score([]), lm_score([-3.0, -5.0])])
    np.testing.assert_allclose(feats["sum"], [-1.0, 0.0, -8.0])
    np.testing.assert_allclose(feats["n_tokens"], [1, 0, 2])
    assert feats["mean"][0] == -1.0 and math.isnan(feats["mean"][1]) and feats["mean"][2] == -4.0
    assert math.isnan(feats["min"][1]) and math.isnan(feats["ppl"][1])
    assert fluency_features([])["mean"].shape == (0,)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-lm")
    build_tiny_lm(directory, "llama")
    return directory


@pytest.fixture
def tiny_override(tiny_dir):
    registry.set_overrides({"lm": str(tiny_dir)})
    registry.clear_cache()
    # One thread: two make the tiny model's millisecond forwards wait on each other on a loaded machine.
    registry.get_model("lm").threads = 1
    yield tiny_dir
    registry.set_overrides({})
    registry.clear_cache()


def test_segment_scores_are_mean_token_logprobs(tiny_override):
    metric = Fluency()
    got = metric.segment_scores(HYPS, [[] for _ in HYPS])
    assert got[1] is None
    for hyp, score in zip(HYPS, got):
        if hyp:
            assert score == pytest.approx(manual_logprobs(tiny_override, hyp, "<s>").mean(), abs=1e-5)


def test_corpus_score_is_mean_of_segments(tiny_override):
    metric = Fluency(batch_size=2)
    means = [manual_logprobs(tiny_override, h, "<s>").mean() for h in HYPS if h]
    result = metric.corpus_score(HYPS, [[] for _ in HYPS])
    assert result.metric == "fluency"
    assert result.n == 3
    assert result.score == pytest.approx(sum(means) / 3, abs=1e-5)
    assert result.signature == f"metric:fluency|model:lm:{tiny_override.name}|agg:mean|mtcheck:{mtcheck.__version__}"


def test_corpus_score_without_any_text():
    result = Fluency(model=FakeLM()).corpus_score(["", ""])
    assert result.score is None and result.n == 0


def test_features_through_metric(tiny_override):
    feats = Fluency().features(HYPS)
    assert list(feats["n_tokens"] > 0) == [True, False, True, True]
    np.testing.assert_allclose(feats["mean"][[0, 2, 3]], np.array(Fluency().segment_scores(HYPS))[[0, 2, 3]].astype(float))


def test_default_signature_without_loading(monkeypatch):
    registry.set_overrides({})
    registry.clear_cache()
    monkeypatch.delenv("MTCHECK_MODEL_DIR", raising=False)
    metric = Fluency()
    assert metric.signature() == f"metric:fluency|model:smollm2-135m|agg:mean|mtcheck:{mtcheck.__version__}"
    assert registry._cache == {}
    assert metric.needs_reference is False and metric.higher_is_better is True


class FakeLM:
    name = "fake-lm"

    def __init__(self):
        self.calls = []

    def score(self, texts, *, batch_size=16):
        self.calls.append((list(texts), batch_size))
        return [lm_score([-1.0] * len(t.split())) for t in texts]


@pytest.mark.parametrize(
    "hyps, expected",
    [
        (["a b", "c"], [-1.0, -1.0]),
        (["", "x y z"], [None, -1.0]),
        ([], []),
    ],
)
def test_given_model_is_used(hyps, expected):
    fake = FakeLM()
    metric = Fluency(batch_size=3, model=fake)
    assert metric.segment_scores(hyps) == expected
    assert metric.signature() == f"metric:fluency|model:fake-lm|agg:mean|mtcheck:{mtcheck.__version__}"
    assert all(bs == 3 for _, bs in fake.calls)


@pytest.mark.parametrize(
    "hyps, refs, sources, message",
    [
        ("one string", None, None, "not one string"),
        (["a", "b"], [["r"]], None, "2 hypotheses but 1 references"),
        (["a"], None, ["s", "t"], "1 hypotheses but 2 sources"),
    ],
)
def test_bad_arguments(hyps, refs, sources, message):
    with pytest.raises(UsageError, match=message):
        Fluency(model=FakeLM()).segment_scores(hyps, refs, sources)


def test_bad_batch_size():
    with pytest.raises(UsageError, match="batch_size"):
        Fluency(batch_size=0)
