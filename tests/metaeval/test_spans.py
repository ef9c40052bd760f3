"""Human MQM error spans → per-character rater rates (on a small file written here)."""

from __future__ import annotations

import pytest

from mtcheck.metaeval.spans import error_char_rates, tagged_spans, token_rates

from tests.conftest import mqm_tsv


@pytest.mark.parametrize(
    "target, text, spans",
    [
        ("no tags", "no tags", []),
        ("a <v>bad</v> word", "a bad word", [(2, 5)]),
        ("<v>Two</v> and <v>three</v>", "Two and three", [(0, 3), (8, 13)]),
        ("open <v>to the end", "open to the end", [(5, 15)]),
        ("stray</v> close", "stray close", []),
        ("empty <v></v>span", "empty span", []),
        ("净<v>利润</v>𠀀", "净利润𠀀", [(1, 3)]),
    ],
)
def test_tagged_spans(target, text, spans):
    assert tagged_spans(target) == (text, spans)


def test_rates_count_raters_whose_text_matches(tmp_path):
    rows = [
        # three raters on one item: two mark "sales" (one Major, one Minor), one finds nothing
        ("S", "d", "1", "1", "r1", "源", "Net <v>sales</v> rose.", "Accuracy/Mistranslation", "Major"),
        ("S", "d", "1", "1", "r2", "源", "Net <v>sales</v> rose.", "Fluency/Grammar", "Minor"),
        ("S", "d", "1", "1", "r3", "源", "Net sales rose.", "No-error", "No-error"),
        # a rater whose pasted fragment changes the text is left out
        ("S", "d", "1", "1", "r4", "源", "Net <v>sales revenue</v> rose.", "Accuracy/Mistranslation", "Major"),
        # an item of another system, not in the dataset
        ("T", "d", "1", "1", "r1", "源", "<v>x</v>", "Other", "Major"),
    ]
    path = tmp_path / "mqm.tsv"
    path.write_text(mqm_tsv(rows), encoding="utf-8")
    chosen = {("S", 1): "Net sales rose."}
    rates = error_char_rates(path, chosen)
    third = 1 / 3
    assert rates[("S", 1)] == [0.0] * 4 + [2 * third] * 5 + [0.0] * 6
    major = error_char_rates(path, chosen, severities=frozenset({"major"}))
    assert major[("S", 1)] == [0.0] * 4 + [third] * 5 + [0.0] * 6
    # per token: the highest rate of its characters
    assert token_rates(rates[("S", 1)], [(0, 3), (3, 5), (4, 9), (10, 15)]) == [0.0, 2 * third, 2 * third, 0.0]


# ----------------------------------------------------------------------------- per rater, scores, ceiling

from mtcheck.metaeval.spans import (  # noqa: E402
    against_raters, char_runs, rater_agreement, rater_marks, span_scores,
)


def test_rater_marks_keep_each_rater_and_the_worst_severity(tmp_path):
    rows = [
        ("S", "d", "1", "1", "r1", "源", "Net <v>sales</v> rose.", "Accuracy/Mistranslation", "Major"),
        ("S", "d", "1", "1", "r1", "源", "<v>Net sal</v>es rose.", "Fluency/Grammar", "Minor"),
        ("S", "d", "1", "1", "r2", "源", "Net sales rose.", "No-error", "No-error"),
        ("S", "d", "1", "1", "r3", "源", "Net sales <v>rose</v>.", "Style", "Critical"),
    ]
    path = tmp_path / "mqm.tsv"
    path.write_text(mqm_tsv(rows), encoding="utf-8")
    marks = rater_marks(path, {("S", 1): "Net sales rose."})[("S", 1)]
    # r1: "Net " minor, "sal" of the minor row overlapped by the major "sales" -> major
    assert marks["r1"] == {0: "minor", 1: "minor", 2: "minor", 3: "minor",
                           4: "major", 5: "major", 6: "major", 7: "major", 8: "major"}
    assert marks["r2"] == {}
    assert marks["r3"] == {10: "major", 11: "major", 12: "major", 13: "major"}


def test_rater_marks_on_the_source_side_read_the_omissions(tmp_path):
    rows = [
        ("S", "d", "1", "1", "r1", "净<v>销售额</v>增长。", "Net rose.", "Accuracy/Omission", "Major"),
        ("S", "d", "1", "1", "r1", "净销售额增长。", "Net <v>rose</v>.", "Fluency/Grammar", "Minor"),
        ("S", "d", "1", "1", "r2", "净销售额增长。", "Net rose.", "No-error", "No-error"),
        # another item's source text: not this item's rows
        ("S", "d", "1", "1", "r3", "<v>别</v>的。", "Net rose.", "Accuracy/Omission", "Minor"),
    ]
    path = tmp_path / "mqm.tsv"
    path.write_text(mqm_tsv(rows), encoding="utf-8")
    marks = rater_marks(path, {("S", 1): "净销售额增长。"}, side="source")[("S", 1)]
    assert marks == {"r1": {1: "major", 2: "major", 3: "major"}, "r2": {}}
    with pytest.raises(ValueError, match="side"):
        rater_marks(path, {("S", 1): "x"}, side="mt")


