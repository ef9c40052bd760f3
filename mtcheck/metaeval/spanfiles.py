"""``mtcheck eval --spans``: flagged spans against human error spans, read from files.

The human side is a JSON Lines file with one record per segment and rater::

    {"id": "news-17", "mt": "Double 11 after the curtain, ...", "rater": "r1",
     "spans": [{"start": 0, "end": 27, "severity": "major"}]}

``rater`` is optional (one rater per segment then); a rater who found no
error lists no spans, and still counts. ``severity`` is ``minor`` or
``major`` (``critical`` counts as major). Offsets index ``mt`` in code points,
as mtcheck's own spans do.

The system side is mtcheck's own results (``score --json``/``--jsonl``/
``--out``): the MT-side spans of each segment, matched by id. A gold segment
missing from the results, or whose MT text differs (so offsets would not
match), is an error naming it — nothing is dropped silently.

The report (:class:`SpanReport`) scores the system against the union of the
raters (a character is an error if any rater marked it) and against each
rater separately, beside the flag-every-character baseline and, where
segments have two or more raters, the human ceiling: each rater against each
other (see :mod:`mtcheck.metaeval.spans`). Each row is given for all errors
and for major errors only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from mtcheck.errors import EmptyInputError, EncodingError, InputError
from mtcheck.metaeval.spans import (
    Marks, SpanScores, against_raters, rater_agreement, span_scores, union_marks,
)

_SEVERITIES = {"minor": "minor", "major": "major", "critical": "major"}


@dataclass(frozen=True)
class GoldSegment:
    """One segment's MT and each rater's marks on it."""

    mt: str
    raters: dict[str, Marks]


def _decode(raw: bytes, path: Path, lineno: int) -> str:
    try:
        return raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(f"not valid UTF-8 at byte {exc.start} of the line", path, lineno) from None


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = _decode(raw, path, lineno)
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except ValueError as exc:
                raise InputError(f"not a JSON line ({exc.msg})", path, lineno) from None


def read_gold_spans(path: str | Path) -> dict[str, GoldSegment]:
    """Read human error spans (the format in the module docstring), by segment id.

    Raises:
        InputError: a record is malformed (field, type, offsets outside the
            text, a severity other than minor/major/critical), or a segment id
            comes with two different MT texts; with file and line.
        EmptyInputError: no records.
    """
    path = Path(path)
    out: dict[str, GoldSegment] = {}
    for lineno, rec in _json_lines(path):
        if not isinstance(rec, dict):
            raise InputError("expected a JSON object with id, mt and spans", path, lineno)
        sid, mt, spans = rec.get("id"), rec.get("mt"), rec.get("spans", [])
        rater = rec.get("rater", "rater")
        if not isinstance(sid, (str, int)) or isinstance(sid, bool) or not isinstance(mt, str):
            raise InputError("expected a string (or integer) 'id' and a string 'mt'", path, lineno)
        if not isinstance(spans, list) or not isinstance(rater, (str, int)):
            raise InputError("'spans' must be a list and 'rater' a string", path, lineno)
        sid = str(sid)
        seg = out.setdefault(sid, GoldSegment(mt, {}))
        if seg.mt != mt:
            raise InputError(f"segment {sid!r} has another MT text than on an earlier line", path, lineno)
        marks = dict(seg.raters.get(str(rater), {}))
        for span in spans:
            start, end, sev = _span(span, len(mt), path, lineno)
            for k in range(start, end):
                if marks.get(k) != "major":
                    marks[k] = sev
        seg.raters[str(rater)] = marks
    if not out:
        raise EmptyInputError("no span records", path)
    return out


def _span(span: Any, length: int, path: Path, lineno: int) -> tuple[int, int, str]:
    if not isinstance(span, dict):
        raise InputError("each span must be an object with start, end and severity", path, lineno)
    start, end = span.get("start"), span.get("end")
    sev = _SEVERITIES.get(str(span.get("severity", "")).strip().lower())
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or not 0 <= start <= end <= length:
        raise InputError(f"span offsets must be integers with 0 <= start <= end <= {length} (the MT's length), "
                         f"got {start!r}..{end!r}", path, lineno)
    if sev is None:
        raise InputError(f"span severity must be minor, major or critical, got {span.get('severity')!r}",
                         path, lineno)
    return start, end, sev


def read_result_spans(path: str | Path) -> dict[str, tuple[str, dict[int, str]]]:
    """The MT-side marks of mtcheck results (JSON document or JSON Lines), by segment id.

    Raises:
        InputError: the file is not mtcheck's results.
    """
    from mtcheck.core import Side

    path = Path(path)
    records: list[tuple[int | None, dict]] = []
    data = path.read_bytes()
    head = data.lstrip(b"\xef\xbb\xbf").lstrip()[:1]
    if head == b"{":
        try:
            # A JSON document is decoded whole; JSON Lines with a bad byte are read line by line below,
            # so the error names the line.
            doc = json.loads(data.decode("utf-8-sig"))
            if isinstance(doc, dict) and isinstance(doc.get("segments"), list):
                records = [(None, r) for r in doc["segments"]]
            elif isinstance(doc, dict) and doc.get("record") is not None:
                records = [(1, doc)]
            else:
                raise InputError("expected mtcheck results: a JSON document with 'segments', or JSON Lines", path)
        except ValueError:
            records = [(n, r) for n, r in _json_lines(path) if isinstance(r, dict) and r.get("record") == "segment"]
    else:
        raise InputError("expected mtcheck results (score --json, --jsonl or --out)", path)
    out: dict[str, tuple[str, dict[int, str]]] = {}
    for lineno, rec in records:
        try:
            sid, mt = str(rec["id"]), rec["mt"]
            if not isinstance(mt, str):
                raise TypeError("'mt' (not a string)")
            marks: dict[int, str] = {}
            for s in rec.get("spans") or ():
                if s["side"] != Side.MT.value:
                    continue
                sev = _SEVERITIES[s["severity"]]
                for k in range(s["start"], min(s["end"], len(mt))):
                    if marks.get(k) != "major":
                        marks[k] = sev
        except (KeyError, TypeError) as exc:
            raise InputError(f"segment record lacks or garbles {exc}", path, lineno) from None
        out[sid] = (mt, marks)
    return out


@dataclass(frozen=True)
class SpanReport:
    """Rows of the span evaluation; each a :class:`SpanScores` (``None`` where it does not apply)."""

    segments: int
    raters: int
    multi_rater_segments: int
    system_vs_union: SpanScores
    system_vs_union_major: SpanScores
    flag_all_vs_union: SpanScores
    flag_all_vs_union_major: SpanScores
    system_vs_each: SpanScores
    system_vs_each_major: SpanScores
    ceiling: SpanScores | None
    ceiling_major: SpanScores | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_spans(gold: dict[str, GoldSegment], results: dict[str, tuple[str, dict[int, str]]],
                   where: str = "results") -> SpanReport:
    """Score the results' spans against the gold spans (see the module docstring).

    Raises:
        InputError: a gold segment is missing from the results or has another MT there.
    """
    missing = [sid for sid in gold if sid not in results]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise InputError(f"{len(missing)} segment(s) of the human spans are not in the results: {shown}", where)
    differ = [sid for sid, g in gold.items() if results[sid][0] != g.mt]
    if differ:
        raise InputError(f"the MT of segment(s) {', '.join(differ[:10])} differs between the human spans and the "
                         "results, so offsets cannot be compared", where)
    union = {sid: union_marks(g.raters) for sid, g in gold.items()}
    pred = {sid: results[sid][1] for sid in gold}
    everything = {sid: {i: "major" for i, ch in enumerate(g.mt) if not ch.isspace()} for sid, g in gold.items()}
    by_item = {sid: g.raters for sid, g in gold.items()}
    multi = {sid: r for sid, r in by_item.items() if len(r) > 1}

    def vs_union(p, major):
        return span_scores(((p[sid], union[sid]) for sid in gold), major)

    return SpanReport(
        segments=len(gold),
        raters=len({r for g in gold.values() for r in g.raters}),
        multi_rater_segments=len(multi),
        system_vs_union=vs_union(pred, False),
        system_vs_union_major=vs_union(pred, True),
        flag_all_vs_union=vs_union(everything, False),
        flag_all_vs_union_major=vs_union(everything, True),
        system_vs_each=against_raters(pred, by_item),
        system_vs_each_major=against_raters(pred, by_item, major_only=True),
        ceiling=rater_agreement(multi) if multi else None,
        ceiling_major=rater_agreement(multi, major_only=True) if multi else None,
    )


def format_span_report(report: SpanReport) -> str:
    """The report as a Markdown table."""
    lines = [f"{report.segments} segment(s), {report.raters} rater(s), "
             f"{report.multi_rater_segments} segment(s) with two or more raters",
             "",
             "| | gold | char P | char R | char F1 | span F1 | severity F1 | major: P | major: R | major: F1 |",
             "|---|---|---|---|---|---|---|---|---|---|"]

    def row(name, gold, s, m):
        lines.append(f"| {name} | {gold} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.span_f1:.3f} | "
                     f"{s.severity_f1:.3f} | {m.precision:.3f} | {m.recall:.3f} | {m.f1:.3f} |")

    row("mtcheck", "any rater", report.system_vs_union, report.system_vs_union_major)
    row("flag everything", "any rater", report.flag_all_vs_union, report.flag_all_vs_union_major)
    row("mtcheck", "each rater", report.system_vs_each, report.system_vs_each_major)
    if report.ceiling is not None:
        row("another rater (ceiling)", "each rater", report.ceiling, report.ceiling_major)
    return "\n".join(lines)
