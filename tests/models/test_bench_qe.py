"""scripts/bench_qe.py's QE rows: the system level measures the batch score mtcheck reports."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest import import_script


def test_qe_rows_weight_systems_by_mt_words():
    bench_qe = import_script("bench_qe")
    # Two systems, two items. A scores 90 on a 1-word MT and 10 on a 9-word one: plain mean
    # 50, weighted (90 + 90) / 10 = 18. B scores 40 and 40. The humans prefer B, which the
    # weighted means get right and the plain means do not.
    mts = {("A", 1): "Fine.", ("A", 2): "one two three four five six seven eight nine",
           ("B", 1): "Fine too.", ("B", 2): "one two three"}
    scores = {("A", 1): 90.0, ("A", 2): 10.0, ("B", 1): 40.0, ("B", 2): 40.0}
    human = {("A", 1): 0.0, ("A", 2): -10.0, ("B", 1): -1.0, ("B", 2): -1.0}
    items = [SimpleNamespace(system=s, item=i, mt=mts[(s, i)]) for s, i in sorted(mts)]
    report, (plain_pearson, plain_pairwise) = bench_qe.qe_report(
        "qe", [scores[(it.system, it.item)] for it in items], items, human, ("A", "B"), None)
    assert report.pairwise_accuracy.value == 1.0
    assert plain_pairwise.value == 0.0
    assert report.system_pearson.value == pytest.approx(1.0) and plain_pearson.value == pytest.approx(-1.0)
    # segment level: the cells themselves, whatever the aggregation
    keys = sorted(mts)
    assert report.segment_pearson.value == pytest.approx(
        np.corrcoef([scores[k] for k in keys], [human[k] for k in keys])[0, 1])
