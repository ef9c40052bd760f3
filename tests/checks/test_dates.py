"""Date parsing and the dates check, on sentences written for these tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtcheck.checks.dates import (
    CAT_ADDITION,
    CAT_MISTRANSLATION,
    CAT_OMISSION,
    DateMention,
    DatesCheck,
    parse_chinese_dates,
    parse_english_dates,
    render_english_date,
)
from mtcheck.checks.numbers import NumbersCheck
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side

CHECK = DatesCheck()
OPTS = CheckOptions()


def _fields(ms: list[DateMention]):
    return [(m.text, m.year, m.month, m.day, m.weekday, m.relative) for m in ms]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2013年11月11日，天猫成交额创纪录", [("2013年11月11日", 2013, 11, 11, None, None)]),
        ("11月11日零点", [("11月11日", None, 11, 11, None, None)]),
        ("2021年3月，公司发布财报", [("2021年3月", 2021, 3, None, None, None)]),
        ("二〇二一年十月一日", [("二〇二一年十月一日", 2021, 10, 1, None, None)]),
        ("１１月１１日", [("１１月１１日", None, 11, 11, None, None)]),  # full-width digits
        ("今年双11期间", [("今年", None, None, None, None, ("year", 0)), ("双11", None, 11, 11, None, None)]),
        ("双十一", [("双十一", None, 11, 11, None, None)]),
        ("去年同期", [("去年", None, None, None, None, ("year", -1))]),
        ("明年上半年", [("明年", None, None, None, None, ("year", 1))]),
        ("上周公司宣布", [("上周", None, None, None, None, ("week", -1))]),
        ("周一开盘", [("周一", None, None, None, 0, None)]),
        ("星期天", [("星期天", None, None, None, 6, None)]),
        ("当地时间25日", [("25日", None, None, 25, None, None)]),
        ("2020-07-26发布", [("2020-07-26", 2020, 7, 26, None, None)]),
        ("7月17和7月22日", [("7月17", None, 7, 17, None, None), ("7月22日", None, 7, 22, None, None)]),
        ("七八月份", [("七", None, 7, None, None, None), ("八月份", None, 8, None, None, None)]),
    ],
)
def test_chinese_dates(text, expected):
    assert _fields(parse_chinese_dates(text)) == expected


@pytest.mark.parametrize(
    "text",
    ["3个月内完成", "7日内有效", "地铁1号线", "农历八月十五", "《十月围城》上映", "今日头条发布数据", "每两周一次"],
)
def test_chinese_non_dates(text):
    assert parse_chinese_dates(text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("on November 11, 2013", [("November 11, 2013", 2013, 11, 11, None, None)]),
        ("on 11 November 2013", [("11 November 2013", 2013, 11, 11, None, None)]),
        ("on Nov. 11", [("Nov. 11", None, 11, 11, None, None)]),
        ("dated 2013-11-11", [("2013-11-11", 2013, 11, 11, None, None)]),
        ("in March 2021", [("March 2021", 2021, 3, None, None, None)]),
        ("on the 25th of this month",
         [("the 25th", None, None, 25, None, None), ("this month", None, None, None, None, ("month", 0))]),
        ("during Singles' Day", [("Singles' Day", None, 11, 11, None, None)]),
        ("during Double Eleven", [("Double Eleven", None, 11, 11, None, None)]),
        ("on Monday", [("Monday", None, None, None, 0, None)]),
        ("last year", [("last year", None, None, None, None, ("year", -1))]),
        ("Earlier this year", [("this year", None, None, None, None, ("year", 0))]),
        ("next week", [("next week", None, None, None, None, ("week", 1))]),
        ("in April and May", [("April", None, 4, None, None, None), ("May", None, 5, None, None, None)]),
        ("tested on the 14th and 21st", [("the 14th", None, None, 14, None, None), ("21st", None, None, 21, None, None)]),
        ("on July 6, 9 and 12.", [("July 6", None, 7, 6, None, None), ("9", None, 7, 9, None, None),
                                  ("12", None, 7, 12, None, None)]),
        ("On July 26, 1.5 million coupons", [("July 26", None, 7, 26, None, None)]),
    ],
)
def test_english_dates(text, expected):
    assert _fields(parse_english_dates(text)) == expected


@pytest.mark.parametrize("text", ["Prices may rise", "Hurricane May Cause Floods", "the Long March Spirit"])
def test_english_non_dates(text):
    assert parse_english_dates(text) == []


# (source, MT) pairs that must pass.
CLEAN = [
    ("2013年11月11日，天猫当天成交额达350.19亿元。",
     "On November 11, 2013, Tmall's turnover for the day reached 35.019 billion yuan."),
    ("双11当天，菜鸟处理包裹1.5亿件。", "On Singles' Day, Cainiao handled 150 million parcels."),
    ("公司将于2021年3月发布年报。", "The company will publish its annual report in March 2021."),
    ("去年，公司营收增长20%。", "Last year, the company's revenue grew 20%."),
    ("今年上半年，公司净利润增长。", "In the first half of this year, the company's net profit rose."),
    ("发布会定于下周一举行。", "The launch is scheduled for next Monday."),
    ("公司于11月11日推出新品。", "The company launched new products on 11 November."),
    ("股东大会将于2022年6月30日召开。", "The shareholders' meeting will be held on 2022-06-30."),
    ("明年公司将进入欧洲市场。", "Next year the company will enter the European market."),
    ("星期五，股价上涨3%。", "On Friday, the share price rose 3%."),
]


@pytest.mark.parametrize("src, mt", CLEAN)
def test_correct_dates_pass(src, mt):
    seg = Segment("t", src, mt)
    spans = CHECK.check_segment(seg, OPTS)
    assert spans == [], [(s.severity.value, s.category, s.text(seg)) for s in spans]


# (source, MT, category, severity, side, flagged text)
FLAGGED = [
    ("公司于11月11日推出新品。", "The company launched new products on November 12.",
     CAT_MISTRANSLATION, Severity.MAJOR, Side.MT, "November 12"),
    ("2013年11月11日，成交额创新高。", "On December 11, 2013, turnover hit a record.",
     CAT_MISTRANSLATION, Severity.MAJOR, Side.MT, "December 11, 2013"),
    ("2013年11月11日，成交额创新高。", "On November 11, 2012, turnover hit a record.",
     CAT_MISTRANSLATION, Severity.MAJOR, Side.MT, "November 11, 2012"),
    ("发布会定于周一举行。", "The launch is scheduled for Tuesday.",
     CAT_MISTRANSLATION, Severity.MAJOR, Side.MT, "Tuesday"),
    ("今年营收增长20%。", "Revenue grew 20% last year.",
     CAT_MISTRANSLATION, Severity.MAJOR, Side.MT, "last year"),
    ("公司将于3月5日发布财报。", "The company will publish its results soon.",
     CAT_OMISSION, Severity.MAJOR, Side.SOURCE, "3月5日"),
    ("公司将于3月5日发布财报。", "The company will publish its results in March.",
     CAT_OMISSION, Severity.MAJOR, Side.SOURCE, "3月5日"),
    ("周三，公司宣布裁员。", "The company announced layoffs.",
     CAT_OMISSION, Severity.MAJOR, Side.SOURCE, "周三"),
    ("公司发布了新品。", "The company released new products on March 3.",
     CAT_ADDITION, Severity.MAJOR, Side.MT, "March 3"),
    ("2013年11月11日，成交额创新高。", "On November 11, turnover hit a record.",
     CAT_OMISSION, Severity.MINOR, Side.SOURCE, "2013年11月11日"),
]


@pytest.mark.parametrize("src, mt, category, severity, side, flagged", FLAGGED)
def test_wrong_dates_are_flagged(src, mt, category, severity, side, flagged):
    seg = Segment("t", src, mt)
    spans = CHECK.check_segment(seg, OPTS)
    hits = [s for s in spans if s.category == category and s.severity is severity and s.side is side
            and s.text(seg) == flagged]
    assert hits, [(s.severity.value, s.category, s.side.value, s.text(seg)) for s in spans]


def test_mismatch_evidence_and_suggestion():
    seg = Segment("t", "公司于11月11日推出新品。", "The company launched new products on November 12.")
    (span,) = CHECK.check_segment(seg, OPTS)
    assert "November 11" in span.evidence and "November 12" in span.evidence
    assert span.suggestion == "November 11"


def test_day_only_date_may_become_a_weekday():
    seg = Segment("t", "当地时间25日，公司宣布收购。", "On Tuesday local time, the company announced the acquisition.")
    assert [s for s in CHECK.check_segment(seg, OPTS) if s.severity.rank >= Severity.MAJOR.rank] == []


def test_numbers_check_skips_dates():
    seg = Segment("t", "11月11日当天，成交额达191亿元。", "On November 11, turnover reached 19.1 billion yuan.")
    assert NumbersCheck().check_segment(seg, OPTS) == []


def test_dates_in_text_with_extension_b():
    src = "𠀀𠀁公司11月11日开业"
    seg = Segment("t", src, "𠀀𠀁 opened on November 12")
    (span,) = CHECK.check_segment(seg, OPTS)
    assert span.text(seg) == "November 12"


@pytest.mark.parametrize(
    "mention, text",
    [
        (DateMention(0, 0, "", year=2013, month=11, day=11), "November 11, 2013"),
        (DateMention(0, 0, "", month=3), "March"),
        (DateMention(0, 0, "", year=2021, month=3), "March 2021"),
        (DateMention(0, 0, "", day=22), "the 22nd"),
        (DateMention(0, 0, "", weekday=6), "Sunday"),
        (DateMention(0, 0, "", relative=("year", -1)), "last year"),
        (DateMention(0, 0, "", relative=("day", 1)), "tomorrow"),
    ],
)
def test_render_english_date(mention, text):
    assert render_english_date(mention) == text


def test_check_metadata():
    assert DatesCheck.name == "dates"
    assert DatesCheck.description


_SRC = list("0123456789一二三十年月日号周星期天今去明上下本双") + ["11", "农历", "𠀀", "，"]
_MT = ["November", "Nov.", "May", "11", "2013", ",", " ", "the", "th", "Monday", "last", "year", "week", "-", "on"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_SRC), max_size=20).map("".join),
       st.lists(st.sampled_from(_MT), max_size=20).map("".join))
def test_dates_never_raise_and_spans_are_in_bounds(src, mt):
    for m in parse_chinese_dates(src):
        assert src[m.start:m.end] == m.text
    for m in parse_english_dates(mt):
        assert mt[m.start:m.end] == m.text
    seg = Segment("h", src, mt)
    for span in CHECK.check_segment(seg, OPTS):
        text = seg.mt if span.side is Side.MT else seg.source
        assert 0 <= span.start <= span.end <= len(text)
