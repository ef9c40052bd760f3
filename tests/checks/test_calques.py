"""The calques check: literal renderings of Chinese set phrases, from the packaged lexicon and project files."""

from __future__ import annotations

import os

import pytest

from mtcheck.checks.calques import (
    CATEGORY,
    CalqueLexiconError,
    CalquesCheck,
    default_lexicon,
    find_calques,
    parse_lexicon,
)
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side
from mtcheck.errors import ConfigError, EncodingError, InputError, MissingColumnsError

CHECK = CalquesCheck()
OPTS = CheckOptions()
HEADER = "zh\tcalque\tsuggestion\tseverity\tnote\n"


def spans(source: str, mt: str, options: CheckOptions = OPTS):
    return CHECK.check_segment(Segment("1", source, mt), options)


def flagged(source: str, mt: str, options: CheckOptions = OPTS) -> list[tuple[str, str]]:
    """(MT text, severity) of each finding, checking the fields every finding shares."""
    out = []
    for s in spans(source, mt, options):
        assert (s.side, s.category) == (Side.MT, CATEGORY)
        assert s.suggestion
        out.append((mt[s.start:s.end], s.severity.value))
    return out


def test_double_11_after_the_curtain():
    source = "今年双11落幕后，天猫成交额再创新高。"
    mt = "This year's Double 11 after the curtain, Tmall's turnover hit a new high."
    (span,) = spans(source, mt)
    # "This year's Double 11 " is 22 code points; "after the curtain" 17 more.
    assert (span.start, span.end) == (22, 39)
    assert mt[span.start:span.end] == "after the curtain"
    assert (span.side, span.category, span.severity) == (Side.MT, "Style/Literal translation", Severity.MAJOR)
    assert "落幕" in span.message
    assert span.evidence.startswith("literal rendering of 落幕 ('after the curtain')")
    assert "after … came to a close" in span.suggestion


