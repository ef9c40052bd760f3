"""Fuzz targets and input strategies shared by the robustness tests and ``scripts/fuzz.py``.

A *target* takes one generated input (raw bytes for the readers, text for
the checks, a list of segments for the writers) and asserts the invariants
the issue asks for; an ``AssertionError`` or any exception other than
:class:`~mtcheck.errors.MtcheckError` is a failure:

* readers: arbitrary bytes give segments or an ``MtcheckError`` with a
  non-empty message, never another exception; every text a reader yields
  can be encoded as UTF-8 (no lone surrogates reach the writers);
* checks: every span lies inside the text it indexes (``0 <= start <= end
  <= len``, integer code-point offsets) and has a valid side, severity,
  category and message; the same input gives the same spans;
* sentence splitting and alignment: every sentence is a slice of the input,
  sentences are in order and disjoint, no non-blank character is dropped,
  every sentence lands in exactly one bead;
* pipeline and writers: segments out == segments in (same count, order and
  text; a segment read with a problem comes out failed with that reason) in
  the batch and in the JSON, JSONL, CSV, HTML, SARIF, JUnit, Markdown and
  terminal outputs; the HTML holds only the template's elements, and the
  text of each segment read back from it equals the segment; the terminal
  summary holds no control character; identical input gives identical output.

The module is not collected by pytest (no ``test_`` prefix); the tests and
the campaign import it. Hypothesis is imported lazily so ``scripts/fuzz.py
--engine atheris`` can run the byte-level targets without it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Sequence

from mtcheck.core import Segment, Severity, Side, Span
from mtcheck.errors import MtcheckError

# ---------------------------------------------------------------------------
# Alphabets

#: Characters that break naive text handling: line and paragraph separators,
#: C0/C1 controls and ESC, NUL, BOM, bidi overrides, zero-width joiners,
#: combining marks, non-characters, astral characters.
HOSTILE_CHARS = (
    "\n", "\r", "\r\n", "\t", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029",
    "\x00", "\x07", "\x1b", "\x1b[31m", "\x7f", "\x9b", "\ufeff", "\u202e", "\u2066", "\u200b", "\u200d",
    "\u0301", "\ufffd", "\uffff", "\U0010ffff", "\U0001f600", "\U00020000", "\U0002a6d6", "\U00030000",
    "𠀀", "\u3000", "\xa0",
)

#: Markup and template syntax that must stay text in every output.
INJECTION = (
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>', "'",
    '"', "&amp;", "&lt;", "&#x3c;", "<!--", "-->", "]]>", "<![CDATA[", "{{ 7*7 }}", "{% raw %}",
    "${x}", "</td></tr></table>", "<mark class=\"f critical\">", "javascript:", "\\", "|", "`", "*",
    "<?xml version='1.0'?>", "<!DOCTYPE x [<!ENTITY e 'x'>]>", "&e;",
)

#: Number material on the Chinese side: numerals (plain and financial),
#: digits (ASCII and full-width), separators, scale words, units,
#: currencies, percentages, ranges, approximations, ordinals and dates.
ZH_NUMBER_TOKENS = (
    "零", "〇", "一", "二", "两", "三", "四", "五", "六", "七", "八", "九", "十", "百", "千", "万", "亿",
    "壹", "贰", "叁", "拾", "佰", "仟", "萬", "億", "0", "1", "2", "3", "5", "7", "9", "12", "350.19", "1,000",
    "1,2345", "０", "３", "５", "．", "，", "、", ".", ",", "%", "％", "～", "~", "-", "－", "—", "至", "到",
    "元", "美元", "人民币", "港元", "￥", "¥", "$", "US$", "RMB", "公里", "千米", "吨", "千瓦", "平方米", "亩",
    "个", "家", "名", "倍", "翻一番", "翻两番", "百分之", "千分之", "个百分点", "成", "第", "届", "年", "月", "日",
    "号", "点", "时", "分", "年代", "多", "余", "几", "数", "上", "近", "约", "超过", "左右", "以上", "双十一",
    "三四", "十几", "万一", "一些", "统一", "三星", "1/3", "3:30", "２０２１年", "11月11日", "Q3", "5G",
)

#: Number material on the English side.
EN_NUMBER_TOKENS = (
    "0", "1", "2", "3.5", "35.019", "350", "1,000", "1,000,000", "12.5%", "%", "percent", "per cent",
    "percentage points", "one", "two", "three", "ten", "twelve", "twenty-one", "hundred", "thousand",
    "million", "billion", "trillion", "bn", "m", "k", "mn", "$", "US$", "HK$", "€", "£", "RMB", "yuan",
    "dollars", "km", "kilometres", "tonnes", "kW", "mu", "hectares", "times", "fold", "threefold", "double",
    "doubled", "half", "a third", "quarter", "1/3", "first", "2nd", "21st", "fifth", "3:30", "pm", "1990s",
    "2021", "Nov. 11", "from", "to", "between", "and", "about", "nearly", "over", "more than", "dozens of",
    "hundreds of", "-", "–", "~", ",", ".", " ", "(", ")", "No.", "COVID-19", "A380", "G20",
)

WORD_TOKENS = (
    "公司", "发布", "营收", "同比增长", "阿里巴巴", "双十一", "成交额", "。", "！", "？", "；", "……", "“", "”",
    "「", "」", "（", "）", "：", "The", "company", "revenue", "rose", "Inc.", "U.S.", "Mr.", "said",
    ". ", "! ", "? ", '"', "(", ")", " ", "  ", "{0}", "%s", "%(name)s", "{{var}}", "${var}", "<b>", "</b>",
    "<x id=\"1\"/>", "&amp;", "http://example.com/a?b=1", "a@b.cn", "SKU-123", "iPhone",
)


def _st():
    import hypothesis.strategies as st

    return st


def hostile_text(*, max_size: int = 40, surrogates: bool = False, numbers: bool = True):
    """Strategy: text mixing random code points with hostile, injection, word and number tokens.

    Args:
        max_size: Most pieces joined.
        surrogates: Also draw lone surrogates (only where the input can
            legitimately hold them, e.g. a Python API caller).
        numbers: Include number tokens of both languages.
    """
    st = _st()
    pieces = [
        st.characters(codec=None, exclude_categories=("Cs",)),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from(HOSTILE_CHARS),
        st.sampled_from(INJECTION),
        st.sampled_from(WORD_TOKENS),
    ]
    if numbers:
        pieces += [st.sampled_from(ZH_NUMBER_TOKENS), st.sampled_from(EN_NUMBER_TOKENS)]
    if surrogates:
        pieces.append(st.sampled_from(("\ud800", "\udfff", "\udc80", "\ud83d")))
    return st.lists(st.one_of(*pieces), max_size=max_size).map("".join)


def number_text(language: str, *, max_size: int = 14):
    """Strategy: dense mixes of number tokens for ``language`` (``zh`` or ``en``), optionally spaced."""
    st = _st()
    tokens = ZH_NUMBER_TOKENS if language == "zh" else EN_NUMBER_TOKENS
    piece = st.one_of(st.sampled_from(tokens), st.sampled_from(tokens), st.sampled_from(("", " ", "，", ", ")),
                      st.sampled_from(WORD_TOKENS), st.characters(codec="utf-8", exclude_categories=("Cs",)))
    return st.lists(piece, max_size=max_size).map("".join)


def segments_strategy(*, max_segments: int = 8, surrogates: bool = False):
    """Strategy: a batch of segments with hostile text, duplicate ids, documents, references and problems."""
    st = _st()
    text = hostile_text(max_size=25, surrogates=surrogates)
    ident = st.one_of(st.sampled_from(("1", "1", "a", "<b>x</b>", "line2", "")), hostile_text(max_size=4))

    @st.composite
    def one(draw):
        problem = draw(st.one_of(st.none(), st.none(), st.none(), hostile_text(max_size=5).map(lambda s: s or "x")))
        return Segment(
            id=draw(ident),
            source=draw(st.one_of(text, number_text("zh"))),
            mt=draw(st.one_of(text, number_text("en"))),
            references=tuple(draw(st.lists(text, max_size=2))),
            doc=draw(st.one_of(st.none(), st.sampled_from(("d1", "d2", "<i>doc</i>", "-")), hostile_text(max_size=3))),
            metadata=draw(st.dictionaries(st.sampled_from(("k", "<k>", "note")), text, max_size=2)),
            problem=problem,
        )

    return st.lists(one(), min_size=0, max_size=max_segments)


# ---------------------------------------------------------------------------
# Invariant helpers


class TargetFailure(AssertionError):
    """An invariant did not hold."""


def require(condition: bool, message: str) -> None:
    # Not ``assert``: the campaign may run under ``python -O``.
    if not condition:
        raise TargetFailure(message)


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_error(exc: MtcheckError) -> None:
    """An error must carry a message a user can act on."""
    require(bool(str(exc).strip()), f"{type(exc).__name__} with an empty message")
    require("Traceback" not in str(exc), "error message holds a traceback")


def check_spans(spans: Sequence[Span], segment: Segment, where: str = "") -> None:
    """Every span is well formed and inside the text it indexes."""
    for s in spans:
        require(isinstance(s, Span), f"{where}: not a Span: {s!r}")
        require(type(s.start) is int and type(s.end) is int, f"{where}: non-integer offsets {s!r}")
        require(isinstance(s.side, Side) and isinstance(s.severity, Severity), f"{where}: bad side/severity {s!r}")
        base = segment.mt if s.side is Side.MT else segment.source
        require(0 <= s.start <= s.end <= len(base),
                f"{where}: span [{s.start}:{s.end}] outside {s.side.value} of length {len(base)}: {s!r}")
        require(isinstance(s.category, str) and s.category.strip() != "", f"{where}: empty category {s!r}")
        require(isinstance(s.message, str) and s.message.strip() != "", f"{where}: empty message {s!r}")
        require(isinstance(s.evidence, str), f"{where}: evidence not a string {s!r}")
        require(s.suggestion is None or isinstance(s.suggestion, str), f"{where}: bad suggestion {s!r}")


def check_segment_read(seg: Segment, where: str) -> None:
    require(isinstance(seg, Segment), f"{where}: reader yielded {type(seg).__name__}")
    for name in ("id", "source", "mt"):
        value = getattr(seg, name)
        require(isinstance(value, str), f"{where}: {name} is {type(value).__name__}")
        require(encodable(value), f"{where}: {name} holds a lone surrogate: {value!r}")
    require(isinstance(seg.references, tuple) and all(isinstance(r, str) and encodable(r) for r in seg.references),
            f"{where}: bad references {seg.references!r}")
    require(seg.doc is None or (isinstance(seg.doc, str) and encodable(seg.doc)), f"{where}: bad doc {seg.doc!r}")
    require(seg.problem is None or (isinstance(seg.problem, str) and seg.problem.strip() != ""),
            f"{where}: empty problem")
    if seg.problem is not None:
        require(encodable(seg.problem), f"{where}: problem holds a lone surrogate")
    from mtcheck.report.files import _jsonable  # what the JSON writers do with dates, bytes, decimals

    try:
        json.dumps(seg.to_dict(), ensure_ascii=False, default=_jsonable).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise TargetFailure(f"{where}: segment cannot be written as JSON: {exc}") from None


# ---------------------------------------------------------------------------
# Readers


READER_FORMATS = ("text", "tsv", "csv", "jsonl", "json", "xliff", "po", "tmx", "docpair", "glossary", "dataset")
_SUFFIX = {"tsv": ".tsv", "csv": ".csv", "jsonl": ".jsonl", "json": ".json", "xliff": ".xlf", "po": ".po",
           "tmx": ".tmx", "dataset": ".parquet"}


def _halves(data: bytes) -> tuple[bytes, bytes]:
    """Split fuzz bytes into two files (source, MT) at a point chosen by the first byte."""
    if not data:
        return b"", b""
    k = data[0] * len(data) // 256
    return data[1:k + 1] if k else data[1:], data[k + 1:]


def read_bytes(fmt: str, data: bytes, directory: Path, encoding: str = "utf-8") -> list[Segment]:
    """Read ``data`` as a file of format ``fmt`` through the public reader API.

    Raises:
        MtcheckError: whatever the reader refuses (an acceptable outcome).
    """
    from mtcheck.io import read_inputs

    if fmt in ("text", "docpair"):
        src, mt = _halves(data)
        (directory / "src.zh").write_bytes(src)
        (directory / "mt.en").write_bytes(mt)
        return list(read_inputs(source=directory / "src.zh", mt=directory / "mt.en",
                                fmt=fmt if fmt == "docpair" else None, encoding=encoding))
    if fmt == "glossary":
        from mtcheck.checks.glossary import parse_glossary

        glossary = parse_glossary(data, "fuzz.tsv")
        # a glossary that loads must be usable by the term check
        for entry in glossary.entries:
            require(isinstance(entry.zh, str) and entry.zh != "", f"glossary entry without zh: {entry!r}")
        _ = glossary.source_pattern  # compiling the term regex must not fail either
        return []
    path = directory / f"in{_SUFFIX[fmt]}"
    path.write_bytes(data)
    return list(read_inputs([path], fmt=fmt, encoding=encoding))


def reader_target(fmt: str, encoding: str = "utf-8") -> Callable[[bytes], None]:
    """A target that reads arbitrary bytes as ``fmt`` and checks the outcome."""

    def target(data: bytes) -> None:
        with tempfile.TemporaryDirectory(prefix="mtcheck-fuzz-") as tmp:
            try:
                segments = read_bytes(fmt, data, Path(tmp), encoding)
            except MtcheckError as exc:
                check_error(exc)
                return
            for i, seg in enumerate(segments):
                check_segment_read(seg, f"{fmt} segment {i}")

    return target


def record_target(record: object) -> None:
    """Rows of datasets (and JSON objects) go through ``record_to_segment``: any mapping must map."""
    from mtcheck.core import Origin
    from mtcheck.io.records import record_to_segment

    if not isinstance(record, dict):
        return
    seg = record_to_segment(record, "1", Origin("fuzz"), None)
    check_segment_read(seg, "record")


# ---------------------------------------------------------------------------
# Checks, parsers, splitting, alignment, merging


def check_names() -> list[str]:
    from mtcheck.checks import CHECKS

    return list(CHECKS)


def check_target(name: str) -> Callable[[Segment], None]:
    """A target that runs check ``name`` on one segment (and on it as a one-segment document)."""
    from mtcheck.checks import CHECKS
    from mtcheck.config import CheckOptions

    check = CHECKS[name]
    options = CheckOptions()

    def target(seg: Segment) -> None:
        spans = check.check_segment(seg, options)
        require(isinstance(spans, list), f"{name}: check_segment returned {type(spans).__name__}")
        check_spans(spans, seg, name)
        again = check.check_segment(seg, options)
        require(again == spans, f"{name}: not deterministic on {seg.source!r} / {seg.mt!r}")
        docs = check.check_document([seg], options)
        for seg_id, found in docs.items():
            require(seg_id == seg.id, f"{name}: check_document returned unknown id {seg_id!r}")
            check_spans(found, seg, f"{name} (document)")

    return target


def quantities_target(text: str) -> None:
    """Both number parsers: each quantity is a slice of the text with a finite value."""
    from mtcheck.checks.dates import parse_chinese_dates, parse_english_dates
    from mtcheck.checks.quantities import parse_chinese_quantities, parse_english_quantities

    for parse in (parse_chinese_quantities, parse_english_quantities):
        qs = parse(text)
        for q in qs:
            require(0 <= q.start < q.end <= len(text), f"{parse.__name__}: {q!r} outside text of {len(text)}")
            require(text[q.start:q.end] == q.text, f"{parse.__name__}: text {q.text!r} != slice for {q!r}")
    for parse in (parse_chinese_dates, parse_english_dates):
        for d in parse(text):
            require(0 <= d.start < d.end <= len(text), f"{parse.__name__}: {d!r} outside text of {len(text)}")
            require(text[d.start:d.end] == d.text, f"{parse.__name__}: text {d.text!r} != slice for {d!r}")


def split_target(text: str) -> None:
    """Sentences are disjoint in-order slices and cover every non-blank character."""
    from mtcheck.io.split import split_en, split_zh

    for split in (split_zh, split_en):
        sents = split(text)
        covered = [False] * len(text)
        last = 0
        for s in sents:
            require(text[s.start:s.end] == s.text, f"{split.__name__}: {s!r} is not text[{s.start}:{s.end}]")
            require(s.start >= last and s.end > s.start, f"{split.__name__}: sentences overlap or are empty: {s!r}")
            last = s.end
            for i in range(s.start, s.end):
                covered[i] = True
        lost = [text[i] for i in range(len(text)) if not covered[i] and not text[i].isspace()]
        require(not lost, f"{split.__name__}: characters dropped {lost!r} from {text!r}")


def align_target(pair: tuple[str, str]) -> None:
    """Every sentence of both documents lands in exactly one bead, in order."""
    from mtcheck.io.align import align_sentences
    from mtcheck.io.split import split_en, split_zh

    src, tgt = split_zh(pair[0]), split_en(pair[1])
    beads = align_sentences(src, tgt)
    s_idx = [i for b in beads for i in b.src]
    t_idx = [j for b in beads for j in b.tgt]
    require(s_idx == list(range(len(src))), f"source sentences lost or reordered: {s_idx}")
    require(t_idx == list(range(len(tgt))), f"MT sentences lost or reordered: {t_idx}")
    require(all(b.src or b.tgt for b in beads), "empty bead")


def merge_target(spans: list[Span]) -> None:
    """Merging keeps one span per (side, start, end), the most severe, and loses no position."""
    from mtcheck.spans import merge_spans

    merged = merge_spans(spans)
    keys_in = {(s.side, s.start, s.end) for s in spans}
    keys_out = [(s.side, s.start, s.end) for s in merged]
    require(len(keys_out) == len(set(keys_out)), "merge left two spans on the same text")
    require(set(keys_out) == keys_in, "merge lost or invented a position")
    for m in merged:
        group = [s for s in spans if (s.side, s.start, s.end) == (m.side, m.start, m.end)]
        require(m.severity.rank == max(s.severity.rank for s in group), "merge did not keep the most severe")


def spans_strategy(max_len: int = 20):
    st = _st()
    span = st.builds(
        lambda a, b, side, sev, cat, msg, check: Span(min(a, b), max(a, b), side, cat, sev, msg, check=check),
        st.integers(0, max_len), st.integers(0, max_len), st.sampled_from(list(Side)), st.sampled_from(list(Severity)),
        st.sampled_from(("Accuracy/Omission", "Style", "Terminology")), st.sampled_from(("m1", "m2", "<m>")),
        st.sampled_from(("numbers", "terms", "dates", "")),
    )
    return st.lists(span, max_size=8)


# ---------------------------------------------------------------------------
# Pipeline and writers


#: Elements and attributes the report template writes; anything else in the
#: output came from user text.
TEMPLATE_TAGS = frozenset(
    "html head meta title style body header h1 h2 div section table tr td th thead tbody span svg rect line "
    "text select option fieldset legend label input main b br ul li mark i hr script".split()
)
TEMPLATE_ATTRS = frozenset(
    "lang charset name content class id aria-label width height viewbox role x y x1 y1 x2 y2 fill stroke "
    "font-size text-anchor value type checked style tabindex aria-describedby data-doc data-order data-worst "
    "data-head data-sev data-cat data-sev-rules data-cat-rules".split()
)


class _ReportParser(HTMLParser):
    """Collects the tag set and reads each segment's id, source and MT back from the report."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: set[str] = set()
        self.scripts = 0
        self.rows: list[dict[str, str]] = []
        self._stack: list[tuple[str, str]] = []  # (tag, class)
        self._field: str | None = None
        self._field_depth = 0
        self._tip_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.attrs.update(k for k, _ in attrs)
        if tag == "script":
            self.scripts += 1
        cls = a.get("class") or ""
        if tag in ("br", "meta", "input", "hr", "line", "rect") or self.get_starttag_text().endswith("/>"):
            return  # void or self-closing: never pushed
        self._stack.append((tag, cls))
        if tag == "tr" and "seg" in cls.split():
            self.rows.append({"id": "", "source": "", "mt": "", "status": "failed" if "failed" in cls else "ok"})
        elif tag == "td" and self.rows and cls.startswith("text"):
            self._field = "source" if "src" in cls.split() else "mt"
            self._field_depth = len(self._stack)
        elif tag == "b" and self.rows and any(t == "td" and c == "id" for t, c in self._stack[:-1]) \
                and self._field is None and not self.rows[-1]["id"]:
            self._field = "id"
            self._field_depth = len(self._stack)
        elif tag == "span" and "tip" in cls.split():
            self._tip_depth += 1

    def handle_endtag(self, tag):
        while self._stack:
            t, cls = self._stack.pop()
            if t == "span" and "tip" in cls.split():
                self._tip_depth -= 1
            if self._field is not None and len(self._stack) < self._field_depth:
                self._field = None
            if t == tag:
                break

    def handle_data(self, data):
        if self._field is not None and self._tip_depth == 0 and self.rows:
            self.rows[-1][self._field] += data


