import pytest

from mtcheck.core import BatchResult, Segment, SegmentResult, Severity, Side, Span
from mtcheck.errors import ConfigError
from mtcheck.gate import Thresholds, evaluate_gate, thresholds_from_mapping


def span(sev, cat="Accuracy/Mistranslation"):
    return Span(0, 1, Side.MT, cat, sev, "msg")


def result(i, *spans, ok=True):
    r = SegmentResult(Segment(str(i), "源", "mt"), spans=list(spans),
                      status="ok" if ok else "failed", error=None if ok else "bad line")
    r.scores["mqm_est"] = -r.penalty() if ok else None
    return r


def batch(results, chrf=55.0):
    ok = [r for r in results if r.ok]
    return BatchResult(results, [], {"mqm_est": sum(r.scores["mqm_est"] for r in ok) / len(ok), "chrf": chrf,
                                     "ter": 40.0}, {}, "0.1.0", headline="mqm_est")


# segment penalties: s1 = 0, s2 = minor (1), s3 = major (5) + Terminology minor (1), s4 = critical (25), s5 unreadable
B = batch([result(1), result(2, span(Severity.MINOR)),
           result(3, span(Severity.MAJOR), span(Severity.MINOR, "Terminology/Inconsistent")),
           result(4, span(Severity.CRITICAL, "Accuracy/Omission")), result(5, ok=False)])
# mean headline over the 4 readable segments: -(0 + 1 + 6 + 25) / 4 = -8


@pytest.mark.parametrize(
    "thresholds, expected",
    [
        (Thresholds(max_critical=None, max_failed=None), []),
        (Thresholds(max_failed=None), [("max-critical", 0, 1, ("4",))]),
        (Thresholds(max_critical=1, max_failed=None), []),
        (Thresholds(max_critical=None, max_failed=0), [("max-failed (unreadable segments)", 0, 1, ("5",))]),
        (Thresholds(max_critical=None, max_failed=None, max_major=0), [("max-major", 0, 1, ("3",))]),
        (Thresholds(max_critical=None, max_failed=None, max_minor=1), [("max-minor", 1, 2, ("2", "3"))]),
        (Thresholds(max_critical=None, max_failed=None, fail_under=-8.0), []),
        (Thresholds(max_critical=None, max_failed=None, fail_under=-7.5),
         [("fail-under (mqm_est)", -7.5, -8.0, ("4",))]),  # only segments under the bar, worst first
        (Thresholds(max_critical=None, max_failed=None, min_segment=-5.5),
         [("min-segment (mqm_est)", -5.5, -25.0, ("3", "4"))]),
        (Thresholds(max_critical=None, max_failed=None, max_category=(("Accuracy", 1),)),
         [("max-category Accuracy", 1, 3, ("2", "3", "4"))]),
        (Thresholds(max_critical=None, max_failed=None, max_category=(("Terminology", 0),)),
         [("max-category Terminology", 0, 1, ("3",))]),
        (Thresholds(max_critical=None, max_failed=None, max_category=(("Accuracy/Omission", 1),)), []),
        (Thresholds(max_critical=None, max_failed=None, metric_minimums=(("chrf", 60.0),)),
         [("min-metric chrf", 60.0, 55.0, ())]),
    ],
)
def test_gate(thresholds, expected):
    gate = evaluate_gate(B, thresholds)
    got = [(v.threshold, v.limit, v.actual, v.segment_ids) for v in gate.violations]
    assert got == expected
    assert gate.passed == (not expected)


def test_default_thresholds_forbid_critical_and_unreadable():
    gate = evaluate_gate(B, Thresholds())
    assert [v.threshold for v in gate.violations] == ["max-critical", "max-failed (unreadable segments)"]
    assert gate.failing_segments == {"4", "5"}


@pytest.mark.parametrize(
    "thresholds, fragment",
    [(Thresholds(metric_minimums=(("comet", 0.5),)), "did not compute"),
     (Thresholds(metric_minimums=(("ter", 30.0),)), "lower is better")],
)
def test_gate_bad_metric(thresholds, fragment):
    with pytest.raises(ConfigError, match=fragment):
        evaluate_gate(B, thresholds)


@pytest.mark.parametrize("kwargs", [{"max_critical": -1}, {"max_major": 1.5}, {"max_category": (("X", -2),)}])
def test_thresholds_validation(kwargs):
    with pytest.raises(ConfigError):
        Thresholds(**kwargs)


def test_thresholds_from_mapping():
    got = thresholds_from_mapping({"fail-under": -3, "max-critical": False, "min-metric": {"chrf": 50},
                                   "max-category": {"Terminology": 2}}, "x.toml")
    assert got == {"fail_under": -3.0, "max_critical": None, "metric_minimums": (("chrf", 50.0),),
                   "max_category": (("Terminology", 2),)}
    with pytest.raises(ConfigError, match="x.toml: max-major must be an integer"):
        thresholds_from_mapping({"max-major": "5"}, "x.toml")


def test_violation_describe_lists_segments():
    (v,) = evaluate_gate(B, Thresholds(max_critical=None, max_failed=None, max_minor=0)).violations
    assert v.describe() == "max-minor: 2 (limit 0); segments: 2, 3"


@pytest.mark.parametrize(
    "fail_under, expected",
    [(70.0, []), (75.0, [("fail-under (qe)", 75.0, 72.5, ("b", "c"))]), (95.0, [("fail-under (qe)", 95.0, 72.5, ("b", "c", "a"))])],
)
def test_fail_under_on_the_qe_scale(fail_under, expected):
    # qe scores 90, 40, 60 (higher is better); batch score 72.5 as given
    rs = []
    for i, v in zip("abc", (90.0, 40.0, 60.0)):
        r = SegmentResult(Segment(i, "源", "mt"))
        r.scores["qe"] = v
        rs.append(r)
    b = BatchResult(rs, [], {"qe": 72.5}, {}, "0.1.0", headline="qe")
    gate = evaluate_gate(b, Thresholds(max_critical=None, max_failed=None, fail_under=fail_under))
    assert [(v.threshold, v.limit, v.actual, v.segment_ids) for v in gate.violations] == expected
