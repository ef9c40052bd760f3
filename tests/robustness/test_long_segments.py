"""Long segments: the linear-time rewrites of the checks give the answers the plain code gave.

Each rewrite that replaced a quadratic step (a search per candidate, a
rescan of the text per token, a slice of the rest of the text) is tested
here against the plain formulation it replaced, written out in the test,
on generated input; where a check now stops early, the test counts the work
done instead of timing it. Timings are in ``scripts/bench_long_segments.py``
and docs/robustness.md.
"""

from __future__ import annotations

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from mtcheck.checks import CHECKS, placeholders, quantities
from mtcheck.checks.numbers import MAX_QUANTITIES
from mtcheck.checks.placeholders import _CodeIndex, _exact_at, _indexed_finditer, _loose_pattern, extract_tokens
from mtcheck.checks.quantities import _after_between, parse_chinese_quantities, parse_english_quantities
from mtcheck.checks.terms import _first_uses, renderings_used
from mtcheck.checks.glossary import default_glossary
from mtcheck.config import CheckOptions
from mtcheck.core import Segment
from tests.robustness import targets as T

# ---------------------------------------------------------------------------
# quantities: "between A and B" without copying the text before A

_BETWEEN = regex.compile(r"\bbetween\s+(?:[$€£¥]|US\$|HK\$|RMB\s?)?$", regex.IGNORECASE)
_BETWEEN_PIECES = ["between", "Between", "BETWEEN", "etween", " ", "  ", "\n", "\t", "\u00a0", "$", "US$", "us$",
                   "HK$", "RMB", "rmb", "€", "x", "a", "_", "1", "ſ", "é", "and"]


@T.fuzz_settings(400)
@given(st.lists(st.sampled_from(_BETWEEN_PIECES), max_size=8).map("".join), st.integers(0, 60))
def test_after_between_answers_like_the_regex_on_the_prefix(text, cut):
    pos = min(cut, len(text))
    assert _after_between(text, pos) == bool(_BETWEEN.search(text[:pos]))


@pytest.mark.parametrize("text, pos, expected", [
    ("between US$", 11, True),      # the currency may follow
    ("between  RMB ", 13, True),    # RMB\s? and several spaces
    ("inbetween ", 10, False),      # "between" must start a word
    ("between", 7, False),          # at least one space
    ("between $\n", 10, True),      # "$" also matches before a final newline
    ("between 5 and ", 14, False),  # something else in between
])
def test_after_between_examples(text, pos, expected):
    assert _after_between(text, pos) is expected


# ---------------------------------------------------------------------------
# quantities: stopping once the bound is certainly exceeded


@pytest.mark.parametrize("limit", [0, 1, 3])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_limited_parse_is_the_full_parse_or_over_the_limit(language, limit):
    parse = parse_chinese_quantities if language == "zh" else parse_english_quantities

    @T.fuzz_settings(150)
    @given(T.number_text(language, max_size=30))
    def run(text):
        full = parse(text)
        limited = parse(text, limit=limit)
        if len(full) <= limit:
            assert limited == full
        else:
            assert len(limited) > limit  # stopped early or not, the bound is still seen to be exceeded

    run()


def test_numbers_check_reads_a_bounded_number_of_figures(monkeypatch):
    # A segment ten times over the bound: the Chinese parser reads about 2 * MAX_QUANTITIES
    # numbers (range merging halves the count at worst), not all 20,000.
    calls = {"n": 0}
    real = quantities._chinese_core

    def counting(*args):
        calls["n"] += 1
        return real(*args)

    monkeypatch.setattr(quantities, "_chinese_core", counting)
    n = 10 * MAX_QUANTITIES
    src = "".join(f"第{i}项增长{i}%，" for i in range(n))
    mt = " ".join(f"item {i} rose {i}%," for i in range(n))
    (span,) = CHECKS["numbers"].check_segment(Segment("1", src, mt), CheckOptions())
    assert span.category == "Other/Unchecked (number)"
    assert f"more than {MAX_QUANTITIES:,} in the source" in span.message
    assert calls["n"] == 2 * MAX_QUANTITIES + 2


@pytest.mark.parametrize("source, mt, expected", [
    # Classifier and range look-ahead now read a window after the numeral.
    ("三家公司和两年", "three companies and two years", []),
    ("增长三至五倍", "grew three to five times", []),
    # A number whose first character a date claims is not read as a quantity.
    ("11月11日营收350亿元", "Revenue on November 11 was 35 billion yuan", []),
    # The MT quantity includes its currency word, so the span is "350 million yuan".
    ("营收350亿元", "Revenue was 350 million yuan", ["350 million yuan"]),
])
def test_numbers_check_findings_on_ordinary_sentences(source, mt, expected):
    spans = CHECKS["numbers"].check_segment(Segment("1", source, mt), CheckOptions())
    assert [mt[s.start:s.end] for s in spans if s.side.value == "mt"] == expected


# ---------------------------------------------------------------------------
# placeholders: one masking pass, indexed code search


