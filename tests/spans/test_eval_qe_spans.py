"""scripts/eval_qe_spans.py: the major-span precision/recall frontier against each rater."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import import_script

MT = "aa xx bb xx cc"
# words aa(0,2) xx(3,5) bb(6,8) xx(9,11) cc(12,14); the unflagged xx keep the three apart
TOKENS = ((0, 2, 0.9), (3, 5, 0.0), (6, 8, 0.5), (9, 11, 0.0), (12, 14, 0.32))
MARKS = {("sys", 1): {"A": {0: "major", 1: "major", 6: "major", 7: "major"}, "B": {0: "major", 1: "major"}}}


@pytest.mark.parametrize(
    "major_threshold, precision, recall",
    [
        # aa, bb, cc major (6 characters): A confirms 4, B 2 -> 6 of 12 flagged pairs, all 6 gold
        (0.3, 0.5, 1.0),
        # aa, bb: 4 + 2 of 8
        (0.35, 0.75, 1.0),
        (0.5, 0.75, 1.0),
        # aa alone: 2 + 2 of 4; A's bb is missed (4 of 6 gold)
        (0.55, 1.0, 4 / 6),
        (0.8, 1.0, 4 / 6),
    ],
)
def test_major_frontier_scores_against_each_rater(major_threshold, precision, recall, capsys):
    script = import_script("eval_qe_spans")
    items = [SimpleNamespace(system="sys", item=1, mt=MT)]
    preds = [SimpleNamespace(token_bad=TOKENS)]
    rows = dict(script.major_frontier(items, preds, MARKS, threshold=0.3))
    assert sorted(rows) == list(script.MAJOR_GRID)
    got = rows[major_threshold]
    assert got.precision == pytest.approx(precision)
    assert got.recall == pytest.approx(recall)
    out = capsys.readouterr().out
    # the best recall at precision >= 0.40 is the lowest threshold's
    assert "at major precision >= 0.40 the most recall is 1.000 (major_threshold 0.3, F1 0.667)" in out


def test_major_frontier_says_when_no_threshold_reaches_the_target(capsys):
    script = import_script("eval_qe_spans")
    items = [SimpleNamespace(system="sys", item=1, mt=MT)]
    preds = [SimpleNamespace(token_bad=TOKENS)]
    script.major_frontier(items, preds, {("sys", 1): {"A": {12: "major"}, "B": {13: "major"}}}, threshold=0.3)
    assert "no major_threshold reaches major precision 0.40" in capsys.readouterr().out
