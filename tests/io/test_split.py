"""Tests of the Chinese and English sentence splitters.

All sentences below were written for these tests; expected splits were
worked out by hand from the rules in mtcheck.io.split's docstring.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtcheck.io.split import (
    ABBREVIATIONS,
    NON_FINAL_ABBREVIATIONS,
    Sentence,
    split_en,
    split_zh,
)


def texts(sentences: list[Sentence]) -> list[str]:
    return [s.text for s in sentences]


# --- Chinese -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        # full-width terminators; decimals and percentages stay whole
        ("公司2023年营收350.19亿元，同比增长12.5%。净利润创历史新高！",
         ["公司2023年营收350.19亿元，同比增长12.5%。", "净利润创历史新高！"]),
        ("业绩如何？非常好。", ["业绩如何？", "非常好。"]),
        # runs of terminators stay together
        ("真的吗？！是的。", ["真的吗？！", "是的。"]),
        ("真的吗？？？是的。", ["真的吗？？？", "是的。"]),
        ("市场前景广阔……我们充满信心。", ["市场前景广阔……", "我们充满信心。"]),
        ("市场前景广阔…我们充满信心。", ["市场前景广阔…", "我们充满信心。"]),
        ("项目完成。。下一步开始。", ["项目完成。。", "下一步开始。"]),
        # closing quotes and brackets go with the sentence they close
        ("董事长表示：“今年业绩良好。”随后宣布分红。",
         ["董事长表示：“今年业绩良好。”", "随后宣布分红。"]),
        ("『好！』他说。", ["『好！』", "他说。"]),
        ("「已完成。」下一步。", ["「已完成。」", "下一步。"]),
        ("发布新品（详见附件。）敬请关注。", ["发布新品（详见附件。）", "敬请关注。"]),
        ("公司发布《白皮书！》各方关注。", ["公司发布《白皮书！》", "各方关注。"]),
        # a quotation that goes on is not cut inside
        ("他说：“我们很满意。明年继续合作。”公司表示同意。",
         ["他说：“我们很满意。明年继续合作。”", "公司表示同意。"]),
        ("“他说：“好。”然后离开。”", ["“他说：“好。”然后离开。”"]),
        # ...but an unclosed quotation does not swallow the paragraph
        ("他说：“我们很满意。明年继续合作。公司表示同意。",
         ["他说：“我们很满意。", "明年继续合作。", "公司表示同意。"]),
        # a straight quote after a terminator can open the next sentence
        ('会议结束。"下次再见。"他说。', ["会议结束。", '"下次再见。"', "他说。"]),
        # ASCII !? end a sentence only before Han text
        ("我们发布了iPhone应用!用户反馈良好? 是的", ["我们发布了iPhone应用!", "用户反馈良好?", "是的"]),
        ("欢迎使用Hello World!App已上线。", ["欢迎使用Hello World!App已上线。"]),
        ("版本v2.0发布!", ["版本v2.0发布!"]),
        # full-width digits: ．between digits is a decimal point, elsewhere a stop
        ("增长３．５％。利润上升。", ["增长３．５％。", "利润上升。"]),
        ("第一句．第二句。", ["第一句．", "第二句。"]),
        # ASCII . never ends a Chinese sentence
        ("访问www.example.com.cn了解详情。谢谢。", ["访问www.example.com.cn了解详情。", "谢谢。"]),
        # semicolons do not split by default
        ("甲方负责生产；乙方负责销售。", ["甲方负责生产；乙方负责销售。"]),
        # bare punctuation never stands alone
        ("公司成立。“", ["公司成立。“"]),
        ("公司成立", ["公司成立"]),
        # CJK Extension B characters
        ("𠀀𠀁公司成立。𠀂𠀃集团上市！", ["𠀀𠀁公司成立。", "𠀂𠀃集团上市！"]),
        ("", []),
        ("   \n\t\u3000\n  ", []),
    ],
)
def test_split_zh(text: str, expected: list[str]) -> None:
    assert texts(split_zh(text)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("甲方负责生产；乙方负责销售。", ["甲方负责生产；", "乙方负责销售。"]),
        ("甲方负责生产;乙方负责销售。", ["甲方负责生产;", "乙方负责销售。"]),
        ("参数a;b已设置。", ["参数a;b已设置。"]),
    ],
)
def test_split_zh_semicolons(text: str, expected: list[str]) -> None:
    assert texts(split_zh(text, semicolons=True)) == expected


def test_split_zh_offsets_and_paragraphs() -> None:
    text = "第一段。\n\n  第二段第一句。第二句  \r\n第三段𠀀。\n"
    # Offsets counted by hand: "第一段。" 0-4, "\n\n  " 4-8,
    # "第二段第一句。" 8-15, "第二句" 15-18, "  \r\n" 18-22, "第三段𠀀。" 22-27.
    expected = [
        Sentence("第一段。", 0, 4, 0),
        Sentence("第二段第一句。", 8, 15, 1),
        Sentence("第二句", 15, 18, 1),
        Sentence("第三段𠀀。", 22, 27, 2),
    ]
    result = split_zh(text)
    assert result == expected
    for s in result:
        assert text[s.start : s.end] == s.text


def test_split_zh_extension_b_offsets() -> None:
    # 𠀀 is one code point (U+20000), so offsets count it once.
    result = split_zh("𠀀。𠀁𠀂！")
    assert [(s.start, s.end) for s in result] == [(0, 2), (2, 5)]


# --- English -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Revenue rose 3.5% to 35.019 billion yuan. Net profit doubled.",
         ["Revenue rose 3.5% to 35.019 billion yuan.", "Net profit doubled."]),
        ("Really?! Yes. Good!", ["Really?!", "Yes.", "Good!"]),
        # ellipsis: same sentence before lowercase, new one before uppercase
        ("Sales rose... and then fell. Profit rose.", ["Sales rose... and then fell.", "Profit rose."]),
        ("Sales rose\u2026 and then fell.", ["Sales rose\u2026 and then fell."]),
        ("Wait... The board agreed.", ["Wait...", "The board agreed."]),
        # lowercase after a full stop: not a boundary
        ("Sales rose. and fell.", ["Sales rose. and fell."]),
        # digits, opening quotes and brackets may start a sentence
        ("It was founded in 1998. 2023 was its best year.", ["It was founded in 1998.", "2023 was its best year."]),
        ('It was agreed. "Good," she said.', ["It was agreed.", '"Good," she said.']),
        ("It was agreed. \u201cGood,\u201d she said.", ["It was agreed.", "\u201cGood,\u201d she said."]),
        ("(See the annex.) The plan follows.", ["(See the annex.)", "The plan follows."]),
        ("The plan is ready. (Details follow.)", ["The plan is ready.", "(Details follow.)"]),
        # closing quotes stay with their sentence
        ('He said, "Profits rose." Then he left.', ['He said, "Profits rose."', "Then he left."]),
        ("He said, \u201cProfits rose.\u201d Then he left.", ["He said, \u201cProfits rose.\u201d", "Then he left."]),
        ("He called it \u2018solid.\u2019 Others agreed.", ["He called it \u2018solid.\u2019", "Others agreed."]),
        # a quotation that goes on is not cut inside
        ('He said, "We are pleased. We will continue." The board agreed.',
         ['He said, "We are pleased. We will continue."', "The board agreed."]),
        # initials
        ("J. K. Rowling wrote it. Fans cheered.", ["J. K. Rowling wrote it.", "Fans cheered."]),
        ("The CEO, Robert A. Smith, resigned.", ["The CEO, Robert A. Smith, resigned."]),
        # URLs and e-mail addresses
        ("Visit www.example.com.cn for details. Email ir@example.com today.",
         ["Visit www.example.com.cn for details.", "Email ir@example.com today."]),
        ("See https://example.com/a?b=1.2. Then reply.", ["See https://example.com/a?b=1.2.", "Then reply."]),
        # abbreviations that may end a sentence do so before a sentence opener
        ("He moved to the U.S. The company followed.", ["He moved to the U.S.", "The company followed."]),
        ("She joined Apple Inc. The deal closed.", ["She joined Apple Inc.", "The deal closed."]),
        ("We make phones, tablets, etc. It is a big range.", ["We make phones, tablets, etc.", "It is a big range."]),
        ("The U.A.E. Government agreed.", ["The U.A.E. Government agreed."]),
        # ...but not words that only look like abbreviations
        ("I said no. Then he left.", ["I said no.", "Then he left."]),
        # untranslated Chinese after an English sentence
        ("The result is good. 公司很好。", ["The result is good.", "公司很好。"]),
        ("", []),
        ("  \n\t \n", []),
    ],
)
def test_split_en(text: str, expected: list[str]) -> None:
    assert texts(split_en(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith joined the board.",
        "Mrs. Smith joined the board.",
        "Dr. Wang joined the board.",
        "Prof. Li joined the board.",
        "Apple Inc. Chairman Tim Cook spoke.",
        "Sunrise Ltd. Chairman Wang spoke.",
        "Sunrise Co. Chairman Wang spoke.",
        "Tesla Corp. Chief Executive Lee spoke.",
        "Martin Luther King Jr. Day is a holiday.",
        "Ken Griffey Sr. Field opened.",
        "He moved to St. Louis last year.",
        "It was Team A vs. Team B today.",
        "Bring pens, paper, etc. To the meeting, that is.",
        "Big firms, e.g. Huawei, agreed.",
        "One firm, i.e. Huawei, agreed.",
        "The U.S. President spoke.",
        "The U.K. Government agreed.",
        "It ranked No. 1 in sales.",
        "It costs approx. 5 million yuan.",
    ],
)
def test_split_en_abbreviations_do_not_split(text: str) -> None:
    assert texts(split_en(text)) == [text]


@pytest.mark.parametrize(
    "month", ["Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct.", "Nov.", "Dec."]
)
def test_split_en_months(month: str) -> None:
    text = f"The firm listed on {month} 5 in Shenzhen. Shares rose."
    assert texts(split_en(text)) == [f"The firm listed on {month} 5 in Shenzhen.", "Shares rose."]


def test_abbreviation_constants() -> None:
    required = {
        "Mr.", "Mrs.", "Dr.", "Prof.", "Inc.", "Ltd.", "Co.", "Corp.", "Jr.", "Sr.", "St.",
        "vs.", "etc.", "e.g.", "i.e.", "U.S.", "U.K.", "No.", "approx.",
        "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Oct.", "Nov.", "Dec.",
    }
    assert isinstance(ABBREVIATIONS, frozenset)
    assert required <= ABBREVIATIONS
    assert NON_FINAL_ABBREVIATIONS <= ABBREVIATIONS


def test_split_en_offsets_and_paragraphs() -> None:
    text = "  First one. Second one.\n\nThird one.  \n"
    # "  " 0-2, "First one." 2-12, " " 12, "Second one." 13-24, "\n\n" 24-26,
    # "Third one." 26-36.
    assert split_en(text) == [
        Sentence("First one.", 2, 12, 0),
        Sentence("Second one.", 13, 24, 0),
        Sentence("Third one.", 26, 36, 1),
    ]


def test_sentences_never_cross_lines() -> None:
    assert texts(split_en("The board met on\nMonday to vote.")) == ["The board met on", "Monday to vote."]
    assert texts(split_zh("董事会于周一\n召开会议。")) == ["董事会于周一", "召开会议。"]


def test_sentence_is_frozen() -> None:
    s = Sentence("好。", 0, 2, 0)
    with pytest.raises(AttributeError):
        s.text = "坏。"  # type: ignore[misc]


# --- invariants --------------------------------------------------------------

_ALPHABET = list("公司营收亿元𠀀𠀁。！？；…，：“”‘’「」（）《》．３５!?;.\"' \n\tAbcXyz0129%")


@pytest.mark.parametrize("splitter", [split_zh, split_en])
@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=_ALPHABET, max_size=60))
def test_split_loses_nothing(splitter, text: str) -> None:
    sentences = splitter(text)
    pos = 0
    for s in sentences:
        assert s.text and s.text == s.text.strip()
        assert text[s.start : s.end] == s.text
        assert s.start >= pos
        # only whitespace between consecutive sentences
        assert not text[pos : s.start].strip()
        pos = s.end
    assert not text[pos:].strip()
    paragraphs = [s.paragraph for s in sentences]
    assert paragraphs == sorted(paragraphs)
