"""CI outputs: JUnit XML and SARIF 2.1.0.

JUnit: one ``<testsuite>`` per document, one ``<testcase>`` per segment; a
segment that caused a gate violation gets a ``<failure>`` with its findings,
an unreadable segment an ``<error>``; other findings go to ``<system-out>``.

SARIF: one result per finding, located at the file, line and column of the
flagged text in the input (TSV/CSV/JSONL cell, or the line of a text file),
so code-review platforms annotate the exact place. Columns count Unicode
code points (``columnKind: unicodeCodePoints``).

XML 1.0 cannot hold most control characters (NUL, ESC…), non-characters or
lone surrogates at all, not even escaped; in the JUnit file each such
character of the input is written as U+FFFD so the report stays well-formed.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from mtcheck.core import BatchResult, SegmentResult, Side, Span
from mtcheck.gate import GateResult
from mtcheck.io.locate import locate

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "major": "error", "minor": "warning"}


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(tree: ET.Element) -> None:
    """Replace, in place, every character XML 1.0 cannot represent by U+FFFD."""
    for el in tree.iter():
        for key, value in el.attrib.items():
            el.set(key, _NOT_XML.sub("\ufffd", value))
        if el.text:
            el.text = _NOT_XML.sub("\ufffd", el.text)
        if el.tail:
            el.tail = _NOT_XML.sub("\ufffd", el.tail)


def _describe_span(r: SegmentResult, s: Span) -> str:
    text = s.text(r.segment)
    line = f"{s.severity.value.upper()} {s.category} at {s.side.value}[{s.start}:{s.end}] {text!r}: {s.message}"
    if s.evidence:
        line += f" (evidence: {s.evidence})"
    if s.suggestion:
        line += f" (suggestion: {s.suggestion})"
    return line


def write_junit(batch: BatchResult, gate: GateResult, path: str | Path) -> None:
    """Write a JUnit XML report of the gate."""
    failing = gate.failing_segments
    root = ET.Element("testsuites", name="mtcheck")
    by_doc: dict[str, list[SegmentResult]] = {}
    for r in batch.segments:
        by_doc.setdefault(r.segment.doc or "-", []).append(r)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for doc, results in by_doc.items():
        suite = ET.SubElement(root, "testsuite", name=doc)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        for r in results:
            counts["tests"] += 1
            attrs = {"classname": f"mtcheck.{doc}", "name": r.segment.id, "time": "0"}
            if r.segment.origin:
                attrs["file"] = r.segment.origin.path
                if r.segment.origin.line:
                    attrs["line"] = str(r.segment.origin.line)
            case = ET.SubElement(suite, "testcase", attrs)
            details = "\n".join(_describe_span(r, s) for s in r.spans)
            if not r.ok:
                counts["errors"] += 1
                ET.SubElement(case, "error", message="segment could not be read", type="input").text = r.error
            elif r.segment.id in failing:
                counts["failures"] += 1
                head = r.scores.get(batch.headline)
                sev = r.severity_counts()
                msg = (f"{sev['critical']} critical, {sev['major']} major, {sev['minor']} minor finding(s)"
                       + (f"; {batch.headline} {head:g}" if head is not None else ""))
                ET.SubElement(case, "failure", message=msg, type="mtcheck.gate").text = details or msg
            elif details:
                ET.SubElement(case, "system-out").text = details
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("skipped", "0")
        suite.set("time", "0")
    for k, v in totals.items():
        root.set(k, str(v))
    _xml_safe(root)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _uri(path: str) -> str:
    p = Path(path)
    try:
        rel = os.path.relpath(p, Path.cwd())
    except ValueError:
        rel = str(p)
    if rel.startswith(".."):
        return p.resolve().as_uri()
    return Path(rel).as_posix()


def _region(r: SegmentResult, s: Span) -> tuple[str, dict] | None:
    origin = r.segment.origin
    if origin is None:
        return None
    pos = origin.mt_pos if s.side is Side.MT else origin.source_pos
    text = r.segment.mt if s.side is Side.MT else r.segment.source
    if pos is None:
        if origin.line is None:
            return origin.path, {}
        return origin.path, {"startLine": origin.line}
    start_line, start_col = locate(pos, text, s.start)
    end_line, end_col = locate(pos, text, s.end)
    region = {"startLine": start_line, "startColumn": start_col}
    if end_line > start_line or end_col > start_col:
        region.update({"endLine": end_line, "endColumn": end_col})
    return pos.path, region


def sarif_dict(batch: BatchResult) -> dict:
    """The SARIF 2.1.0 log of a batch as a dict."""
    rules: dict[str, int] = {}
    rule_list: list[dict] = []
    results: list[dict] = []

    def rule_index(rule_id: str, description: str) -> int:
        if rule_id not in rules:
            rules[rule_id] = len(rule_list)
            rule_list.append({"id": rule_id, "shortDescription": {"text": description}})
        return rules[rule_id]

    for r in batch.segments:
        if not r.ok:
            idx = rule_index("input/unreadable", "Segment could not be read")
            loc = {"physicalLocation": {"artifactLocation": {"uri": _uri(r.segment.origin.path)}}} \
                if r.segment.origin else None
            if loc and r.segment.origin.line:
                loc["physicalLocation"]["region"] = {"startLine": r.segment.origin.line}
            res = {"ruleId": "input/unreadable", "ruleIndex": idx, "level": "error",
                   "message": {"text": r.error or "segment could not be read"},
                   "properties": {"segmentId": r.segment.id}}
            if loc:
                res["locations"] = [loc]
            results.append(res)
            continue
        for s in r.spans:
            rule_id = f"{s.check or 'mtcheck'}/{s.category}"
            idx = rule_index(rule_id, f"{s.category} ({s.check or 'mtcheck'} check)")
            text = s.message + (f" Evidence: {s.evidence}" if s.evidence else "")
            res = {
                "ruleId": rule_id,
                "ruleIndex": idx,
                "level": _LEVEL[s.severity.value],
                "message": {"text": text},
                "properties": {"severity": s.severity.value, "category": s.category, "side": s.side.value,
                               "segmentId": r.segment.id, "flagged": s.text(r.segment)},
            }
            if s.suggestion:
                res["properties"]["suggestion"] = s.suggestion
            where = _region(r, s)
            if where is not None:
                path, region = where
                phys = {"artifactLocation": {"uri": _uri(path)}}
                if region:
                    phys["region"] = region
                res["locations"] = [{"physicalLocation": phys}]
            results.append(res)
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "mtcheck", "version": batch.version, "rules": rule_list}},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"signatures": batch.signatures, "scores": batch.scores},
        }],
    }


def write_sarif(batch: BatchResult, path: str | Path) -> None:
    """Write the SARIF 2.1.0 log of a batch."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # backslashreplace: a lone surrogate from an API caller becomes its JSON escape instead of an error.
    with open(path, "w", encoding="utf-8", errors="backslashreplace") as fh:
        json.dump(sarif_dict(batch), fh, ensure_ascii=False, indent=2)
        fh.write("\n")