@pytest.mark.parametrize(
    "mt",
    [
        "After this year's Double 11 came to a close, Tmall's turnover hit a new high.",
        "When Double 11 ended this year, Tmall's sales reached a record.",
        "With this year's Singles' Day over, Tmall posted record sales.",
    ],
)
def test_idiomatic_rendering_of_the_same_source_is_not_flagged(mt):
    assert flagged("今年双11落幕后，天猫成交额再创新高。", mt) == []


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        # -- flagged: one per lexicon entry, with inflection and case variants
        ("双11圆满落幕。", "The curtains fell on Double 11.", [("The curtains fell", "minor")]),
        ("开门红", "The group achieved a red opening in January.", [("red opening", "major")]),
        ("为商家赋能", "Empowering merchants.", [("Empowering", "minor")]),
        ("项目落地", "The project is landing in Hangzhou.", [("landing", "minor")]),
        ("找准抓手", "Find the right grasping hand.", [("grasping hand", "major")]),
        ("加强顶层设计", "Strengthen top-level design.", [("top-level design", "minor")]),
        ("适应新常态", "Adapt to the new constant state.", [("new constant state", "minor")]),
        ("为企业保驾护航", "Escort and protect enterprises.", [("Escort and protect", "major")]),
        ("向假货亮剑", "Show the sword to counterfeits.", [("Show the sword", "major")]),
        ("擦亮城市名片", "Polish the city's business card.", [("Polish the city's business card", "major")]),
        ("行业排头兵", "The head soldier of the industry.", [("head soldier", "major")]),
        ("接地气的产品", "A product connected to the ground.", [("connected to the ground", "major")]),
        ("硬核科技", "Hard-core technology.", [("Hard-core", "minor")]),
        ("打通最后一公里", "Open up the last kilometre of delivery.", [("Open up the last kilometre", "major")]),
        ("最后一公里配送", "Delivery over the last kilometers.", [("last kilometers", "minor")]),
        ("推动高质量发展", "Promote high-quality development.", [("high-quality development", "minor")]),
        ("一站式服务", "One-station service.", [("One-station", "minor")]),
        ("网红产品", "Net-red products.", [("Net-red", "major")]),
        ("我们感恩这个时代。", "We are grateful to this era.", [("grateful to this era", "major")]),
        ("背后的故事", "Behind the story of Taobao.", [("Behind the story", "minor")]),
        ("互联网+", "Internet+ is the future.", [("Internet+", "minor")]),
        ("互联网＋制造", "Internet + manufacturing.", [("Internet +", "minor")]),
        ("打造新高地", "Forging a new highland.", [("Forging", "minor"), ("new highland", "major")]),
        ("交出了一份亮眼的成绩单", "Handed over a very bright report card.",
         [("Handed over a very bright report card", "major")]),
        ("性价比高", "High cost performance.", [("cost performance", "major")]),
        ("去杠杆", "The policy to leverage the economy.", [("to leverage", "major")]),
        # -- not flagged: idiomatic renderings of the same sources
        ("开门红", "The group got off to a strong start in January.", []),
        ("为商家赋能", "Enabling merchants to grow.", []),
        ("项目落地", "The project was implemented in Hangzhou.", []),
        ("找准抓手", "Find the right lever.", []),
        ("为企业保驾护航", "Safeguard enterprises.", []),
        ("向假货亮剑", "Crack down on counterfeits.", []),
        ("行业排头兵", "The industry's pacesetter.", []),
        ("接地气的产品", "A down-to-earth product.", []),
        ("打通最后一公里", "Solve the last-mile problem.", []),
        ("一站式服务", "One-stop service.", []),
        ("网红产品", "Viral products.", []),
        ("互联网+", "Internet Plus is the future.", []),
        ("背后的故事", "The story behind Taobao.", []),
        # -- not flagged: the rendering without its source expression
        ("演出结束了。", "After the curtain fell, the audience left.", []),
        ("这家公司很有实力。", "Empowering women is our mission.", []),
        # -- not flagged: blockers keep literal uses quiet
        ("现金流量良好", "The company's cash flow is good.", []),
        ("寒潮来袭", "A cold wave attacks the north.", []),
        ("飞机落地", "The plane is landing.", []),
        ("落地签证", "A landing visa is available.", [("landing visa", "major")]),
        ("心梗患者", "Patients with stem cell damage.", []),
        # -- whole words only; function words only match themselves
        ("对接", "Butter, but not butting.", [("butting", "minor")]),
        ("落幕", "Curtainless halls.", []),
        # -- a longer expression also brings the shorter ones it contains
        ("打通最后一公里", "Get through the last kilometre.", [("Get through the last kilometre", "major")]),
        # -- articles: optional in a rendering, never skipped in the MT when the rendering lacks them
        ("遇冷", "Sales encountered a cold reception.", [("encountered a cold", "minor")]),
        ("遇冷", "Sales met a cold reception.", []),
    ],
)
def test_segments(source, mt, expected):
    assert flagged(source, mt) == expected


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        # 🎉 is one code point (U+1F389), so "after" starts at 1+1+6+1+2+1 = 12.
        ("🎉双11落幕后，天猫成交额创新高！", "🎉 Double 11 after the curtain, Tmall's GMV hit a record!", [(12, 29)]),
        # 𠀀 (U+20000, CJK Extension B) is one code point: "𠀀 Tech's new product " is 21.
        ("𠀀科技新品亮相。", "𠀀 Tech's new product bright phase.", [(21, 33)]),
        # Full-width punctuation is a word break like any other: "（重磅）" is 4 code points.
        ("（重磅）网红经济", "（重磅）Net red economy！", [(4, 11)]),
        # Mixed script: Chinese left in the MT is one word, never part of a rendering.
        ("天猫开门红", "天猫 got a red opening 🚀 in 2021。", [(9, 20)]),
        ("网红", "网红net red", []),   # "网红net" is one word: no word boundary before "net"
    ],
)
def test_offsets(source, mt, expected):
    assert [(s.start, s.end) for s in spans(source, mt)] == expected


@pytest.mark.parametrize(
    "source, mt",
    [
        ("双110落幕", "Double 110 after the curtain"),       # still flagged: 落幕 is there
        ("他在打ＣＡＬＬ", "He hit call for her."),              # full-width ASCII in the source
        ("他在打call", "He HIT CALL for her."),                  # case-insensitive on both sides
    ],
)
def test_source_folding(source, mt):
    assert len(spans(source, mt)) == 1


