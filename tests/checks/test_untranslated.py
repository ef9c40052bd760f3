"""The untranslated check: Han runs, full-width letters/digits, U+3000, glossary whitelist."""

from __future__ import annotations

import pytest

from mtcheck.checks.untranslated import UntranslatedCheck
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side

CHECK = UntranslatedCheck()
OPTS = CheckOptions()
MAJOR, MINOR, CRITICAL = Severity.MAJOR, Severity.MINOR, Severity.CRITICAL


def run(mt: str, options: CheckOptions = OPTS, source: str = "阿里巴巴公布业绩。"):
    spans = CHECK.check_segment(Segment("1", source, mt), options)
    for s in spans:
        assert (s.side, s.category) == (Side.MT, "Accuracy/Untranslated")
    return [(mt[s.start:s.end], s.start, s.end, s.severity, s.suggestion) for s in spans]


@pytest.mark.parametrize(
    "mt, expected",
    [
        ("Alibaba reported strong growth.", []),
        ("Sales on 天猫 rose sharply this year.", [("天猫", 9, 11, MAJOR, None)]),
        ("The 双十一 festival on 淘宝 set records.", [("双十一", 4, 7, MAJOR, None), ("淘宝", 20, 22, MAJOR, None)]),
        # CJK Extension B: one code point, one character of offset
        ("The 𠀀 brand sold well in Hangzhou.", [("𠀀", 4, 5, MAJOR, None)]),
        ("Brand 𠀀𠀁x sold well in Hangzhou.", [("𠀀𠀁", 6, 8, MAJOR, None)]),
        # mostly Chinese: one critical span over the trimmed MT
        (" 阿里巴巴集团公布了财报 Q2 ", [("阿里巴巴集团公布了财报 Q2", 1, 15, CRITICAL, None)]),
        ("Revenue rose １２% to RMB ５bn.", [("１２", 13, 15, MINOR, "12"), ("５", 24, 25, MINOR, "5")]),
        ("ＧＭＶ hit a record.", [("ＧＭＶ", 0, 3, MINOR, "GMV")]),
        ("Alibaba\u3000Group shares rose.", [("\u3000", 7, 8, MINOR, " ")]),
        # punctuation belongs to the punctuation check; curly quotes and … are English
        ("Revenue rose，profit fell。", []),
        ("“Tmall” is Alibaba’s platform… really.", []),
        ("これは翻訳されていません and more English words here to dilute it.", [("これは翻訳されていません", 0, 12, MAJOR, None)]),
        ("iPhone15在中国 sold 10 million units in the second quarter.", [("在中国", 8, 11, MAJOR, None)]),
    ],
)
def test_untranslated(mt, expected):
    assert run(mt) == expected


def test_empty_mt_is_left_to_the_empty_check():
    assert run("   ") == []


@pytest.mark.parametrize(
    "mt, expected",
    [
        ("The 老干妈 brand chili sauce sells well.", []),
        ("The 老干妈辣酱 sells well in many markets abroad.", [("辣酱", 7, 9, MAJOR, None)]),
        ("Lao Gan Ma sells well.", []),
    ],
)
def test_glossary_whitelist(write, mt, expected):
    path = write("brands.tsv", "zh\ten\tnote\n老干妈\tLao Gan Ma|老干妈\tbrand may stay in Chinese\n")
    assert run(mt, CheckOptions(glossaries=(str(path),)), source="老干妈辣酱销量很好。") == expected
    if expected == [] and "老干妈" in mt:
        # without the project glossary the same text is flagged
        assert run(mt) != []
