"""Parse numbers and quantities in Chinese and English text into comparable values.

Both parsers return :class:`Quantity` objects with an exact value (a
:class:`~fractions.Fraction`, so ``1.5亿`` and ``150 million`` compare equal
without float noise), a :class:`Kind`, an optional currency code and unit,
and the character offsets of the text they were read from.

The hard part is not reading ``350.19亿`` but *not* reading numbers that are
not quantities. On the Chinese side, numeral characters occur inside ordinary
words (一些, 统一, 三星, 十分, 千万不要 "must not", 万一 "in case"), so a
Chinese-numeral run only counts when it looks like a number: it has several
characters forming a valid numeral, or a single digit is followed by a
classifier or unit (三家公司, 两年), or it follows 第. Runs that begin with a
bare scale character (百/千/万/亿) are words, not numbers (百姓, 千万, 万人空巷),
as are approximations (几十, 数百, 三四天), which a translator may render
freely. On the English side, digits glued to letters are codes, not
quantities (5G, G20, COVID-19, A380), and ``one`` is too often a pronoun to
count (see ``optional``).

Dates are parsed in :mod:`mtcheck.checks.dates`; callers pass the spans the
date parser claimed as ``skip`` so that ``11月11日`` is one date rather than
two numbers.

Values are normalised as follows: percentages and fractions are ratios
(``80%`` -> 0.8, ``千分之五`` -> 0.005, ``a third`` -> 1/3); multiples are
factors (``翻一番`` -> 2, ``翻两番`` -> 4, ``threefold`` -> 3); times of day are
hours (``3:30`` -> 3.5); decades are their first year (``90年代``/``1990s``
-> 1990). Currencies are ISO-like codes, with ``USD*`` meaning "some kind of
dollar" for a bare ``$``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import regex

__all__ = [
    "Kind",
    "Quantity",
    "parse_chinese_numeral",
    "parse_chinese_quantities",
    "parse_english_quantities",
    "normalize_digits",
    "format_value",
    "english_rendering",
    "significant_digits",
]


class Kind(str, enum.Enum):
    """What a number measures; values are only compared within compatible kinds."""

    CARDINAL = "cardinal"
    ORDINAL = "ordinal"
    PERCENT = "percent"
    FRACTION = "fraction"
    MULTIPLE = "multiple"
    YEAR = "year"
    DECADE = "decade"
    TIME = "time"


@dataclass(frozen=True)
class Quantity:
    """One number found in a text.

    Attributes:
        start: Offset of the first character (code points, as Python indexes).
        end: Offset after the last character.
        text: ``text[start:end]`` of the parsed string.
        value: Normalised value (low end for a range).
        kind: What the number measures.
        high: High end of a range (``三至五``, ``3-5``), else ``None``.
        currency: Currency code (``CNY``, ``USD``, ``USD*`` for a bare dollar...).
        unit: Canonical unit name (``km``, ``t``, ``year``...) if one was read.
        approximate: Written as an approximation (``1万多``, ``十余``).
        optional: Too often unexpressed in a good translation to be required
            (a bare ``one``/``一``, a spelled-out ``two``/``两``, ``half``): it is
            matched when present but never reported missing or added.
        sig: Significant digits as written (``35.019`` -> 5, ``350`` -> 2),
            used to tell a rounding from a different number.
        spelled: Written in words or Chinese numerals rather than digits.
        upper: For an approximation, the value it stays below (``十几`` is
            10 up to 20, ``300多`` 300 up to 400, ``hundreds of`` 100 up to
            1,000); ``None`` otherwise.
    """

    start: int
    end: int
    text: str
    value: Fraction
    kind: Kind
    high: Fraction | None = None
    currency: str | None = None
    unit: str | None = None
    approximate: bool = False
    optional: bool = False
    sig: int = 1
    upper: Fraction | None = None
    spelled: bool = False


# ---------------------------------------------------------------------------
# Shared helpers

# Full-width forms that differ from ASCII only in width; mapping them one to
# one keeps every offset valid in the original string.
_WIDTH_MAP = {ord("０") + i: ord("0") + i for i in range(10)}
_WIDTH_MAP.update({ord("％"): ord("%"), ord("．"): ord("."), ord("～"): ord("~"), ord("－"): ord("-"),
                   ord("＄"): ord("$"), ord("￥"): ord("¥"), ord("：") : ord(":"), ord("＋"): ord("+")})


def normalize_digits(text: str) -> str:
    """Map full-width digits and number punctuation to ASCII, keeping the length."""
    return text.translate(_WIDTH_MAP)


def significant_digits(value: Fraction) -> int:
    """Significant digits of ``value`` written in full, trailing integer zeros not counted."""
    if value == 0:
        return 1
    s = _plain_decimal(abs(value))
    digits = s.replace(".", "").lstrip("0")
    if "." not in s:
        digits = digits.rstrip("0")
    return max(1, len(digits))


def _sig_of_written(text: str) -> int:
    digits = text.replace(",", "")
    has_point = "." in digits
    digits = digits.replace(".", "").lstrip("0")
    if not has_point:
        digits = digits.rstrip("0")
    return max(1, len(digits))


def _plain_decimal(value: Fraction, max_places: int = 8) -> str:
    """``value`` as a plain decimal string without exponent, trailing zeros trimmed."""
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    value = abs(value)
    scaled = round(value * 10**max_places)
    whole, frac = divmod(scaled, 10**max_places)
    frac_s = str(frac).rjust(max_places, "0").rstrip("0")
    return f"{sign}{whole}." + frac_s if frac_s else f"{sign}{whole}"


def _group(value: Fraction) -> str:
    s = _plain_decimal(value)
    whole, _, frac = s.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    grouped = f"{int(whole):,}"
    return sign + grouped + ("." + frac if frac else "")


_CURRENCY_NAMES = {
    "CNY": "yuan", "USD": "US dollars", "USD*": "dollars", "HKD": "HK dollars", "TWD": "NT dollars",
    "EUR": "euros", "GBP": "pounds", "JPY": "yen", "KRW": "won", "AUD": "Australian dollars",
    "CAD": "Canadian dollars", "SGD": "Singapore dollars", "RUB": "roubles", "INR": "rupees",
    "CHF": "Swiss francs",
}
_CURRENCY_PREFIX = {"USD": "US$", "USD*": "$", "HKD": "HK$", "TWD": "NT$", "EUR": "€", "GBP": "£",
                    "AUD": "A$", "CAD": "C$", "SGD": "S$"}


def format_value(q: Quantity) -> str:
    """``q``'s value for a message: ``35,000,000,000``, ``80%``, ``2×``, ``5th``."""

    def one(v: Fraction) -> str:
        if q.kind in (Kind.PERCENT, Kind.FRACTION):
            return _plain_decimal(v * 100, 4) + "%"
        if q.kind is Kind.MULTIPLE:
            return _plain_decimal(v) + "×"
        if q.kind is Kind.ORDINAL:
            return _ordinal_suffix(int(v)) if v.denominator == 1 else _plain_decimal(v)
        if q.kind in (Kind.YEAR, Kind.DECADE):
            return _plain_decimal(v) + ("s" if q.kind is Kind.DECADE else "")
        if q.kind is Kind.TIME:
            h = int(v)
            return f"{h}:{int((v - h) * 60):02d}"
        return _group(v)

    out = one(q.value) if q.high is None else f"{one(q.value)}–{one(q.high)}"
    if q.currency:
        out += f" ({_CURRENCY_NAMES.get(q.currency, q.currency)})"
    return out


def english_rendering(q: Quantity) -> str:
    """How an editor would write ``q``'s value in English (``35 billion``, ``US$50 million``)."""

    def one(v: Fraction) -> str:
        if q.kind in (Kind.PERCENT, Kind.FRACTION):
            return _plain_decimal(v * 100, 4) + "%"
        if q.kind is Kind.MULTIPLE:
            return {2: "double", 3: "three times", 4: "four times"}.get(int(v), _plain_decimal(v) + " times") \
                if v.denominator == 1 else _plain_decimal(v) + " times"
        if q.kind is Kind.ORDINAL:
            return _ordinal_suffix(int(v)) if v.denominator == 1 else _plain_decimal(v)
        if q.kind in (Kind.YEAR, Kind.DECADE, Kind.TIME):
            return format_value(Quantity(0, 0, "", v, q.kind))
        for scale, word in ((10**12, "trillion"), (10**9, "billion"), (10**6, "million")):
            if abs(v) >= scale:
                return f"{_plain_decimal(Fraction(v, scale), 4)} {word}"
        return _group(v)

    body = one(q.value) if q.high is None else f"{one(q.value)} to {one(q.high)}"
    if q.currency and q.kind is Kind.CARDINAL:
        if q.currency in _CURRENCY_PREFIX:
            return _CURRENCY_PREFIX[q.currency] + body
        return f"{body} {_CURRENCY_NAMES.get(q.currency, q.currency)}"
    return body


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _overlaps(start: int, end: int, spans: "Sequence[tuple[int, int]] | Claims") -> bool:
    if isinstance(spans, Claims):
        return spans.overlaps(start, end)
    return any(start < e and s < end for s, e in spans)


class Claims:
    """Spans already claimed in a text of ``n`` characters, with a fast overlap test.

    Testing a candidate against every claim made parsing quadratic: minutes
    for one 100,000-character segment. Non-empty claims are marked in an
    occupancy map, so two non-empty spans overlap exactly when the candidate
    covers a marked character; zero-width spans keep the plain test.
    """

    def __init__(self, n: int, spans: Sequence[tuple[int, int]] = ()):
        self._occ = bytearray(n + 1)
        self._spans: list[tuple[int, int]] = []
        self._empty: list[tuple[int, int]] = []
        for span in spans:
            self.append(span)

    def append(self, span: tuple[int, int]) -> None:
        s, e = span
        self._spans.append(span)
        if s < e:
            a, b = max(0, s), min(len(self._occ), e)
            if a < b:
                self._occ[a:b] = b"\x01" * (b - a)
        else:
            self._empty.append(span)

    def overlaps(self, start: int, end: int) -> bool:
        if start >= end or start < 0 or end > len(self._occ):
            return any(start < e and s < end for s, e in self._spans)  # unusual query: the plain test
        if self._occ.find(1, start, end) >= 0:
            return True
        return any(start < e and s < end for s, e in self._empty)


