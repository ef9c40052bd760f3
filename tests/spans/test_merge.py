import pytest

from mtcheck.core import Severity, Side, Span
from mtcheck.spans import merge_spans


def sp(start, end, sev, check, side=Side.SOURCE, cat="Cat"):
    return Span(start, end, side, f"{cat}-{check}", sev, f"msg-{check}", evidence=f"ev-{check}", check=check)


@pytest.mark.parametrize(
    "spans, expected",
    [
        ([], []),
        ([sp(0, 3, Severity.MAJOR, "a")], [(0, 3, "major", "a")]),
        # same offsets, same side: one span, the most severe leads
        ([sp(0, 3, Severity.MAJOR, "dates"), sp(0, 3, Severity.CRITICAL, "terms")], [(0, 3, "critical", "terms+dates")]),
        # equal severity: the first leads
        ([sp(0, 3, Severity.MAJOR, "dates"), sp(0, 3, Severity.MAJOR, "terms")], [(0, 3, "major", "dates+terms")]),
        # overlapping but different: both kept
        ([sp(0, 3, Severity.MAJOR, "a"), sp(1, 3, Severity.MAJOR, "b")], [(0, 3, "major", "a"), (1, 3, "major", "b")]),
        # same offsets on different sides: both kept
        ([sp(0, 3, Severity.MAJOR, "a"), sp(0, 3, Severity.MAJOR, "b", side=Side.MT)],
         [(0, 3, "major", "a"), (0, 3, "major", "b")]),
    ],
)
def test_merge(spans, expected):
    got = merge_spans(spans)
    assert [(s.start, s.end, s.severity.value, s.check) for s in got] == expected


def test_merged_evidence_keeps_the_others():
    (m,) = merge_spans([sp(20, 23, Severity.MAJOR, "dates"), sp(20, 23, Severity.MAJOR, "terms")])
    assert m.evidence == "ev-dates; also major Cat-terms (terms): msg-terms"
