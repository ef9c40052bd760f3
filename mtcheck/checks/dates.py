"""Source-anchored date check: years, months, days, weekdays and relative dates.

Both texts are parsed into :class:`DateMention` objects carrying whichever of
year, month, day and weekday they state, or a relative offset such as
("year", -1) for 去年/"last year". Every source mention must find an MT
mention that agrees with it on all the fields both state:

* ``2013年11月11日`` matches ``November 11, 2013``, ``11 November 2013``,
  ``Nov. 11, 2013`` and ``2013-11-11``; ``双11``/``双十一`` matches ``Singles'
  Day``, ``Double 11``, ``Double Eleven`` and ``November 11``;
* ``周一``/``星期一`` matches ``Monday``;
* 去年/今年/明年, 上周/本周/下周, 上个月/本月/下个月, 昨天/今天/明天 match the
  English relative expressions (``last year``, ``this week``...).

Findings (all on the ``dates`` check):

========================================  ========  =====  ==============================
what                                      severity  side   category
========================================  ========  =====  ==============================
a stated field differs (month, day,       major     MT     Accuracy/Mistranslation (date)
year, weekday) or a relative date turned
into a different one (今年 -> last year)
a date with a day missing from the MT     major     source Accuracy/Omission (date)
a day-only date (25日) missing, a year,   minor     source Accuracy/Omission (date)
month or relative date not rendered
an MT date with a month or weekday        major     MT     Accuracy/Addition (date)
that no source date accounts for
========================================  ========  =====  ==============================

A day-only source date (``当地时间25日``) may be rendered as a weekday or
``yesterday`` by a translator who knows the publication date, so its absence
is only minor. A relative date rendered as an absolute year (今年 -> "in
2021") cannot be verified and is not flagged. Lunar dates (农历) are skipped.

The numbers check (:mod:`mtcheck.checks.numbers`) skips the spans claimed
here, so that ``11月11日`` is one date and not two numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import regex

from mtcheck.checks.base import Check
from mtcheck.checks.quantities import Claims, normalize_digits, parse_chinese_numeral
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side, Span

__all__ = [
    "DateMention",
    "DatesCheck",
    "compare_dates",
    "parse_chinese_dates",
    "parse_english_dates",
    "render_english_date",
]

CAT_MISTRANSLATION = "Accuracy/Mistranslation (date)"
CAT_OMISSION = "Accuracy/Omission (date)"
CAT_ADDITION = "Accuracy/Addition (date)"

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


@dataclass(frozen=True)
class DateMention:
    """A date expression and the fields it states.

    Attributes:
        start: Offset of the first character in the text parsed.
        end: Offset after the last character.
        text: The characters covered.
        year: Stated year, if any.
        month: Stated month (1-12), if any.
        day: Stated day of month (1-31), if any.
        weekday: Stated weekday, 0 = Monday, if any.
        relative: ``(unit, offset)`` for a relative date: unit is ``year``,
            ``month``, ``week`` or ``day``; offset -1 is "last", 0 "this".
        festival: ``"double11"``/``"double12"`` for the shopping festivals.
    """

    start: int
    end: int
    text: str
    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None
    relative: tuple[str, int] | None = None
    festival: str | None = None

    @property
    def is_absolute(self) -> bool:
        return self.month is not None or self.day is not None

    def fields(self) -> dict[str, int]:
        return {k: v for k, v in (("year", self.year), ("month", self.month), ("day", self.day)) if v is not None}


# ---------------------------------------------------------------------------
# Chinese

_CN_N = r"(?:[0-9]{1,2}|[〇零一二三四五六七八九十两]{1,3})"
_CN_Y = r"(?:[0-9]{4}|[〇零一二三四五六七八九]{4})"
_CN_FULL_RE = regex.compile(
    rf"(?<![0-9])(?:(?P<y>{_CN_Y})年)?(?P<m>{_CN_N})月份?"
    # 7月17和7月22日: a day before a conjunction may drop its 日.
    rf"(?:(?P<d>{_CN_N})(?:[日号]|(?=\s*[和、及与至到\-—~]\s*(?:{_CN_N}月)?{_CN_N}[日号])))?"
)
_CN_ISO_RE = regex.compile(r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})(?![0-9])")
# 7日内 "within seven days" is a duration, 1号线 "Line 1" a name.
_CN_DAY_RE = regex.compile(
    rf"(?<![0-9第])(?P<d>[0-9]{{1,2}}|[〇零一二三四五六七八九十]{{2,3}})[日号]"
    rf"(?![线楼院机馆文令公位房口门车床台码球舱站坑本内以之后来])")
# 七八月份 "July and August"
_CN_MONTH_PAIR_RE = regex.compile(r"(?<![一二三四五六七八九十])([一二三四五六七八九])([二三四五六七八九十])月份?")
_CN_FESTIVAL_RE = regex.compile(r"双(?:11|十一)(?![0-9])|双(?:12|十二)(?![0-9])|五一(?=劳动节|假期|档|小长假|黄金周|长假|期间)|劳动节")
_CN_WEEKDAY_RE = regex.compile(r"(?:星期|礼拜|周)(?P<w>[一二三四五六日天])(?![年次内岁])")
_CN_RELATIVE = [
    ("去年", ("year", -1)), ("今年", ("year", 0)), ("明年", ("year", 1)), ("前年", ("year", -2)),
    ("上个星期", ("week", -1)), ("上星期", ("week", -1)), ("上周", ("week", -1)), ("本周", ("week", 0)),
    ("这周", ("week", 0)), ("这个星期", ("week", 0)), ("本星期", ("week", 0)), ("下周", ("week", 1)),
    ("下星期", ("week", 1)), ("下个星期", ("week", 1)), ("上个月", ("month", -1)), ("上月", ("month", -1)),
    ("本月", ("month", 0)), ("这个月", ("month", 0)), ("下个月", ("month", 1)), ("下月", ("month", 1)),
    ("昨天", ("day", -1)), ("昨日", ("day", -1)), ("今天", ("day", 0)), ("今日", ("day", 0)),
    ("明天", ("day", 1)), ("明日", ("day", 1)), ("前天", ("day", -2)),
]
# Relative words that are also parts of names or other words.
_CN_RELATIVE_BLOCK = regex.compile(r"今日头条|明日之星|今日美国|今日俄罗斯|明日方舟|年前天|目前天")
_CN_RELATIVE_RE = regex.compile("|".join(regex.escape(w) for w, _ in sorted(_CN_RELATIVE, key=lambda x: -len(x[0]))))
_CN_RELATIVE_MAP = dict(_CN_RELATIVE)
_LUNAR_BEFORE_RE = regex.compile(r"(?:农历|阴历)\s*$")
_WEEKDAY_CN = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


def _cn_int(s: str | None) -> int | None:
    if not s:
        return None
    if s.isdigit() and s.isascii():
        return int(s)
    return parse_chinese_numeral(s)


def parse_chinese_dates(text: str) -> list[DateMention]:
    """Dates in Chinese ``text`` (absolute, weekday, relative, 双11), sorted by offset.

    Never raises. Lunar dates (preceded by 农历/阴历) are left out.
    """
    norm = normalize_digits(text)
    out: list[DateMention] = []
    # An occupancy index, not a list: testing each match against every date taken so far made
    # parsing quadratic (the dates check took 12 s on 100,000 characters of dates).
    taken = Claims(len(norm))

    def free(s: int, e: int) -> bool:
        return not taken.overlaps(s, e)

    def add(m: DateMention) -> None:
        out.append(m)
        taken.append((m.start, m.end))

    for m in _CN_FESTIVAL_RE.finditer(norm):
        if m.group() in ("五一", "劳动节"):
            if free(m.start(), m.end()):
                add(DateMention(m.start(), m.end(), text[m.start():m.end()], month=5, day=1, festival="mayday"))
            continue
        v = 11 if "1" in m.group()[1:] or "一" in m.group() else 12
        add(DateMention(m.start(), m.end(), text[m.start():m.end()], month=v, day=v,
                        festival=f"double{v}"))
    for m in _CN_MONTH_PAIR_RE.finditer(norm):
        a, b = _cn_int(m.group(1)), _cn_int(m.group(2))
        if a is not None and b == a + 1:
            add(DateMention(m.start(1), m.end(1), text[m.start(1):m.end(1)], month=a))
            add(DateMention(m.start(2), m.end(), text[m.start(2):m.end()], month=b))
    for m in _CN_ISO_RE.finditer(norm):
        y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            add(DateMention(m.start(), m.end(), text[m.start():m.end()], year=y, month=mo, day=d))
    for m in _CN_FULL_RE.finditer(norm):
        if not free(m.start(), m.end()):
            continue
        if _LUNAR_BEFORE_RE.search(norm[max(0, m.start() - 3):m.start()]):
            continue
        if m.start() > 0 and norm[m.start() - 1] in "个几数《":
            continue
        y, mo, d = _cn_int(m.group("y")), _cn_int(m.group("m")), _cn_int(m.group("d"))
        if mo is None or not 1 <= mo <= 12 or (d is not None and not 1 <= d <= 31):
            continue
        # A lone single-character month (一月) is too often "one month" in "一月一次" style text.
        add(DateMention(m.start(), m.end(), text[m.start():m.end()], year=y, month=mo, day=d))
    for m in _CN_DAY_RE.finditer(norm):
        if not free(m.start(), m.end()):
            continue
        d = _cn_int(m.group("d"))
        if d is None or not 1 <= d <= 31:
            continue
        add(DateMention(m.start(), m.end(), text[m.start():m.end()], day=d))
    blocked = Claims(len(norm), [(b.start(), b.end()) for b in _CN_RELATIVE_BLOCK.finditer(norm)])
    for m in _CN_WEEKDAY_RE.finditer(norm):
        if free(m.start(), m.end()):
            add(DateMention(m.start(), m.end(), text[m.start():m.end()], weekday=_WEEKDAY_CN[m.group("w")]))
    for m in _CN_RELATIVE_RE.finditer(norm):
        if not free(m.start(), m.end()) or blocked.overlaps(m.start(), m.end()):
            continue
        unit, off = _CN_RELATIVE_MAP[m.group()]
        # 上周一 is "last Monday": the weekday carries it.
        if unit == "week" and _CN_WEEKDAY_RE.match(norm, m.end() - 1 if m.group().endswith("周") else m.end()):
            continue
        add(DateMention(m.start(), m.end(), text[m.start():m.end()], relative=(unit, off)))
    out.sort(key=lambda d: d.start)
    return out


# ---------------------------------------------------------------------------
# English

_MONTH_WORDS = {name: i + 1 for i, name in enumerate(MONTHS)}
_MONTH_WORDS.update({"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9,
                     "Sept": 9, "Oct": 10, "Nov": 11, "Dec": 12})
_MON = r"(?P<mon>" + "|".join(sorted(_MONTH_WORDS, key=len, reverse=True)) + r")\b\.?"
_ORD = r"(?:st|nd|rd|th)?"
_EN_PATTERNS = [
    # 2013-11-11, 2013/11/11
    regex.compile(r"\b(?P<y>(?:19|20)[0-9]{2})[-/.](?P<mnum>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})\b"),
    # November 11, 2013 / Nov. 11 / November 1 to 5 (second day captured separately)
    regex.compile(rf"\b{_MON}\s+(?P<d>[0-9]{{1,2}}){_ORD}\b(?:,?\s+(?P<y>(?:19|20)[0-9]{{2}})\b)?"
                  rf"(?:\s*(?:-|–|to|and|through)\s*(?P<d2>[0-9]{{1,2}}){_ORD}\b"
                  rf"(?!\s*(?::|%|per\b|million|billion|[ap]\.?m\b|o['’]clock|hours|days)))?"),
    # 11 November 2013 / the 11th of November
    regex.compile(rf"\b(?:the\s+)?(?P<d>[0-9]{{1,2}}){_ORD}\s+(?:of\s+)?{_MON}(?:,?\s+(?P<y>(?:19|20)[0-9]{{2}})\b)?"),
    # November 2013 / November, 2013
    regex.compile(rf"\b{_MON}(?:,?\s+(?P<y>(?:19|20)[0-9]{{2}})\b)?"),
]
_EN_DAY_RE = regex.compile(
    r"\b(?i:(?:on|by|until|till|from|since|before|after|of|and|to|through)\s+)the\s+(?P<d>[0-9]{1,2})(?:st|nd|rd|th)\b"
    r"(?!\s+(?:anniversary|century|birthday|floor|time|place|round|day|year|session|edition|largest|biggest))"
)
# A further day after a date: "the 14th and 21st", "July 6, 9 and 12". A bare
# number only counts when nothing but punctuation or a conjunction follows,
# so that "July 26th, 1.5 million" or "and 3 to 5 inches" stay numbers.
_EN_DAY_CHAIN_RE = regex.compile(
    r"\s*(?:,|and|or|to|-|–)\s*(?:and\s+)?(?:the\s+)?"
    r"(?:(?P<d>[0-9]{1,2})(?:st|nd|rd|th)\b|(?P<d>[0-9]{1,2})(?=\s*(?:[,;)]|\.(?![0-9])|$|and\b|or\b|respectively\b)))")
_EN_WEEKDAY_RE = regex.compile(r"\b(?P<w>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?\b")
_EN_FESTIVAL_RE = regex.compile(
    r"\bMay\s+Day\b|\bLabou?r\s+Day\b|\bInternational\s+Workers['’]?\s+Day\b|\bSingles['’]?\s*Day\b|\bDouble[-\s]?(?:11|Eleven|eleven)\b|\b11\.11\b|\bDouble[-\s]?(?:12|Twelve|twelve)\b|\b12\.12\b")
_EN_RELATIVE = [
    (r"the\s+year\s+before\s+last", ("year", -2)), (r"the\s+year\s+after\s+next", ("year", 2)),
    (r"this\s+year", ("year", 0)), (r"last\s+year", ("year", -1)), (r"next\s+year", ("year", 1)),
    (r"the\s+previous\s+year", ("year", -1)), (r"a\s+year\s+(?:ago|earlier|before)", ("year", -1)),
    (r"the\s+past\s+year", ("year", -1)), (r"the\s+current\s+year", ("year", 0)), (r"the\s+coming\s+year", ("year", 1)),
    (r"this\s+week", ("week", 0)), (r"last\s+week", ("week", -1)), (r"next\s+week", ("week", 1)),
    (r"the\s+previous\s+week", ("week", -1)), (r"the\s+coming\s+week", ("week", 1)),
    (r"this\s+month", ("month", 0)), (r"last\s+month", ("month", -1)), (r"next\s+month", ("month", 1)),
    (r"the\s+previous\s+month", ("month", -1)), (r"the\s+coming\s+month", ("month", 1)),
    (r"the\s+day\s+before\s+yesterday", ("day", -2)), (r"the\s+day\s+after\s+tomorrow", ("day", 2)),
    (r"today", ("day", 0)), (r"yesterday", ("day", -1)), (r"tomorrow", ("day", 1)), (r"tonight", ("day", 0)),
    (r"this\s+(?:morning|afternoon|evening)", ("day", 0)), (r"last\s+night", ("day", -1)),
]
_EN_RELATIVE_RE = regex.compile(
    r"\b(?:" + "|".join(f"(?P<r{i}>{p})" for i, (p, _) in enumerate(_EN_RELATIVE)) + r")\b", regex.IGNORECASE)
# "May" and "March" are also a verb and a modal; they are months only near a number or a time preposition.
_AMBIGUOUS_MONTHS = {"May", "March"}
_MONTH_ALT = "|".join(MONTHS)
# Names that contain a month word but are not dates.
_EN_NOT_DATE_RE = regex.compile(r"\bLong\s+March\b|\bMarch\s+(?:Madness|of\s+the\s+Volunteers)\b")
# Compiled once rather than per match (regex's cache lookup costs more than these short matches).
_MONTH_WORD_BEFORE_RE = regex.compile(r"\b(?:in|since|until|till|by|early|late|mid|last|this|next|of|from|to|"
                                      r"before|after|end|and|or|between|through)[\s-]*$|,\s*$")
_MONTH_AFTER_RE = regex.compile(rf"\s*(?:,|and|or|to|-|–)\s*(?:{_MONTH_ALT})\b")


def parse_english_dates(text: str) -> list[DateMention]:
    """Dates in English ``text`` (absolute, weekday, relative, Singles' Day), sorted by offset.

    Never raises.
    """
    norm = normalize_digits(text)
    out: list[DateMention] = []
    # An occupancy index, not a list: testing each match against every date taken so far made
    # parsing quadratic (the dates check took 12 s on 100,000 characters of dates).
    taken = Claims(len(norm))

    def free(s: int, e: int) -> bool:
        return not taken.overlaps(s, e)

    def add(m: DateMention) -> None:
        out.append(m)
        taken.append((m.start, m.end))

    for m in _EN_NOT_DATE_RE.finditer(norm):
        taken.append((m.start(), m.end()))
    for m in _EN_FESTIVAL_RE.finditer(norm):
        if m.group()[0] in "MLI":
            add(DateMention(m.start(), m.end(), text[m.start():m.end()], month=5, day=1, festival="mayday"))
            continue
        v = 12 if "12" in m.group() or "welve" in m.group() else 11
        add(DateMention(m.start(), m.end(), text[m.start():m.end()], month=v, day=v, festival=f"double{v}"))
    for pat in _EN_PATTERNS:
        for m in pat.finditer(norm):
            if not free(m.start(), m.end()):
                continue
            gd = m.groupdict()
            if gd.get("mon"):
                month = _MONTH_WORDS[gd["mon"]]
                if gd["mon"] in _AMBIGUOUS_MONTHS and not gd.get("d") and not gd.get("y"):
                    # "May" is also a modal verb (capitalised in headlines) and "March" a verb;
                    # alone they are months only after a time word or next to another month.
                    prev = norm[max(0, m.start() - 12):m.start()].lower()
                    nxt = norm[m.end():m.end() + 20]
                    if not (_MONTH_WORD_BEFORE_RE.search(prev) or _MONTH_AFTER_RE.match(nxt)):
                        continue
            else:
                month = int(gd["mnum"])
            day = int(gd["d"]) if gd.get("d") else None
            year = int(gd["y"]) if gd.get("y") else None
            if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
                continue
            end = m.end("d") if gd.get("d2") else m.end()
            if gd.get("y") and gd.get("d2"):
                end = max(end, m.end("y"))
            add(DateMention(m.start(), end, text[m.start():end], year=year, month=month, day=day))
            if gd.get("d2"):
                d2 = int(gd["d2"])
                if 1 <= d2 <= 31:
                    add(DateMention(m.start("d2"), m.end(), text[m.start("d2"):m.end()], month=month, day=d2))
    for m in _EN_DAY_RE.finditer(norm):
        s = m.start("d") - 4 if norm[m.start("d") - 4:m.start("d")] == "the " else m.start("d")
        if free(s, m.end()):
            add(DateMention(s, m.end(), text[s:m.end()], day=int(m.group("d"))))
    # "on the 14th and 21st", "July 6, 9 and 12": days chained after a date.
    for d in sorted(out, key=lambda d: d.start):
        if d.day is None:
            continue
        pos, month = d.end, d.month
        while True:
            c = _EN_DAY_CHAIN_RE.match(norm, pos)
            if not c or not free(c.start("d"), c.end()) or not 1 <= int(c.group("d")) <= 31:
                break
            add(DateMention(c.start("d"), c.end(), text[c.start("d"):c.end()], month=month, day=int(c.group("d"))))
            pos = c.end()
    for m in _EN_WEEKDAY_RE.finditer(norm):
        if free(m.start(), m.end()):
            add(DateMention(m.start(), m.end(), text[m.start():m.end()], weekday=WEEKDAYS.index(m.group("w"))))
    for m in _EN_RELATIVE_RE.finditer(norm):
        if not free(m.start(), m.end()):
            continue
        idx = next(int(k[1:]) for k, v in m.groupdict().items() if v is not None)
        add(DateMention(m.start(), m.end(), text[m.start():m.end()], relative=_EN_RELATIVE[idx][1]))
    out.sort(key=lambda d: d.start)
    return out


def render_english_date(d: DateMention) -> str:
    """The fields of ``d`` as an editor would write them (``November 11, 2013``, ``Monday``)."""
    if d.weekday is not None and not d.is_absolute:
        return WEEKDAYS[d.weekday]
    if d.relative is not None:
        unit, off = d.relative
        word = {-1: "last", 0: "this", 1: "next"}.get(off)
        if unit == "day":
            return {-2: "the day before yesterday", -1: "yesterday", 0: "today", 1: "tomorrow",
                    2: "the day after tomorrow"}.get(off, f"{off:+d} days")
        return f"{word} {unit}" if word else f"{off:+d} {unit}s"
    if d.month is None:
        return f"the {_ordinal(d.day)}" if d.day else str(d.year)
    out = MONTHS[d.month - 1]
    if d.day is not None:
        out += f" {d.day}"
        if d.year is not None:
            out += f", {d.year}"
    elif d.year is not None:
        out += f" {d.year}"
    return out


def _ordinal(n: int | None) -> str:
    if n is None:
        return ""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# ---------------------------------------------------------------------------
# The check


#: Most date mentions per side compared in one segment: matching is quadratic (500 x 500 pairs
#: take about a second); beyond it the segment gets one ``Other/Unchecked (date)`` finding instead.
MAX_DATES = 500
_YEAR_NUMBER_RE = regex.compile(r"\b(?:19|20)[0-9]{2}\b")


def _consistent(a: DateMention, b: DateMention) -> tuple[bool, int]:
    """Whether ``a`` and ``b`` agree on every field both state, and how many they share."""
    fa, fb = a.fields(), b.fields()
    shared = [k for k in fa if k in fb]
    return all(fa[k] == fb[k] for k in shared), len(shared)


class DatesCheck(Check):
    """Dates in the source that are missing or changed in the MT (see module docstring)."""

    name = "dates"
    description = "dates, weekdays and relative dates changed, dropped or added in the MT"

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        if not segment.source.strip() or not segment.mt.strip():
            return []
        src = parse_chinese_dates(segment.source)
        mt = parse_english_dates(segment.mt)
        if len(src) > MAX_DATES or len(mt) > MAX_DATES:
            return [Span(0, len(segment.mt), Side.MT, "Other/Unchecked (date)", Severity.MINOR,
                         f"too many dates to compare ({len(src):,} in the source, {len(mt):,} in the MT; "
                         f"the limit is {MAX_DATES:,}): dates not checked in this segment",
                         evidence="split the text into sentences to have its dates checked")]
        return compare_dates(src, mt, segment.mt)


def compare_dates(src: Sequence[DateMention], mt: Sequence[DateMention], mt_text: str = "") -> list[Span]:
    """Findings from comparing source and MT date mentions (see module docstring).

    Args:
        src: Mentions parsed from the Chinese source.
        mt: Mentions parsed from the English MT.
        mt_text: The MT, used to find a year written as a bare number.

    Returns:
        Spans for mismatches (MT side), omissions (source side) and additions (MT side).
    """
    spans: list[Span] = []
    used: set[int] = set()
    mt_abs = [(k, m) for k, m in enumerate(mt) if m.is_absolute]
    mt_week = [(k, m) for k, m in enumerate(mt) if m.weekday is not None]
    mt_rel = [(k, m) for k, m in enumerate(mt) if m.relative is not None]
    src_has_day_only = any(s.day is not None and s.month is None for s in src)
    # Facts about the whole MT, computed once rather than once per source date (each is a scan
    # of the MT: quadratic for a long segment).
    mt_has_day_relative = any(m.relative and m.relative[0] == "day" for m in mt)
    mt_has_absolute = any(m.is_absolute for m in mt)
    mt_has_year_number = bool(_YEAR_NUMBER_RE.search(mt_text))
    year_in_mt: dict[int, bool] = {}

    def year_written(year: int) -> bool:
        if year not in year_in_mt:
            year_in_mt[year] = regex.search(rf"\b{year}\b", mt_text) is not None
        return year_in_mt[year]

    for s in sorted((s for s in src if s.is_absolute), key=lambda s: -len(s.fields())):
        best = None
        for k, m in mt_abs:
            if k in used:
                continue
            ok, shared = _consistent(s, m)
            if ok and shared and (best is None or shared > best[1]):
                best = (k, shared)
        if best is not None:
            k, _ = best
            used.add(k)
            m = mt[k]
            missing = [f for f in ("year", "month", "day") if getattr(s, f) is not None and getattr(m, f) is None]
            if "year" in missing and year_written(s.year):
                missing.remove("year")
            if missing:
                sev = Severity.MAJOR if "day" in missing else Severity.MINOR
                spans.append(Span(s.start, s.end, Side.SOURCE, CAT_OMISSION, sev,
                                  f"the {' and '.join(missing)} of the source date is not in the MT",
                                  evidence=f"source {s.text} = {render_english_date(s)}; MT {m.text} = {render_english_date(m)}",
                                  suggestion=render_english_date(s), confidence=0.6))
            continue
        conflict = None
        for k, m in mt_abs:
            # Only an MT date stating the same kind of field competes; a
            # month-bearing source date is not contradicted by a bare "the 5th".
            if k in used or not set(s.fields()) & set(m.fields()):
                continue
            if s.month is not None and m.month is None:
                continue
            conflict = k
            break
        if conflict is not None:
            used.add(conflict)
            m = mt[conflict]
            diff = [f for f in ("year", "month", "day")
                    if getattr(s, f) is not None and getattr(m, f) is not None and getattr(s, f) != getattr(m, f)]
            spans.append(Span(m.start, m.end, Side.MT, CAT_MISTRANSLATION, Severity.MAJOR,
                              f"date differs from the source ({', '.join(diff)})",
                              evidence=f"source {s.text} = {render_english_date(s)}; MT {m.text} = {render_english_date(m)}",
                              suggestion=render_english_date(s), confidence=0.8))
            continue
        day_only = s.month is None
        if day_only and (mt_week or mt_has_day_relative):
            continue  # 25日 rendered as "on Tuesday" or "yesterday": cannot be checked
        spans.append(Span(s.start, s.end, Side.SOURCE, CAT_OMISSION, Severity.MINOR if day_only else Severity.MAJOR,
                          "source date not found in the MT",
                          evidence=f"source {s.text} = {render_english_date(s)}; no matching date in the MT",
                          suggestion=render_english_date(s), confidence=0.5 if day_only else 0.7))

    for s in (s for s in src if s.weekday is not None and not s.is_absolute):
        hit = next((k for k, m in mt_week if k not in used and m.weekday == s.weekday), None)
        if hit is not None:
            used.add(hit)
            continue
        other = next((k for k, m in mt_week if k not in used), None)
        if other is not None:
            used.add(other)
            m = mt[other]
            spans.append(Span(m.start, m.end, Side.MT, CAT_MISTRANSLATION, Severity.MAJOR,
                              "weekday differs from the source",
                              evidence=f"source {s.text} = {WEEKDAYS[s.weekday]}; MT {m.text} = {WEEKDAYS[m.weekday]}",
                              suggestion=WEEKDAYS[s.weekday], confidence=0.8))
            continue
        spans.append(Span(s.start, s.end, Side.SOURCE, CAT_OMISSION, Severity.MAJOR, "source weekday not found in the MT",
                          evidence=f"source {s.text} = {WEEKDAYS[s.weekday]}; no weekday in the MT",
                          suggestion=WEEKDAYS[s.weekday], confidence=0.6))

    for s in (s for s in src if s.relative is not None):
        unit, off = s.relative
        hit = next((k for k, m in mt_rel if k not in used and m.relative == s.relative), None)
        if hit is not None:
            used.add(hit)
            continue
        other = next((k for k, m in mt_rel if k not in used and m.relative[0] == unit
                      and not any(x.relative == m.relative for x in src)), None)
        if other is not None:
            used.add(other)
            m = mt[other]
            spans.append(Span(m.start, m.end, Side.MT, CAT_MISTRANSLATION, Severity.MAJOR,
                              "relative date differs from the source",
                              evidence=f"source {s.text} = {render_english_date(s)}; MT {m.text} = {render_english_date(m)}",
                              suggestion=render_english_date(s), confidence=0.8))
            continue
        if unit == "year" and mt_has_year_number:
            continue  # rendered as an absolute year: not checkable here
        if unit == "day" or mt_has_absolute:
            continue  # news translators resolve 今天/昨天 to dates or drop them freely
        spans.append(Span(s.start, s.end, Side.SOURCE, CAT_OMISSION, Severity.MINOR,
                          "relative date not rendered in the MT",
                          evidence=f"source {s.text} = {render_english_date(s)}; no relative date of that kind in the MT",
                          suggestion=render_english_date(s), confidence=0.4))

    used_fields = {tuple(sorted(mt[k].fields().items())) for k in used}
    for k, m in mt_abs:
        if k in used or m.month is None or tuple(sorted(m.fields().items())) in used_fields:
            continue  # matched, or the same date said twice
        spans.append(Span(m.start, m.end, Side.MT, CAT_ADDITION, Severity.MAJOR, "MT date has no counterpart in the source",
                          evidence=f"MT {m.text} = {render_english_date(m)}; no such date in the source",
                          confidence=0.5))
    for k, m in mt_week:
        if k in used:
            continue
        spans.append(Span(m.start, m.end, Side.MT, CAT_ADDITION,
                          Severity.MINOR if src_has_day_only else Severity.MAJOR,
                          "MT weekday has no counterpart in the source",
                          evidence=f"MT {m.text} = {WEEKDAYS[m.weekday]}; no weekday in the source",
                          confidence=0.4 if src_has_day_only else 0.5))
    return spans