def test_ascii_expression_needs_a_boundary():
    assert flagged("打callback", "hit call") == []


def test_overlapping_candidates_keep_the_longest():
    # Both the major "after the curtain" and the minor "after the curtain fell" match; the longer wins.
    assert flagged("落幕", "After the curtain fell on Double 11, sales rose.") == [("After the curtain fell", "minor")]


# ---------------------------------------------------------------------------
# The packaged lexicon


def _fill(zh: str) -> str:
    return zh.replace("…", "了一份")


def _entries():
    return [e for e in default_lexicon().entries if not e.is_blocker]


def test_default_lexicon_size():
    lexicon = default_lexicon()
    expressions = {e.zh for e in lexicon.entries if not e.is_blocker}
    assert len(expressions) >= 150
    assert {"落幕", "背后的故事", "打造", "赋能", "落地", "抓手", "顶层设计", "新常态", "互联网+", "感恩这个时代",
            "交出…成绩单", "开门红", "保驾护航", "亮剑", "擦亮…名片", "排头兵", "一站式", "接地气", "硬核",
            "打通最后一公里", "高质量发展"} <= expressions


@pytest.mark.parametrize("entry", _entries(), ids=lambda e: e.origin.rsplit(":", 1)[-1] + "-" + e.zh)
def test_every_rendering_is_found_and_no_suggestion_is_flagged(entry):
    source = _fill(entry.zh)
    lexicon = default_lexicon()
    for rendering in entry.calques:
        mt = "They " + rendering.text.replace("…", "quite good") + " today."
        hits = [h for h in find_calques(source, mt, lexicon) if h.entry.zh == entry.zh]
        assert hits, f"{entry.origin}: {rendering.text!r} is not found in {mt!r}"
    for suggestion in entry.suggestions:
        hits = [h for h in find_calques(source, suggestion, lexicon) if h.entry.zh == entry.zh]
        assert not hits, f"{entry.origin}: suggestion {suggestion!r} is flagged as {hits[0].rendering.text!r}"


# ---------------------------------------------------------------------------
# Project lexicons and options


def test_project_file_adds_and_overrides(write):
    path = write("p.tsv", HEADER + "落幕\tthe show ended\tit closed\tminor\t\n新品\tnew goods\tnew products\tmajor\t\n")
    options = CheckOptions(params=(("calques", "lexicon", str(path)),))
    # The project row replaces all default rows for 落幕.
    assert flagged("双11落幕后", "Double 11 after the curtain", options) == []
    assert flagged("双11落幕后", "the show ended", options) == [("the show ended", "minor")]
    assert flagged("新品上市", "New goods arrive.", options) == [("New goods", "major")]
    assert flagged("开门红", "a red opening", options) == [("red opening", "major")]   # default still on


def test_project_blocker_switches_an_entry_off(write):
    path = write("p.tsv", HEADER + "高质量发展\t-\t\t\t\n")
    options = CheckOptions(params=(("calques", "lexicon", str(path)),))
    assert flagged("推动高质量发展", "Promote high-quality development.") != []
    assert flagged("推动高质量发展", "Promote high-quality development.", options) == []


def test_several_files_later_wins(write):
    a = write("a.tsv", HEADER + "新品\tnew goods\tnew products\tmajor\n")
    b = write("b.tsv", HEADER + "新品\tnew goods\tnew products\tminor\n")
    options = CheckOptions(params=(("calques", "lexicon", f"{a}{os.pathsep}{b}"),))
    assert flagged("新品", "new goods", options) == [("new goods", "minor")]


@pytest.mark.parametrize("value, expected", [("off", []), ("no", []), ("on", [("red opening", "major")])])
def test_default_lexicon_switch(value, expected):
    options = CheckOptions(params=(("calques", "default_lexicon", value),))
    assert flagged("开门红", "a red opening", options) == expected


def test_bad_switch_value():
    with pytest.raises(ConfigError, match="calques.default_lexicon must be on or off, got 'maybe'"):
        spans("开门红", "a red opening", CheckOptions(params=(("calques", "default_lexicon", "maybe"),)))


