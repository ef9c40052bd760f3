"""The terms check: glossary renderings per segment and consistency per document."""

from __future__ import annotations

import pytest

from mtcheck.checks.terms import TermsCheck, is_abbreviation
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side
from mtcheck.errors import ConfigError

CHECK = TermsCheck()
OPTS = CheckOptions()


def flagged(source: str, mt: str, options: CheckOptions = OPTS) -> list[str]:
    spans = CHECK.check_segment(Segment("1", source, mt), options)
    for s in spans:
        assert (s.side, s.category, s.severity) == (Side.SOURCE, "Terminology", Severity.MAJOR)
    return [source[s.start:s.end] for s in spans]


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        # must not flag
        ("阿里巴巴集团公布了第二季度财报。", "Alibaba Group released its second-quarter earnings report.", []),
        ("阿里巴巴集团公布了第二季度财报。", "Alibaba released its second-quarter earnings.", []),
        ("今年双11期间，天猫成交额创新高。", "During this year's Singles Day, Tmall's GMV hit a record high.", []),
        ("今年双十一，天猫成交额创新高。", "This Singles’ Day, Tmall’s gross merchandise volume hit a record.", []),
        ("淘宝网的用户数量同比增长12%。", "The number of Taobao users grew 12% year on year.", []),
        ("京东方发布了新款屏幕。", "BOE launched a new display panel.", []),
        ("支付宝和微信支付都可以使用。", "Both Alipay and WeChat Pay are accepted.", []),
        ("公司董事长兼首席执行官张勇表示，业绩超出预期。",
         "Zhang Yong, the company's chairman and CEO, said results beat expectations.", []),
        ("净利润为78亿元。", "Net income was 7.8 billion yuan.", []),
        ("该公司计划在港交所上市。", "The company plans to list on the HKEx.", []),
        ("抖音母公司字节跳动估值上升。", "The valuation of Douyin's parent Byte Dance rose.", []),
        ("该平台的用户增长很快。", "Taobao's user base grew rapidly.", []),   # other entry's rendering: not flagged
        ("两家上市公司发布年报。", "Two listed companies published annual reports.", []),
        # must flag
        ("今年双11期间，天猫成交额创新高。", "During this year's shopping festival, Tmall's sales hit a record.", ["双11"]),
        ("淘宝网的用户数量同比增长12%。", "The number of Tao Bao users grew 12% from a year earlier.", ["淘宝网"]),
        ("支付宝和微信支付都可以使用。", "Both Alipay and Weixin Pay are accepted.", ["微信支付"]),
        ("公司董事长兼首席执行官张勇表示，业绩超出预期。",
         "Zhang Yong, the company's president, said results beat expectations.", ["董事长", "首席执行官"]),
        ("净利润为78亿元。", "Revenue was 7.8 billion yuan.", ["净利润"]),
        ("该公司计划在港交所上市。", "The company plans to list in Hong Kong.", ["港交所"]),
        ("菜鸟网络与阿里云合作。", "Rookie Network is cooperating with Ali Cloud.", ["菜鸟网络", "阿里云"]),
        ("拼多多和美团的营收均同比上升。", "Revenue at PDD and Meituan rose.", ["同比"]),
    ],
)
def test_segment(source, mt, expected):
    assert flagged(source, mt) == expected


def test_span_details_and_one_finding_per_term():
    source = "环比增长，环比下降。"
    (span,) = CHECK.check_segment(Segment("1", source, "Up, then down."), OPTS)
    assert (span.start, span.end) == (0, 2)
    assert span.suggestion == "month-on-month"
    assert "month-on-month" in span.evidence and "quarter-on-quarter" in span.evidence
    assert "2 times" in span.evidence


@pytest.mark.parametrize(
    "mt, expected",
    [
        ("Qiu Tech Co. said.", []),
        ("The company said.", [(0, 3)]),   # code points: 𠀀 (U+20000) is one character
    ],
)
def test_extension_b_term(write, mt, expected):
    path = write("g.tsv", "zh\ten\n𠀀科技\tQiu Tech\n")
    options = CheckOptions(glossaries=(str(path),), params=(("terms", "default_glossary", "off"),))
    spans = CHECK.check_segment(Segment("1", "𠀀科技公司表示。", mt), options)
    assert [(s.start, s.end) for s in spans] == expected


@pytest.mark.parametrize("mt, expected", [("Nio delivered 10,000 cars.", ["蔚来"]), ("NIO delivered 10,000 cars.", [])])
def test_project_glossary_overrides_default_case(write, mt, expected):
    path = write("g.tsv", "zh\ten\tcase\n蔚来\tNIO\tsensitive\n")
    assert flagged("蔚来交付了1万辆车。", mt) == []   # default entry is case-insensitive
    assert flagged("蔚来交付了1万辆车。", mt, CheckOptions(glossaries=(str(path),))) == expected


def doc(*pairs, doc_id="d1"):
    return [Segment(f"{doc_id}:{i}", s, m, doc=doc_id) for i, (s, m) in enumerate(pairs, start=1)]


def test_inconsistent_rendering_is_flagged_on_later_segment():
    segments = doc(
        ("双十一销售额创纪录。", "Singles' Day sales hit a record."),
        ("天猫双十一持续一天。", "Tmall's Double 11 lasts one day."),
        ("双十一结束了。", "Singles Day is over."),
    )
    found = CHECK.check_document(segments, OPTS)
    assert list(found) == ["d1:2"]
    (span,) = found["d1:2"]
    assert (span.side, span.category, span.severity) == (Side.MT, "Terminology/Inconsistent", Severity.MINOR)
    assert segments[1].mt[span.start:span.end] == "Double 11"
    assert span.suggestion == "Singles' Day"
    assert "d1:1" in span.evidence


@pytest.mark.parametrize(
    "pairs",
    [
        # both renderings established at first mention
        (("双十一开始了。", "Singles' Day (Double 11) has begun."), ("双十一结束了。", "Double 11 is over.")),
        # abbreviation after the full name
        (("公司在港交所上市。", "It listed on the Hong Kong Stock Exchange."), ("港交所股价上涨。", "HKEX shares rose.")),
        # common-noun paraphrases are not inconsistencies
        (("收入同比增长5%。", "Revenue rose 5% year-on-year."), ("利润同比下降。", "Profit fell from a year earlier.")),
    ],
)
def test_consistent_documents(pairs):
    assert CHECK.check_document(doc(*pairs), OPTS) == {}


def test_consistency_is_per_document_and_can_be_off():
    segments = doc(("抖音很受欢迎。", "Douyin is popular."), doc_id="a") + doc(
        ("抖音很受欢迎。", "TikTok is popular."), doc_id="b")
    assert CHECK.check_document(segments, OPTS) == {}
    same_doc = doc(("抖音很受欢迎。", "Douyin is popular."), ("抖音很受欢迎。", "TikTok is popular."))
    assert list(CHECK.check_document(same_doc, OPTS)) == ["d1:2"]
    off = CheckOptions(params=(("terms", "consistency", "off"),))
    assert CHECK.check_document(same_doc, off) == {}
    with pytest.raises(ConfigError):
        CHECK.check_document(same_doc, CheckOptions(params=(("terms", "consistency", "sometimes"),)))


@pytest.mark.parametrize("rendering, expected", [("CEO", True), ("YoY", True), ("e-CNY", True),
                                                 ("WeChat", False), ("Alibaba", False), ("net profit", False)])
def test_is_abbreviation(rendering, expected):
    assert is_abbreviation(rendering) is expected
