"""Per-rater MQM scores and the rater-against-rater ceiling of item-grouped Kendall."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import scipy.stats

from mtcheck.errors import InputError
from mtcheck.metaeval.loaders import MqmErrors
from mtcheck.metaeval.raters import metric_rater_item_kendall, mqm_weight, rater_item_kendall, read_rater_scores
from mtcheck.metaeval.stats import BootstrapConfig
from tests.conftest import MQM_HEADER, import_script, mqm_tsv



# Weights as the data's README states the Freitag et al. (2021) convention.
@pytest.mark.parametrize(
    "category, severity, weight",
    [
        ("Accuracy/Mistranslation", "Major", 5.0),
        ("Accuracy/Mistranslation", "Minor", 1.0),
        ("Fluency/Punctuation", "Minor", 0.1),
        ("Fluency/Punctuation", "Major", 5.0),
        ("Non-translation!", "Major", 25.0),
        ("Non_translation", "Major", 25.0),
        ("Style/Awkward", "Neutral", 0.0),
        ("no-error", "no-error", 0.0),
        ("No-error", "No-error", 0.0),
        (" Accuracy/Omission ", " major ", 5.0),
    ],
)
def test_mqm_weight(category, severity, weight):
    assert mqm_weight(category, severity) == weight


def test_read_rater_scores_sums_each_raters_rows(write):
    rows = [
        ("hyp.A", "d", "1", "1", "r1", "源", "<v>x</v> y", "Accuracy/Mistranslation", "Major"),
        ("hyp.A", "d", "1", "1", "r1", "源", "x <v>y</v>", "Fluency/Punctuation", "Minor"),
        ("hyp.A", "d", "1", "1", "r2", "源", "x y", "No-error", "No-error"),
        ("hyp.B", "d", "1", "1", "r2", "源", "<v>z</v>", "Non_translation", "Major"),
        ("hyp.B", "d", "1", "2", "r1", "源", "w", "no-error", "no-error"),
        ("hyp.B", "d", "1", "3", "r1", "源", "<v>v</v>", "Other", "Minor"),  # seg 3: not in the map
    ]
    errors = MqmErrors(write("mqm.tsv", mqm_tsv(rows)), lambda name: name.removeprefix("hyp."), {1: 101, 2: 102})
    scores = read_rater_scores(errors)
    assert scores == {
        ("A", 101): {"r1": pytest.approx(-5.1), "r2": 0.0},
        ("B", 101): {"r2": -25.0},
        ("B", 102): {"r1": 0.0},
    }


@pytest.mark.parametrize(
    "header, rows, line, message",
    [
        ("system\tdoc\n", [], 1, "header"),
        (MQM_HEADER, [("A", "d", "1", "1", "r1", "源", "x")], 2, "9 tab-separated fields, found 7"),
        (MQM_HEADER, [("A", "d", "1", "one", "r1", "源", "x", "Other", "Minor")], 2, "seg_id"),
    ],
)
def test_read_rater_scores_names_the_bad_line(write, header, rows, line, message):
    path = write("mqm.tsv", mqm_tsv(rows, header))
    with pytest.raises(InputError) as info:
        read_rater_scores(MqmErrors(path, lambda name: name))
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}:")


def grid(table):
    """``{rater: {item: [scores of systems S0, S1, ...]}}`` → ``(system, item) -> {rater: score}``."""
    out = {}
    for rater, items in table.items():
        for item, values in items.items():
            for k, v in enumerate(values):
                out.setdefault((f"S{k}", item), {})[rater] = v
    return out


def tau(x, y):
    return scipy.stats.kendalltau(x, y, variant="b").statistic


def test_rater_against_rater_is_the_mean_over_ordered_pairs():
    a1, b1 = [0, -1, -5, -6], [0, -5, -1, -6]
    a2, b2 = [-1, 0, -3, -2], [-2, -2, 0, -1]
    scores = grid({"a": {1: a1, 2: a2}, "b": {1: b1, 2: b2}})
    est = rater_item_kendall(scores)
    # Kendall is symmetric, so both orders of a pair give the same tau.
    assert est.value == pytest.approx((tau(a1, b1) + tau(a2, b2)) / 2)
    assert est.n == 4 and est.skipped == 0
    # Two raters only: the human side has no one else to draw from.
    assert rater_item_kendall(scores, mixed=True).value == pytest.approx(est.value)


def test_mixed_draws_from_the_other_raters():
    a = [0, -1, -2, -3, -4, -5]
    c = [-5, -4, -3, -2, -1, 0]
    # With a and b identical, a unit whose "metric" is c draws its human side
    # from a or b: the same either way, tau -1; units with metric a or b draw
    # from {b, c} or {a, c}, so mixed differs from same-rater only there.
    scores = grid({"a": {1: a}, "b": {1: list(a)}, "c": {1: c}})
    same = rater_item_kendall(scores)
    assert same.value == pytest.approx((1 + 1 - 1 - 1 - 1 - 1) / 6)
    mixed = [rater_item_kendall(scores, mixed=True, seed=s).value for s in range(5)]
    assert all(-1.0 <= v <= 1.0 for v in mixed)
    assert len({round(v, 9) for v in mixed}) > 1  # the draws matter
    assert rater_item_kendall(scores, mixed=True, seed=3).value == rater_item_kendall(scores, mixed=True, seed=3).value


def test_raters_who_missed_a_system_are_left_out():
    scores = grid({"a": {1: [0, -1, -2]}, "b": {1: [0, -2, -1]}})
    scores[("S2", 1)]["c"] = -4.0  # c rated one system only
    scores[("S0", 2)] = {"a": 0.0}  # item 2: one rater, no pair
    est = rater_item_kendall(scores)
    assert est.value == pytest.approx(tau([0, -1, -2], [0, -2, -1]))
    assert est.n == 2


def test_metric_against_each_rater():
    a, b = [0, -1, -5, -6], [-1, 0, -6, -5]
    metric_values = [3.0, 2.0, 1.0, 0.5]
    scores = grid({"a": {1: a}, "b": {1: b}})
    metric = {(f"S{k}", 1): v for k, v in enumerate(metric_values)}
    est = metric_rater_item_kendall(scores, metric)
    assert est.value == pytest.approx((tau(a, metric_values) + tau(b, metric_values)) / 2)
    # a cell without a metric score leaves that system out of the item
    del metric[("S3", 1)]
    est = metric_rater_item_kendall(scores, metric)
    assert est.value == pytest.approx((tau(a[:3], metric_values[:3]) + tau(b[:3], metric_values[:3])) / 2)
    # systems can be restricted
    est = metric_rater_item_kendall(scores, metric, systems=["S0", "S1"])
    assert est.value == pytest.approx((tau(a[:2], [3, 2]) + tau(b[:2], [3, 2])) / 2)


def test_bootstrap_draws_whole_segments():
    # One segment whose two rater units disagree completely (tau 1 and -1 for
    # the metric): drawing units would spread the interval over [-1, 1];
    # drawing the segment always keeps both, so the interval is the value.
    a, b = [0, -1, -2], [-2, -1, 0]
    metric = {(f"S{k}", 1): v for k, v in enumerate([3.0, 2.0, 1.0])}
    est = metric_rater_item_kendall(grid({"a": {1: a}, "b": {1: b}}), metric, bootstrap=BootstrapConfig(n=50))
    assert est.value == pytest.approx(0.0)
    assert est.ci == pytest.approx((0.0, 0.0))
    # Two segments, different means: the interval spans them.
    scores = grid({"a": {1: a, 2: a}, "b": {1: b, 2: a}})
    metric.update({(f"S{k}", 2): v for k, v in enumerate([3.0, 2.0, 1.0])})
    est = metric_rater_item_kendall(scores, metric, bootstrap=BootstrapConfig(n=200))
    assert est.value == pytest.approx(0.5)
    low, high = est.ci
    assert low == pytest.approx(0.0) and high == pytest.approx(1.0)


def test_no_pairs_gives_no_value():
    est = rater_item_kendall({("S0", 1): {"a": 0.0}, ("S1", 1): {"b": -1.0}})
    assert math.isnan(est.value) and est.n == 0


# ----------------------------------------------------------------------------- scripts/rater_ceiling.py


def test_script_checks_scores_and_counts_raters():
    script = import_script("rater_ceiling")
    scores = {("A", 1): {"r1": -5.0, "r2": -1.0}, ("B", 1): {"r3": 0.0}, ("ref", 1): {"r9": 0.0},
              ("A", 2): {"r1": 0.0}}
    items = [SimpleNamespace(system="A", item=1, human=-3.0), SimpleNamespace(system="B", item=1, human=-1.0),
             SimpleNamespace(system="A", item=2, human=None), SimpleNamespace(system="B", item=2, human=0.0)]
    # A/1 matches its mean (-3); B/1 does not (0 vs -1); A/2 is unrated; B/2 has no rows
    assert script.check_against_averages(scores, SimpleNamespace(items=items)) == (1, 2)
    assert script.raters_per_item(scores, {"A", "B"}) == {3: 1, 1: 1}


def test_script_skips_without_the_shared_data(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MTCHECK_SHARED_DATA", str(tmp_path / "absent"))
    script = import_script("rater_ceiling")
    assert script.main(["--no-model", "--bootstrap", "0"]) == 0
    assert capsys.readouterr().out.startswith("skipped: ")
