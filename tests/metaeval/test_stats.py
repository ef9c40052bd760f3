"""Tests of the meta-evaluation statistics against hand-computed values and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mtcheck.errors import UsageError
from mtcheck.metaeval.stats import (
    BootstrapConfig,
    Judgements,
    bootstrap_weights,
    evaluate,
    format_table,
    item_kendall,
    pairwise_accuracy,
    percentile_ci,
    segment_kendall,
    segment_pearson,
    system_pearson,
    weighted_system_scorer,
)


def grid(rows: dict[str, list[float | None]]) -> dict[tuple[str, int], float | None]:
    """``{"A": [h1, h2, ...]}`` -> ``{("A", 1): h1, ("A", 2): h2, ...}``."""
    return {(s, i): v for s, vals in rows.items() for i, v in enumerate(vals, start=1)}


# The hand-computed case: 3 systems x 3 items.
#
#          human          metric
#        i1 i2 i3       i1 i2 i3
#   A     3  2  1        3  1  2
#   B     2  2  0        2  2  0
#   C     1  0  0        1  0  1
#
# Flat Pearson over the 9 cells: sum h = 11, sum m = 12, sum hm = 22,
#   sum h^2 = 23, sum m^2 = 24 -> Sxy = 22 - 132/9 = 66/9, Sxx = 23 - 121/9 = 86/9,
#   Syy = 24 - 144/9 = 72/9 -> r = 66 / sqrt(86 * 72).
# Flat Kendall tau-b: 36 pairs. Human tie groups {A2,B1,B2}, {A3,C1}, {B3,C2,C3}
#   -> 3 + 1 + 3 = 7 pairs tied in h; metric tie groups {B1,B2,A3}, {A2,C1,C3},
#   {B3,C2} -> 3 + 3 + 1 = 7 tied in m. Across human groups: A1 beats all 8
#   others in m (8 C); {A2,B1,B2} vs {A3,C1}: A2-A3 D, B1-C1 C, B2-C1 C, the rest
#   metric ties (2 C, 1 D); {A2,B1,B2} vs {B3,C2,C3}: 8 C, A2-C3 metric tie;
#   {A3,C1} vs {B3,C2,C3}: 5 C, C1-C3 metric tie. C = 23, D = 1
#   -> tau-b = 22 / sqrt((36 - 7) * (36 - 7)) = 22 / 29.
# Grouped by item: i1 h and m both 3>2>1 -> tau 1. i2: h (2,2,0), m (1,2,0):
#   AB tied in h only, AC and BC concordant -> 2 / sqrt((3-1) * 3) = 2/sqrt(6).
#   i3: h (1,0,0), m (2,0,1): AB, AC concordant, BC tied in h -> 2/sqrt(6).
#   Mean = (1 + 4/sqrt(6)) / 3.
# System level: human means A 2, B 4/3, C 1/3 (deviations 7/9, 1/9, -8/9);
#   metric means A 2, B 4/3, C 2/3 (deviations 2/3, 0, -2/3)
#   -> r = (7*2 + 8*2) / sqrt((49 + 1 + 64) * (4 + 4)) = 30 / sqrt(912).
# Pairwise: A > B > C for both -> 3 of 3 pairs agree.
HAND_HUMAN = grid({"A": [3, 2, 1], "B": [2, 2, 0], "C": [1, 0, 0]})
HAND_METRIC = grid({"A": [3, 1, 2], "B": [2, 2, 0], "C": [1, 0, 1]})
HAND_J = Judgements.from_scores(HAND_HUMAN, HAND_METRIC)


@pytest.mark.parametrize(
    "statistic, expected, n, skipped",
    [
        (segment_pearson, 66 / math.sqrt(86 * 72), 9, 0),
        (segment_kendall, 22 / 29, 9, 0),
        (item_kendall, (1 + 4 / math.sqrt(6)) / 3, 3, 0),
        (system_pearson, 30 / math.sqrt(912), 3, 0),
        (pairwise_accuracy, 1.0, 3, 0),
    ],
)
def test_hand_computed_case(statistic, expected, n, skipped):
    est = statistic(HAND_J)
    assert est.value == pytest.approx(expected, abs=1e-12)
    assert (est.n, est.skipped) == (n, skipped)
    assert est.ci is None


def test_missing_cells_are_dropped_pairwise():
    # Drop C3 on the human side (None) and A2 on the metric side (NaN); add a
    # system D with human scores but no metric at all. Remaining 7 cells:
    #   h = 3 1 2 2 0 1 0 (A1 A3 B1 B2 B3 C1 C2), m = 3 2 2 2 0 1 0
    #   sum h = 9, sum m = 10, sum hm = 9+2+4+4+0+1+0 = 20, sum h^2 = 19, sum m^2 = 22
    #   Sxy = 20 - 90/7 = 50/7, Sxx = 19 - 81/7 = 52/7, Syy = 22 - 100/7 = 54/7
    human = dict(HAND_HUMAN) | {("C", 3): None, ("D", 1): 5.0, ("D", 2): 4.0}
    metric = dict(HAND_METRIC) | {("A", 2): float("nan")}
    j = Judgements.from_scores(human, metric)
    assert j.systems == ("A", "B", "C")
    assert j.n_cells == 7
    assert segment_pearson(j).value == pytest.approx(50 / math.sqrt(52 * 54), abs=1e-12)
    # Only item 1 is valid for every system: system means are the item-1 scores
    # (h 3, 2, 1; m 3, 2, 1) -> r = 1, and items 2 and 3 are counted as skipped.
    sp = system_pearson(j)
    assert (sp.value, sp.skipped) == (pytest.approx(1.0), 2)
    assert j.complete_items == (1,)


def test_systems_argument_restricts_the_grid():
    j = Judgements.from_scores(HAND_HUMAN, HAND_METRIC, systems=["A", "C"])
    assert j.systems == ("A", "C")
    assert j.n_cells == 6


@pytest.mark.parametrize(
    "human, metric, human_ties, expected, n_pairs, n_ties",
    [
        # Pairs: AB human tie; AC h+ m- (disagree); AD h- m- (agree); BC h+ m-
        # (disagree); BD, CD h- m- (agree). Excluding the tie: 3 of 5.
        ([1, 1, 0, 2], [5, 6, 7, 8], "exclude", 3 / 5, 5, 1),
        # Including it: the metric orders A<B, so the tie is not matched: 3 of 6.
        ([1, 1, 0, 2], [5, 6, 7, 8], "include", 3 / 6, 6, 1),
        # A metric tie on the human tie matches when ties are included: 4 of 6.
        ([1, 1, 0, 2], [5, 5, 7, 8], "include", 4 / 6, 6, 1),
        # A metric tie where the humans have an order is a disagreement.
        ([1, 2], [5, 5], "exclude", 0.0, 1, 0),
        # Only a human tie: nothing to count.
        ([1, 1], [5, 6], "exclude", float("nan"), 0, 1),
    ],
)
def test_pairwise_accuracy_ties(human, metric, human_ties, expected, n_pairs, n_ties):
    names = "ABCD"
    h = {(names[k], "x"): float(v) for k, v in enumerate(human)}
    m = {(names[k], "x"): float(v) for k, v in enumerate(metric)}
    est = pairwise_accuracy(Judgements.from_scores(h, m), human_ties=human_ties)
    if math.isnan(expected):
        assert math.isnan(est.value)
    else:
        assert est.value == pytest.approx(expected)
    assert (est.n, est.skipped) == (n_pairs, n_ties)


def test_pairwise_rejects_unknown_tie_policy():
    with pytest.raises(UsageError, match="human_ties"):
        pairwise_accuracy(HAND_J, human_ties="half")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_item_kendall_equals_scipy_tau_b_per_item(seed):
    """The all-items-at-once tau-b against SciPy's, item by item, with ties and missing cells."""
    import scipy.stats

    rng = np.random.default_rng(seed)
    human = rng.integers(0, 4, size=(7, 60)).astype(float)  # few levels: many ties
    metric = np.round(rng.normal(size=(7, 60)), 1)
    metric[:, :5] = 1.0  # constant metric: undefined
    human[rng.random(human.shape) < 0.2] = np.nan
    metric[rng.random(metric.shape) < 0.1] = np.nan
    j = Judgements.from_scores(
        {(f"s{a}", i): human[a, i] for a in range(7) for i in range(60)},
        {(f"s{a}", i): metric[a, i] for a in range(7) for i in range(60)})
    expected = []
    for k in range(len(j.items)):
        ok = j.valid[:, k]
        x, y = j.human[ok, k], j.metric[ok, k]
        if len(x) >= 2 and np.ptp(x) > 0 and np.ptp(y) > 0:
            expected.append(scipy.stats.kendalltau(x, y, variant="b").statistic)
    est = item_kendall(j)
    assert est.n == len(expected) and est.skipped == len(j.items) - len(expected)
    assert est.skipped >= 5
    assert est.value == pytest.approx(float(np.mean(expected)), abs=1e-12)


