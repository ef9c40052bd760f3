"""Source-anchored number check: every figure in the source must reach the MT intact.

A wrong figure in a press release is a critical error, and the typical MT
failure is not random: it is a slip of scale when converting Chinese 万/亿
into thousand/million/billion (350亿 rendered "350 million"). The check parses
both sides into exact values with :mod:`mtcheck.checks.quantities` (dates are
parsed first by :mod:`mtcheck.checks.dates` and skipped here), then matches
source quantities to MT quantities in passes, most certain first:

1. **exact**: equal values of compatible kinds (350.19亿 = 35.019 billion,
   百分之八十 = 80%, 翻了一番 = doubled, 第五届 = fifth, 2021年 = 2021; a
   Chinese multiple ``N倍`` also matches N+1, since 增长一倍 is "doubled");
2. **approximate**: an approximation on either side (十几, 300多, 上万,
   "hundreds of") covers the other value;
3. **rounded**: the MT has fewer significant digits and is within one unit of
   its last digit and within the rounding tolerance (default 5%) of the
   source: 350.19亿 -> "35 billion";
4. **order of magnitude**: the ratio is a power of ten (350亿 -> "350
   million", 35,019 -> "35.019", 2.5个百分点 -> "25 percentage points");
5. **mismatch**: what is left is paired by kind and position.

Anything still unmatched is an omission (source) or an addition (MT), except
quantities marked ``optional`` by the parser (a bare 一/"one", a spelled-out
两/"two", "half", "double", vague amounts, numbers inside names such as "the
Three Gorges"), which good translations routinely leave implicit; numbers
that reappear on the other side as part of a date or verbatim (codes); a
figure repeated in the source but stated once in the MT; and a translator's
conversion in brackets ("6,000 mu (400 hectares)"). An unmatched small number
written in words (三个团队, "three groups") is only minor: the figures that
make a release wrong are written in digits.

Categories and severities (all spans carry ``check="numbers"``):

====================================  ========  ======  =========================================
finding                               severity  side    category
====================================  ========  ======  =========================================
rounded value                         minor     MT      Accuracy/Mistranslation (number)
wrong by a power of ten               critical  MT      Accuracy/Mistranslation (number)
different value                       major     MT      Accuracy/Mistranslation (number)
source number missing from the MT     major(*)  source  Accuracy/Omission (number)
MT number not in the source           major(*)  MT      Accuracy/Addition (number)
currency changed (美元 -> yuan)        major     MT      Locale convention/Currency
====================================  ========  ======  =========================================

(*) minor for a number up to ten written in words.

Evidence spells both values out, e.g. ``source 350亿 = 35,000,000,000; MT
350 million = 350,000,000 (100× smaller)``, and the suggestion renders the
source value in English (``35 billion``).

Bound: matching is quadratic in the number of figures, so a "segment" with
more than :data:`MAX_QUANTITIES` of them on one side (a whole document on
one line, a table dump) is not compared; it gets one minor
``Other/Unchecked (number)`` finding over the MT saying so, never silence.
The parsers stop reading a side once it surely holds more than that many
(:func:`~mtcheck.checks.quantities._past_limit`), so such a segment costs
about what its first few thousand figures cost.

Options (``CheckOptions.params``, check name ``numbers``):
``rounding_tolerance`` — largest relative difference accepted as a rounding
(a float in [0, 0.5]; default 0.05).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import regex

from mtcheck.checks.base import Check
from mtcheck.checks.dates import DateMention, parse_chinese_dates, parse_english_dates
from mtcheck.checks.quantities import (
    Kind,
    Quantity,
    english_rendering,
    format_value,
    parse_chinese_quantities,
    parse_english_quantities,
)
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side, Span
from mtcheck.errors import ConfigError

__all__ = [
    "NumbersCheck",
    "NumbersConfig",
    "Match",
    "match_quantities",
    "compare_quantities",
    "CAT_MISTRANSLATION",
    "CAT_OMISSION",
    "CAT_ADDITION",
    "CAT_CURRENCY",
]

CAT_MISTRANSLATION = "Accuracy/Mistranslation (number)"
CAT_OMISSION = "Accuracy/Omission (number)"
CAT_ADDITION = "Accuracy/Addition (number)"
CAT_CURRENCY = "Locale convention/Currency"
CAT_UNCHECKED = "Other/Unchecked (number)"

#: Most figures per side compared in one segment (1,000 x 1,000 pairs take about a second).
MAX_QUANTITIES = 1000

# A bare "$" or "dollars" is some dollar; it agrees with every dollar currency.
_DOLLARS = {"USD", "HKD", "TWD", "SGD", "AUD", "CAD", "USD*"}


@dataclass(frozen=True)
class NumbersConfig:
    """Settings of the numbers check.

    Attributes:
        rounding_tolerance: Largest relative difference accepted as a rounding.
    """

    rounding_tolerance: float = 0.05

    def __post_init__(self) -> None:
        if not (0.0 <= self.rounding_tolerance <= 0.5) or math.isnan(self.rounding_tolerance):
            raise ConfigError(
                f"numbers: rounding_tolerance must be a number in [0, 0.5], got {self.rounding_tolerance!r}")

    @classmethod
    def from_options(cls, options: CheckOptions) -> "NumbersConfig":
        raw = options.get("numbers", "rounding_tolerance")
        if raw is None:
            return cls()
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"numbers: rounding_tolerance must be a number in [0, 0.5], got {raw!r}") from None
        return cls(rounding_tolerance=value)


@dataclass(frozen=True)
class Match:
    """How one source quantity was paired with one MT quantity.

    ``how`` is ``exact``, ``rounded``, ``magnitude`` or ``mismatch``.
    """

    source: Quantity
    mt: Quantity
    how: str


def _readings(q: Quantity, chinese: bool) -> list[tuple[str, Fraction, Fraction | None]]:
    """The (group, value, high) pairs ``q`` may stand for; two quantities match if they share one."""
    v, h = q.value, q.high
    if q.kind is Kind.CARDINAL and q.unit == "points":
        # "up 10 points" for 上升10个百分点
        return [("count", v, h), ("ratio", v / 100, None if h is None else h / 100)]
    if q.kind in (Kind.CARDINAL, Kind.YEAR, Kind.ORDINAL, Kind.DECADE):
        return [("count", v, h)]
    if q.kind is Kind.TIME:
        # 15时 is "3 pm": compare on a 12-hour clock as well.
        return [("count", v, h), ("count", v % 12, None if h is None else h % 12)]
    if q.kind in (Kind.PERCENT, Kind.FRACTION):
        return [("ratio", v, h)]
    out = [("mult", v, h), ("count", v, h), ("ratio", v, h), ("ratio", v - 1, None if h is None else h - 1)]
    if chinese:
        # 增长一倍 is "doubled": a Chinese N倍 of growth may be N+1 times the base.
        out.append(("mult", v + 1, None if h is None else h + 1))
    return out


def _group(q: Quantity) -> str:
    return _readings(q, False)[0][0]


def _exact(s: Quantity, m: Quantity) -> bool:
    mr = set(_readings(m, False))
    return any(r in mr for r in _readings(s, True))


def _band(q: Quantity) -> tuple[Fraction, Fraction]:
    return q.value, q.upper if q.upper is not None else q.high if q.high is not None else q.value


def _within_approximation(s: Quantity, m: Quantity) -> bool:
    """Whether an approximation on either side (十几, 300多, "hundreds of") covers the other value."""
    if s.upper is None and m.upper is None:
        return False
    if _group(s) != _group(m):
        return False
    s_lo, s_hi = _band(s)
    m_lo, m_hi = _band(m)
    return max(s_lo, m_lo) <= min(s_hi, m_hi) * Fraction(11, 10)


def _unit_of_last_digit(q: Quantity) -> float:
    v = abs(float(q.value))
    if v == 0:
        return 1.0
    return 10 ** (math.floor(math.log10(v)) - q.sig + 1)


def _rounded(s: Quantity, m: Quantity, tol: float) -> bool:
    if _group(s) != _group(m) or (s.high is None) != (m.high is None) or s.value == 0:
        return False
    pairs = [(s.value, m.value)] + ([(s.high, m.high)] if s.high is not None else [])
    if m.sig >= s.sig and not m.approximate:
        return False
    for sv, mv in pairs:
        diff = abs(float(sv - mv))
        if sv == 0 or diff / abs(float(sv)) > tol or diff > _unit_of_last_digit(m) * 1.0001:
            return False
    return True


def _magnitude(s: Quantity, m: Quantity, tol: float) -> int:
    """The power of ten k with ``s ≈ m × 10**k`` (k ≠ 0), or 0 if there is none."""
    if _group(s) != _group(m) or _group(s) not in ("count", "ratio") or s.high is not None or m.high is not None:
        return 0
    if s.value <= 0 or m.value <= 0 or s.kind is Kind.YEAR or m.kind in (Kind.YEAR, Kind.TIME, Kind.ORDINAL):
        return 0
    ratio = float(s.value / m.value)
    k = round(math.log10(ratio))
    if k == 0 or abs(ratio / 10**k - 1) > max(tol, 1e-9):
        return 0
    return k


def _currency_clash(s: Quantity, m: Quantity) -> bool:
    if not s.currency or not m.currency or s.currency == m.currency:
        return False
    if s.currency in _DOLLARS and m.currency in _DOLLARS and "USD*" in (s.currency, m.currency):
        return False
    return True


def match_quantities(
    src: Sequence[Quantity], mt: Sequence[Quantity], config: NumbersConfig = NumbersConfig()
) -> tuple[list[Match], list[Quantity], list[Quantity]]:
    """Pair source and MT quantities in passes (exact, rounded, magnitude, mismatch).

    Returns:
        ``(matches, unmatched source, unmatched MT)``; the unmatched lists
        still include optional quantities, which callers normally ignore.
    """
    s_left = list(src)
    m_left = list(mt)
    matches: list[Match] = []
    tol = config.rounding_tolerance

    # Relative position of a quantity's first equal in its list, looked up in O(1): list.index in
    # the sort key made matching cubic, minutes for one long segment.
    first: list[dict[Quantity, int]] = [{}, {}]
    for table, qs in zip(first, (src, mt)):
        for i, q in enumerate(qs):
            table.setdefault(q, i)

    def pos(q: Quantity, qs: Sequence[Quantity]) -> float:
        i = first[0 if qs is src else 1].get(q)
        return i / max(1, len(qs) - 1) if i is not None else 0.0

    def run(how: str, test) -> None:
        for s in list(s_left):
            cands = [m for m in m_left if test(s, m)]
            if not cands:
                continue
            # Prefer the same kind and currency, then the nearest relative position.
            best = min(cands, key=lambda m: (m.kind is not s.kind and not (_group(m) == _group(s)),
                                             m.kind is not s.kind, _currency_clash(s, m),
                                             abs(pos(s, src) - pos(m, mt))))
            matches.append(Match(s, best, how))
            s_left.remove(s)
            m_left.remove(best)

    run("exact", _exact)
    run("approx", _within_approximation)
    run("rounded", lambda s, m: _rounded(s, m, tol))
    run("magnitude", lambda s, m: not s.optional and not m.optional and _magnitude(s, m, tol) != 0)
    run("mismatch", lambda s, m: not s.optional and not m.optional and not s.approximate and not m.approximate
        and _group(s) == _group(m) and s.kind is not Kind.YEAR and m.kind not in (Kind.YEAR,)
        and (s.kind is m.kind or Kind.CARDINAL in (s.kind, m.kind)))
    return matches, s_left, m_left


class NumbersCheck(Check):
    """Numbers changed, rounded, dropped or added in the MT (see module docstring)."""

    name = "numbers"
    description = "figures, percentages, multiples and currencies that differ between source and MT"

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        if not segment.source.strip() or not segment.mt.strip():
            return []
        config = NumbersConfig.from_options(options)
        src_dates = parse_chinese_dates(segment.source)
        mt_dates = parse_english_dates(segment.mt)
        # The parsers stop once a side is sure to exceed the bound, so a megabyte of figures
        # costs a parse of its first few thousand, not of all of them.
        src_q = parse_chinese_quantities(segment.source, skip=[(d.start, d.end) for d in src_dates],
                                         limit=MAX_QUANTITIES)
        mt_q = parse_english_quantities(segment.mt, skip=[(d.start, d.end) for d in mt_dates],
                                        limit=MAX_QUANTITIES)
        if len(src_q) > MAX_QUANTITIES or len(mt_q) > MAX_QUANTITIES:
            return [Span(0, len(segment.mt), Side.MT, CAT_UNCHECKED, Severity.MINOR,
                         f"too many figures to compare ({_count(src_q)} in the source, {_count(mt_q)} in the MT; "
                         f"the limit is {MAX_QUANTITIES:,}): numbers not checked in this segment",
                         evidence="split the text into sentences to have its numbers checked")]
        return compare_quantities(segment.source, segment.mt, src_q, mt_q, src_dates, mt_dates, config)


def _count(qs: Sequence[Quantity]) -> str:
    # Past the bound the parser stopped early: the exact count is not known, only that it is over.
    return f"more than {MAX_QUANTITIES:,}" if len(qs) > MAX_QUANTITIES else f"{len(qs):,}"


def compare_quantities(
    source: str,
    mt: str,
    src_q: Sequence[Quantity],
    mt_q: Sequence[Quantity],
    src_dates: Sequence[DateMention] = (),
    mt_dates: Sequence[DateMention] = (),
    config: NumbersConfig = NumbersConfig(),
) -> list[Span]:
    """Findings for one segment from its parsed quantities (see module docstring)."""
    matches, s_left, m_left = match_quantities(src_q, mt_q, config)
    spans: list[Span] = []
    for mt_match in matches:
        s, m = mt_match.source, mt_match.mt
        ev = f"source {s.text} = {format_value(s)}; MT {m.text} = {format_value(m)}"
        if mt_match.how == "rounded":
            off = abs(float(s.value - m.value)) / abs(float(s.value)) * 100
            spans.append(Span(m.start, m.end, Side.MT, CAT_MISTRANSLATION, Severity.MINOR,
                              "number rounded in the MT", evidence=f"{ev} (rounded, {off:.2g}% off)",
                              suggestion=english_rendering(s), confidence=0.5))
        elif mt_match.how == "magnitude":
            k = _magnitude(s, m, config.rounding_tolerance)
            factor = f"{10 ** abs(k):,}×"
            direction = "smaller" if k > 0 else "larger"
            note = _separator_note(s, m)
            spans.append(Span(m.start, m.end, Side.MT, CAT_MISTRANSLATION, Severity.CRITICAL,
                              f"number is {factor} {direction} than in the source",
                              evidence=f"{ev} ({factor} {direction}){note}",
                              suggestion=english_rendering(s), confidence=0.9))
        elif mt_match.how == "mismatch":
            spans.append(Span(m.start, m.end, Side.MT, CAT_MISTRANSLATION, Severity.MAJOR,
                              "number differs from the source", evidence=ev + _separator_note(s, m),
                              suggestion=english_rendering(s), confidence=0.7))
        if _currency_clash(s, m):
            spans.append(Span(m.start, m.end, Side.MT, CAT_CURRENCY, Severity.MAJOR,
                              "currency differs from the source",
                              evidence=f"source {s.text} is in {_currency_name(s)}; MT {m.text} is in {_currency_name(m)}",
                              suggestion=english_rendering(s), confidence=0.8))

    mt_date_values = _date_values(mt_dates)
    src_date_values = _date_values(src_dates)
    year_relative_in_mt = any(d.relative and d.relative[0] == "year" for d in mt_dates)
    matched_src_values = {(_group(x.source), x.source.value) for x in matches}
    matched_mt_values = {(_group(x.mt), x.mt.value) for x in matches}
    # Each lookup scans the other text: once per distinct figure, not once per mention.
    in_mt: dict[str, bool] = {}
    in_source: dict[str, bool] = {}
    for s in s_left:
        if s.optional or s.upper is not None and s.kind is Kind.CARDINAL and not s.currency and s.approximate:
            continue
        if s.value in mt_date_values or (s.kind is Kind.YEAR and year_relative_in_mt):
            continue
        if (_group(s), s.value) in matched_src_values or _verbatim(s, mt, in_mt):
            continue  # the same figure repeated in the source, stated once in the MT
        spans.append(Span(s.start, s.end, Side.SOURCE, CAT_OMISSION, _unmatched_severity(s),
                          "source number not found in the MT",
                          evidence=f"source {s.text} = {format_value(s)} has no counterpart in the MT",
                          suggestion=english_rendering(s), confidence=0.6))
    for m in m_left:
        if m.optional or m.value in src_date_values or _verbatim(m, source, in_source):
            continue
        if (_group(m), m.value) in matched_mt_values or _is_conversion(m, mt_q, mt):
            continue
        spans.append(Span(m.start, m.end, Side.MT, CAT_ADDITION, _unmatched_severity(m),
                          "MT number not found in the source",
                          evidence=f"MT {m.text} = {format_value(m)} has no counterpart in the source",
                          confidence=0.6))
    return spans


def _unmatched_severity(q: Quantity) -> Severity:
    # A small number in words (三人, "three groups") is usually a paraphrase
    # matter; the figures that make a press release wrong are written in digits.
    if q.spelled and q.high is None and q.value <= 10 and not q.currency and q.kind is not Kind.PERCENT:
        return Severity.MINOR
    return Severity.MAJOR


_CONVERSION_GAP = regex.compile(
    r"[\s\w.,'’-]{0,30}\(\s*(?:about|approximately|around|roughly|nearly|some|or|i\.e\.,?|equivalent\s+to|"
    r"equal\s+to|about\s+US|or\s+about)?\s*", regex.IGNORECASE)


def _is_conversion(m: Quantity, mt_q: Sequence[Quantity], mt: str) -> bool:
    """Whether ``m`` is a translator's conversion in brackets after another figure: "6,000 mu (400 hectares)"."""
    before = [q for q in mt_q if q.end <= m.start]
    if not before:
        return False
    prev = before[-1]
    return bool(_CONVERSION_GAP.fullmatch(mt[prev.end:m.start]))