def test_missing_project_file(tmp_path):
    missing = tmp_path / "nope.tsv"
    with pytest.raises(InputError, match="cannot read calque lexicon") as info:
        spans("开门红", "x", CheckOptions(params=(("calques", "lexicon", str(missing)),)))
    assert info.value.path == str(missing)


@pytest.mark.parametrize(
    "body, error, line, message",
    [
        ("", MissingColumnsError, None, "calque lexicon is empty: expected a header row"),
        ("zh\tcalque\tseverity\n", MissingColumnsError, 1, "lacks column(s) suggestion"),
        ("zh\tcalque\tsuggestion\tseverity\tzh\n", MissingColumnsError, 1, "repeats column(s) zh"),
        (HEADER + "\tfoo\tbar\tminor\n", CalqueLexiconError, 2, "empty zh"),
        (HEADER + "abc\tfoo\tbar\tminor\n", CalqueLexiconError, 2, "has no Chinese character"),
        (HEADER + "…落幕\tfoo\tbar\tminor\n", CalqueLexiconError, 2, "a slot '…' must stand between"),
        (HEADER + "落幕\t\tbar\tminor\n", CalqueLexiconError, 2, "empty calque column"),
        (HEADER + "落幕\tfoo||baz\tbar\tminor\n", CalqueLexiconError, 2, "empty rendering"),
        (HEADER + "落幕\t落下\tbar\tminor\n", CalqueLexiconError, 2, "contains Chinese characters"),
        (HEADER + "落幕\tthe\tbar\tminor\n", CalqueLexiconError, 2, "has no word to match"),
        (HEADER + "落幕\t… curtain\tbar\tminor\n", CalqueLexiconError, 2, "a gap '…' must stand between words"),
        (HEADER + "落幕\tcurtain\t\tminor\n", CalqueLexiconError, 2, "needs idiomatic suggestions"),
        (HEADER + "落幕\tcurtain\tended\tcritical\n", CalqueLexiconError, 2, "severity must be 'minor' or 'major', got 'critical'"),
        (HEADER + "落幕\tcurtain\tended\tminor\tnote\textra\n", CalqueLexiconError, 2, "6 tab-separated fields but the header has 5"),
        (HEADER + "# comment\n\n落幕\tcurtain|Curtain\tended\tminor\n", CalqueLexiconError, 4, "lists the rendering 'curtain' twice"),
        (HEADER + "落幕\tcurtain\tended\tminor\n落幕\tcurtain\tended\tmajor\n", CalqueLexiconError, 3,
         "is listed twice (first at bad.tsv:2)"),
        (HEADER + "落幕\t-\t\t\n落幕\tcurtain\tended\tminor\n", CalqueLexiconError, 3, "is also a blocker row"),
        (HEADER + "落幕\tcurtain\tended\tminor\n落幕\t-\t\t\n", CalqueLexiconError, 3, "but also has calque rows"),
    ],
)
def test_bad_rows(body, error, line, message):
    with pytest.raises(error) as info:
        parse_lexicon(body, "bad.tsv")
    assert info.value.path == "bad.tsv"
    assert info.value.line == line
    assert message in str(info.value)
    assert str(info.value).startswith("bad.tsv:" if line is None else f"bad.tsv:{line}: ")


def test_bad_utf8(write):
    # The header is 35 bytes (2+6+10+8+4 letters, 4 tabs, 1 newline); 落 in GB18030 is C2 E4, and
    # C2 opens a UTF-8 sequence that E4 cannot continue, so the error is at byte 35 on line 2.
    path = write("bad.tsv", HEADER.encode() + "落幕\tcurtain\tended\tminor\n".encode("gb18030"))
    with pytest.raises(EncodingError, match=r"bad.tsv:2: calque lexicon is not valid UTF-8 \(byte 35:"):
        spans("落幕", "x", CheckOptions(params=(("calques", "lexicon", str(path)),)))


def test_bom_comments_and_extra_columns_are_fine():
    lexicon = parse_lexicon("\ufeff# c\n" + "zh\tcalque\tsuggestion\tseverity\tnote\textra\n" + "落幕\tcurtain\tended\tmajor\n", "x")
    (entry,) = lexicon.entries
    assert (entry.zh, entry.suggestions, entry.severity, entry.origin) == ("落幕", ("ended",), Severity.MAJOR, "x:3")