def test_item_kendall_skips_undefined_items():
    # Item 1: only system A rated -> skipped. Item 2: humans all 0 -> skipped.
    # Item 3: h (3, 1, 2), m (3, 1, 2) -> tau 1. Item 4: h (1, 2, 3),
    # m (3, 2, 1) -> tau -1. Mean over the 2 used items = 0.
    human = {("A", 1): 1.0, ("A", 2): 0.0, ("B", 2): 0.0, ("C", 2): 0.0}
    metric = {("A", 1): 1.0, ("A", 2): 1.0, ("B", 2): 2.0, ("C", 2): 3.0}
    for item, hs, ms in ((3, (3, 1, 2), (3, 1, 2)), (4, (1, 2, 3), (3, 2, 1))):
        for s, hv, mv in zip("ABC", hs, ms):
            human[(s, item)] = float(hv)
            metric[(s, item)] = float(mv)
    est = item_kendall(Judgements.from_scores(human, metric))
    assert est.value == pytest.approx(0.0)
    assert (est.n, est.skipped) == (2, 2)


def random_case(seed: int, systems: int = 6, items: int = 40, noise: float = 1.5):
    rng = np.random.default_rng(seed)
    quality = rng.normal(size=systems)
    human, metric = {}, {}
    for s in range(systems):
        for i in range(items):
            # MQM-like: small integers with many ties; a few cells unrated.
            h = float(min(0, round(quality[s] + rng.normal() * 2 - 2)))
            human[(f"sys{s}", i)] = None if rng.random() < 0.05 else h
            metric[(f"sys{s}", i)] = h + rng.normal() * noise
    return human, metric


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perfect_and_reversed_agreement(seed):
    human, _ = random_case(seed)
    same = {k: v for k, v in human.items()}
    reversed_ = {k: (None if v is None else -v) for k, v in human.items()}
    good = evaluate(human, same)
    bad = evaluate(human, reversed_)
    for attr in ("segment_pearson", "segment_kendall", "item_kendall", "system_pearson"):
        assert getattr(good, attr).value == pytest.approx(1.0), attr
        assert getattr(bad, attr).value == pytest.approx(-1.0), attr
    assert good.pairwise_accuracy.value == pytest.approx(1.0)
    assert bad.pairwise_accuracy.value == pytest.approx(0.0)


