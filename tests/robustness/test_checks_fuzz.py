"""Every check, the number and date parsers, splitting, alignment and span merging on arbitrary text.

Invariants: spans inside the text they index with integer code-point
offsets, well-formed findings, the same result twice; parsed quantities and
sentences are slices of their input; no sentence is lost by the aligner.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mtcheck.checks import CHECKS
from mtcheck.checks.dates import MAX_DATES
from mtcheck.checks.numbers import MAX_QUANTITIES
from mtcheck.checks.quantities import Claims, _overlaps
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Side
from tests.robustness import targets as T


def _segments():
    zh = st.one_of(T.hostile_text(), T.number_text("zh"))
    en = st.one_of(T.hostile_text(), T.number_text("en"))
    return st.builds(lambda s, m, r: Segment("1", s, m, tuple(r)), zh, en, st.lists(T.hostile_text(max_size=8),
                                                                                     max_size=2))


@pytest.mark.parametrize("name", list(CHECKS))
def test_check_spans_stay_inside_the_text(name):
    target = T.check_target(name)

    @T.fuzz_settings(80)
    @given(_segments())
    def run(seg):
        target(seg)

    run()


def test_numbers_check_on_dense_number_mixes():
    # Chinese numerals, digits, separators, scale words and units on both sides, densely.
    target = T.check_target("numbers")

    @T.fuzz_settings(200)
    @given(st.builds(lambda s, m: Segment("1", s, m), T.number_text("zh", max_size=20),
                     T.number_text("en", max_size=20)))
    def run(seg):
        target(seg)

    run()


@T.fuzz_settings(200)
@given(st.one_of(T.number_text("zh", max_size=20), T.number_text("en", max_size=20), T.hostile_text()))
def test_quantity_and_date_parsers_return_slices(text):
    T.quantities_target(text)


@T.fuzz_settings(200)
@given(T.hostile_text(max_size=60))
def test_splitters_lose_no_character(text):
    T.split_target(text)


@T.fuzz_settings(100)
@given(st.tuples(T.hostile_text(max_size=50), T.hostile_text(max_size=50)))
def test_aligner_places_every_sentence_once(pair):
    T.align_target(pair)


@T.fuzz_settings(200)
@given(T.spans_strategy())
def test_merge_keeps_every_position_once(spans):
    T.merge_target(spans)


# ---------------------------------------------------------------------------
# Resource bounds found by the campaign (a 1 MB segment took hours in numbers and dates)


@T.fuzz_settings(200)
@given(st.lists(st.tuples(st.integers(-2, 30), st.integers(-2, 30)), max_size=8),
       st.integers(-2, 30), st.integers(-2, 30))
def test_claims_index_answers_exactly_like_the_plain_overlap_test(spans, start, end):
    # The occupancy index that made quantity parsing linear must not change a single answer.
    assert _overlaps(start, end, Claims(25, spans)) == _overlaps(start, end, spans)


def _dense(n_figures: int) -> Segment:
    src = "".join(f"第{i}项增长{i}%，" for i in range(n_figures))
    mt = " ".join(f"item {i} rose {i}%," for i in range(n_figures))
    return Segment("1", src, mt)


def test_numbers_check_beyond_its_bound_says_so_once():
    seg = _dense(MAX_QUANTITIES // 2 + 10)  # two figures per item: over the bound on both sides
    spans = CHECKS["numbers"].check_segment(seg, CheckOptions())
    assert len(spans) == 1
    (span,) = spans
    assert (span.start, span.end, span.side, span.category) == (0, len(seg.mt), Side.MT, "Other/Unchecked (number)")
    assert "numbers not checked" in span.message and f"{MAX_QUANTITIES:,}" in span.message


def test_numbers_check_within_its_bound_compares_as_usual():
    seg = _dense(40)
    assert CHECKS["numbers"].check_segment(seg, CheckOptions()) == []  # every figure matches
    wrong = Segment("1", seg.source, seg.mt.replace("rose 7%", "rose 8%"))
    spans = CHECKS["numbers"].check_segment(wrong, CheckOptions())
    assert [wrong.mt[s.start:s.end] for s in spans] == ["8%"]


def test_dates_check_beyond_its_bound_says_so_once():
    n = MAX_DATES + 5
    src = "".join(f"{1 + i % 12}月{1 + i % 28}日，" for i in range(n))
    mt = " ".join(f"on {['January', 'March'][i % 2]} {1 + i % 28}," for i in range(n))
    spans = CHECKS["dates"].check_segment(Segment("1", src, mt), CheckOptions())
    assert [(s.category, s.start, s.end) for s in spans] == [("Other/Unchecked (date)", 0, len(mt))]
