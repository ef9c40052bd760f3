"""The check loop: one check that raises on one segment fails that segment only."""

from __future__ import annotations

import pytest

from mtcheck.checks import CHECKS
from mtcheck.checks.base import Check, run_checks
from mtcheck.config import CheckOptions, ScoreConfig
from mtcheck.core import Segment, Severity, Side, Span


class Bomb(Check):
    """Raises on MT containing 'boom'; flags MT containing 'flag'."""

    name = "bomb"

    def check_segment(self, segment, options):
        if "boom" in segment.mt:
            raise ZeroDivisionError("division by zero")
        if "flag" in segment.mt:
            return [Span(0, 4, Side.MT, "Fluency/Grammar", Severity.MINOR, "flagged")]
        return []


class DocBomb(Check):
    name = "docbomb"

    def check_document(self, segments, options):
        raise KeyError("missing")


SEGS = [Segment("a", "好", "flag this"), Segment("b", "坏", "boom"), Segment("c", "好", "fine")]


def test_errors_are_collected_per_segment():
    errors = {}
    found = run_checks([Bomb()], SEGS, CheckOptions(), errors)
    assert errors == {"b": ["internal error in check 'bomb': ZeroDivisionError: division by zero"]}
    assert [s.message for s in found["a"]] == ["flagged"]
    assert found["c"] == [] and found["b"] == []


def test_without_an_error_dict_the_exception_propagates():
    with pytest.raises(ZeroDivisionError):
        run_checks([Bomb()], SEGS, CheckOptions())


def test_document_check_errors_go_under_none():
    errors = {}
    run_checks([DocBomb(), Bomb()], SEGS, CheckOptions(), errors)
    assert errors[None] == ["internal error in check 'docbomb': KeyError: 'missing'"]
    assert list(errors) == [None, "b"]


def test_pipeline_fails_only_the_segment_that_broke_a_check(monkeypatch):
    from mtcheck.pipeline import score_batch

    monkeypatch.setitem(CHECKS, "bomb", Bomb())
    monkeypatch.setitem(CHECKS, "docbomb", DocBomb())
    batch = score_batch(SEGS, ScoreConfig(metrics=("chrf",), checks=("bomb", "docbomb")))
    assert [r.status for r in batch.segments] == ["ok", "failed", "ok"]
    assert batch.segments[1].error == "internal error in check 'bomb': ZeroDivisionError: division by zero"
    assert batch.segments[0].spans[0].message == "flagged"
    assert batch.notes == ["document -: internal error in check 'docbomb': KeyError: 'missing'"]
    assert batch.scores["mqm_est"] == pytest.approx(-0.5)  # segments a (-1) and c (0)