def test_monotone_transform_keeps_kendall_not_pearson():
    human, _ = random_case(3)
    metric = {k: (None if v is None else math.exp(v)) for k, v in human.items()}
    r = evaluate(human, metric)
    assert r.segment_kendall.value == pytest.approx(1.0)
    assert r.item_kendall.value == pytest.approx(1.0)
    assert r.segment_pearson.value < 0.99


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_bootstrap_ci_contains_estimate_and_is_deterministic(seed):
    human, metric = random_case(seed)
    boot = BootstrapConfig(n=300, seed=seed)
    r1 = evaluate(human, metric, bootstrap=boot)
    r2 = evaluate(human, metric, bootstrap=boot)
    assert r1 == r2
    for attr in ("segment_pearson", "segment_kendall", "item_kendall", "system_pearson", "pairwise_accuracy"):
        est = getattr(r1, attr)
        assert est.ci is not None, attr
        low, high = est.ci
        assert low <= est.value <= high, attr
        assert low < high, attr
    r3 = evaluate(human, metric, bootstrap=BootstrapConfig(n=300, seed=seed + 100))
    assert r3.segment_pearson.ci != r1.segment_pearson.ci


def test_bootstrap_weights_resample_items():
    w = bootstrap_weights(7, BootstrapConfig(n=50, seed=3))
    assert w.shape == (50, 7)
    assert (w.sum(axis=1) == 7).all()
    assert (w >= 0).all()
    assert np.array_equal(w, bootstrap_weights(7, BootstrapConfig(n=50, seed=3)))
    assert (w != 1).any()  # not the identity resample