# ---------------------------------------------------------------------------
# Chinese numerals

_CN_DIGITS = {
    "〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
    "八": 8, "九": 9, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9,
}
_CN_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG_UNITS = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
_CN_NUM_CHARS = "".join(_CN_DIGITS) + "".join(_CN_SMALL_UNITS) + "".join(_CN_BIG_UNITS)
_CN_ALL_UNITS = {**_CN_SMALL_UNITS, **_CN_BIG_UNITS}


def parse_chinese_numeral(s: str) -> int | None:
    """The integer a Chinese numeral spells, or ``None`` if ``s`` is not one.

    Handles positional numerals (三十五, 一亿五千万, 一百零五), the colloquial
    elided last unit (三万五 = 35,000, 一千二 = 1,200) and digit-by-digit strings
    (二〇一三). Two adjacent different digits (三四, 一两) are an approximation
    ("three or four"), not a number, and give ``None``.
    """
    if not s or any(c not in _CN_NUM_CHARS for c in s):
        return None
    if all(c in _CN_DIGITS for c in s):
        if len(s) == 1:
            return _CN_DIGITS[s]
        if len(s) >= 3 or any(c in "〇零" for c in s):
            return int("".join(str(_CN_DIGITS[c]) for c in s))
        return None
    total = 0  # groups of 亿 already closed
    wan = 0  # the 万 group below the current 亿
    cur = 0  # the group below 万
    digit: int | None = None
    for i, ch in enumerate(s):
        if ch in _CN_DIGITS:
            d = _CN_DIGITS[ch]
            if digit is not None and digit != 0:
                return None
            digit = d
        elif ch in _CN_SMALL_UNITS:
            u = _CN_SMALL_UNITS[ch]
            if digit is None or digit == 0:
                # 十二 and 一百一十 read 十 as 一十; any other bare unit is malformed.
                if u != 10 or (digit is None and i > 0 and s[i - 1] not in _CN_BIG_UNITS and s[i - 1] not in "零〇"):
                    if not (u == 10 and i == 0):
                        return None
                d = 1
            else:
                d = digit
            if cur % (u * 10) != 0:  # a smaller unit already used: 五十百 is malformed
                return None
            cur += d * u
            digit = None
        else:
            u = _CN_BIG_UNITS[ch]
            group = cur + (digit or 0)
            digit, cur = None, 0
            if u == 10**8:
                if group + wan == 0:
                    return None
                total = (total + wan + group) * u
                wan = 0
            else:
                if group == 0:
                    return None
                wan = group * u
    if digit is not None and digit != 0:
        prev = s[-2] if len(s) >= 2 else ""
        if prev in _CN_ALL_UNITS:
            digit *= _CN_ALL_UNITS[prev] // 10
        cur += digit
    return total + wan + cur


# Characters and words after a lone Chinese digit that make it a count
# (三家公司, 两年, 五倍). Without one, a single numeral character is too often
# part of a word (三星, 两岸, 一些) to be read as a number.
_CLASSIFIERS = (
    "个 件 家 位 名 人 次 项 种 条 座 架 辆 台 所 只 头 场 届 倍 岁 年 月 天 日 周 小时 分钟 秒 公里 千米 米 吨 公斤 "
    "千克 斤 亩 元 块 美元 港元 欧元 英镑 层 栋 批 份 部 本 篇 张 片 套 间 户 国 省 市 支 队 组 轮 期 级 枚 颗 株 棵 "
    "匹 艘 列 趟 句 段 笔 宗 例 剂 针 类 大 成 季度 代 任 员 口 股 处 集 季 版 款 局 球 首 幅 封 亿 万 千 百 十 "
    "家庭 所 座 名 起 点 分 码 度 刀 遍 声 盒 瓶 杯 碗 双 对 副 把 台 扇 辆 条 路 号 区 尺 寸 里 轮 届 季 "
    "周 星期 时 秒 分钟 国 地 处 所 户 类 项 则"
).split()
# Classifiers that make 一 a word rather than a count (一起 "together", 一点 "a bit").
_NOT_AFTER_ONE = {"起", "点", "分", "度", "大", "成", "号", "路", "道", "口", "声", "批", "刀", "周", "代", "次", "头", "级"}

# Words containing numeral characters that are not quantities.
_CN_STOPWORDS = (
    "一些 一起 统一 一样 唯一 一带一路 一直 一定 一切 一般 一致 一同 一旦 一边 一面 一方面 一向 一再 一时 一下 "
    "一番 一道 一概 一律 一味 一举 一体 一线 一流 一手 一口气 一会 一阵 一点 一连 一系列 一贯 一生 之一 同一 单一 "
    "逐一 不一 划一 专一 万一 一次性 三轮车 三轮 四轮 两轮 一国两制 三星 十分 十足 十全十美 三三两两 一五一十 千方百计 百姓 百货 万物 "
    "万众 七上八下 乱七八糟 九州 三农 两岸 两会 四海 五湖 八卦 三角 四方 万象 十字 二手 三明治 五金 七夕 "
    "一把手 一揽子 一条龙 一窝蜂 一站式 一流 一审 二审 一号 一把 一手 一人一 "
    "第一时间 一团 一心 一目了然 千家万户 万千 千千万万 万万 不二 独一无二 一二线 二三线 三四线 一线 二线 三线 "
    "四线 五线 十一黄金周 十一长假 十一假期 一并 一早 一行 一带 一路 一侧 一家人 七国集团 二十国集团 十佳 百强 "
    "五百强 世界五百强 百亿 千亿 一回事 一整 半 十三五 十四五 十二五 十五五 双一流 三甲 "
    "一季 两栖 两极 两性 两用 两委 三军 四季 五官 六合 八方 九九 "
).split()
_CN_STOP_RE = regex.compile("|".join(sorted(map(regex.escape, set(_CN_STOPWORDS)), key=len, reverse=True)))

_AR = r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?"
_CN_RUN = f"(?:[{_CN_NUM_CHARS.replace('千', '')}]|千(?![瓦米克卡焦帕]))+"
_CN_CORE_RE = regex.compile(
    rf"(?P<ar>{_AR})(?P<more>[多余])?(?P<sc>(?:[十百万亿萬億]|千(?![瓦米克卡焦帕]))*)"
    rf"|(?P<cn>{_CN_RUN})(?:点(?P<cndec>[〇零一二三四五六七八九]+))?(?P<cnmore>[多余])?(?P<cnsc>[万亿萬億]*)"
)
_CN_CURRENCY_SUFFIX = [
    ("美元", "USD"), ("美金", "USD"), ("港元", "HKD"), ("港币", "HKD"), ("欧元", "EUR"), ("英镑", "GBP"),
    ("日元", "JPY"), ("韩元", "KRW"), ("新台币", "TWD"), ("台币", "TWD"), ("澳元", "AUD"), ("加元", "CAD"),
    ("新加坡元", "SGD"), ("新元", "SGD"), ("卢布", "RUB"), ("卢比", "INR"), ("瑞郎", "CHF"), ("人民币", "CNY"),
    ("元人民币", "CNY"), ("元", "CNY"), ("块钱", "CNY"), ("块", "CNY"),
]
_CN_CURRENCY_PREFIX = [("人民币", "CNY"), ("RMB", "CNY"), ("US$", "USD"), ("HK$", "HKD"), ("NT$", "TWD"),
                       ("$", "USD*"), ("¥", "CNY"), ("€", "EUR"), ("£", "GBP")]
_CN_UNITS = [
    ("平方公里", "km2"), ("平方千米", "km2"), ("平方米", "m2"), ("立方米", "m3"), ("公里", "km"), ("千米", "km"),
    ("厘米", "cm"), ("毫米", "mm"), ("米", "m"), ("公顷", "ha"), ("亩", "mu"), ("吨", "t"), ("公斤", "kg"),
    ("千克", "kg"), ("克", "g"), ("斤", "jin"), ("小时", "hour"), ("分钟", "minute"), ("秒", "second"),
    ("岁", "years old"), ("个月", "month"), ("天", "day"), ("周年", "anniversary"), ("℃", "°C"),
    ("摄氏度", "°C"), ("千瓦", "kW"), ("兆瓦", "MW"), ("万千瓦", "10kW"),
]
_TIME_BEFORE = ("上午", "下午", "晚上", "凌晨", "早上", "中午", "傍晚", "晚间", "早晨", "夜间", "清晨", "晚", "早", "当天", "日", "号")
_CHENG_BLOCK = set("为功立本绩果员熟长交都就型品效分形年人语全员份绩立")
_CN_PAIR_RE = regex.compile("[一二三四五六七八][二三四五六七八九]([十百千万亿]*)")
# How far past a Chinese numeral the classifier and range tests look: the longest classifier,
# or a range separator and a digit. Slicing a window rather than ``norm[end:]`` keeps parsing
# linear (the whole rest was copied once per candidate: half a minute for 1 MB of figures).
_LOOKAHEAD = max(2, *map(len, _CLASSIFIERS), *map(len, _NOT_AFTER_ONE))
_CN_VAGUE_RE = regex.compile(
    r"(?P<pre>[几数上成好])(?P<sc>十万|百万|千万|十|百|千|万|亿)"
    r"|(?P<tens>[二三四五六七八九]?十)几(?P<sc2>万|亿)?"
)