def _currency_name(q: Quantity) -> str:
    return format_value(Quantity(0, 0, "", Fraction(0), Kind.CARDINAL, currency=q.currency)).split("(", 1)[1].rstrip(")")


def _separator_note(s: Quantity, m: Quantity) -> str:
    if regex.search(r"[0-9]\.[0-9]{3}(?![0-9])", m.text) and regex.search(r"[0-9],[0-9]{3}", s.text):
        return ("; the MT writes '.' where the source has a thousands separator: in English "
                f"{m.text} reads as a decimal")
    if regex.search(r"[0-9],[0-9]{3}", m.text) and regex.search(r"[0-9]\.[0-9]{3}(?![0-9])", s.text):
        return f"; the source {s.text} has a decimal point, the MT a thousands separator"
    return ""


def _date_values(dates: Sequence[DateMention]) -> set[Fraction]:
    out: set[Fraction] = set()
    for d in dates:
        for v in (d.year, d.month, d.day):
            if v is not None:
                out.add(Fraction(v))
    return out


def _verbatim(q: Quantity, other: str, seen: dict[str, bool] | None = None) -> bool:
    """Whether ``q``'s digits occur verbatim in ``other`` (codes, names and IDs parsed on one side only).

    ``seen`` memoises the answer per digits for one ``other`` text.
    """
    digits = q.text.strip()
    if not regex.fullmatch(r"[0-9][0-9.,]*[0-9]", digits):
        return False
    key = digits
    if seen is not None and key in seen:
        return seen[key]
    found = regex.search(rf"(?<![0-9.,]){regex.escape(digits)}(?![0-9]|[.,][0-9])", other) is not None
    if seen is not None:
        seen[key] = found
    return found
