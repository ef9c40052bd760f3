"""The numbers check on realistic corporate sentences (written for these tests).

Each must-flag case names the finding an editor should see; each must-pass
case is a correct translation that must not be flagged at major or above
(most must not be flagged at all).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtcheck.checks.numbers import (
    CAT_ADDITION,
    CAT_CURRENCY,
    CAT_MISTRANSLATION,
    CAT_OMISSION,
    NumbersCheck,
    NumbersConfig,
)
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side
from mtcheck.errors import ConfigError

CHECK = NumbersCheck()
OPTS = CheckOptions()


def run(src: str, mt: str, options: CheckOptions = OPTS):
    seg = Segment("t", src, mt)
    return seg, CHECK.check_segment(seg, options)


# Correct translations: nothing may be flagged.
CLEAN = [
    ("阿里巴巴集团本季度营收350.19亿元，同比增长35%。",
     "Alibaba Group's revenue for the quarter was 35.019 billion yuan, up 35% year on year."),
    ("今年“双11”期间，菜鸟网络共处理包裹1.5亿件。",
     "During this year's Singles' Day, Cainiao handled 150 million parcels."),
    ("天猫当天成交额达191亿元。", "Tmall's turnover that day reached 19.1 billion yuan."),
    ("公司去年实现净利润7800万元。", "The company made a net profit of 78 million yuan last year."),
    ("80%以上的新用户来自下沉市场。", "More than 80% of new users came from lower-tier markets."),
    ("该公司获得1.2亿元B轮融资。", "The company received 120 million yuan in Series B funding."),
    ("百分之八十的员工参加了培训。", "80% of employees took part in the training."),
    ("第五届中国国际进口博览会在上海开幕。", "The fifth China International Import Expo opened in Shanghai."),
    ("三年来，公司海外营收翻了一番。", "Over three years, the company's overseas revenue doubled."),
    ("项目建设周期预计为三至五年。", "The project is expected to take three to five years to build."),
    ("2021年，公司研发投入再创新高。", "In 2021, the company's R&D spending hit a new record."),
    ("董事长表示，公司将在未来5年内投资200亿美元。",
     "The chairman said the company will invest $20 billion over the next 5 years."),
    ("截至6月底，平台月活跃用户达8.5亿。",
     "As of the end of June, the platform had 850 million monthly active users."),
    ("公司市值突破1万亿港元。", "The company's market value exceeded HK$1 trillion."),
    ("第三季度毛利率为42.3%，较去年同期提高2.1个百分点。",
     "Gross margin in the third quarter was 42.3%, up 2.1 percentage points year on year."),
    ("新工厂年产能为50万辆，占地面积约120万平方米。",
     "The new plant has an annual capacity of 500,000 vehicles and covers about 1.2 million square metres."),
    ("公司在全国拥有3000多家门店和两万名员工。",
     "The company has more than 3,000 stores and 20,000 employees nationwide."),
    ("直播间单场销售额超过一亿元。", "A single livestream sold more than 100 million yuan."),
    ("目前已有十几家合作伙伴加入该计划。", "More than a dozen partners have joined the programme."),
    ("发布会于下午3点开始。", "The launch event began at 3 p.m."),
    ("该款手机搭载5G芯片，售价为3999元。", "The 5G phone is priced at 3,999 yuan."),
    ("该业务营收增长3倍。", "Revenue from the business grew threefold."),
    ("一些企业统一采购了三星的设备。", "Some companies bought Samsung equipment together."),
    ("公司将用3到5年时间完成转型。", "The company will complete its transformation in 3 to 5 years."),
    ("不良贷款率为千分之五。", "The non-performing loan ratio was 0.5%."),
]


@pytest.mark.parametrize("src, mt", CLEAN)
def test_correct_translations_are_not_flagged(src, mt):
    seg, spans = run(src, mt)
    assert spans == [], [(s.severity.value, s.category, s.text(seg), s.evidence) for s in spans]


# Wrong translations: (source, MT, category, severity, text of the flagged span).
FLAGGED = [
    ("本季度营收350亿元。", "Revenue for the quarter was 350 million yuan.",
     CAT_MISTRANSLATION, Severity.CRITICAL, "350 million yuan"),
    ("当天处理包裹1.5亿件。", "It handled 1.5 million parcels that day.",
     CAT_MISTRANSLATION, Severity.CRITICAL, "1.5 million"),
    ("公司员工总数为35,019人。", "The company has 35.019 employees.",
     CAT_MISTRANSLATION, Severity.CRITICAL, "35.019"),
    ("公司完成5000万美元A轮融资。", "The company completed a 50 million yuan Series A round.",
     CAT_CURRENCY, Severity.MAJOR, "50 million yuan"),
    ("营收350.19亿元。", "Revenue was 35 billion yuan.",
     CAT_MISTRANSLATION, Severity.MINOR, "35 billion yuan"),
    ("净利润同比增长23%。", "Net profit rose 32% year on year.",
     CAT_MISTRANSLATION, Severity.MAJOR, "32%"),
    ("该平台拥有7800万用户。", "The platform has 780 million users.",
     CAT_MISTRANSLATION, Severity.CRITICAL, "780 million"),
    ("公司计划投资2亿欧元建设新工厂。", "The company plans to invest 200 million dollars in a new plant.",
     CAT_CURRENCY, Severity.MAJOR, "200 million dollars"),
    ("今年前三季度，公司营收达到120亿元，净利润15亿元。",
     "In the first three quarters, the company's revenue reached 12 billion yuan.",
     CAT_OMISSION, Severity.MAJOR, "15亿元"),
    ("公司将在上海开设新门店。", "The company will open 12 new stores in Shanghai.",
     CAT_ADDITION, Severity.MAJOR, "12"),
    ("第五届论坛在杭州举行。", "The sixth forum was held in Hangzhou.",
     CAT_MISTRANSLATION, Severity.MAJOR, "sixth"),
    ("毛利率提高了2.5个百分点。", "Gross margin rose by 25 percentage points.",
     CAT_MISTRANSLATION, Severity.CRITICAL, "25 percentage points"),
]


@pytest.mark.parametrize("src, mt, category, severity, flagged", FLAGGED)
def test_wrong_translations_are_flagged(src, mt, category, severity, flagged):
    seg, spans = run(src, mt)
    hits = [s for s in spans if s.category == category and s.severity is severity and s.text(seg) == flagged]
    assert hits, [(s.severity.value, s.category, s.text(seg)) for s in spans]


def test_scale_error_evidence_spells_out_both_values():
    seg, spans = run("本季度营收350亿元。", "Revenue for the quarter was 350 million yuan.")
    (span,) = spans
    assert span.side is Side.MT
    assert "35,000,000,000" in span.evidence and "350,000,000" in span.evidence
    assert "100× smaller" in span.evidence
    assert span.suggestion == "35 billion yuan"
    assert span.check == "" and span.confidence is not None


def test_separator_confusion_is_explained():
    seg, spans = run("公司员工总数为35,019人。", "The company has 35.019 employees.")
    (span,) = spans
    assert "decimal" in span.evidence
    assert span.suggestion == "35,019"


def test_currency_evidence_names_both_currencies():
    seg, spans = run("公司完成5000万美元A轮融资。", "The company completed a 50 million yuan Series A round.")
    (span,) = [s for s in spans if s.category == CAT_CURRENCY]
    assert "US dollars" in span.evidence and "yuan" in span.evidence
    assert span.suggestion == "US$50 million"


def test_omission_is_anchored_on_the_source():
    src = "营收达到120亿元，净利润15亿元。"
    seg, spans = run(src, "Revenue reached 12 billion yuan.")
    (span,) = spans
    assert span.side is Side.SOURCE
    assert src[span.start:span.end] == "15亿元"


def test_spans_in_text_with_extension_b_and_full_width_punctuation():
    src = "𠀀𠀁科技（上海）公司营收３５０亿元！"
    mt = "𠀀𠀁 Technology (Shanghai) had revenue of 350 million yuan!"
    seg, spans = run(src, mt)
    (span,) = spans
    assert span.text(seg) == "350 million yuan"
    assert span.severity is Severity.CRITICAL


def test_a_bare_dollar_agrees_with_us_dollars():
    _, spans = run("公司融资5000万美元。", "The company raised $50 million.")
    assert spans == []


def test_repeated_figure_stated_once_is_not_an_omission():
    _, spans = run("三项指标均达到100%、100%、100%。", "All three indicators reached 100%.")
    assert [s for s in spans if s.severity.rank >= Severity.MAJOR.rank] == []


def test_translator_conversion_in_brackets_is_not_an_addition():
    _, spans = run("农场面积3000亩。", "The farm covers 3,000 mu (200 hectares).")
    assert spans == []


def test_small_numbers_in_words_are_minor_when_missing():
    seg, spans = run("公司派出三个团队参加展会。", "The company sent teams to the fair.")
    assert [(s.severity, s.category) for s in spans] == [(Severity.MINOR, CAT_OMISSION)]


def test_rounding_tolerance_option():
    src, mt = "营收350.19亿元。", "Revenue was 35 billion yuan."
    strict = CheckOptions(params=(("numbers", "rounding_tolerance", "0"),))
    _, spans = run(src, mt, strict)
    assert [s.severity for s in spans] == [Severity.MAJOR]


@pytest.mark.parametrize("value", ["abc", "-0.1", "0.9", "nan"])
def test_invalid_rounding_tolerance_is_a_config_error(value):
    with pytest.raises(ConfigError, match="rounding_tolerance"):
        NumbersConfig.from_options(CheckOptions(params=(("numbers", "rounding_tolerance", value),)))


def test_empty_sides_are_left_to_the_empty_check():
    assert run("", "Revenue was 5 billion yuan.")[1] == []
    assert run("营收50亿元。", "  ")[1] == []


def test_check_metadata():
    assert NumbersCheck.name == "numbers"
    assert NumbersCheck.description


_SRC_PIECES = list("0123456789一二三五十百千万亿两.,%第年月日元美件至") + ["亿元", "万美元", "百分之", "𠀀", "，", "。"]
_MT_PIECES = ["1", "5", "35", ".", ",", " ", "million", "billion", "yuan", "$", "%", "percent", "fifth", "to",
              "three", "doubled", "November", "11", "2013", "𠀀"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_SRC_PIECES), max_size=20).map("".join),
       st.lists(st.sampled_from(_MT_PIECES), max_size=20).map("".join))
def test_check_never_raises_and_spans_are_in_bounds(src, mt):
    seg = Segment("h", src, mt)
    for span in CHECK.check_segment(seg, OPTS):
        text = seg.mt if span.side is Side.MT else seg.source
        assert 0 <= span.start < span.end <= len(text)