def _vague(m) -> "_Raw | None":
    if m.group("pre"):
        scale = math.prod(_CN_ALL_UNITS[c] for c in m.group("sc"))
        low, upper = Fraction(scale), Fraction(scale * 10)
    else:
        tens = parse_chinese_numeral(m.group("tens"))
        if tens is None:
            return None
        scale = _CN_ALL_UNITS[m.group("sc2")] if m.group("sc2") else 1
        low, upper = Fraction(tens * scale), Fraction((tens + 10) * scale)
    return _Raw(m.start(), m.end(), low, Kind.CARDINAL, low, scale, True, approximate=True, spelled=True,
                optional=True, fixed=True, upper=upper)


# Latin unit symbols that may follow digits in Chinese text (4cm, 7nm, 5GB);
# any other letters make the digits part of a code (5G, 3D, 737MAX).
_CN_GLUED_UNITS = {"cm", "mm", "km", "kg", "m", "g", "mg", "ml", "mL", "L", "l", "t", "kW", "KW", "kw", "MW", "GW",
                   "kWh", "GB", "MB", "TB", "W", "h", "min", "s", "m²", "m³", "km²", "Hz", "GHz", "MHz", "nm", "mAh",
                   "V", "kV", "pm", "am", "PM", "AM", "KM", "CM", "MM", "KG", "Km", "Kg"}
_BARE_DENOMINATORS = {"百": Fraction(100), "千": Fraction(1000), "万": Fraction(10000)}
_RANGE_SEP_CN = regex.compile(r"\s*(?:-|~|—|–|至|到)\s*")


@dataclass
class _Raw:
    """A number being built, before range merging; mutable on purpose."""

    start: int
    end: int
    value: Fraction
    kind: Kind
    mantissa: Fraction
    scale: int
    scaled: bool
    currency: str | None = None
    unit: str | None = None
    approximate: bool = False
    spelled: bool = False
    sig: int = 1
    optional: bool = False
    high: Fraction | None = None
    fixed: bool = False  # cannot take part in a range (fractions, multiples of 番)
    upper: Fraction | None = None


def _startswith_any(text: str, pos: int, table):
    for word, code in table:
        if text.startswith(word, pos):
            return word, code
    return None


def parse_chinese_quantities(text: str, skip: Sequence[tuple[int, int]] = (), limit: int | None = None
                             ) -> list[Quantity]:
    """All quantities in Chinese ``text``, in order, none overlapping ``skip``.

    Args:
        text: Chinese source text (any mix of scripts).
        skip: ``(start, end)`` spans already claimed by another parser (dates).
        limit: Stop reading once the text is sure to hold more than ``limit``
            quantities (see :func:`_past_limit`); the result then has more
            than ``limit`` of them but not necessarily all. ``None``: no limit.

    Returns:
        Quantities sorted by start offset; never raises on any input.
    """
    norm = normalize_digits(text)
    claimed = Claims(len(norm), skip)
    raws: list[_Raw] = []
    stop_spans = Claims(len(norm), [(m.start(), m.end()) for m in _CN_STOP_RE.finditer(norm)])

    def add(raw: _Raw) -> None:
        raws.append(raw)
        claimed.append((raw.start, raw.end))

    # Fixed expressions first: multiples with 番, fractions with 分之, N是 enumerations.
    for m in regex.finditer(r"翻(?:了)?(?:一|两|二|三|四)?(?:番|倍)|加倍|倍增", norm):
        if _overlaps(m.start(), m.end(), claimed):
            continue
        word = m.group()
        n = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4}
        times = next((n[c] for c in word if c in n), 1) if "番" in word else 1
        v = Fraction(2**times)
        add(_Raw(m.start(), m.end(), v, Kind.MULTIPLE, v, 1, False, spelled=True, sig=len(str(v)), fixed=True))
    frac_re = rf"(?P<den>{_AR}|[{_CN_NUM_CHARS}]+?)分之(?P<num>{_AR}|[{_CN_NUM_CHARS}]+(?:点[〇零一二三四五六七八九]+)?)"
    for m in regex.finditer(frac_re, norm):
        if _overlaps(m.start(), m.end(), claimed):
            continue
        den = _BARE_DENOMINATORS.get(m.group("den")) or _value_of(m.group("den"))
        num = _value_of(m.group("num"))
        if den is None or num is None or den == 0:
            continue
        v = num / den
        kind = Kind.PERCENT if den in (100, 1000, 10000) else Kind.FRACTION
        add(_Raw(m.start(), m.end(), v, kind, num, 1, False, spelled=not m.group("num")[0].isdigit(),
                 sig=significant_digits(num), optional=(v == Fraction(1, 2)), fixed=True))
    for m in regex.finditer(r"一半", norm):
        if not _overlaps(m.start(), m.end(), claimed):
            add(_Raw(m.start(), m.end(), Fraction(1, 2), Kind.FRACTION, Fraction(1, 2), 1, False,
                     spelled=True, optional=True, fixed=True))
    # 十三五 / 十四五 name five-year plans: an ordinal, not 135.
    for m in regex.finditer(r"十([一二三四五六])五(?=规划|时期|期间|计划|末|开局|收官|$|[^\p{Han}])", norm):
        if not _overlaps(m.start(), m.end(), claimed):
            v = Fraction(10 + _CN_DIGITS[m.group(1)])
            add(_Raw(m.start(), m.start() + 2, v, Kind.ORDINAL, v, 1, False, spelled=True, sig=2, fixed=True))
            claimed.append((m.start(), m.end()))
    for m in regex.finditer(r"(?:(?<=^|[，。；：！？、,.;:!?\s（(])|(?<=其))([一二三四五六七八九十]{1,2})(?=是|要|则|来|方面|季度)", norm):
        if _overlaps(m.start(), m.end(), claimed):
            continue
        v = parse_chinese_numeral(m.group(1))
        if v:
            quarter = norm.startswith("季度", m.end(1))
            # 一是…二是… enumerations are often restructured away; quarters are not.
            add(_Raw(m.start(1), m.end(1), Fraction(v), Kind.ORDINAL, Fraction(v), 1, False, spelled=True,
                     optional=v == 1 or not quarter, unit="quarter" if quarter else None))
    # 十八大 "the 18th Party Congress", 五中全会 "the fifth plenary session".
    for m in regex.finditer(r"(十[六七八九]|二十)大(?![学型批类量小])|([一二三四五六七])中全会", norm):
        if not _overlaps(m.start(), m.end(), claimed):
            g = m.group(1) or m.group(2)
            v = Fraction(parse_chinese_numeral(g) or 0)
            add(_Raw(m.start(), m.start() + len(g), v, Kind.ORDINAL, v, 1, False, spelled=True, sig=2, fixed=True))
    # Clock times 05:03 or 05:03:17.
    for m in regex.finditer(r"(?<![〇零一二三四五六七八九十])零[点时](?![0-9〇零一二三四五六七八九十])", norm):
        if not _overlaps(m.start(), m.end(), claimed):
            add(_Raw(m.start(), m.end(), Fraction(0), Kind.TIME, Fraction(0), 1, False, spelled=True, optional=True))
    for m in regex.finditer(r"(?<![0-9:])([0-9]{1,2})[:Hh]([0-9]{2})(?::[0-9]{2})?(?![0-9:])", norm):
        h, mi = int(m.group(1)), int(m.group(2))
        if h <= 24 and mi < 60 and not _overlaps(m.start(), m.end(), claimed):
            v = h + Fraction(mi, 60)
            add(_Raw(m.start(), m.end(), v, Kind.TIME, v, 1, False, sig=4))
    # 90后 "the post-90s generation": a decade.
    for m in regex.finditer(r"(?<![0-9])([0-9]0|[0-9]5)后", norm):
        if not _overlaps(m.start(), m.end(), claimed):
            y = int(m.group(1))
            v = Fraction(2000 + y if y < 30 else 1900 + y)
            add(_Raw(m.start(), m.end(), v, Kind.DECADE, v, 1, False, sig=2, fixed=True))
    # Vague amounts (几十, 数百, 上万, 十几): optional, matched by range.
    for m in _CN_VAGUE_RE.finditer(norm):
        if _overlaps(m.start(), m.end(), claimed):
            continue
        raw = _vague(m)
        if raw is not None:
            add(raw)
    # 半年 is six months, 半小时 thirty minutes, 半米 half a metre.
    for m in regex.finditer(r"(?<![一二三四五六七八九十0-9多])半(个)?(年|小时|月|天|米|公里|吨|斤|公斤|个?百分点)", norm):
        if _overlaps(m.start(), m.end(), claimed):
            continue
        unit = m.group(2)
        v, u = {"年": (Fraction(6), "month"), "小时": (Fraction(30), "minute")}.get(unit, (Fraction(1, 2), None))
        add(_Raw(m.start(), m.end(), v, Kind.CARDINAL, v, 1, False, spelled=True, optional=True, unit=u, fixed=True))

    for m in _CN_CORE_RE.finditer(norm):
        if _past_limit(len(raws), limit):
            break
        # Whatever _chinese_core reads here covers m.start(): if that character is claimed (by a
        # date, say), the number would be dropped below anyway; skipping the read saves most of
        # the time on text made of dates.
        if claimed.overlaps(m.start(), m.start() + 1):
            continue
        raw = _chinese_core(norm, m, stop_spans)
        if raw is None or _overlaps(raw.start, raw.end, claimed):
            continue
        add(raw)
    raws.sort(key=lambda r: r.start)
    merged = _merge_ranges(norm, raws, _RANGE_SEP_CN, unit_gap=True)
    return [_freeze(text, r) for r in merged]


def _past_limit(raws: int, limit: int | None) -> bool:
    """Whether ``raws`` numbers read so far surely make more than ``limit`` quantities.

    Range merging joins at most two neighbours into one, so ``r`` raw numbers
    give at least ``ceil(r / 2)`` quantities: past ``2 * limit + 1`` raws the
    count is over ``limit`` whatever the rest of the text holds. A caller that
    only compares up to ``limit`` quantities can stop reading there, which
    bounds the parse of a megabyte of figures.
    """
    return limit is not None and raws > 2 * limit + 1


