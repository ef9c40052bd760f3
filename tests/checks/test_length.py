"""The length check.

Expected values are worked out by hand from the documented model. For a
source of 40 Han characters: expected English length 3.8239 * 40 = 152.96
non-space characters; sd = sqrt(0.1632**2 + 0.4043/40) = 0.19168. So

* 150 chars: z = ln(150/152.96)/0.19168 = -0.10 → nothing
*  90 chars: z = ln(90/152.96)/0.19168  = -2.77 → minor omission
*  80 chars: z = ln(80/152.96)/0.19168  = -3.38 → major omission
* 259 chars: z = ln(259/152.96)/0.19168 = +2.75 → minor addition
* 300 chars: z = ln(300/152.96)/0.19168 = +3.51 → major addition
"""

from __future__ import annotations

import pytest

from mtcheck.checks.length import LengthCheck, char_counts, length_z
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side
from mtcheck.errors import ConfigError

CHECK = LengthCheck()
OPTS = CheckOptions()
SOURCE_40 = "公司营业收入同比增长" * 4          # 40 Han characters


def english(n: int) -> str:
    """Plausible English with exactly ``n`` non-space characters (words of up to 7 letters)."""
    words, left = [], n
    while left > 0:
        take = min(7, left)
        words.append("revenue"[:take])
        left -= take
    return " ".join(words)


@pytest.mark.parametrize(
    "n, expected",
    [
        (150, None),
        (90, (Side.SOURCE, "Accuracy/Omission", Severity.MINOR)),
        (80, (Side.SOURCE, "Accuracy/Omission", Severity.MAJOR)),
        (259, (Side.MT, "Accuracy/Addition", Severity.MINOR)),
        (300, (Side.MT, "Accuracy/Addition", Severity.MAJOR)),
    ],
)
def test_thresholds(n, expected):
    mt = english(n)
    assert sum(not c.isspace() for c in mt) == n
    spans = CHECK.check_segment(Segment("1", SOURCE_40, mt), OPTS)
    if expected is None:
        assert spans == []
        return
    (span,) = spans
    assert (span.side, span.category, span.severity) == expected
    whole = SOURCE_40 if span.side is Side.SOURCE else mt
    assert (span.start, span.end) == (0, len(whole))
    assert 0.99 < span.confidence < 1.0


@pytest.mark.parametrize("n, z", [(150, -0.10), (90, -2.77), (80, -3.38), (259, 2.75), (300, 3.51)])
def test_length_z(n, z):
    assert length_z(SOURCE_40, english(n)) == pytest.approx(z, abs=0.01)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("iPhone 15 Pro 售价 999 美元", (4, 14)),
        ("𠀀𠀁 公司", (4, 0)),                       # Extension B counts as Han
        ("营收，增长。", (4, 2)),                    # full-width punctuation is "other"
        ("\u3000 \t", (0, 0)),
    ],
)
def test_char_counts(source, expected):
    assert char_counts(source) == expected


@pytest.mark.parametrize(
    "source, mt",
    [
        ("京东上市", english(200)),            # 4 characters: below the minimum of 6
        ("发布会于今天举行。", ""),            # empty MT is the empty check's business
        ("发布会于今天举行。", "   "),
    ],
)
def test_skipped(source, mt):
    assert CHECK.check_segment(Segment("1", source, mt), OPTS) == []


def test_leading_whitespace_not_in_span():
    mt = "  " + english(300) + " "
    (span,) = CHECK.check_segment(Segment("1", SOURCE_40, mt), OPTS)
    assert (span.start, span.end) == (2, len(mt) - 1)


def test_params():
    seg = Segment("1", SOURCE_40, english(259))
    assert CHECK.check_segment(seg, CheckOptions(params=(("length", "z_minor", "3"),))) == []
    (span,) = CHECK.check_segment(seg, CheckOptions(params=(("length", "z_major", "2.6"),)))
    assert span.severity is Severity.MAJOR
    assert CHECK.check_segment(Segment("1", "京东上市", english(200)),
                               CheckOptions(params=(("length", "min_source_chars", "2"),))) != []
    with pytest.raises(ConfigError, match="length.z_major"):
        CHECK.check_segment(seg, CheckOptions(params=(("length", "z_major", "high"),)))
