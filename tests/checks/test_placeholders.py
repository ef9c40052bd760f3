"""The placeholders check: variables, tags, entities, URLs, e-mails and model codes."""

from __future__ import annotations

import pytest

from mtcheck.checks.placeholders import PlaceholdersCheck, Token, extract_tokens
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side

CHECK = PlaceholdersCheck()
OPTS = CheckOptions()
MAJOR, MINOR = Severity.MAJOR, Severity.MINOR
SRC, MT = Side.SOURCE, Side.MT


def run(source: str, mt: str):
    spans = CHECK.check_segment(Segment("1", source, mt), OPTS)
    out = []
    for s in spans:
        text = (mt if s.side is MT else source)[s.start:s.end]
        out.append((s.side, s.category, s.severity, text, s.suggestion))
    return sorted(out, key=lambda t: (t[0].value, t[3]))


@pytest.mark.parametrize(
    "source, expected",
    [
        ("您的订单{0}已发货，金额%s元。", [("variable", "{0}"), ("variable", "%s")]),
        ("你好，%(name)s！共{{count}}件，余额${balance}。", [("variable", "%(name)s"), ("variable", "{{count}}"),
                                                          ("variable", "${balance}")]),
        ("点击<a href=\"x\">这里</a>&nbsp;查看", [("tag", '<a href="x">'), ("tag", "</a>"), ("entity", "&nbsp;")]),
        ("访问https://www.tmall.com/，或发邮件至ir@alibaba-inc.com。", [("url", "https://www.tmall.com/"),
                                                                   ("email", "ir@alibaba-inc.com")]),
        ("华为P40和X-200型号，SKU-12345。", [("code", "P40"), ("code", "X-200"), ("code", "SKU-12345")]),
        ("全角型号Ｐ４０上市", [("code", "P40")]),
        ("𠀀牌iPhone15在售", [("code", "iPhone15")]),
        ("7月25日08H00-7月26日08H00", [("code", "08H00"), ("code", "08H00")]),
        ("打五折，即50%折扣，增长20%以上", []),
        ("2021-07-26 发布 A股 5月", []),
    ],
)
def test_extract(source, expected):
    assert [(t.kind, t.text) for t in extract_tokens(source)] == expected


def test_extract_offsets_are_code_points():
    assert extract_tokens("𠀀{0}") == [Token("variable", "{0}", 1, 4)]


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        ("订单{0}已发货。", "Order {0} has shipped.", []),
        ("订单{0}已发货。", "Order { 0 } has shipped.", [(MT, "Markup/Placeholder altered", MAJOR, "{ 0 }", "{0}")]),
        ("订单{0}已发货。", "Order ｛0｝ has shipped.", [(MT, "Markup/Placeholder altered", MAJOR, "｛0｝", "{0}")]),
        ("金额为%s元。", "The amount is % s yuan.", [(MT, "Markup/Placeholder altered", MAJOR, "% s", "%s")]),
        ("你好，%(name)s！", "Hello!", [(SRC, "Markup/Placeholder missing", MAJOR, "%(name)s", "%(name)s")]),
        ("订单{0}已发货。", "Order {0} and {1} have shipped.", [(MT, "Markup/Placeholder added", MAJOR, "{1}", None)]),
        ("{0}和{0}", "{0} and its copy", [(SRC, "Markup/Placeholder missing", MAJOR, "{0}", "{0}")]),
        ("共{{count}}件。", "{{count}} items in total.", []),
        ("共{{count}}件。", "{count} items in total.",
         [(MT, "Markup/Placeholder altered", MAJOR, "{count}", "{{count}}")]),
        ("余额${balance}元。", "Balance: {balance} yuan.",
         [(MT, "Markup/Placeholder altered", MAJOR, "{balance}", "${balance}")]),
        ("打五折", "a 50% discount", []),
    ],
)
def test_variables(source, mt, expected):
    assert run(source, mt) == expected


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        ("<b>天猫</b>大促", "<b>Tmall</b> sale", []),
        # (run() sorts by side name, then text)
        ("<b>天猫</b>大促", "<b>Tmall sale", [(MT, "Markup/Tag nesting", MAJOR, "<b>", None),
                                            (SRC, "Markup/Placeholder missing", MAJOR, "</b>", "</b>")]),
        ("<b><i>天猫</i></b>", "<b><i>Tmall</b></i>", [(MT, "Markup/Tag nesting", MAJOR, "</i>", None),
                                                      (MT, "Markup/Tag nesting", MAJOR, "<i>", None)]),
        ("<b>天猫</b>", "<B>Tmall</b>", [(MT, "Markup/Placeholder altered", MAJOR, "<B>", "<b>")]),
        ("第一行<br/>第二行", "Line one<br/>line two", []),
        ("A&nbsp;B", "A B", [(SRC, "Markup/Placeholder missing", MAJOR, "&nbsp;", "&nbsp;")]),
        ("A&amp;B", "A&amp;B", []),
    ],
)
def test_tags_and_entities(source, mt, expected):
    assert run(source, mt) == expected


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        ("详见https://www.tmall.com/。", "See https://www.tmall.com/.", []),
        ("详见http://www.example.cn。", "See www.example.cn.",
         [(MT, "Accuracy/Mistranslation", MINOR, "www.example.cn", "http://www.example.cn")]),
        ("详见www.12377.cn。", "See www. 12377.cn.", [(MT, "Accuracy/Mistranslation", MAJOR, "www. 12377.cn", "www.12377.cn")]),
        ("来源：经济观察网", "Source: www.eeo.com.cn", [(MT, "Accuracy/Addition", MINOR, "www.eeo.com.cn", None)]),
        ("联系ir@alibaba-inc.com。", "Contact us.", [(SRC, "Accuracy/Omission", MAJOR, "ir@alibaba-inc.com",
                                                   "ir@alibaba-inc.com")]),
    ],
)
def test_urls_and_emails(source, mt, expected):
    assert run(source, mt) == expected


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        ("华为发布P40手机。", "Huawei launched the P40 phone.", []),
        ("华为发布P40手机。", "Huawei launched the P 40 phone.", [(MT, "Accuracy/Mistranslation", MINOR, "P 40", "P40")]),
        ("华为发布P40手机。", "Huawei launched a new phone.", [(SRC, "Accuracy/Omission", MAJOR, "P40", "P40")]),
        ("全角Ｐ４０上市。", "The P40 is on sale.", []),
        ("订单SKU-12345缺货。", "Order SKU-1234 is out of stock.", [(SRC, "Accuracy/Omission", MAJOR, "SKU-12345",
                                                                  "SKU-12345")]),
        ("第二季度营收增长。", "Q2 revenue grew.", []),             # codes the MT introduces are fine
        ("𠀀牌X-200型号。", "The X-200 model of the brand.", []),
        ("P40和P40 Pro", "P40 and P40 Pro", []),
    ],
)
def test_model_codes(source, mt, expected):
    assert run(source, mt) == expected