def _value_of(s: str) -> Fraction | None:
    if s and s[0].isdigit():
        try:
            return Fraction(s.replace(",", ""))
        except (ValueError, ZeroDivisionError):
            return None
    if "点" in s:
        whole, _, dec = s.partition("点")
        w = parse_chinese_numeral(whole)
        if w is None or not dec:
            return None
        return Fraction(f"{w}." + "".join(str(_CN_DIGITS[c]) for c in dec))
    v = parse_chinese_numeral(s)
    return None if v is None else Fraction(v)


_LETTERS_RE = regex.compile(r"[A-Za-z²³]+")
_SHOPPING_FESTIVAL_RE = regex.compile(r"(?:大促|购物节|年中|期间|当天|活动)")
_SECOND_GROUP_RE = regex.compile(rf"({_AR})([万千百])")
_RANGE_AFTER_RE = regex.compile(rf"(?:至|到|-|~|—)[{_CN_NUM_CHARS}0-9]")
_SPACED_PERCENT_RE = regex.compile(r" +[%‰]")
_MINUTES_RE = regex.compile(r"([0-9]{1,2}|[一二三四五六七八九十〇零]+)分(?!钟)")
_MINUTES_AFTER_RE = regex.compile(r"[0-9一二三四五六七八九十〇零]+分")
_HALF_OR_MINUTES_RE = regex.compile(r"(半)|([0-9]{1,2}|[一二三四五六七八九十〇零]+)分(?!钟)")
_FIVE_YEAR_PLAN_RE = regex.compile(r"Five[- ]Year Plan")


def _chinese_core(norm: str, m, stop_spans) -> _Raw | None:
    start, end = m.start(), m.end()
    before = norm[start - 1] if start > 0 else ""
    if m.group("ar") is not None:
        # Digits glued to Latin letters are model names and codes (5G, A380, F-35).
        if before.isascii() and (before.isalpha() or before in "-_/#@.") and not before.isspace():
            if before.isalpha() or (start >= 2 and norm[start - 2].isascii() and norm[start - 2].isalpha()):
                return None
        letters = _LETTERS_RE.match(norm, end)
        if letters and letters.group() not in _CN_GLUED_UNITS:
            return None
        if norm[end:end + 1] == "-" and end + 1 < len(norm) and norm[end + 1].isascii() and norm[end + 1].isalpha():
            return None
        written = m.group("ar")
        # "618" shopping festival, "3·15" consumer day: names, not quantities.
        if written == "618" and _SHOPPING_FESTIVAL_RE.match(norm, end):
            return None
        try:
            mantissa = Fraction(written.replace(",", ""))
        except (ValueError, ZeroDivisionError):
            return None
        scale_chars = m.group("sc") or ""
        scale = math.prod(_CN_ALL_UNITS[c] for c in scale_chars) if scale_chars else 1
        raw = _Raw(start, end, mantissa * scale, Kind.CARDINAL, mantissa, scale, bool(scale_chars),
                   approximate=bool(m.group("more")), sig=_sig_of_written(written))
        # 1亿5000万: a second group below the first scale belongs to the same number.
        nxt = _SECOND_GROUP_RE.match(norm, end)
        if scale_chars.endswith("亿") and nxt:
            extra = Fraction(nxt.group(1).replace(",", "")) * _CN_ALL_UNITS[nxt.group(2)]
            if extra < 10**8:
                raw.value += extra
                raw.end = nxt.end()
                raw.sig = significant_digits(raw.value)
        is_digits_only = not scale_chars and "," not in written and "." not in written
    else:
        run = m.group("cn")
        if run[0] in "〇零":
            return None
        # A run that starts with a bare scale character is mostly a word
        # (百姓, 千万不要, 万一); as a number (百万元, 万亩) it reads as 一百万,
        # 一万 and is optional, so either way nothing is required of the MT.
        bare_scale = run[0] in "百千万亿佰仟萬億"
        if _overlaps(start, start + len(run), stop_spans):
            # Allow a real number to start inside a stopword only where the
            # stopword ends first (e.g. 之一百 is rare); otherwise it is a word.
            return None
        # 几十, 数十: approximations a translator may render freely.
        if before and before in "几数":
            return None
        if norm[start + len(run): start + len(run) + 1] == "几":
            return None
        dec = m.group("cndec")
        cn_text = ("一" if bare_scale else "") + run + ("点" + dec if dec else "")
        v = _value_of(cn_text)
        if v is None:
            pair = _CN_PAIR_RE.fullmatch(run)
            if pair and _CN_DIGITS[run[1]] == _CN_DIGITS[run[0]] + 1:
                # 三四天 "three or four days", 五六百米: an optional approximate range.
                unit = math.prod(_CN_ALL_UNITS[c] for c in pair.group(1)) if pair.group(1) else 1
                lo, hi = Fraction(_CN_DIGITS[run[0]] * unit), Fraction(_CN_DIGITS[run[1]] * unit)
                return _Raw(start, start + len(run), lo, Kind.CARDINAL, lo, unit, unit > 1, approximate=True,
                            spelled=True, optional=True, high=hi, fixed=True, upper=hi)
            return None
        # Scale characters after the run are only separate when a decimal or
        # 多 stands between (三点五亿, 三十多万); otherwise the run holds them.
        scale_chars = m.group("cnsc") or ""
        scale = math.prod(_CN_ALL_UNITS[c] for c in scale_chars) if scale_chars else 1
        # Only the next few characters are looked at (a range separator and a digit, a classifier):
        # a window, not the whole rest, which made parsing quadratic.
        after_text = norm[end:end + _LOOKAHEAD]
        single = len(run) == 1 and not dec and not scale_chars
        if bare_scale:
            if before and before in "上成近数几":
                return None  # claimed by the vague pass, or approximate
        elif single or run in ("十",):
            in_range = _RANGE_AFTER_RE.match(after_text) or (
                start >= 2 and norm[start - 1] in "至到-~—" and norm[start - 2] in _CN_NUM_CHARS)
            if before != "第" and not in_range and not any(after_text.startswith(c) for c in _CLASSIFIERS) \
                    and after_text[:1] not in ("%", "倍"):
                return None
            if run == "一" and any(after_text.startswith(c) for c in _NOT_AFTER_ONE):
                return None
        raw = _Raw(start, end, v * scale, Kind.CARDINAL, v, scale, bool(scale_chars) or any(c in run for c in "万亿萬億"),
                   approximate=bool(m.group("cnmore")), spelled=True,
                   sig=significant_digits(v * scale), optional=bare_scale)
        is_digits_only = all(c in _CN_DIGITS for c in run) and len(run) == 4
    _suffix_chinese(norm, raw, is_digits_only)
    if before == "第" and raw.kind is Kind.CARDINAL:
        raw.kind = Kind.ORDINAL
        raw.start -= 1
    _prefix_currency(norm, raw)
    if raw.kind is Kind.CARDINAL and norm[raw.end: raw.end + 1] in ("多", "余") and not raw.approximate:
        raw.approximate = True  # 1万多, 100余家
        raw.end += 1
    if raw.approximate and raw.kind is Kind.CARDINAL and raw.value > 0:
        raw.upper = raw.value + _last_digit_unit(raw.value)
    if raw.value in (0, 1) and raw.kind in (Kind.CARDINAL, Kind.ORDINAL):
        raw.optional = True  # 0例 is "no cases"; 一 is "a"
    if raw.spelled and raw.value == 2 and raw.kind is Kind.CARDINAL and not raw.currency:
        raw.optional = True
    if raw.value == 24 and norm.startswith("小时", raw.end):
        raw.optional = True  # 24小时 is "around the clock"
    return raw


def _last_digit_unit(v: Fraction) -> Fraction:
    """The place value of the last non-zero digit of ``v`` (300 -> 100, 1.5 -> 0.1)."""
    unit = Fraction(1)
    if v.denominator != 1:
        while (v / unit).denominator != 1 and unit > Fraction(1, 10**8):
            unit /= 10
        return unit
    n = v.numerator
    while n and n % 10 == 0:
        n //= 10
        unit *= 10
    return unit


