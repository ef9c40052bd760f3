import pytest

from mtcheck.checks import CHECKS
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side

OPTS = CheckOptions()


@pytest.mark.parametrize(
    "source, mt, metadata, expected",
    [
        ("你好。", "Hello.", {}, []),
        ("你好。", "", {}, [(Side.SOURCE, "Accuracy/Omission", Severity.CRITICAL, 0, 3)]),
        ("你好。", " \t\u3000", {}, [(Side.SOURCE, "Accuracy/Omission", Severity.CRITICAL, 0, 3)]),  # ideographic space
        ("", "Hello.", {}, [(Side.MT, "Accuracy/Addition", Severity.MAJOR, 0, 6)]),
        ("\u3000", "", {}, [(Side.MT, "Other/Empty segment", Severity.MINOR, 0, 0)]),
        ("你好。", "", {"alignment": "1-0"}, []),   # the alignment check owns unaligned sentences
    ],
)
def test_empty(source, mt, metadata, expected):
    spans = CHECKS["empty"].check_segment(Segment("1", source, mt, metadata=metadata), OPTS)
    assert [(s.side, s.category, s.severity, s.start, s.end) for s in spans] == expected


@pytest.mark.parametrize(
    "kind, side, category",
    [("1-0", Side.SOURCE, "Accuracy/Omission"), ("0-1", Side.MT, "Accuracy/Addition")],
)
def test_alignment_unpaired(kind, side, category):
    seg = Segment("d:3", "净利润为7800万元。" if kind == "1-0" else "", "" if kind == "1-0" else "Extra text.",
                  metadata={"alignment": kind, "source_sentences": [2], "mt_sentences": []})
    (span,) = CHECKS["alignment"].check_segment(seg, OPTS)
    assert (span.side, span.category, span.severity) == (side, category, Severity.MAJOR)
    assert span.end == (len(seg.source) if side is Side.SOURCE else len(seg.mt))


@pytest.mark.parametrize("kind", ["1-1", "1-2", "2-1", None])
def test_alignment_paired_is_silent(kind):
    seg = Segment("1", "你好。", "Hello.", metadata={"alignment": kind} if kind else {})
    assert CHECKS["alignment"].check_segment(seg, OPTS) == []
