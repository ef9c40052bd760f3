"""The punctuation check, one table per rule."""

from __future__ import annotations

import pytest

from mtcheck.checks.punctuation import PunctuationCheck
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side

CHECK = PunctuationCheck()
OPTS = CheckOptions()
P, G, S = "Fluency/Punctuation", "Fluency/Grammar", "Fluency/Spelling"


def run(source: str, mt: str):
    spans = CHECK.check_segment(Segment("1", source, mt), OPTS)
    for s in spans:
        assert (s.side, s.severity) == (Side.MT, Severity.MINOR)
    return sorted((s.category, s.start, s.end, mt[s.start:s.end], s.suggestion) for s in spans)


@pytest.mark.parametrize(
    "source, mt",
    [
        ("阿里巴巴营收同比增长12%（不含汇率影响）。", "Alibaba’s revenue rose 12% year-on-year (excluding currency effects)."),
        ("他说：“天猫是‘新零售’的核心。”", "He said, “Tmall is the core of ‘New Retail’.”"),
        ("不要错过九十年代系列。", "Don't miss the '90s collection from investors' favourite brand."),
        ("财报显示：1)收入增长；2)利润下降。", "The report shows: 1) revenue grew; 2) profit fell."),
        ("发布会持续到晚上……", "The launch ran into the evening..."),
        ("苹果公司发布iPhone 15。", "iPhone 15 was launched by Apple."),
        ("京东发布新品", "JD.com launches new products"),   # headline: no final stop needed
        ("他说：“我们会继续投资。”", "He said: \"We will keep investing.”"),   # mixed straight/curly pair passes
    ],
)
def test_clean_sentences(source, mt):
    assert run(source, mt) == []


@pytest.mark.parametrize(
    "mt, expected",
    [
        ("Revenue rose，profit fell。", [(P, 12, 13, "，", ","), (P, 24, 25, "。", ".")]),
        ("Alibaba（BABA）rose.", [(P, 7, 8, "（", "("), (P, 12, 13, "）", ")")]),
        ("He read 《Thinking》 twice.", [(P, 8, 9, "《", '"'), (P, 17, 18, "》", '"')]),
        ("Sales rose；margins fell：why？", [(P, 10, 11, "；", ";"), (P, 23, 24, "：", ":"), (P, 27, 28, "？", "?")]),
        ("It went on……", [(P, 10, 12, "……", "...")]),
        ("Costs fell、sharply.", [(P, 10, 11, "、", ",")]),
    ],
)
def test_fullwidth_punctuation(mt, expected):
    assert run("收入上升。", mt) == expected


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        ("营收（人民币计增长。", "Revenue (in RMB rose.", []),                  # source unbalanced too
        ("营收（人民币）增长。", "Revenue (in RMB rose.", [(P, 8, 9, "(", None)]),
        ("营收增长。", "Revenue rose ] sharply.", [(P, 13, 14, "]", None)]),
        ("营收[人民币]增长。", "Revenue [in RMB) rose.", [(P, 8, 9, "[", None)]),
        ("他说：“好。”", "He said, “Good. “", [(P, 9, 10, "“", None), (P, 16, 17, "“", None)]),
        ("他说：“好。”", 'He said, "Good.', [(P, 9, 10, '"', None)]),
        ("“好。", "“Good.", []),                                                     # quote continues in the next segment
        ("他称之为‘新零售’。", "He called it ‘new retail.", [(P, 13, 14, "‘", None)]),
        ("他称之为‘新零售’。", "He called it 'new retail.", [(P, 13, 14, "'", None)]),
    ],
)
def test_brackets_and_quotes(source, mt, expected):
    assert run(source, mt) == expected


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        ("天猫销售额增长。", "Tmall  sales rose.", [(P, 5, 7, "  ", " ")]),
        ("天猫销售额增长。", "Tmall sales rose,, again.", [(P, 16, 18, ",,", ",")]),
        ("天猫销售额增长。", "Tmall sales rose..", [(P, 16, 18, "..", ".")]),
        ("天猫销售额增长……", "Tmall sales rose...", []),
        ("太好了！！", "Great!!", []),                                   # the source doubles it too
        ("太好了！", "Great!!", [(P, 5, 7, "!!", "!")]),
        ("天猫销售额增长。", "Tmall sales rose;; again.", [(P, 16, 18, ";;", ";")]),
    ],
)
def test_doubled_spaces_and_punctuation(source, mt, expected):
    assert run(source, mt) == expected


@pytest.mark.parametrize(
    "mt, expected",
    [
        ("Sales rose in the the second quarter.", [(G, 17, 21, " the", "")]),
        ("The the company grew.", [(G, 3, 7, " the", "")]),
        ("By then he had had enough.", []),
        ("He said that that plan works.", []),
        ("They opened a shop in Walla Walla last year.", []),
        ("Revenue grew grew again.", [(G, 12, 17, " grew", "")]),
        ("Profit rose rose rose.", [(G, 11, 16, " rose", ""), (G, 16, 21, " rose", "")]),
    ],
)
def test_repeated_words(mt, expected):
    assert run("营收增长。", mt) == expected


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        ("营收增长了。", "Revenue grew", [(P, 11, 12, "w", "w.")]),
        ("营收增长了吗？", "Did revenue grow 5", [(P, 17, 18, "5", "5.")]),
        ("他说：“营收增长了。”", "He said, “Revenue grew”", [(P, 21, 22, "w", "w.")]),
        ("营收增长了。", "Revenue grew:", []),                 # ends in punctuation, not a letter or digit
        ("营收增长了", "Revenue grew", []),                     # source has no final stop
    ],
)
def test_final_punctuation(source, mt, expected):
    assert run(source, mt) == expected


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        ("营收增长了。", "revenue grew.", [(S, 0, 1, "r", "R")]),
        ("营收增长了。", "“revenue grew.”", [(S, 1, 2, "r", "R")]),
        ("苹果手机销量上升。", "iPhone sales rose.", []),
        ("电商增长迅速。", "e-commerce grew fast.", []),
        ("冯教授说。", "said Professor Feng.", []),
        ("iPhone销量上升。", "iphone sales rose.", []),               # source itself starts lowercase
        ("、以及其他产品。", "and other products.", []),              # continuation
        ("访问www.tmall.com。", "www.tmall.com is the address.", []),
    ],
)
def test_lowercase_start(source, mt, expected):
    assert run(source, mt) == expected