def _suffix_chinese(norm: str, raw: _Raw, four_digits: bool) -> None:
    pos = raw.end
    rest = norm[pos: pos + 8]
    if _SPACED_PERCENT_RE.match(rest):
        pos += len(rest) - len(rest.lstrip(" "))
        rest = rest.lstrip(" ")
    if rest.startswith(("%", "％")):
        raw.kind, raw.value, raw.end = Kind.PERCENT, raw.value / 100, pos + 1
        return
    if rest.startswith("‰"):
        raw.kind, raw.value, raw.end = Kind.PERCENT, raw.value / 1000, pos + 1
        return
    if rest.startswith("个百分点"):
        raw.kind, raw.value, raw.end, raw.unit = Kind.PERCENT, raw.value / 100, pos + 4, "pp"
        return
    if rest.startswith("倍"):
        raw.kind, raw.end = Kind.MULTIPLE, pos + 1
        return
    if rest.startswith("成") and raw.scale == 1 and raw.value <= 10 and (len(rest) < 2 or rest[1] not in _CHENG_BLOCK):
        raw.kind, raw.value, raw.end = Kind.PERCENT, raw.value / 10, pos + 1
        return
    if rest.startswith("年代") and raw.scale == 1:
        v = raw.value if raw.value >= 100 else raw.value + 1900
        raw.kind, raw.value, raw.end = Kind.DECADE, v, pos + 2
        return
    if rest.startswith("年") and not rest.startswith(("年级", "年龄")):
        if raw.scale == 1 and raw.value.denominator == 1 and 1000 <= raw.value <= 2100 and (
                four_digits or raw.sig <= 4):
            raw.kind, raw.end = Kind.YEAR, pos + 1
            raw.optional = False
            return
        raw.unit = "year"
        return
    if rest[:1] == "时" and raw.scale == 1 and raw.value < 25 and raw.value.denominator == 1 \
            and rest[1:2] not in ("间", "候", "代", "期", "刻", "节", "势", "装", "尚", "政", "事", "任", "速", "长"):
        raw.kind, raw.end = Kind.TIME, pos + 1
        mm = _MINUTES_RE.match(norm[pos + 1: pos + 6])
        if mm:
            minutes = _value_of(mm.group(1)) or 0
            if 0 <= minutes < 60:
                raw.value += Fraction(minutes) / 60
                raw.end = pos + 1 + mm.end()
        return
    if rest[:1] == "点" and raw.scale == 1 and raw.value < 25 and raw.value.denominator == 1:
        # A time of day only where the context says so: 3点 is also "3 points".
        prev = norm[max(0, raw.start - 3): raw.start]
        tail = rest[1:3]
        if prev.endswith(_TIME_BEFORE) or tail[:1] in ("半", "许", "前", "后", "起", "至", "到", "左", "整", "钟") or _MINUTES_AFTER_RE.match(
                tail + norm[pos + 3: pos + 6]):
            if rest.startswith("时") and (tail.startswith("间") or tail.startswith("候") or tail.startswith("代")):
                return
            raw.kind, raw.end = Kind.TIME, pos + 1
            mm = _HALF_OR_MINUTES_RE.match(norm[pos + 1: pos + 6])
            if mm:
                minutes = 30 if mm.group(1) else (_value_of(mm.group(2)) or 0)
                if 0 <= minutes < 60:
                    raw.value += Fraction(minutes) / 60
                    raw.end = pos + 1 + mm.end()
            return
    cur = _startswith_any(norm, pos, _CN_CURRENCY_SUFFIX)
    if cur:
        raw.currency, raw.end = cur[1], pos + len(cur[0])
        return
    unit = _startswith_any(norm, pos, _CN_UNITS)
    if unit:
        raw.unit = unit[1]


def _prefix_currency(norm: str, raw: _Raw) -> None:
    """Take a currency written before the number (人民币1.2亿元, US$5000万) into ``raw``."""
    window = norm[max(0, raw.start - 4): raw.start]
    head = window.rstrip()
    for word, code in _CN_CURRENCY_PREFIX:
        if head.endswith(word):
            # 人民币…元 agree; a prefix that contradicts the suffix is left alone.
            if raw.currency is None or raw.currency == code:
                raw.currency = code
                raw.start -= (len(window) - len(head)) + len(word)
            return


_RANGE_SEP_EN = regex.compile(r"\s*(?:-|–|—|~|to|through)\s*", regex.IGNORECASE)
_AND_GAP_RE = regex.compile(r"\s+and\s+")
_OR_GAP_RE = regex.compile(r"\s+or\s+")
_UNIT_GAP_RE = regex.compile(r"(\p{Han}{1,3}?|\s?[A-Za-z]{1,12})\s*(?:-|~|—|–|至|到|to)\s*")
_SPACE_RE = regex.compile(r"\s")
_WORD_RE = regex.compile(r"\w")
# What may stand between "between" and the first number of "between A and B".
_BETWEEN_CURRENCIES = ("", "$", "€", "£", "¥", "US$", "HK$", "RMB")


def _skip_space(norm: str, pos: int) -> int:
    """The first offset from ``pos`` on that is not whitespace (``str.isspace``)."""
    n = len(norm)
    while pos < n and norm[pos].isspace():
        pos += 1
    return pos


def _skip_space_back(norm: str, pos: int) -> int:
    """``len(norm[:pos].rstrip())`` without copying the prefix."""
    while pos > 0 and norm[pos - 1].isspace():
        pos -= 1
    return pos


def _after_between(norm: str, pos: int) -> bool:
    """Whether ``norm[:pos]`` ends with "between" and an optional currency.

    Exactly ``regex.search(r"\\bbetween\\s+(?:[$€£¥]|US\\$|HK\\$|RMB\\s?)?$", norm[:pos], regex.IGNORECASE)``,
    but it looks back from ``pos`` instead of copying and scanning the whole prefix (quadratic
    for a long segment with many "A and B" pairs).
    """
    ends = [pos]
    if pos > 0 and norm[pos - 1] == "\n":
        ends.append(pos - 1)  # "$" also matches before a final newline
    for end in ends:
        for cur in _BETWEEN_CURRENCIES:
            options = [cur]
            if cur == "RMB" and end > 0 and _SPACE_RE.match(norm, end - 1):
                options.append(cur + norm[end - 1])  # RMB\s?
            for opt in options:
                k = end - len(opt)
                if k < 0 or norm[k:end].casefold() != opt.casefold():
                    continue
                j = k
                while j > 0 and _SPACE_RE.match(norm, j - 1):
                    j -= 1
                if j == k or j < 7 or norm[j - 7:j].casefold() != "between":
                    continue
                if j == 7 or not _WORD_RE.match(norm, j - 8):
                    return True
    return False


def _merge_ranges(norm: str, raws: list[_Raw], sep_re, between_and: bool = False,
                  unit_gap: bool = False) -> list[_Raw]:
    """Join ``A-B``/``A至B``/``A to B`` into one range, spreading B's scale and kind to A.

    With ``between_and``, ``between A and B`` is a range too (but ``A and B``
    alone is two numbers). With ``unit_gap``, a unit repeated on both ends
    (``1.5升至2升``) may stand between A and the separator.
    """
    out: list[_Raw] = []
    i = 0
    while i < len(raws):
        a = raws[i]
        if i + 1 < len(raws):
            b = raws[i + 1]
            gap = norm[a.end: b.start]
            if (not a.fixed and not b.fixed and a.high is None and b.high is None
                    and (sep_re.fullmatch(gap) or unit_gap and _unit_gap(norm, gap, b) or between_and and _AND_GAP_RE.fullmatch(gap)
                         and _after_between(norm, a.start))
                    and _rangeable(a, b)):
                low = a.value
                if not a.scaled and b.scaled and a.mantissa < b.mantissa:
                    low = a.mantissa * b.scale
                if a.kind is Kind.CARDINAL and b.kind is Kind.PERCENT:
                    low = low / 100
                if a.kind is b.kind or a.kind is Kind.CARDINAL or Kind.TIME in (a.kind, b.kind):
                    if Kind.TIME in (a.kind, b.kind) and low == 0 and b.value == 24:
                        # 0—24时 "the whole day": translators leave it out.
                        out.append(_Raw(a.start, b.end, low, Kind.TIME, low, 1, False, optional=True,
                                        high=b.value, fixed=True))
                        i += 2
                        continue
                    if low < b.value:
                        out.append(_Raw(a.start, b.end, low, Kind.TIME if Kind.TIME in (a.kind, b.kind) else b.kind, a.mantissa, b.scale, b.scaled,
                                        currency=b.currency or a.currency, unit=b.unit or a.unit,
                                        approximate=a.approximate or b.approximate,
                                        spelled=a.spelled and b.spelled, sig=max(a.sig, b.sig), high=b.value,
                                        optional=a.optional and b.optional))
                        i += 2
                        continue
        out.append(a)
        i += 1
    return out


def _unit_gap(norm: str, gap: str, b: _Raw) -> bool:
    """Whether ``gap`` is a unit plus a range separator and the same unit follows B (3升至5升, 3 km to 5 km)."""
    m = _UNIT_GAP_RE.fullmatch(gap)
    return bool(m) and norm.startswith(m.group(1).strip(), _skip_space(norm, b.end))


def _rangeable(a: _Raw, b: _Raw) -> bool:
    if a.currency and b.currency and a.currency != b.currency:
        return False  # "$1 to RMB 7": an exchange rate, not a range
    if Kind.TIME in (a.kind, b.kind):
        return {a.kind, b.kind} <= {Kind.TIME, Kind.CARDINAL}
    if a.kind is Kind.YEAR and b.kind is Kind.YEAR:
        return True
    return a.kind in (Kind.CARDINAL, b.kind)


def _freeze(text: str, r: _Raw) -> Quantity:
    return Quantity(
        start=r.start, end=r.end, text=text[r.start:r.end], value=r.value, kind=r.kind, high=r.high,
        currency=r.currency, unit=r.unit, approximate=r.approximate, optional=r.optional, sig=r.sig,
        upper=r.upper, spelled=r.spelled,
    )


# ---------------------------------------------------------------------------
# English

_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
_EN_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_EN_SHORT_SCALES = {"bn": 10**9, "b": 10**9, "mn": 10**6, "mln": 10**6, "bln": 10**9, "m": 10**6, "k": 10**3,
                    "tn": 10**12, "trn": 10**12}
_EN_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70,
    "eightieth": 80, "ninetieth": 90, "hundredth": 100, "thousandth": 1000,
}
_EN_MULTIPLES = {
    "twice": 2, "double": 2, "doubled": 2, "doubles": 2, "doubling": 2, "triple": 3, "tripled": 3,
    "triples": 3, "tripling": 3, "thrice": 3, "quadruple": 4, "quadrupled": 4, "quadrupling": 4,
    "twofold": 2, "threefold": 3, "fourfold": 4, "fivefold": 5, "sixfold": 6, "sevenfold": 7,
    "eightfold": 8, "ninefold": 9, "tenfold": 10,
}
_EN_FRACTION_DEN = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
                    "fourth": 4, "fourths": 4, "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "eighth": 8,
                    "eighths": 8, "tenth": 10, "tenths": 10, "hundredth": 100, "hundredths": 100}
