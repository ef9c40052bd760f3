"""Chinese text left in the English MT.

What this check owns (the ``punctuation`` check owns full-width and
Chinese *punctuation*, so no character is reported twice):

* runs of Han characters (``\\p{Han}``, which covers every CJK extension,
  e.g. 𠀀 U+20000) and of other East Asian scripts (kana, Hangul,
  Bopomofo): one major ``Accuracy/Untranslated`` span per run;
* full-width Latin letters and digits (Ａ, ９): minor, with the ASCII form
  as suggestion;
* the ideographic space U+3000: minor, suggestion a plain space.

When East Asian script makes up more than half of the MT's non-space
characters the segment is effectively not translated: one critical span
then covers the MT (first to last non-space character) instead of one
span per run, so the segment is penalised once, as MQM does for
non-translation.

Curly quotes (“ ” ‘ ’) and the ellipsis … are ordinary English typography
and are never reported here.

Chinese-script renderings a glossary allows (a brand kept in Chinese) are
exempt: see :func:`mtcheck.checks.glossary.whitelisted_chinese_ranges`.
"""

from __future__ import annotations

import regex

from mtcheck.checks.base import Check
from mtcheck.checks.glossary import whitelisted_chinese_for_options
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side, Span

CATEGORY = "Accuracy/Untranslated"

#: Share of non-space MT characters in East Asian script above which the
#: whole segment counts as untranslated (critical).
MOSTLY_CHINESE = 0.5

_EAST_ASIAN = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Bopomofo}"
_RUN = regex.compile(rf"[{_EAST_ASIAN}]+")
_EAST_ASIAN_CHAR = regex.compile(rf"[{_EAST_ASIAN}]")
# Full-width digits and letters; punctuation in the same block belongs to the punctuation check.
_FULLWIDTH_ALNUM = regex.compile(r"[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]+")
_IDEOGRAPHIC_SPACE = regex.compile("\u3000+")


class UntranslatedCheck(Check):
    name = "untranslated"
    description = "Chinese characters, full-width letters/digits or ideographic spaces left in the MT"

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        mt = segment.mt
        if not mt.strip():
            return []
        masked = _mask(mt, whitelisted_chinese_for_options(mt, options))
        spans: list[Span] = []

        non_space = sum(1 for ch in masked if not ch.isspace())
        east_asian = len(_EAST_ASIAN_CHAR.findall(masked))
        if non_space and east_asian / non_space > MOSTLY_CHINESE:
            start = len(mt) - len(mt.lstrip())
            end = len(mt.rstrip())
            spans.append(Span(
                start, end, Side.MT, CATEGORY, Severity.CRITICAL,
                "the MT is mostly untranslated Chinese",
                evidence=f"{east_asian} of {non_space} non-space characters are Chinese/East Asian script",
            ))
        else:
            for m in _RUN.finditer(masked):
                spans.append(Span(
                    m.start(), m.end(), Side.MT, CATEGORY, Severity.MAJOR,
                    f"untranslated Chinese text {m.group()!r}",
                    evidence=f"{len(m.group())} East Asian character(s) in the English MT",
                ))

        for m in _FULLWIDTH_ALNUM.finditer(masked):
            ascii_form = "".join(chr(ord(c) - 0xFEE0) for c in m.group())
            spans.append(Span(
                m.start(), m.end(), Side.MT, CATEGORY, Severity.MINOR,
                f"full-width characters {m.group()!r} should be ASCII",
                evidence="full-width Latin letters/digits come from Chinese input, not English text",
                suggestion=ascii_form,
            ))
        for m in _IDEOGRAPHIC_SPACE.finditer(masked):
            spans.append(Span(
                m.start(), m.end(), Side.MT, CATEGORY, Severity.MINOR,
                "ideographic space (U+3000) in the English MT",
                evidence=f"{len(m.group())} U+3000 character(s)",
                suggestion=" ",
            ))
        return spans


def _mask(text: str, ranges: list[tuple[int, int]]) -> str:
    # Same length as the input, so offsets found in the masked text are offsets in the MT.
    if not ranges:
        return text
    chars = list(text)
    for start, end in ranges:
        chars[start:end] = " " * (end - start)
    return "".join(chars)