def replicate(j: Judgements, counts: np.ndarray) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for k, c in enumerate(counts):
        ok = j.valid[:, k]
        xs += list(j.human[ok, k]) * int(c)
        ys += list(j.metric[ok, k]) * int(c)
    return xs, ys


@pytest.mark.parametrize("seed", [0, 1])
def test_resampled_flat_statistics_equal_recomputation_on_copied_items(seed):
    """The vectorised resample statistics equal scipy on explicitly copied items."""
    import scipy.stats

    from mtcheck.metaeval.stats import _kendall_flat_weighted, _pearson_flat

    human, metric = random_case(seed, systems=4, items=15)
    j = Judgements.from_scores(human, metric)
    w = bootstrap_weights(len(j.items), BootstrapConfig(n=5, seed=seed))
    taus = _kendall_flat_weighted(j, w)
    rs = _pearson_flat(j, w)
    for b in range(5):
        xs, ys = replicate(j, w[b])
        assert taus[b] == pytest.approx(scipy.stats.kendalltau(xs, ys).statistic, abs=1e-12)
        assert rs[b] == pytest.approx(np.corrcoef(xs, ys)[0, 1], abs=1e-12)


def test_system_metric_variants():
    # Fixed corpus scores: A 10, B 20, C 30 against human means 2, 4/3, 1/3:
    # perfectly reversed order -> pairwise 0; Pearson of (2, 4/3, 1/3) with
    # (10, 20, 30): human deviations 7/9, 1/9, -8/9 and metric -10, 0, 10 ->
    # r = (-70 - 80) / sqrt(114 * 200) = -150 / sqrt(22800).
    fixed = {"A": 10.0, "B": 20.0, "C": 30.0}
    boot = BootstrapConfig(n=20)
    sp = system_pearson(HAND_J, boot, fixed)
    assert sp.value == pytest.approx(-150 / math.sqrt(22800))
    assert sp.ci is None  # fixed scores cannot be resampled
    assert pairwise_accuracy(HAND_J, boot, fixed).value == 0.0

    calls = []

    def scorer(weights):
        calls.append(weights.shape)
        return np.tile([10.0, 20.0, 30.0], (weights.shape[0], 1))

    sp2 = system_pearson(HAND_J, boot, scorer)
    assert sp2.value == pytest.approx(sp.value)
    assert sp2.ci is not None
    assert calls == [(1, 3), (20, 3)]
    with pytest.raises(UsageError, match="C"):
        system_pearson(HAND_J, None, {"A": 1.0, "B": 2.0})