_EN_CURRENCY_WORDS = [
    (("hong", "kong", "dollars"), "HKD"), (("hong", "kong", "dollar"), "HKD"), (("hk", "dollars"), "HKD"),
    (("us", "dollars"), "USD"), (("u", ".", "s", ".", "dollars"), "USD"), (("american", "dollars"), "USD"),
    (("new", "taiwan", "dollars"), "TWD"), (("taiwan", "dollars"), "TWD"), (("nt", "dollars"), "TWD"),
    (("australian", "dollars"), "AUD"), (("canadian", "dollars"), "CAD"), (("singapore", "dollars"), "SGD"),
    (("yuan",), "CNY"), (("rmb",), "CNY"), (("renminbi",), "CNY"), (("cny",), "CNY"), (("dollars",), "USD*"),
    (("dollar",), "USD*"), (("usd",), "USD"), (("hkd",), "HKD"), (("euros",), "EUR"), (("euro",), "EUR"),
    (("eur",), "EUR"), (("pounds",), "GBP"), (("sterling",), "GBP"), (("gbp",), "GBP"), (("yen",), "JPY"),
    (("jpy",), "JPY"), (("won",), "KRW"), (("roubles",), "RUB"), (("rubles",), "RUB"), (("rupees",), "INR"),
    (("twd",), "TWD"), (("francs",), "CHF"),
]
_EN_CURRENCY_PREFIX_WORDS = {"rmb": "CNY", "cny": "CNY", "usd": "USD", "hkd": "HKD", "eur": "EUR", "gbp": "GBP",
                             "jpy": "JPY", "twd": "TWD", "yuan": "CNY"}
_EN_DOLLAR_PREFIX = {"us": "USD", "hk": "HKD", "nt": "TWD", "s": "SGD", "a": "AUD", "c": "CAD"}
_EN_UNIT_WORDS = [
    (("square", "kilometres"), "km2"), (("square", "kilometers"), "km2"), (("square", "metres"), "m2"),
    (("square", "meters"), "m2"), (("sq", "m"), "m2"), (("cubic", "metres"), "m3"), (("cubic", "meters"), "m3"),
    (("km",), "km"), (("kilometres",), "km"), (("kilometers",), "km"), (("kilometre",), "km"),
    (("kilometer",), "km"), (("tonnes",), "t"), (("tons",), "t"), (("tonne",), "t"), (("ton",), "t"),
    (("kg",), "kg"), (("kilograms",), "kg"), (("kilos",), "kg"), (("grams",), "g"), (("hectares",), "ha"),
    (("mu",), "mu"), (("metres",), "m"), (("meters",), "m"), (("cm",), "cm"), (("mm",), "mm"),
    (("hours",), "hour"), (("hour",), "hour"), (("minutes",), "minute"), (("seconds",), "second"),
    (("years", "old"), "years old"), (("year", "old"), "years old"), (("years",), "year"), (("year",), "year"),
    (("months",), "month"), (("days",), "day"), (("kw",), "kW"), (("mw",), "MW"), (("points",), "points"),
]


def _by_first_word(table):
    """``table``'s entries grouped by their first word, in table order within a group.

    Only entries whose first word is the next token can match, so looking up
    that group finds the same first match as walking the whole table, without
    trying eighty entries after every number.
    """
    out: dict[str, list] = {}
    for entry in table:
        out.setdefault(entry[0][0], []).append(entry)
    return out


_EN_CURRENCY_BY_FIRST = _by_first_word(_EN_CURRENCY_WORDS)
_EN_UNIT_BY_FIRST = _by_first_word(_EN_UNIT_WORDS)
_ALLOWED_GLUED = {"l", "L", "ml", "mL", "min", "H", "st", "nd", "rd", "th", "s", "bn", "mn", "mln", "bln", "m", "k", "x", "km", "kg", "pm", "am",
                  "tn", "trn", "b", "cm", "mm", "mw", "kw", "sq", "g", "t", "h", "mu", "yuan", "rmb"}

_GLUED_UPPER = {"M", "B", "K", "BN", "Bn", "MN", "Mn", "TH", "ST", "ND", "RD", "KM", "PM", "AM"}


def _glue_ok(tok: "_Tok") -> bool:
    """Whether letters glued to a number are a suffix (3.5bn, 5th, 10km) rather than a code (5G, 3D)."""
    return tok.text in _ALLOWED_GLUED or tok.text in _GLUED_UPPER


