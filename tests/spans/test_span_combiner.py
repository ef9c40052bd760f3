"""The learned span combiner of scripts/ (an experiment): word features, the network, phrases."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from mtcheck.core import Severity, Side, Span
from mtcheck.errors import ModelUnavailableError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from span_combiner import (  # noqa: E402
    FEATURES, LM_FEATURES, Combiner, CombinerOptions, WordInputs, lm_features, phrases, word_features,
)

MT = "Double 11 after the curtain, sales rose."
#     0123456789012345678901234567890123456789
WORDS = [(0, 6), (7, 9), (10, 15), (16, 19), (20, 27), (29, 34), (35, 39)]
SOURCE = "双11落幕后，销量上升。"  # 12 characters


def col(X, name):
    return X[:, FEATURES.index(name)]


def example(**kw):
    base = dict(
        mt=MT, source=SOURCE,
        # "curtain" is split in two sub-tokens: the word takes the higher probability
        qe_tokens=[(0, 6, 0.1), (7, 9, 0.2), (10, 15, 0.6), (16, 19, 0.4), (20, 24, 0.5), (24, 27, 0.9),
                   (27, 28, 0.3), (29, 34, 0.1), (35, 39, 0.1), (39, 40, 0.0)],
        qe_penalty=math.e - 1,
        rule_spans=[Span(7, 9, Side.MT, "Accuracy/Number", Severity.CRITICAL, "wrong number"),
                    Span(2, 4, Side.SOURCE, "Accuracy/Omission", Severity.MAJOR, "source words not rendered"),
                    Span(0, 1, Side.SOURCE, "Accuracy/Omission", Severity.MINOR, "source word not rendered")],
        uncovered=[(20, 27)],
        content=[(0, 6), (20, 27), (29, 34), (35, 39)],
    )
    base.update(kw)
    return WordInputs(**base)


def test_word_features_by_hand():
    ws, X = word_features(example())
    assert ws == WORDS
    assert X.shape == (7, len(FEATURES))
    np.testing.assert_allclose(col(X, "qe_p"), [0.1, 0.2, 0.6, 0.4, 0.9, 0.1, 0.1])
    np.testing.assert_allclose(col(X, "qe_prev"), [0.0, 0.1, 0.2, 0.6, 0.4, 0.9, 0.1])
    np.testing.assert_allclose(col(X, "qe_next"), [0.2, 0.6, 0.4, 0.9, 0.1, 0.1, 0.0])
    np.testing.assert_allclose(col(X, "qe_seg_max"), 0.9)
    np.testing.assert_allclose(col(X, "qe_seg_mean"), 2.4 / 7)
    np.testing.assert_allclose(col(X, "qe_penalty"), 1.0)
    np.testing.assert_allclose(col(X, "qe_rel"), np.array([0.1, 0.2, 0.6, 0.4, 0.9, 0.1, 0.1]) - 2.4 / 7)
    np.testing.assert_allclose(col(X, "lex_uncovered"), [0, 0, 0, 0, 1, 0, 0])
    np.testing.assert_allclose(col(X, "lex_content"), [1, 0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(col(X, "rule_severity"), [0, 3, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(col(X, "rule_source"), math.log(3))
    np.testing.assert_allclose(col(X, "capitalised"), 0)  # the first word's capital says nothing
    np.testing.assert_allclose(col(X, "has_digit"), [0, 1, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(col(X, "log_chars"), np.log1p([6, 2, 5, 3, 7, 5, 4]))
    np.testing.assert_allclose(col(X, "position"), np.arange(7) / 6)
    np.testing.assert_allclose(col(X, "first_word"), [1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(col(X, "log_words"), math.log(7))
    np.testing.assert_allclose(col(X, "length_ratio"), math.log(41 / 13))


def test_lm_features_by_hand():
    # LM tokens carry their leading space, as byte-level BPE offsets do; "curtain" = " curt" + "ain"
    offsets = [(0, 6), (6, 9), (9, 15), (15, 19), (19, 24), (24, 27), (27, 28), (28, 34), (34, 39), (39, 40)]
    logprobs = [-5.0, -3.0, -2.0, -0.5, -6.0, -1.5, -1.0, -4.0, -2.5, -0.2]
    L = lm_features(WORDS, offsets, logprobs)
    assert L.shape == (7, len(LM_FEATURES))
    np.testing.assert_allclose(L[:, 0], [5.0, 3.0, 2.0, 0.5, 7.5, 4.0, 2.5])  # summed surprisal
    np.testing.assert_allclose(L[:, 1], [5.0, 3.0, 2.0, 0.5, 6.0, 4.0, 2.5])  # worst token
    np.testing.assert_allclose(L[:, 2], [0.0, 5.0, 3.0, 2.0, 0.5, 7.5, 4.0])
    np.testing.assert_allclose(L[:, 3], [3.0, 2.0, 0.5, 7.5, 4.0, 2.5, 0.0])
    np.testing.assert_allclose(L[:, 4], 24.5 / 7)
    np.testing.assert_allclose(L[:, 5], np.array([5.0, 3.0, 2.0, 0.5, 7.5, 4.0, 2.5]) - 24.5 / 7)
    assert lm_features([], offsets, logprobs).shape == (0, len(LM_FEATURES))


def test_missing_inputs_are_nan():
    _ws, X = word_features(example(content=None))
    for f in FEATURES:
        nan = f.startswith("lex_")
        assert np.isnan(col(X, f)).all() == nan, f


@pytest.mark.parametrize("mt, words", [
    ("", []),
    ("   ", []),
    # full-width punctuation, emoji and Han stay exact offsets
    ("销量 rose 📈 12%！", [(0, 2), (3, 7), (8, 9), (10, 13)]),
    ("\U00020000 name“Apple”", [(0, 1), (2, 12)]),
])
def test_offsets_on_mixed_text(mt, words):
    ws, X = word_features(WordInputs(mt, "源", qe_tokens=[(0, len(mt), 0.5)] if mt else []))
    assert ws == words
    assert X.shape == (len(words), len(FEATURES))
    assert [mt[a:b] for a, b in ws] == [mt[a:b] for a, b in words]


def one_unit(weight_on: str, w: float, b2=(0.0, 0.0), out=(1.0, 2.0)):
    """Weights with one hidden unit reading one feature."""
    k = len(FEATURES)
    w1 = [[0.0] for _ in range(k)]
    w1[FEATURES.index(weight_on)] = [w]
    return {"features": list(FEATURES), "mean": [0.5] * k, "scale": [2.0] * k, "w1": w1, "b1": [0.0],
            "w2": [list(out)], "b2": list(b2), "threshold": 0.6, "major_threshold": 0.8, "max_spans": 3}


def test_network_by_hand():
    c = Combiner(one_unit("qe_p", 3.0, b2=(0.0, -0.5)))
    _ws, X = word_features(example())
    p = c.probabilities(X)
    qe = np.array([0.1, 0.2, 0.6, 0.4, 0.9, 0.1, 0.1])
    h = np.tanh((qe - 0.5) / 2.0 * 3.0)
    np.testing.assert_allclose(p[:, 0], 1 / (1 + np.exp(-h)))
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-(2 * h - 0.5))))
    assert c.options == CombinerOptions(0.6, 0.8, 3)


def test_missing_feature_reads_as_the_mean():
    c = Combiner(one_unit("lex_uncovered", 5.0))
    _ws, X = word_features(example(content=None))
    np.testing.assert_allclose(c.probabilities(X), 0.5)


def test_spans_from_probabilities():
    probs = np.array([[0.1, 0.0], [0.2, 0.0], [0.7, 0.3], [0.65, 0.2], [0.9, 0.85], [0.1, 0.0], [0.62, 0.1]])
    got = phrases(MT, WORDS, probs, CombinerOptions(0.6, 0.8, 5))
    assert [(s.start, s.end, s.severity, s.confidence) for s in got] == [
        (10, 27, Severity.MAJOR, 0.9), (35, 39, Severity.MINOR, 0.62)]
    assert all(s.side is Side.MT and s.check == "span-combiner" for s in got)
    assert "error probability 0.90, major 0.85 (peak over 3 words)" in got[0].evidence
    # the cap keeps the most probable phrases
    assert [(s.start, s.end) for s in phrases(MT, WORDS, probs, CombinerOptions(0.6, 0.8, 1))] == [(10, 27)]
    assert phrases(MT, WORDS, probs, CombinerOptions(0.95, 0.99, 5)) == []


def test_spans_end_to_end_with_hand_weights():
    c = Combiner(one_unit("qe_p", 6.0))
    ws, X = word_features(example())
    got = phrases(MT, ws, c.probabilities(X), c.options)
    # qe_p 0.6 → p = sigmoid(tanh(0.3)) = 0.57 < 0.6; 0.9 → h = tanh(1.2) = 0.834, p = sigmoid(h) = 0.70,
    # major = sigmoid(2h) = 0.84 ≥ 0.8
    assert [(MT[s.start:s.end], s.severity, s.confidence) for s in got] == [("curtain", Severity.MAJOR, 0.697)]


def test_feature_columns_must_fit():
    k = len(FEATURES) + len(LM_FEATURES)
    params = {**one_unit("qe_p", 1.0), "features": list(FEATURES + LM_FEATURES), "mean": [0.0] * k,
              "scale": [1.0] * k, "w1": [[0.0]] * k}
    c = Combiner(params)
    np.testing.assert_allclose(c.probabilities(np.zeros((2, k))), 0.5)
    _ws, X = word_features(example())  # no LM columns
    with pytest.raises(ValueError, match=f"expected {k} feature columns"):
        c.probabilities(X)


@pytest.mark.parametrize("change, message", [
    ({"features": ["qe_p"]}, "trained on features"),
    ({"b2": [0.0]}, "do not fit"),
    ({"w1": [[0.0, 1.0]] * len(FEATURES)}, "do not fit"),
])
def test_bad_weights(change, message):
    with pytest.raises(ModelUnavailableError, match=message):
        Combiner({**one_unit("qe_p", 1.0), **change})