def check_html(html: str, batch) -> None:
    """Only template markup; every segment's id, source and MT read back verbatim."""
    p = _ReportParser()
    p.feed(html)
    p.close()
    extra_tags = set(p.tags) - TEMPLATE_TAGS
    require(not extra_tags, f"HTML holds elements from user text: {sorted(extra_tags)}")
    extra_attrs = p.attrs - TEMPLATE_ATTRS
    require(not extra_attrs, f"HTML holds attributes from user text: {sorted(extra_attrs)}")
    require(p.scripts == 1, f"HTML holds {p.scripts} script elements, expected the template's one")
    require(len(p.rows) == len(batch.segments), f"HTML has {len(p.rows)} segment rows for {len(batch.segments)}")
    # Rows are grouped by document in order of first appearance.
    order: dict[str, list] = {}
    for r in batch.segments:
        order.setdefault(r.segment.doc or "-", []).append(r)
    expected = [r for rs in order.values() for r in rs]
    for row, r in zip(p.rows, expected):
        require(row["id"] == r.segment.id, f"HTML id {row['id']!r} != {r.segment.id!r}")
        require(row["source"] == _html_text(r.segment.source), f"HTML source {row['source']!r} != {r.segment.source!r}")
        require(row["mt"] == _html_text(r.segment.mt), f"HTML MT {row['mt']!r} != {r.segment.mt!r}")
        require(row["status"] == r.status, f"HTML status of {r.segment.id!r}")