# A run of Han letters is one token: no rule of the English parser looks inside one or tells one
# from a single Han character (each is a non-ASCII word that starts no quantity and ends any), and
# an MT made of a megabyte of Han was otherwise a million tokens. 〇 and other Han non-letters
# stay single tokens, as they are not words. Property-tested against one token per character.
_EN_TOKEN_RE = regex.compile(
    r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?|(?<![A-Za-z0-9])\.[0-9]+|[A-Za-z]+|(?:(?=\p{L})\p{Han})+|[^\sA-Za-z0-9]")


class _Tok:
    """One English token; its derived fields are computed once, as the parser reads them many times.

    A plain class with slots rather than a frozen dataclass: a megabyte of text is
    a million tokens, and the dataclass's constructor and properties were a third
    of the English parse.
    """

    __slots__ = ("start", "end", "text", "low", "is_num", "is_word")

    def __init__(self, start: int, end: int, text: str):
        self.start = start
        self.end = end
        self.text = text
        self.low = text.lower()
        self.is_num = text[0].isdigit() or (text[0] == "." and len(text) > 1)
        self.is_word = text[0].isalpha()

    def __repr__(self) -> str:
        return f"_Tok({self.start}, {self.end}, {self.text!r})"


def parse_english_quantities(text: str, skip: Sequence[tuple[int, int]] = (), limit: int | None = None
                             ) -> list[Quantity]:
    """All quantities in English ``text``, in order, none overlapping ``skip``.

    Reads digits (``35,019``, ``3.5bn``), number words (``two and a half
    million``), percentages, ordinals, multiples (``doubled``, ``threefold``,
    ``3x``), fractions (``a third``), ranges (``3 to 5``, ``3-5%``), decades,
    times of day and currency amounts (``US$3.5 billion``, ``50 million yuan``).
    Never raises. ``limit`` is as for :func:`parse_chinese_quantities`.
    """
    norm = normalize_digits(text)
    skip = Claims(len(norm), skip)
    toks = [_Tok(m.start(), m.end(), m.group()) for m in _EN_TOKEN_RE.finditer(norm)]
    raws: list[_Raw] = []
    i = 0
    n = len(toks)
    while i < n and not _past_limit(len(raws), limit):
        t = toks[i]
        if not (t.text in _CURRENCY_SIGNS or t.is_num or t.is_word and t.low.isascii()):
            # Punctuation, Han and other non-ASCII letters start no quantity (every word
            # _english_at knows is ASCII): skipping them here saves most of the time on such text.
            i += 1
            continue
        got = _english_at(norm, toks, i)
        if got is None:
            i += 1
            continue
        raw, j = got
        if not _overlaps(raw.start, raw.end, skip):
            raws.append(raw)
        i = max(j, i + 1)
    raws = _merge_ranges(norm, raws, _RANGE_SEP_EN, between_and=True, unit_gap=True)
    out = []
    for r in raws:
        if r.value in (0, 1) and r.high is None and r.kind in (Kind.CARDINAL, Kind.ORDINAL):
            r.optional = True  # "1" and "one" are as often "a" as a figure
        out.append(_freeze(text, r))
    return _english_or_pairs(norm, out)


def _english_or_pairs(norm: str, qs: list[Quantity]) -> list[Quantity]:
    # "three or four" is an approximation; neither number need be in the source.
    result = list(qs)
    for k in range(len(qs) - 1):
        a, b = qs[k], qs[k + 1]
        if _OR_GAP_RE.fullmatch(norm[a.end:b.start]) and a.high is None and b.high is None:
            result[k] = _replace(a, optional=True, approximate=True)
            result[k + 1] = _replace(b, optional=True, approximate=True)
    return result


def _replace(q: Quantity, **kw) -> Quantity:
    from dataclasses import replace

    return replace(q, **kw)


def _adjacent(a: _Tok, b: _Tok) -> bool:
    return a.end == b.start


_CURRENCY_SIGNS = {"$": "USD*", "€": "EUR", "£": "GBP", "¥": "CNY"}


def _english_at(norm: str, toks: list[_Tok], i: int):
    """A quantity starting at token ``i``: ``(raw, next index)`` or ``None``."""
    t = toks[i]
    n = len(toks)
    low = t.low
    start = t.start
    currency = None
    j = i
    # Currency before the number: $, US$, HK$, €, RMB, USD ...
    if t.text in _CURRENCY_SIGNS:
        currency = _CURRENCY_SIGNS[t.text]
        j = i + 1
    elif t.is_word and low in _EN_DOLLAR_PREFIX and i + 1 < n and toks[i + 1].text == "$" and _adjacent(t, toks[i + 1]):
        if i == 0 or not (_adjacent(toks[i - 1], t) and toks[i - 1].is_word):
            currency = _EN_DOLLAR_PREFIX[low]
            j = i + 2
    elif t.is_word and low in _EN_CURRENCY_PREFIX_WORDS and t.text.isupper() and i + 1 < n and toks[i + 1].is_num:
        currency = _EN_CURRENCY_PREFIX_WORDS[low]
        j = i + 1
    if currency is not None:
        if j >= n:
            return None
        got = _english_number(norm, toks, j, has_currency=True)
        if got is None:
            return None
        raw, k = got
        raw.start = start
        raw.currency = raw.currency or currency
        if raw.kind is not Kind.CARDINAL:
            raw.kind = Kind.CARDINAL
        return raw, k
    # Multiples and bare fractions spelled as one word.
    if t.is_word and low in _EN_MULTIPLES and not _glued_code(toks, i):
        v = Fraction(_EN_MULTIPLES[low])
        # "double-digit", "double standards": adjectives, kept but optional.
        return _Raw(t.start, t.end, v, Kind.MULTIPLE, v, 1, False, spelled=True,
                    optional=low in ("double", "twice", "doubles"), fixed=True), i + 1
    if t.is_word and low in ("half",) and not (i > 0 and toks[i - 1].low in _EN_UNITS):
        # "half a million" is a number; "half" alone is 一半/半 and optional.
        if i + 2 < n and toks[i + 1].low in ("a", "an") and toks[i + 2].low in _EN_SCALES:
            v = Fraction(_EN_SCALES[toks[i + 2].low], 2)
            return _english_suffix(norm, toks, i + 3, _Raw(t.start, toks[i + 2].end, v, Kind.CARDINAL, Fraction(1, 2),
                                                             _EN_SCALES[toks[i + 2].low], True, spelled=True, sig=1))
        return _Raw(t.start, t.end, Fraction(1, 2), Kind.FRACTION, Fraction(1, 2), 1, False, spelled=True,
                    optional=True, fixed=True), i + 1
    if t.is_word and low in ("noon", "midday", "midnight"):
        v = Fraction(0 if low == "midnight" else 12)
        return _Raw(t.start, t.end, v, Kind.TIME, v, 1, False, spelled=True, fixed=True, optional=True), i + 1
    if t.is_word and low == "decade" and i > 0 and toks[i - 1].low in ("a", "past", "last", "the", "one", "next"):
        v = Fraction(10)
        return _Raw(t.start, t.end, v, Kind.CARDINAL, v, 1, False, spelled=True, unit="year", optional=True,
                    fixed=True), i + 1
    if t.is_word and low in _EN_VAGUE:
        got = _english_vague(toks, i)
        if got is not None:
            return got
    if t.is_word and low == "q" and i + 1 < n and toks[i + 1].text in "1234" and _adjacent(t, toks[i + 1]):
        v = Fraction(int(toks[i + 1].text))
        return _Raw(t.start, toks[i + 1].end, v, Kind.ORDINAL, v, 1, False, unit="quarter", optional=v == 1,
                    fixed=True), i + 2
    if t.is_word and t.text in ("H1", "H2"):
        return None
    return _english_number(norm, toks, i, has_currency=False)


_EN_VAGUE = {"dozens": 12, "tens": 10, "hundreds": 100, "thousands": 1000, "millions": 10**6, "billions": 10**9,
             "decades": 10}


def _english_vague(toks: list[_Tok], i: int):
    """``hundreds of``, ``tens of thousands of``, ``decades``: optional, matched by range."""
    t = toks[i]
    base = _EN_VAGUE[t.low]
    j = i + 1
    if j + 1 < len(toks) and toks[j].low == "of" and toks[j + 1].low in _EN_VAGUE and toks[j + 1].low not in ("tens", "dozens", "decades"):
        base *= _EN_VAGUE[toks[j + 1].low]
        j += 2
    elif t.low in ("tens",):
        return None
    low_v = Fraction(base * (2 if t.low in ("dozens", "decades") else 1))
    return _Raw(t.start, toks[j - 1].end, low_v, Kind.CARDINAL, low_v, 1, True, approximate=True, spelled=True,
                optional=True, fixed=True, upper=Fraction(base * (10 if t.low != "dozens" else 9))), j


# Words that may precede a number with a hyphen without making it a code (post-90s, mid-2020).
_HYPHEN_PREFIXES = {"mid", "and", "to", "post", "pre", "over", "under", "non", "top", "about", "around", "some",
                    "nearly", "almost", "than", "up", "down", "by", "from", "of", "at", "the", "a", "an"}


def _glued_code(toks: list[_Tok], i: int) -> bool:
    """Whether token ``i`` is part of a code like G20, COVID-19, A380 or 5G."""
    t = toks[i]
    if i > 0:
        p = toks[i - 1]
        if _adjacent(p, t) and (p.is_word or p.is_num):
            return not (p.is_word and p.low in _EN_CURRENCY_PREFIX_WORDS and p.text.isupper() and t.is_num)
        if _adjacent(p, t) and p.text in "-/_#@" and i > 1 and _adjacent(toks[i - 2], p) and toks[i - 2].is_word:
            if toks[i - 2].low not in _EN_UNITS and toks[i - 2].low not in _EN_TENS and toks[i - 2].low not in _HYPHEN_PREFIXES:
                return True
        if _adjacent(p, t) and p.text in "/_#@":
            return True
        # www.12377.cn, but not No.3
        if _adjacent(p, t) and p.text == "." and i > 1 and _adjacent(toks[i - 2], p) and toks[i - 2].is_word \
                and toks[i - 2].low not in ("no", "nos", "vol", "art", "fig", "ch", "sec", "pp", "p"):
            return True
    if i + 1 < len(toks):
        q = toks[i + 1]
        if _adjacent(t, q) and q.is_word and t.is_num and not _glue_ok(q):
            return True
        if _adjacent(t, q) and q.is_num and t.is_word:
            return True
        if _adjacent(t, q) and q.text == "." and i + 2 < len(toks) and _adjacent(q, toks[i + 2]) \
                and toks[i + 2].is_word and toks[i + 2].text.islower():
            return True  # 12377.cn
        if _adjacent(t, q) and q.text in "/" and i + 2 < len(toks) and toks[i + 2].is_num and _adjacent(q, toks[i + 2]):
            return True  # 24/7, 11/11 (dates are claimed earlier)
    return False


def _english_number(norm: str, toks: list[_Tok], i: int, has_currency: bool):
    n = len(toks)
    t = toks[i]
    low = t.low
    if t.is_num:
        if _glued_code(toks, i):
            return None
        written = t.text
        try:
            mantissa = Fraction(written.replace(",", ""))
        except (ValueError, ZeroDivisionError):
            return None
        raw = _Raw(t.start, t.end, mantissa, Kind.CARDINAL, mantissa, 1, False, sig=_sig_of_written(written))
        j = i + 1
        # Time of day 15:30.
        if j + 1 < n and toks[j].text == ":" and _adjacent(t, toks[j]) and toks[j + 1].is_num \
                and toks[j + 1].start - toks[j].end <= 1 \
                and len(toks[j + 1].text) == 2 and mantissa.denominator == 1 and mantissa < 25:
            minutes = int(toks[j + 1].text)
            if minutes < 60:
                raw.value = mantissa + Fraction(minutes, 60)
                raw.kind, raw.end = Kind.TIME, toks[j + 1].end
                j += 2
                if j + 1 < n and toks[j].text == ":" and _adjacent(toks[j - 1], toks[j]) and toks[j + 1].is_num:
                    raw.end = toks[j + 1].end  # seconds
                    j += 2
                return _english_suffix(norm, toks, j, raw)
        # 08H00: a time of day in Macao/Portuguese style.
        if j + 1 < n and toks[j].text in ("H", "h") and _adjacent(t, toks[j]) and toks[j + 1].is_num \
                and _adjacent(toks[j], toks[j + 1]) and len(toks[j + 1].text) == 2 and mantissa < 25:
            minutes = int(toks[j + 1].text)
            if minutes < 60:
                raw.value = mantissa + Fraction(minutes, 60)
                raw.kind, raw.end = Kind.TIME, toks[j + 1].end
                return raw, j + 2
        # "2021-22": a season or fiscal year written with a shortened second year.
        if j + 1 < n and toks[j].text in "-–/" and _adjacent(t, toks[j]) and toks[j + 1].is_num and len(written) == 4 \
                and len(toks[j + 1].text) == 2 and 1900 <= mantissa <= 2100:
            second = int(written[:2] + toks[j + 1].text)
            if second == mantissa + 1:
                raw.kind, raw.high, raw.end, raw.fixed = Kind.YEAR, Fraction(second), toks[j + 1].end, True
                return raw, j + 2
        # Scale word: "3.5 billion", "3.5bn", "$3.5m".
        if j < n:
            w = toks[j].low
            if w in _EN_SCALES or w == "hundred":
                scale = 100 if w == "hundred" else _EN_SCALES[w]
                raw.value, raw.scale, raw.scaled, raw.end = mantissa * scale, scale, True, toks[j].end
                j += 1
                if w == "hundred" and j < n and toks[j].low in _EN_SCALES:
                    scale *= _EN_SCALES[toks[j].low]
                    raw.value, raw.scale, raw.end = mantissa * scale, scale, toks[j].end
                    j += 1
            elif w in _EN_SHORT_SCALES and _adjacent(t, toks[j]) or (
                    w in _EN_SHORT_SCALES and w not in ("m", "k", "b") and toks[j].start == t.end + 1):
                if w in ("m", "k", "b") and not (has_currency or (i > 0 and toks[i - 1].text in "$€£¥")) \
                        and not (w == "k" and mantissa >= 10):
                    if w == "k":
                        return None  # 4K, 8K: video formats
                    # "5m" without a currency is five metres
                else:
                    scale = _EN_SHORT_SCALES[w]
                    raw.value, raw.scale, raw.scaled, raw.end = mantissa * scale, scale, True, toks[j].end
                    j += 1
        return _english_suffix(norm, toks, j, raw)
    if not t.is_word:
        return None
    # Spelled-out numbers.
    if low in _EN_ORDINALS and not _is_fraction_context(toks, i):
        v = _EN_ORDINALS[low]
        if low == "second" and (i > 0 and toks[i - 1].low in ("a", "per", "one", "every", "split")):
            return None
        # first/second/third also mean 首/次/亚 and rank words; they are matched, never required.
        raw = _Raw(t.start, t.end, Fraction(v), Kind.ORDINAL, Fraction(v), 1, False, spelled=True,
                   optional=v <= 3 or _in_title(norm, t))
        return raw, i + 1
    if low not in _EN_UNITS and low not in _EN_TENS and low not in ("a", "an", "hundred", "dozen"):
        return None
    if low == "five" and t.text[0] == "F" and _FIVE_YEAR_PLAN_RE.match(norm, t.start):
        return None  # the name of 十四五 "the 14th Five-Year Plan", whose ordinal is the number
    if low in ("a", "an"):
        nxt = toks[i + 1].low if i + 1 < n else ""
        if nxt in _EN_FRACTION_DEN and nxt != "half" and _is_fraction_context(toks, i + 1):
            v = Fraction(1, _EN_FRACTION_DEN[nxt])
            return _Raw(t.start, toks[i + 1].end, v, Kind.FRACTION, v, 1, False, spelled=True, fixed=True), i + 2
        if nxt not in ("hundred", "thousand", "million", "billion", "trillion", "dozen"):
            return None
    if low in ("hundred", "dozen"):
        # A bare "hundred"/"dozen" is only a number after "a"/"one"; handled there.
        return None
    if low == "one" and i + 2 < n and toks[i + 1].low == "of" and toks[i + 2].low in ("the", "its", "his", "her", "their", "our", "china", "those", "these", "them", "us", "you"):
        return None
    total = Fraction(0)
    cur = Fraction(0)
    j = i
    end = t.end
    last_kind = ""
    ordinal = False
    while j < n:
        w = toks[j].low
        if w in ("a", "an") and j == i:
            cur = Fraction(1)
            last_kind = "a"
        elif w in _EN_UNITS and last_kind in ("", "tens", "hundred", "scale", "and"):
            if last_kind == "tens" and (toks[j - 1].text != "-" and not (j > i and toks[j - 1].low in _EN_TENS)):
                break
            cur += _EN_UNITS[w]
            last_kind = "unit"
        elif w in _EN_TENS and last_kind in ("", "hundred", "scale", "and"):
            cur += _EN_TENS[w]
            last_kind = "tens"
        elif w == "hundred" and last_kind in ("unit", "a", "tens"):
            cur = (cur or 1) * 100
            last_kind = "hundred"
        elif w == "dozen" and last_kind in ("a", "unit"):
            cur = (cur or 1) * 12
            last_kind = "scale"
        elif w in _EN_SCALES and last_kind in ("unit", "tens", "hundred", "a"):
            total += (cur or 1) * _EN_SCALES[w]
            cur = Fraction(0)
            last_kind = "scale"
        elif w == "-" and last_kind == "tens" and j + 1 < n and (toks[j + 1].low in _EN_UNITS or toks[j + 1].low in _EN_ORDINALS):
            j += 1
            continue
        elif w in _EN_ORDINALS and last_kind in ("tens", "hundred", "scale") and toks[j - 1].text == "-" or (
                w in _EN_ORDINALS and last_kind in ("tens", "hundred") and toks[j].start == toks[j - 1].end + 1):
            cur += _EN_ORDINALS[w]
            ordinal = True
            end = toks[j].end
            j += 1
            break
        elif w == "and" and last_kind in ("hundred", "scale", "unit") and j + 1 < n:
            nxt = toks[j + 1].low
            if nxt in ("a",) and j + 2 < n and toks[j + 2].low == "half":
                cur += Fraction(1, 2)
                end = toks[j + 2].end
                j += 3
                last_kind = "unit"
                continue
            if last_kind in ("hundred", "scale") and (nxt in _EN_UNITS or nxt in _EN_TENS):
                last_kind = "and"
            else:
                break
        else:
            break
        end = toks[j].end
        j += 1
    if last_kind in ("a", "and"):
        return None
    value = total + cur
    spelled_words = norm[t.start:end]
    raw = _Raw(t.start, end, value, Kind.ORDINAL if ordinal else Kind.CARDINAL, value, 1, total > 0 or "hundred" in spelled_words.lower(),
               spelled=True, sig=significant_digits(value))
    # A scale after a spelled mantissa that the loop did not take
    # ("two and a half million" ends its loop at "half").
    if j < n and toks[j].low in _EN_SCALES and not ordinal:
        scale = _EN_SCALES[toks[j].low]
        raw.value = value * scale
        raw.mantissa, raw.scale, raw.scaled, raw.end = value, scale, True, toks[j].end
        j += 1
    if ordinal:
        return raw, j
    # Fractions: "one third", "two-thirds", "a quarter of".
    k = j + 1 if j < n and toks[j].text == "-" else j
    if k < n and toks[k].low in _EN_FRACTION_DEN and value and value < 20:
        if toks[k].low in ("quarter", "quarters") and k + 1 < n and toks[k + 1].low in ("results", "profit", "revenue", "earnings"):
            return None  # "one quarter results": a reporting period
        v = value / _EN_FRACTION_DEN[toks[k].low]
        return _Raw(t.start, toks[k].end, v, Kind.FRACTION, v, 1, False, spelled=True, optional=v == Fraction(1, 2),
                    fixed=True), k + 1
    if value == 1 and low in ("one",):
        raw.optional = True
    if _in_title(norm, t):
        raw.optional = True  # "the Three Gorges", "One Million Mu Afforestation": part of a name
    if value <= 2 and raw.kind is Kind.CARDINAL and not raw.scaled:
        raw.optional = True
    return _english_suffix(norm, toks, j, raw)


def _is_fraction_context(toks: list[_Tok], i: int) -> bool:
    """Whether the ordinal-looking word at ``i`` is a denominator ("one fifth of", "two-thirds")."""
    if i == 0 or toks[i].low not in _EN_FRACTION_DEN:
        return False
    prev = toks[i - 1] if toks[i - 1].text != "-" else (toks[i - 2] if i > 1 else toks[i - 1])
    if not (prev.low in _EN_UNITS or prev.low in ("a", "one")):
        return False
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    return nxt is None or nxt.low in ("of", "to", "and", "or") or not (nxt.is_word or nxt.is_num)


def _in_title(norm: str, t: _Tok) -> bool:
    """Whether a capitalised number word is inside a name ("the Three Gorges") rather than starting a sentence."""
    if not t.text[0].isupper():
        return False
    k = _skip_space_back(norm, t.start)  # norm[:k] is norm[:t.start].rstrip(), without copying it
    return k > 0 and norm[k - 1] not in ".!?:;\"“‘'(（[—–-" and norm[max(0, k - 3):k] != "..."


def _match_words(toks: list[_Tok], j: int, words: tuple[str, ...]) -> int | None:
    if j + len(words) > len(toks):
        return None
    for k, w in enumerate(words):
        if toks[j + k].low != w:
            return None
    return j + len(words)


def _english_suffix(norm: str, toks: list[_Tok], j: int, raw: _Raw):
    """Read what follows a number: %, percent, times, st/th, s, yuan, km ... Returns ``(raw, next)``."""
    n = len(toks)
    if j >= n:
        return raw, j
    t = toks[j]
    w = t.low
    prev_end = toks[j - 1].end
    glued = t.start == prev_end
    if t.text == "%" or t.text == "％":
        raw.kind, raw.value, raw.end = Kind.PERCENT, raw.value / 100, t.end
        return raw, j + 1
    if t.text == "‰":
        raw.kind, raw.value, raw.end = Kind.PERCENT, raw.value / 1000, t.end
        return raw, j + 1
    for words in (("percentage", "points"), ("percentage", "point"), ("per", "cent"), ("percent",), ("pct",),
                  ("per", "mille"), ("per", "mil")):
        k = _match_words(toks, j, words)
        if k is not None:
            raw.kind = Kind.PERCENT
            raw.value = raw.value / (1000 if words[-1] in ("mille", "mil") else 100)
            raw.end = toks[k - 1].end
            if words[0] == "percentage":
                raw.unit = "pp"
            return raw, k
    if w in ("st", "nd", "rd", "th") and glued and raw.value.denominator == 1:
        raw.kind, raw.end = Kind.ORDINAL, t.end
        raw.optional = raw.value == 1
        return raw, j + 1
    if w == "s" and glued and raw.value.denominator == 1 and (raw.value % 10 == 0):
        v = raw.value if raw.value >= 100 else raw.value + 1900
        raw.kind, raw.value, raw.end = Kind.DECADE, v, t.end
        return raw, j + 1
    if w == "x" and glued:
        raw.kind, raw.end = Kind.MULTIPLE, t.end
        return raw, j + 1
    if w in ("times",):
        raw.kind, raw.end = Kind.MULTIPLE, t.end
        return raw, j + 1
    if w in ("decades", "decade") and raw.kind is Kind.CARDINAL and not raw.scaled:
        raw.value, raw.end, raw.unit = raw.value * 10, t.end, "year"  # "three decades" is 三十年
        return raw, j + 1
    if w == "fold" or (t.text == "-" and j + 1 < n and toks[j + 1].low == "fold"):
        end_tok = toks[j + 1] if t.text == "-" else t
        raw.kind, raw.end = Kind.MULTIPLE, end_tok.end
        return raw, (j + 2 if t.text == "-" else j + 1)
    if w in ("pm", "am") or (w in ("p", "a") and j + 3 < n and toks[j + 1].text == "." and toks[j + 2].low == "m"):
        if raw.value < 13 and raw.kind in (Kind.CARDINAL, Kind.TIME):
            raw.kind = Kind.TIME
            end_j = j + 1 if w in ("pm", "am") else j + 3
            raw.end = toks[end_j - 1].end
            if end_j < n and toks[end_j].text == "." and _adjacent(toks[end_j - 1], toks[end_j]) and w in ("p", "a"):
                raw.end = toks[end_j].end
                end_j += 1
            return raw, end_j
    k = _match_words(toks, j, ("o",))
    if k is not None and k + 1 < n and toks[k].text in ("'", "’") and toks[k + 1].low == "clock":
        raw.kind, raw.end = Kind.TIME, toks[k + 1].end
        return raw, k + 2
    if raw.kind is Kind.CARDINAL:
        for words, code in _EN_CURRENCY_BY_FIRST.get(w, ()):
            k = _match_words(toks, j, words)
            if k is not None:
                if code == "USD*" and raw.currency in ("USD", "HKD", "TWD", "SGD", "AUD", "CAD"):
                    code = raw.currency
                if raw.currency is None or raw.currency == "USD*" or raw.currency == code:
                    raw.currency = code
                    raw.end = toks[k - 1].end
                    return raw, k
        for words, unit in _EN_UNIT_BY_FIRST.get(w, ()):
            k = _match_words(toks, j, words)
            if k is not None:
                raw.unit = unit
                return raw, j
    return raw, j
