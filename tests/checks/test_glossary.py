"""Glossary TSV parsing, merging, the packaged default and English-side matching."""

from __future__ import annotations

import pytest

from mtcheck.checks.glossary import (
    Glossary,
    GlossaryEntry,
    GlossaryFormatError,
    default_glossary,
    find_rendering,
    glossary_for_options,
    load_glossary,
    merge_glossaries,
    parse_glossary,
    whitelisted_chinese_ranges,
)
from mtcheck.config import CheckOptions
from mtcheck.errors import ConfigError, EncodingError, InputError, MissingColumnsError

NO_DEFAULT = (("terms", "default_glossary", "off"),)


def test_parse_valid_file(write):
    path = write("g.tsv", (
        "\ufeff# project glossary\n"
        "zh\ten\tnote\tcase\textra\n"
        "\n"
        "  # indented comment\n"
        "天猫\tTmall\n"
        "双11\tSingles' Day | Double 11\tshopping festival\tinsensitive\tignored\n"
        "蔚来\tNIO\t\tsensitive\n"
    ))
    g = load_glossary(path)
    assert [e.zh for e in g.entries] == ["天猫", "双11", "蔚来"]
    assert g.get("双11").en == ("Singles' Day", "Double 11")
    assert g.get("双11").note == "shopping festival"
    assert g.get("蔚来").case_sensitive is True
    assert g.get("天猫").case_sensitive is False
    assert g.get("天猫").origin == f"{path}:5"


@pytest.mark.parametrize(
    "content, error, line, fragment",
    [
        ("zh\tnote\n天猫\tx\n", MissingColumnsError, 1, "en"),
        ("# only a comment\nen\tnote\n", MissingColumnsError, 2, "zh"),
        ("zh\ten\n天猫\tTmall\n\tAlipay\n", GlossaryFormatError, 3, "empty zh"),
        ("zh\ten\n天猫\t\n", GlossaryFormatError, 2, "no English rendering"),
        ("zh\ten\n天猫\tTmall\tnote\n", GlossaryFormatError, 2, "3 tab-separated fields"),
        ("zh\ten\n天猫\tTmall||T-mall\n", GlossaryFormatError, 2, "empty rendering"),
        ("zh\ten\tcase\n天猫\tTmall\tyes\n", GlossaryFormatError, 2, "case must be"),
        ("zh\ten\n天猫\tTmall\n淘宝\tTaobao\n天猫\tT-Mall\n", GlossaryFormatError, 4, "first at"),
        ("zh\ten\tzh\n", MissingColumnsError, 1, "repeats"),
    ],
)
def test_parse_errors_name_file_and_line(write, content, error, line, fragment):
    path = write("bad.tsv", content)
    with pytest.raises(error) as info:
        load_glossary(path)
    assert isinstance(info.value, InputError)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert fragment in str(info.value)
    assert info.value.line == line


def test_not_utf8_names_line(write):
    path = write("latin1.tsv", "zh\ten\n天猫\tTmall\n".encode("utf-8") + "caf\u00e9\tx\n".encode("latin-1"))
    with pytest.raises(EncodingError) as info:
        load_glossary(path)
    assert info.value.line == 3
    assert f"{path}:3" in str(info.value)


@pytest.mark.parametrize("content", ["", "\n# nothing here\n\n"])
def test_empty_glossary_is_an_error(write, content):
    with pytest.raises(MissingColumnsError, match="empty"):
        load_glossary(write("empty.tsv", content))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read glossary"):
        load_glossary(tmp_path / "nope.tsv")


def test_merge_later_overrides():
    a = parse_glossary("zh\ten\n天猫\tTmall\n淘宝\tTaobao\n", "a.tsv")
    b = parse_glossary("zh\ten\n天猫\tT-Mall|Tmall\n", "b.tsv")
    merged = merge_glossaries([a, b])
    assert merged.get("天猫").en == ("T-Mall", "Tmall")
    assert merged.get("淘宝").en == ("Taobao",)
    assert len(merged) == 2


