"""Parser tables for Chinese and English quantities, plus property tests.

Expected values are worked out by hand from the numerals' definitions
(万 = 10^4, 亿 = 10^8, billion = 10^9), not copied from the parser's output.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtcheck.checks.quantities import (
    Kind,
    Quantity,
    english_rendering,
    format_value,
    normalize_digits,
    parse_chinese_numeral,
    parse_chinese_quantities,
    parse_english_quantities,
    significant_digits,
)

F = Fraction


@pytest.mark.parametrize(
    "numeral, value",
    [
        ("〇", 0),
        ("零", 0),
        ("一", 1),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("三十五", 35),
        ("一百零五", 105),
        ("一百一十", 110),
        ("两千", 2000),
        ("一千二", 1200),  # colloquial: the last unit is implied
        ("三万五", 35000),
        ("二十万", 200000),
        ("一千万", 10**7),
        ("一亿五千万", 150_000_000),
        ("三万亿", 3 * 10**12),
        ("二〇一三", 2013),
        ("壹佰贰拾", 120),
    ],
)
def test_chinese_numeral_values(numeral, value):
    assert parse_chinese_numeral(numeral) == value


@pytest.mark.parametrize("numeral", ["", "三四", "一两", "百", "万", "五十百", "abc", "三x"])
def test_chinese_numeral_rejects_non_numbers(numeral):
    assert parse_chinese_numeral(numeral) is None


def _triples(qs: list[Quantity]) -> list[tuple[str, Fraction, Kind]]:
    return [(q.text, q.value, q.kind) for q in qs if not q.optional]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("公司营收350.19亿元。", [("350.19亿元", F(35_019_000_000), Kind.CARDINAL)]),
        ("当天处理包裹1.5亿件", [("1.5亿", F(150_000_000), Kind.CARDINAL)]),
        ("净利润7800万元", [("7800万元", F(78_000_000), Kind.CARDINAL)]),
        ("员工总数为35,019人", [("35,019", F(35019), Kind.CARDINAL)]),
        ("增速为35.019%", [("35.019%", F(35019, 100000), Kind.PERCENT)]),
        ("用户同比增长１２３万", [("１２３万", F(1_230_000), Kind.CARDINAL)]),  # full-width digits
        ("百分之八十的订单", [("百分之八十", F(4, 5), Kind.PERCENT)]),
        ("不良率为千分之五", [("千分之五", F(5, 1000), Kind.PERCENT)]),
        ("占比80%以上", [("80%", F(4, 5), Kind.PERCENT)]),
        ("占比三成", [("三成", F(3, 10), Kind.PERCENT)]),
        ("提高了2个百分点", [("2个百分点", F(2, 100), Kind.PERCENT)]),
        ("三分之一的门店", [("三分之一", F(1, 3), Kind.FRACTION)]),
        ("营收翻了一番", [("翻了一番", F(2), Kind.MULTIPLE)]),
        ("十年间翻两番", [("十", F(10), Kind.CARDINAL), ("翻两番", F(4), Kind.MULTIPLE)]),
        ("效率提升3倍", [("3倍", F(3), Kind.MULTIPLE)]),
        ("第五届进博会", [("第五", F(5), Kind.ORDINAL)]),
        ("排名第5", [("第5", F(5), Kind.ORDINAL)]),
        ("2021年营收", [("2021年", F(2021), Kind.YEAR)]),
        ("二〇二一年", [("二〇二一年", F(2021), Kind.YEAR)]),
        ("三十五家供应商", [("三十五", F(35), Kind.CARDINAL)]),
        ("两千名员工", [("两千", F(2000), Kind.CARDINAL)]),
        ("融资一亿五千万元", [("一亿五千万元", F(150_000_000), Kind.CARDINAL)]),
        ("募资1亿5000万", [("1亿5000万", F(150_000_000), Kind.CARDINAL)]),
        ("市值达1万亿元", [("1万亿元", F(10**12), Kind.CARDINAL)]),
        ("下午3点半开幕", [("3点半", F(7, 2), Kind.TIME)]),
        ("装机250万千瓦", [("250万", F(2_500_000), Kind.CARDINAL)]),  # 千 belongs to 千瓦
        ("全长18.9千米", [("18.9", F(189, 10), Kind.CARDINAL)]),
        ("𠀀公司有300名员工", [("300", F(300), Kind.CARDINAL)]),  # CJK Extension B before the number
        ("“90后”用户", [("90后", F(1990), Kind.DECADE)]),
        ("发布会于14:30开始", [("14:30", F(29, 2), Kind.TIME)]),
        ("发布会于１４：３０开始", [("１４：３０", F(29, 2), Kind.TIME)]),  # full-width digits and colon
    ],
)
def test_chinese_quantities(text, expected):
    assert _triples(parse_chinese_quantities(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "一些企业统一行动，一起推进一带一路建设",
        "唯一的办法是一样的",
        "万一出现问题，千万不要慌",
        "三星发布新款5G手机",
        "他十分高兴",
        "百姓生活水平提高",
        "双方签署协议",
        "两岸企业家峰会",
        "采用3D打印技术",
    ],
)
def test_chinese_false_friends_are_not_required_numbers(text):
    assert _triples(parse_chinese_quantities(text)) == []


@pytest.mark.parametrize(
    "text, low, high, kind",
    [
        ("三至五年", F(3), F(5), Kind.CARDINAL),
        ("3到5倍", F(3), F(5), Kind.MULTIPLE),
        ("1至2亿元", F(100_000_000), F(200_000_000), Kind.CARDINAL),
        ("20%-30%", F(1, 5), F(3, 10), Kind.PERCENT),
        ("每天1.5升至2升", F(3, 2), F(2), Kind.CARDINAL),
    ],
)
def test_chinese_ranges(text, low, high, kind):
    qs = [q for q in parse_chinese_quantities(text) if q.high is not None]
    assert [(q.value, q.high, q.kind) for q in qs] == [(low, high, kind)]


@pytest.mark.parametrize(
    "text, currency",
    [
        ("融资5000万美元", "USD"),
        ("人民币1.2亿元", "CNY"),
        ("营收3.5亿港元", "HKD"),
        ("投资2亿欧元", "EUR"),
        ("售价￥199", "CNY"),
    ],
)
def test_chinese_currency(text, currency):
    (q,) = parse_chinese_quantities(text)
    assert q.currency == currency


@pytest.mark.parametrize(
    "text, upper",
    [("十几家门店", F(20)), ("上万名员工", F(100_000)), ("300多家企业", F(400)), ("1万多人", F(20_000))],
)
def test_chinese_approximations_have_an_upper_bound(text, upper):
    (q,) = parse_chinese_quantities(text)
    assert q.approximate and q.upper == upper


def test_chinese_skip_spans_are_respected():
    text = "11月11日成交额达1.5亿元"
    qs = parse_chinese_quantities(text, skip=[(0, 6)])
    assert [q.text for q in qs] == ["1.5亿元"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("revenue of 35.019 billion yuan", [("35.019 billion yuan", F(35_019_000_000), Kind.CARDINAL)]),
        ("150 million parcels", [("150 million", F(150_000_000), Kind.CARDINAL)]),
        ("raised $3.5bn", [("$3.5bn", F(3_500_000_000), Kind.CARDINAL)]),
        ("a loss of US$2.5m", [("US$2.5m", F(2_500_000), Kind.CARDINAL)]),
        ("35,019 employees", [("35,019", F(35019), Kind.CARDINAL)]),
        ("up 80 per cent", [("80 per cent", F(4, 5), Kind.PERCENT)]),
        ("up 80 percent", [("80 percent", F(4, 5), Kind.PERCENT)]),
        ("more than 80%", [("80%", F(4, 5), Kind.PERCENT)]),
        ("a rate of 5‰", [("5‰", F(5, 1000), Kind.PERCENT)]),
        ("rose 2 percentage points", [("2 percentage points", F(2, 100), Kind.PERCENT)]),
        ("revenue doubled", [("doubled", F(2), Kind.MULTIPLE)]),
        ("sales quadrupled", [("quadrupled", F(4), Kind.MULTIPLE)]),
        ("a threefold increase", [("threefold", F(3), Kind.MULTIPLE)]),
        ("three times faster", [("three times", F(3), Kind.MULTIPLE)]),
        ("a 3x gain", [("3x", F(3), Kind.MULTIPLE)]),
        ("the fifth expo", [("fifth", F(5), Kind.ORDINAL)]),
        ("the 5th expo", [("5th", F(5), Kind.ORDINAL)]),
        ("the twenty-first session", [("twenty-first", F(21), Kind.ORDINAL)]),
        ("twenty-five stores", [("twenty-five", F(25), Kind.CARDINAL)]),
        ("three hundred and five", [("three hundred and five", F(305), Kind.CARDINAL)]),
        ("two and a half million users", [("two and a half million", F(2_500_000), Kind.CARDINAL)]),
        ("a million users", [("a million", F(1_000_000), Kind.CARDINAL)]),
        ("half a million users", [("half a million", F(500_000), Kind.CARDINAL)]),
        ("two-thirds of stores", [("two-thirds", F(2, 3), Kind.FRACTION)]),
        ("in the 1990s", [("1990s", F(1990), Kind.DECADE)]),
        ("at 3:30 pm", [("3:30 pm", F(7, 2), Kind.TIME)]),
        ("at 14:30", [("14:30", F(29, 2), Kind.TIME)]),
        ("50 million yuan", [("50 million yuan", F(50_000_000), Kind.CARDINAL)]),
        ("RMB 120 million", [("RMB 120 million", F(120_000_000), Kind.CARDINAL)]),
        ("HK$5.2 million", [("HK$5.2 million", F(5_200_000), Kind.CARDINAL)]),
        ("over three decades", [("three decades", F(30), Kind.CARDINAL)]),
        ("１２３ stores", [("１２３", F(123), Kind.CARDINAL)]),
    ],
)
def test_english_quantities(text, expected):
    assert _triples(parse_english_quantities(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "one of the largest retailers",
        "COVID-19 cases",
        "5G networks and the G20 summit",
        "an Airbus A380",
        "the Three Gorges Dam",
        "no one came",
        "4K video",
        "report it at www.12377.cn",
    ],
)
def test_english_false_friends_are_not_required_numbers(text):
    assert _triples(parse_english_quantities(text)) == []


@pytest.mark.parametrize(
    "text, low, high",
    [
        ("three to five years", F(3), F(5)),
        ("3-5 times", F(3), F(5)),
        ("between 3 and 5", F(3), F(5)),
        ("3 to 5 million", F(3_000_000), F(5_000_000)),
        ("the 2021-22 season", F(2021), F(2022)),
    ],
)
def test_english_ranges(text, low, high):
    qs = [q for q in parse_english_quantities(text) if q.high is not None]
    assert [(q.value, q.high) for q in qs] == [(low, high)]


@pytest.mark.parametrize("text", ["in 2014 and 2016", "63.3% and 86.3%", "$1 to RMB 7"])
def test_english_and_lists_and_exchange_rates_are_not_ranges(text):
    assert all(q.high is None for q in parse_english_quantities(text))


@pytest.mark.parametrize(
    "text, currency",
    [
        ("$50 million", "USD*"),
        ("US$50 million", "USD"),
        ("HK$50 million", "HKD"),
        ("50 million yuan", "CNY"),
        ("RMB50 million", "CNY"),
        ("€50 million", "EUR"),
        ("50 million euros", "EUR"),
        ("50 million Hong Kong dollars", "HKD"),
    ],
)
def test_english_currency(text, currency):
    (q,) = parse_english_quantities(text)
    assert q.currency == currency


def test_english_optional_one_and_two():
    qs = parse_english_quantities("one store and two malls")
    assert [q.optional for q in qs] == [True, True]


@pytest.mark.parametrize(
    "value, sig",
    [(F(35019, 1000), 5), (F(350), 2), (F(35), 2), (F(0), 1), (F(1948), 4), (F(2000), 1)],
)
def test_significant_digits(value, sig):
    assert significant_digits(value) == sig


@pytest.mark.parametrize(
    "q, shown, english",
    [
        (Quantity(0, 0, "", F(35_000_000_000), Kind.CARDINAL, currency="CNY"), "35,000,000,000 (yuan)",
         "35 billion yuan"),
        (Quantity(0, 0, "", F(150_000_000), Kind.CARDINAL), "150,000,000", "150 million"),
        (Quantity(0, 0, "", F(50_000_000), Kind.CARDINAL, currency="USD"), "50,000,000 (US dollars)",
         "US$50 million"),
        (Quantity(0, 0, "", F(4, 5), Kind.PERCENT), "80%", "80%"),
        (Quantity(0, 0, "", F(5), Kind.ORDINAL), "5th", "5th"),
        (Quantity(0, 0, "", F(2), Kind.MULTIPLE), "2×", "double"),
        (Quantity(0, 0, "", F(3), Kind.CARDINAL, high=F(5)), "3–5", "3 to 5"),
    ],
)
def test_format_and_english_rendering(q, shown, english):
    assert format_value(q) == shown
    assert english_rendering(q) == english


def test_normalize_digits_keeps_length():
    text = "１２３，４５６％ and ￥"
    assert len(normalize_digits(text)) == len(text)
    assert normalize_digits("１２３％") == "123%"


# ---------------------------------------------------------------------------
# Property tests: arbitrary mixes never raise and keep offsets inside the text.

_PIECES = list("〇零一二三四五六七八九十百千万亿两壹佰0123456789０１２３.,，%％‰-~至到第倍番翻成分之多余几数上年月日号点时元美港币件个家位吨米公里 ")
_PIECES += ["平方米", "百分之", "千分之", "亿元", "万美元", "US$", "HK$", "¥", "𠀀", "A", "G", "COVID-", "—"]
_EN_PIECES = ["one", "two", "twenty", "-", "five", "hundred", "and", "a", "half", "million", "billion", "bn", "m",
              "$", "US$", "€", "%", " per cent", " percent", "first", "third", "s", "th", "x", "times", "fold",
              "to", "between", "yuan", "dollars", ":", "0", "1", "2", "9", ",", ".", " ", "pm", "decades",
              "hundreds", "of", "Q", "H", "K", "k", "１", "𠀀"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_chinese_parser_never_raises_and_offsets_are_valid(text):
    for q in parse_chinese_quantities(text):
        assert 0 <= q.start < q.end <= len(text)
        assert q.text == text[q.start:q.end]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_EN_PIECES), max_size=25).map("".join))
def test_english_parser_never_raises_and_offsets_are_valid(text):
    for q in parse_english_quantities(text):
        assert 0 <= q.start < q.end <= len(text)
        assert q.text == text[q.start:q.end]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_parsers_survive_any_text(text):
    parse_chinese_quantities(text)
    parse_english_quantities(text)