def _extract_plain(text: str) -> list:
    """extract_tokens as first written: the text rebuilt once per token to mask it."""
    work = text.translate(placeholders._FULLWIDTH_ASCII)
    tokens = []
    for kind, pattern in placeholders._PATTERNS:
        for m in pattern.finditer(work):
            start, end = m.span()
            if kind == "url":
                while end > start and work[end - 1] in placeholders._TRAILING:
                    end -= 1
            elif kind == "code":
                if end < len(work) and placeholders._HAN.match(work, end):
                    cut = regex.search(r"[-_][0-9]+$", work[start:end])
                    if cut and placeholders._is_code(work[start:start + cut.start()]):
                        end = start + cut.start()
                if not placeholders._is_code(work[start:end]):
                    continue
            tokens.append(placeholders.Token(kind, work[start:end], start, end))
        for t in tokens:
            if t.kind == kind:
                work = work[:t.start] + " " * (t.end - t.start) + work[t.end:]
    return sorted(tokens, key=lambda t: t.start)


_PLACEHOLDER_PIECES = ["{0}", "{ 0 }", "%s", "% s", "<b>", "</b>", "<B>", "&amp;", "https://a.cn/x.", "www.b.com",
                       "ir@ex.com", "P40", "X-200", "SKU_1", "{{name}}", "${v}", "，", " ", "营收", "-7", "a1b2"]


@T.fuzz_settings(300)
@given(st.lists(st.sampled_from(_PLACEHOLDER_PIECES), max_size=12).map("".join))
def test_extract_tokens_masks_like_the_plain_loop(text):
    assert extract_tokens(text) == _extract_plain(text)


_CODE_MT_PIECES = ["P40", "p 40", "P4 0", "Ｐ４０", "x-200", "X–200", "X200", "X 200", "sku_1", "SKU-1", "sku1", "SKU10",
                   "\u212a9", "ſ1", "k9", " ", "-", "_", ",", "a", "7", "营", "\u00a0"]
_CODES = ["P40", "X-200", "SKU_1", "SKU-1", "K9", "S1", "A7", "P4"]


@T.fuzz_settings(400)
@given(st.lists(st.sampled_from(_CODE_MT_PIECES), max_size=10).map("".join), st.sampled_from(_CODES))
def test_indexed_code_search_finds_what_the_pattern_finds(mt, code):
    index = _CodeIndex(mt)
    loose = [m.span() for m in _loose_pattern(code, False, True).finditer(mt)]
    assert list(_indexed_finditer(mt, index, code)) == loose
    exact = regex.search(rf"(?<![A-Za-z0-9]){regex.escape(code)}(?![A-Za-z0-9])", mt) is not None
    assert any(_exact_at(mt, code, p) for p, _ in index.candidates(code)) is exact


@pytest.mark.parametrize("source, mt, expected", [
    # Three {0} in the source, two exact and one spaced in the MT: the spaced one is altered.
    ("{0}{0}{0}", "{0} { 0 } {0}", [("mt", "Markup/Placeholder altered", "{ 0 }")]),
    # An MT token beyond the source's count is added.
    ("{0}", "{0} {0}", [("mt", "Markup/Placeholder added", "{0}")]),
    # A missing code, one written loosely and one copied.
    ("型号P40、X-200和A7", "models p 40 and A7", [("mt", "Accuracy/Mistranslation", "p 40"),
                                             ("source", "Accuracy/Omission", "X-200")]),
])
def test_placeholders_findings_with_repeated_tokens(source, mt, expected):
    spans = CHECKS["placeholders"].check_segment(Segment("1", source, mt), CheckOptions())
    got = [(s.side.value, s.category, (mt if s.side.value == "mt" else source)[s.start:s.end]) for s in spans]
    assert sorted(got) == sorted(expected)


# ---------------------------------------------------------------------------
# terms: first occurrences instead of every occurrence


@pytest.mark.parametrize("mt", [
    "Alibaba Group and Alibaba; Taobao, Tmall and Tmall Global on Singles' Day and Double 11.",
    "",
    "alibaba group's TAOBAO",
])
def test_first_uses_are_the_first_of_all_uses(mt):
    for entry in default_glossary().entries:
        every = renderings_used(mt, entry)
        assert _first_uses(mt, entry) == {i: hits[0] for i, hits in every.items()}
        assert bool(_first_uses(mt, entry, stop_at_one=True)) is bool(every)


# ---------------------------------------------------------------------------
# quantities: a run of Han letters is one English token

_ONE_TOKEN_PER_CHARACTER = regex.compile(
    r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?|(?<![A-Za-z0-9])\.[0-9]+|[A-Za-z]+|[^\sA-Za-z0-9]")
_HAN_PIECES = ["营收", "增长", "亿", "〇", "三", "万", "元", "年", "营", "é", "Ж"]


@T.fuzz_settings(400)
@given(st.lists(st.one_of(st.sampled_from(T.EN_NUMBER_TOKENS), st.sampled_from(_HAN_PIECES),
                          st.sampled_from(("", " ", "-", ".", ",", "/", ":", "%", "$", "one", "a", "of", "the"))),
                max_size=16).map("".join))
def test_english_parse_is_the_same_with_han_runs_as_one_token(text):
    merged = parse_english_quantities(text)
    original = quantities._EN_TOKEN_RE
    try:
        quantities._EN_TOKEN_RE = _ONE_TOKEN_PER_CHARACTER
        single = parse_english_quantities(text)
    finally:
        quantities._EN_TOKEN_RE = original
    assert merged == single