def test_options_default_then_files_override(write):
    path = write("p.tsv", "zh\ten\n天猫\tTmall Mall\n自研词\tHouse Term\n")
    with_default = glossary_for_options(CheckOptions(glossaries=(str(path),)))
    assert with_default.get("天猫").en == ("Tmall Mall",)        # overridden
    assert with_default.get("支付宝").en == ("Alipay",)          # from the default
    only_file = glossary_for_options(CheckOptions(glossaries=(str(path),), params=NO_DEFAULT))
    assert only_file.get("支付宝") is None
    assert len(only_file) == 2


def test_bad_default_switch():
    with pytest.raises(ConfigError, match="default_glossary"):
        glossary_for_options(CheckOptions(params=(("terms", "default_glossary", "maybe"),)))


def test_default_glossary_content():
    g = default_glossary()
    assert 80 <= len(g) <= 200
    for zh, rendering in [("阿里巴巴", "Alibaba"), ("支付宝", "Alipay"), ("抖音", "TikTok"),
                          ("双十一", "Singles' Day"), ("同比", "year-on-year"), ("港交所", "HKEX"),
                          ("国务院", "State Council"), ("发改委", "NDRC"), ("净利润", "net income")]:
        assert rendering in g.get(zh).en


@pytest.mark.parametrize(
    "source, expected",
    [
        ("阿里巴巴集团旗下的淘宝网", [(0, 6, "阿里巴巴集团"), (9, 12, "淘宝网")]),   # longest first
        ("淘宝和天猫", [(0, 2, "淘宝"), (3, 5, "天猫")]),
        ("京东方的屏幕", [(0, 3, "京东方")]),                                 # not 京东
        ("双11购物节与双110号", [(0, 3, "双11")]),                              # not inside 双110
        ("没有术语", []),
    ],
)
def test_find_in_source(source, expected):
    found = default_glossary().find_in_source(source)
    assert [(s, e, entry.zh) for s, e, entry in found] == expected


@pytest.mark.parametrize(
    "rendering, case_sensitive, text, expected",
    [
        ("Singles' Day", False, "sales on Singles’ Day rose", [(9, 21)]),
        ("Singles' Day", False, "sales on Singles Day rose", [(9, 20)]),
        ("e-commerce", False, "E commerce and ecommerce", [(0, 10), (15, 24)]),
        ("Tmall", False, "Tmall's and TMALLS", [(0, 7), (12, 18)]),
        ("Tmall", False, "Tmallx", []),
        ("Alibaba", False, "AlibabaGroup", []),
        ("listed company", False, "two listed companies", [(4, 20)]),
        ("chairman", False, "the chairmen met", [(4, 12)]),
        ("JD.com", False, "JD.com's results", [(0, 8)]),
        ("ByteDance", False, "Byte Dance and Byte-Dance", [(0, 10), (15, 25)]),
        ("year-on-year", False, "up 5% year on year", [(6, 18)]),
        ("NIO", True, "Nio and NIO", [(8, 11)]),
        ("NIO", False, "Nio and NIO", [(0, 3), (8, 11)]),
        ("Double 11", False, "Double11 sales", [(0, 8)]),
    ],
)
def test_find_rendering(rendering, case_sensitive, text, expected):
    assert find_rendering(text, rendering, case_sensitive) == expected


def test_whitelisted_chinese_ranges():
    g = Glossary((GlossaryEntry("老干妈", ("Lao Gan Ma", "老干妈")), GlossaryEntry("𠀀记", ("𠀀记",))))
    assert g.chinese_whitelist == ("老干妈", "𠀀记")
    assert whitelisted_chinese_ranges("老干妈 and 𠀀记 brands", g) == [(0, 3), (8, 10)]
    assert whitelisted_chinese_ranges("no Chinese here", g) == []