@pytest.mark.parametrize("chars, runs", [
    ([], []), ([3], [(3, 4)]), ([5, 1, 2, 3, 7, 8], [(1, 4), (5, 6), (7, 9)]), ([2, 2, 3], [(2, 4)]),
])
def test_char_runs(chars, runs):
    assert char_runs(chars) == runs


MAJ, MIN = "major", "minor"


@pytest.mark.parametrize("pairs, major_only, expected", [
    # one text: predicted 0-3, gold 2-5 -> tp 2 of 4 predicted, 2 of 4 gold; one span each, overlapping
    ([({0: MIN, 1: MIN, 2: MIN, 3: MIN}, {2: MIN, 3: MIN, 4: MIN, 5: MIN})], False, (0.5, 0.5, 0.5, 1.0, 0.5)),
    # same, but the gold is major: the two shared characters earn half credit each -> P = R = 1/4
    ([({0: MIN, 1: MIN, 2: MIN, 3: MIN}, {2: MAJ, 3: MAJ, 4: MAJ, 5: MAJ})], False, (0.5, 0.5, 0.5, 1.0, 0.25)),
    # major only: the prediction has no major mark -> nothing right
    ([({0: MIN, 1: MIN, 2: MIN, 3: MIN}, {2: MAJ, 3: MAJ, 4: MAJ, 5: MAJ})], True, (0.0, 0.0, 0.0, 0.0, 0.0)),
    # two texts, micro-averaged: (pred {0,1}, gold {}) and (pred {}, gold {4}) -> tp 0
    ([({0, 1}, set()), (set(), {4})], False, (0.0, 0.0, 0.0, 0.0, 0.0)),
    # two predicted spans, one hits: span P 1/2, span R 1/1 -> span F1 2/3
    ([({0: MIN, 5: MIN}, {5: MIN, 6: MIN})], False, (0.5, 0.5, 0.5, 2 / 3, 0.5)),
])
def test_span_scores(pairs, major_only, expected):
    s = span_scores(pairs, major_only)
    assert (s.precision, s.recall, s.f1, s.span_f1, s.severity_f1) == pytest.approx(expected)
    assert s.pairs == len(pairs)


def test_human_ceiling_and_a_detector_on_the_same_items():
    marks = {
        ("S", 1): {"a": {0: MAJ, 1: MAJ}, "b": {1: MAJ, 2: MIN}},
        ("S", 2): {"a": {}},                        # one rater: not part of the ceiling
    }
    ceiling = rater_agreement(marks)
    # ordered pairs (a->b) and (b->a): tp 1 each, 2 predicted and 2 gold each -> P = R = F1 = 1/2
    assert (ceiling.precision, ceiling.recall, ceiling.f1, ceiling.pairs) == pytest.approx((0.5, 0.5, 0.5, 2))
    # severity: the shared character 1 is major on both sides -> weighted tp 1 of 2 -> 1/2
    assert ceiling.severity_f1 == pytest.approx(0.5)
    # major only: a = {0,1}, b = {1} -> (a vs b) tp 1, fp 1; (b vs a) tp 1, fn 1 -> P = 2/3, R = 2/3
    assert rater_agreement(marks, major_only=True).f1 == pytest.approx(2 / 3)
    detector = {("S", 1): {1: MAJ}}
    vs = against_raters(detector, marks, min_raters=2)
    # against a: tp 1, fn 1; against b: tp 1, fn 1 -> P 1, R 1/2
    assert (vs.precision, vs.recall, vs.pairs) == pytest.approx((1.0, 0.5, 2))
    # with the single-rater item too: one more pair, nothing predicted nor gold
    assert against_raters(detector, marks).pairs == 3


@pytest.mark.parametrize("raters, expected", [
    ({}, {}),
    ({"r1": {}, "r2": {}}, {}),
    # a character minor for one rater and major for another is major, in either order
    ({"r1": {1: "minor", 2: "major"}, "r2": {1: "major", 2: "minor", 5: "minor"}}, {1: "major", 2: "major", 5: "minor"}),
])
def test_union_marks(raters, expected):
    from mtcheck.metaeval.spans import union_marks

    assert union_marks(raters) == expected