def _html_text(text: str) -> str:
    # html.parser turns CR and CRLF into what it got verbatim; nothing else to normalise.
    return text


def _strip_surrogates(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def batch_target(segments: list[Segment], *, metrics: tuple[str, ...] = ()) -> None:
    """Score a batch and write every output; nothing lost, nothing injected, deterministic."""
    from mtcheck.config import ScoreConfig
    from mtcheck.gate import Thresholds, evaluate_gate
    from mtcheck.pipeline import score_batch, unique_ids
    from mtcheck.report.ci import sarif_dict, write_junit
    from mtcheck.report.files import write_csv, write_json, write_jsonl
    from mtcheck.report.html import render_html, render_markdown
    from mtcheck.report.terminal import render_summary

    config = ScoreConfig(metrics=metrics)
    batch = score_batch(list(segments), config)
    expected = unique_ids(segments)
    require(len(batch.segments) == len(segments), f"{len(segments)} segments in, {len(batch.segments)} out")
    for seg, r in zip(expected, batch.segments):
        require(r.segment == seg, f"segment changed or reordered: {seg.id!r} -> {r.segment.id!r}")
        if seg.problem is not None:
            require(r.status == "failed" and r.error == seg.problem, f"{seg.id!r}: problem not reported")
        else:
            require(r.status == "ok", f"{seg.id!r}: readable segment reported {r.status}")
            check_spans(r.spans, seg, f"batch {seg.id!r}")
    ids = [r.segment.id for r in batch.segments]
    require(len(set(ids)) == len(ids), f"duplicate ids after unique_ids: {ids}")
    in_docs = sorted(i for d in batch.documents for i in d.segment_ids)
    require(in_docs == sorted(ids), "documents do not cover every segment exactly once")

    with tempfile.TemporaryDirectory(prefix="mtcheck-fuzz-") as tmp:
        d = Path(tmp)
        write_json(batch, d / "r.json")
        doc = json.loads((d / "r.json").read_text(encoding="utf-8"))
        require([s["id"] for s in doc["segments"]] == _json_ids(ids), "JSON lost or reordered segments")
        require([s["status"] for s in doc["segments"]] == [r.status for r in batch.segments], "JSON statuses")
        require(doc["summary"]["failed"] == len(batch.failed), "JSON failed count")

        write_jsonl(batch, d / "r.jsonl")
        recs = [json.loads(line) for line in (d / "r.jsonl").read_text(encoding="utf-8").split("\n") if line]
        seg_recs = [r for r in recs if r["record"] == "segment"]
        require([s["id"] for s in seg_recs] == _json_ids(ids), "JSONL lost or reordered segments")
        require(recs[-1]["record"] == "summary", "JSONL lacks the final summary")

        write_csv(batch, d / "r.csv")
        with open(d / "r.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        require(len(rows) == len(ids) + 1, f"CSV has {len(rows) - 1} rows for {len(ids)} segments")
        require([row[0] for row in rows[1:]] == [_strip_surrogates(i) for i in ids], "CSV ids")
        require([row[2] for row in rows[1:]] == [r.status for r in batch.segments], "CSV statuses")

        html = render_html(batch)
        check_html(html, batch)
        require(render_html(batch) == html, "HTML not deterministic")

        md = render_markdown(batch)
        require(isinstance(md, str) and md.endswith("\n"), "markdown")

        sarif = sarif_dict(batch)
        json.dumps(sarif, ensure_ascii=False)
        results = sarif["runs"][0]["results"]
        want = len(batch.failed) + sum(len(r.spans) for r in batch.segments if r.ok)
        require(len(results) == want, f"SARIF has {len(results)} results, expected {want}")
        failed_ids = [x["properties"]["segmentId"] for x in results if x["ruleId"] == "input/unreadable"]
        require(failed_ids == [r.segment.id for r in batch.failed], "SARIF lost a failed segment")

        gate = evaluate_gate(batch, Thresholds())
        write_junit(batch, gate, d / "j.xml")
        root = ET.parse(d / "j.xml").getroot()
        cases = root.findall(".//testcase")
        require(len(cases) == len(ids), f"JUnit has {len(cases)} testcases for {len(ids)} segments")
        errors = sum(1 for c in cases if c.find("error") is not None)
        require(errors == len(batch.failed), "JUnit lost a failed segment")

        summary = render_summary(batch, worst=len(ids))
        bad = sorted({ch for ch in summary if not (ch.isprintable() or ch in "\n\t ")})
        require(not bad, f"terminal summary holds control characters {bad!r}")

    again = score_batch(list(segments), config)
    require(json.dumps(again.to_dict(), ensure_ascii=False, default=str)
            == json.dumps(batch.to_dict(), ensure_ascii=False, default=str), "batch result not deterministic")


def _json_ids(ids: list[str]) -> list[str]:
    return [json.loads(json.dumps(i)) for i in ids]


# ---------------------------------------------------------------------------
# Structured round trips (segments in == segments out through each reader)


@dataclass(frozen=True)
class Record:
    source: str
    mt: str
    ref: str = ""


def write_records(fmt: str, records: Sequence[Record], directory: Path) -> list[Path]:
    """Write ``records`` in ``fmt`` the way a well-behaved tool would; return the input path(s)."""
    if fmt == "text":
        paths = [directory / "s.zh", directory / "t.en"]
        paths[0].write_text("".join(r.source + "\n" for r in records), encoding="utf-8")
        paths[1].write_text("".join(r.mt + "\n" for r in records), encoding="utf-8")
        return paths
    if fmt == "tsv":
        p = directory / "b.tsv"
        p.write_text("source\tmt\tref\n" + "".join(f"{r.source}\t{r.mt}\t{r.ref}\n" for r in records),
                     encoding="utf-8")
        return [p]
    if fmt == "csv":
        p = directory / "b.csv"
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(["source", "mt", "ref"])
        for r in records:
            w.writerow([r.source, r.mt, r.ref])
        p.write_text(buf.getvalue(), encoding="utf-8", newline="")
        return [p]
    if fmt == "jsonl":
        p = directory / "b.jsonl"
        p.write_text("".join(json.dumps({"source": r.source, "mt": r.mt, "ref": r.ref}, ensure_ascii=a) + "\n"
                             for r, a in zip(records, [False, True] * len(records))), encoding="utf-8")
        return [p]
    if fmt == "json":
        p = directory / "b.json"
        p.write_text(json.dumps([{"source": r.source, "mt": r.mt, "ref": r.ref} for r in records],
                                ensure_ascii=False, indent=1), encoding="utf-8")
        return [p]
    raise ValueError(fmt)


def roundtrip_text(fmt: str):
    """Strategy: text a format can hold verbatim (TSV and plain text cannot hold tabs or line ends)."""
    st = _st()
    base = hostile_text(max_size=12)
    if fmt in ("text", "tsv"):
        # Line ends end the record; a tab ends a TSV field. U+2028/U+0085 are text. A U+FEFF
        # opening a text file is its byte-order mark, not text (documented).
        return base.map(lambda s: s.replace("\r", "").replace("\n", "").replace("\t", " ").lstrip("\ufeff"))
    if fmt == "csv":
        # csv.reader reads CR inside a quoted field verbatim but a lone CR is a line end outside one.
        return base
    return base


def roundtrip_target(fmt: str, records: Sequence[Record]) -> None:
    """Write then read ``records``: the same number of segments with the same texts."""
    from mtcheck.io import read_inputs

    with tempfile.TemporaryDirectory(prefix="mtcheck-fuzz-") as tmp:
        paths = write_records(fmt, records, Path(tmp))
        try:
            if fmt == "text":
                segs = list(read_inputs(source=paths[0], mt=paths[1]))
            else:
                segs = list(read_inputs(paths))
        except MtcheckError as exc:
            if not records:
                return  # an empty file is an error, and a clear one
            raise TargetFailure(f"{fmt}: well-formed input refused: {exc}") from None
    require(len(segs) == len(records), f"{fmt}: {len(records)} records in, {len(segs)} segments out")
    for i, (r, s) in enumerate(zip(records, segs)):
        require(s.problem is None, f"{fmt} record {i}: read with a problem: {s.problem}")
        for name, got, want in (("source", s.source, r.source), ("MT", s.mt, r.mt)):
            want = _as_read(fmt, want)
            require(got == want, f"{fmt} record {i}: {name} {got!r} != {want!r}")
        if fmt != "text":
            want_refs = (_as_read(fmt, r.ref),) if r.ref else ()
            require(s.references == want_refs, f"{fmt} record {i}: refs {s.references!r} != {want_refs!r}")


def _as_read(fmt: str, text: str) -> str:
    # Documented normalisation: a CRLF inside a quoted CSV field is read as LF (the file's line ends are).
    return text.replace("\r\n", "\n") if fmt == "csv" else text


def control_free(text: str) -> bool:
    return all(ch.isprintable() or ch in "\n\t " for ch in text)


# ---------------------------------------------------------------------------
# Structured localisation files and byte mutations


_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` as XML character data: characters XML cannot hold dropped, markup escaped."""
    text = _NOT_XML_CHAR.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def po_string(text: str) -> str:
    """``text`` as the body of a PO string literal."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return out.replace("\r", "\\r")


def l10n_doc(fmt: str, units: Sequence[tuple[str, str, str]], variant: int = 0) -> bytes:
    """A well-formed XLIFF 1.2 (``variant`` 0) or 2.0 (1), TMX or PO file with one unit per entry.

    ``units`` are ``(id, source, target)``; inline codes are mixed in by the
    caller's text (``{g}``, ``{x}``, ``{cp}`` markers become the format's
    elements).
    """
    def inline(text: str, version: int) -> str:
        body = xml_text(text)
        if version == 1:
            return body.replace("{g}", "<g id=\"1\">b</g>").replace("{x}", "<x id=\"2\"/>").replace("{cp}", "")
        if version == 2:
            return (body.replace("{g}", "<pc id=\"1\">b</pc>").replace("{x}", "<ph id=\"2\"/>")
                    .replace("{cp}", "<cp hex=\"1B\"/>"))
        return body.replace("{g}", "<bpt i=\"1\">&lt;b&gt;</bpt>b<ept i=\"1\">&lt;/b&gt;</ept>").replace(
            "{x}", "<ph x=\"2\">%s</ph>").replace("{cp}", "")

    if fmt == "xliff" and variant == 0:
        body = "".join(f'<trans-unit id="{xml_text(i) or "u"}"><source>{inline(s, 1)}</source>'
                       f'<target>{inline(t, 1)}</target></trans-unit>\n' for i, s, t in units)
        doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<xliff version="1.2" '
               'xmlns="urn:oasis:names:tc:xliff:document:1.2"><file original="f" source-language="zh-CN" '
               f'target-language="en" datatype="plaintext"><body>\n{body}</body></file></xliff>\n')
    elif fmt == "xliff":
        body = "".join(f'<unit id="{xml_text(i) or "u"}"><segment><source>{inline(s, 2)}</source>'
                       f'<target>{inline(t, 2)}</target></segment></unit>\n' for i, s, t in units)
        doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" '
               f'version="2.0" srcLang="zh-CN" trgLang="en"><file id="f">\n{body}</file></xliff>\n')
    elif fmt == "tmx":
        body = "".join(f'<tu tuid="{xml_text(i)}"><tuv xml:lang="zh-CN"><seg>{inline(s, 3)}</seg></tuv>'
                       f'<tuv xml:lang="en-US"><seg>{inline(t, 3)}</seg></tuv></tu>\n' for i, s, t in units)
        doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><header srclang="zh-CN" '
               'datatype="plaintext" segtype="sentence" adminlang="en" o-tmf="x" creationtool="t" '
               f'creationtoolversion="1"/><body>\n{body}</body></tmx>\n')
    elif fmt == "po":
        head = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        seen: set[str] = set()
        entries = []
        for k, (i, s, t) in enumerate(units):
            key = f"{s}\u0004{k}"
            seen.add(key)
            entries.append(f'#. {po_string(i)}\nmsgctxt "{k}"\nmsgid "{po_string(s) or "x"}"\n'
                           f'msgstr "{po_string(t)}"\n\n')
        doc = head + "".join(entries)
    else:
        raise ValueError(fmt)
    return doc.encode("utf-8")


def mutate(data: bytes, edits: Sequence[tuple[int, int, int]]) -> bytes:
    """Apply byte edits ``(kind, position, value)``: 0 replace, 1 insert, 2 delete, 3 truncate."""
    b = bytearray(data)
    for kind, pos, value in edits:
        if not b:
            break
        i = pos % len(b)
        if kind == 0:
            b[i] = value
        elif kind == 1:
            b.insert(i, value)
        elif kind == 2:
            del b[i]
        else:
            del b[i:]
    return bytes(b)


def l10n_bytes(fmt: str):
    """Strategy: well-formed localisation files with hostile text, sometimes mutated at a few bytes."""
    st = _st()
    text = st.lists(st.one_of(hostile_text(max_size=6), st.sampled_from(("{g}", "{x}", "{cp}"))),
                    max_size=4).map("".join)
    units = st.lists(st.tuples(st.sampled_from(("1", "2", "1", "a&b", "<i>", "")), text, text), max_size=5)
    doc = st.builds(lambda u, v: l10n_doc(fmt, u, v), units, st.integers(0, 1))
    edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 255)), max_size=3)
    return st.one_of(doc, st.builds(mutate, doc, edits), st.binary(max_size=200))


def table_bytes(fmt: str):
    """Strategy: TSV/CSV/JSONL/JSON/text bytes, well-formed or mutated, in several encodings."""
    st = _st()
    recs = st.lists(st.builds(Record, hostile_text(max_size=8), hostile_text(max_size=8), hostile_text(max_size=3)),
                    max_size=5)

    def render(records, encoding_choice):
        with tempfile.TemporaryDirectory() as tmp:
            kind = fmt if fmt in ("tsv", "csv", "jsonl", "json") else "text"
            paths = write_records(kind, records, Path(tmp))
            data = b"\x00\x00".join(p.read_bytes() for p in paths) if kind == "text" else paths[0].read_bytes()
        text = data.decode("utf-8")
        codec = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "gb18030", "big5")[encoding_choice]
        return text.encode(codec, "replace")

    doc = st.builds(render, recs, st.integers(0, 5))
    edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 255)), max_size=3)
    return st.one_of(doc, st.builds(mutate, doc, edits), st.binary(max_size=300),
                     hostile_text(max_size=30).map(lambda s: s.encode("utf-8", "surrogatepass")))


def reader_input(fmt: str):
    """Strategy of raw bytes for the reader of ``fmt``."""
    st = _st()
    if fmt in ("xliff", "po", "tmx"):
        return l10n_bytes(fmt)
    if fmt == "glossary":
        rows = st.lists(st.tuples(hostile_text(max_size=4), hostile_text(max_size=4),
                                  st.sampled_from(("", "sensitive", "insensitive", "x"))), max_size=5)
        doc = rows.map(lambda rs: ("zh\ten\tcase\n" + "".join(f"{a}\t{b}\t{c}\n" for a, b, c in rs)).encode(
            "utf-8", "surrogatepass"))
        return st.one_of(doc, st.binary(max_size=200))
    return table_bytes(fmt)



def record_strategy():
    """Strategy: mappings of any shape, as dataset rows and JSON objects can be."""
    import hypothesis.strategies as st

    scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile_text(max_size=5, surrogates=True),
                       st.binary(max_size=5))
    value = st.recursive(scalar, lambda c: st.one_of(st.lists(c, max_size=3),
                                                     st.dictionaries(hostile_text(max_size=2), c, max_size=3)),
                         max_leaves=12)
    keys = st.one_of(st.sampled_from(("source", "mt", "ref", "ref2", "refs", "references", "id", "doc", "x")),
                     hostile_text(max_size=2, surrogates=True))
    return st.dictionaries(keys, value, max_size=7)


def parquet_strategy():
    """Strategy: a small Parquet table's rows and byte edits to apply to the written file."""
    import hypothesis.strategies as st

    rows = st.lists(st.tuples(hostile_text(max_size=5), hostile_text(max_size=5)), min_size=1, max_size=4)
    edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 255)), max_size=3)
    return st.tuples(rows, edits)


def parquet_target(arg) -> None:
    """Write rows as Parquet, corrupt a few bytes, read through the dataset reader."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, edits = arg
    clean = [(s.encode("utf-8", "replace").decode("utf-8"), m.encode("utf-8", "replace").decode("utf-8"))
             for s, m in rows]
    table = pa.table({"source": [s for s, _ in clean], "mt": [m for _, m in clean], "n": list(range(len(clean)))})
    with tempfile.TemporaryDirectory(prefix="mtcheck-fuzz-") as tmp:
        path = Path(tmp) / "d.parquet"
        pq.write_table(table, path)
        data = mutate(path.read_bytes(), edits)
    reader_target("dataset")(data)


def fuzz_settings(max_examples: int):
    """Hypothesis settings for the test suite: reproducible (derandomized), no deadline, no database.

    The suite replays the same examples on every run so it never flakes;
    ``scripts/fuzz.py`` explores new ones.
    """
    from hypothesis import HealthCheck, settings

    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# ---------------------------------------------------------------------------
# Span files and results read back (eval --spans, check --out)


def span_file_bytes():
    """Strategy: JSON Lines of span records and of mtcheck segment/summary records, well-formed or mutated."""
    st = _st()
    value = st.one_of(st.none(), st.booleans(), st.integers(-5, 60), hostile_text(max_size=6),
                      st.sampled_from(("minor", "major", "critical", "Major", "fatal", "mt", "source", "ok", "failed")))
    span = st.fixed_dictionaries({}, optional={"start": value, "end": value, "severity": value, "side": value,
                                               "category": value, "message": value})
    record = st.fixed_dictionaries({}, optional={
        "record": st.sampled_from(("segment", "summary", "document", "chunk", 3)), "id": value,
        "mt": hostile_text(max_size=12), "source": hostile_text(max_size=8), "rater": value,
        "spans": st.one_of(st.lists(span, max_size=3), value), "status": value, "scores": st.just({}),
        "texts": st.one_of(st.just({}), value), "segments": st.just([])})
    lines = st.lists(record, max_size=5).map(
        lambda rs: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rs).encode("utf-8", "surrogatepass"))
    edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 255)), max_size=3)
    return st.one_of(lines, st.builds(mutate, lines, edits), st.binary(max_size=200))


def _check_marks(marks: dict, text: str, where: str) -> None:
    for k, sev in marks.items():
        require(isinstance(k, int) and 0 <= k < len(text), f"{where}: mark {k} outside the text of length {len(text)}")
        require(sev in ("minor", "major"), f"{where}: severity {sev!r}")


def gold_spans_target(data: bytes) -> None:
    """Human span files: read, or refused with a clear error; marks always inside their text."""
    from mtcheck.metaeval.spanfiles import read_gold_spans

    with tempfile.TemporaryDirectory(prefix="mtcheck-fuzz-") as tmp:
        path = Path(tmp) / "gold.jsonl"
        path.write_bytes(data)
        try:
            gold = read_gold_spans(path)
        except MtcheckError as exc:
            check_error(exc)
            return
        for sid, seg in gold.items():
            for rater, marks in seg.raters.items():
                _check_marks(marks, seg.mt, f"gold {sid}/{rater}")


def results_target(data: bytes) -> None:
    """mtcheck results read back (eval --spans, check --out): read, or refused with a clear error."""
    from mtcheck.io.results import iter_segment_results, read_summary
    from mtcheck.metaeval.spanfiles import read_result_spans

    with tempfile.TemporaryDirectory(prefix="mtcheck-fuzz-") as tmp:
        path = Path(tmp) / "results.jsonl"
        path.write_bytes(data)
        for read in (lambda: list(iter_segment_results(path)), lambda: read_summary(path)):
            try:
                read()
            except MtcheckError as exc:
                check_error(exc)
        try:
            spans = read_result_spans(path)
        except MtcheckError as exc:
            check_error(exc)
            return
        for sid, (mt, marks) in spans.items():
            require(isinstance(mt, str), f"results {sid}: mt is {type(mt).__name__}")
            _check_marks(marks, mt, f"results {sid}")