def test_weighted_system_scorer():
    # Equal weights: the plain means of the hand case (r = 30 / sqrt(912)).
    ones = {key: 1.0 for key in HAND_METRIC}
    assert system_pearson(HAND_J, None, weighted_system_scorer(HAND_J, ones)).value == pytest.approx(30 / math.sqrt(912))
    # A's item 2 weighted 4: A = (3 + 4*1 + 2) / 6 = 3/2, B 4/3, C 2/3; deviations from
    # their mean 7/6: 1/3, 1/6, -1/2 against the human 7/9, 1/9, -8/9
    # -> Sxy = 39/54, Sxx = 114/81, Syy = 14/36 -> r = 39 / sqrt(1596).
    heavy = {**ones, ("A", 2): 4.0}
    scorer = weighted_system_scorer(HAND_J, heavy)
    assert scorer(np.ones((1, 3)))[0] == pytest.approx([1.5, 4 / 3, 2 / 3])
    assert system_pearson(HAND_J, None, scorer).value == pytest.approx(39 / math.sqrt(1596))
    # resampled: item 1 drawn twice, item 3 not -> A = (2*3 + 4*1) / 6 = 5/3
    assert scorer(np.array([[2.0, 1.0, 0.0]]))[0][0] == pytest.approx(5 / 3)
    assert system_pearson(HAND_J, BootstrapConfig(n=20), scorer).ci is not None
    with pytest.raises(UsageError, match="system B, item 2"):
        weighted_system_scorer(HAND_J, {k: v for k, v in ones.items() if k != ("B", 2)})
    with pytest.raises(UsageError, match="positive"):
        weighted_system_scorer(HAND_J, {**ones, ("C", 1): 0.0})


@pytest.mark.parametrize(
    "human, metric",
    [
        ({("A", 1): 1.0}, {("A", 1): 1.0}),  # one cell
        ({("A", 1): 1.0, ("B", 1): 1.0}, {("A", 1): 1.0, ("B", 1): 2.0}),  # constant human
        ({}, {}),
    ],
)
def test_undefined_statistics_are_nan(human, metric):
    r = evaluate(human, metric, bootstrap=BootstrapConfig(n=10))
    assert math.isnan(r.segment_pearson.value)
    assert math.isnan(r.segment_kendall.value)
    assert math.isnan(r.item_kendall.value)
    assert math.isnan(r.system_pearson.value)
    assert "n/a" in format_table([r])


def test_items_of_mixed_types_and_cjk_names():
    # Item order must not depend on input order; CJK system names, including
    # an Extension B character, are plain keys.
    human = {("系统𠀀", "段２"): 1.0, ("系统𠀀", 3): 2.0, ("ｓｙｓ", 3): 0.0, ("ｓｙｓ", "段２"): 0.5}
    metric = {k: v * 2 for k, v in human.items()}
    j = Judgements.from_scores(human, metric)
    assert j.items == (3, "段２")
    assert set(j.systems) == {"系统𠀀", "ｓｙｓ"}
    assert segment_pearson(j).value == pytest.approx(1.0)


def test_percentile_ci_ignores_nan():
    samples = np.array([np.nan] + list(range(101)), dtype=float)
    assert percentile_ci(samples, 0.9) == pytest.approx((5.0, 95.0))
    assert percentile_ci(np.array([np.nan])) is None


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"confidence": 1.0}, {"confidence": 0.0}])
def test_bootstrap_config_validation(kwargs):
    with pytest.raises(UsageError):
        BootstrapConfig(**kwargs)


def test_format_table_rows_and_notes():
    r = evaluate(HAND_HUMAN, HAND_METRIC, metric_name="toy", bootstrap=BootstrapConfig(n=50, seed=2))
    lines = format_table([r, r]).splitlines()
    assert lines[0].split()[:3] == ["metric", "seg", "Pearson"]
    assert lines[2].startswith("toy  ")
    assert f"{22 / 29:.3f} [" in lines[2]
    assert any("3 systems, 3 items, 9 cells" in x for x in lines)
    assert lines[-1].startswith("[low, high]: 95% percentile interval, item bootstrap, 50 resamples, seed 2")
