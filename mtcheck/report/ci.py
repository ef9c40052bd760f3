"""CI outputs: JUnit XML and SARIF 2.1.0.

JUnit: one ``<testsuite>`` per document (per run of its consecutive
segments), one ``<testcase>`` per segment; a
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
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterable

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


#: Most test cases in one ``<testsuite>`` element; a longer document continues in another of the same name.
_SUITE_CASES = 5000


def _testcase(r: SegmentResult, gate: GateResult, headline: str, doc: str) -> tuple[ET.Element, str]:
    """One segment's ``<testcase>`` and its outcome (``passed``, ``failure`` or ``error``)."""
    attrs = {"classname": f"mtcheck.{doc}", "name": r.segment.id, "time": "0"}
    if r.segment.origin:
        attrs["file"] = r.segment.origin.path
        if r.segment.origin.line:
            attrs["line"] = str(r.segment.origin.line)
    case = ET.Element("testcase", attrs)
    details = "\n".join(_describe_span(r, s) for s in r.spans)
    if not r.ok:
        ET.SubElement(case, "error", message="segment could not be read", type="input").text = r.error
        return case, "error"
    if gate.segment_fails(r):
        head = r.scores.get(headline)
        sev = r.severity_counts()
        msg = (f"{sev['critical']} critical, {sev['major']} major, {sev['minor']} minor finding(s)"
               + (f"; {headline} {head:g}" if head is not None else ""))
        ET.SubElement(case, "failure", message=msg, type="mtcheck.gate").text = details or msg
        return case, "failure"
    if details:
        ET.SubElement(case, "system-out").text = details
    return case, "passed"


def write_junit_stream(results: Iterable[SegmentResult], gate: GateResult, headline: str,
                       path: str | Path) -> None:
    """Write a JUnit XML report of the gate from results read one at a time.

    One ``<testsuite>`` per run of consecutive segments of a document. The
    suites go to a temporary file first, because the totals on the root
    element are known only at the end; memory holds one suite at most.

    Args:
        results: Segment results in output order (e.g. read back from a
            streamed job's JSON Lines file).
        gate: The verdict; a segment it blames gets a ``<failure>``.
        headline: The headline score key shown in failure messages.
        path: The file to write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    with tempfile.TemporaryFile("w+", encoding="utf-8", dir=path.parent) as body:
        doc: str | None = None
        suite: ET.Element | None = None
        counts: dict[str, int] = {}

        def flush() -> None:
            if suite is None:
                return
            for k, v in counts.items():
                suite.set(k, str(v))
                totals[k] += v
            suite.set("skipped", "0")
            suite.set("time", "0")
            _xml_safe(suite)
            ET.indent(suite, space="  ", level=1)
            body.write("  " + ET.tostring(suite, encoding="unicode").rstrip("\n") + "\n")

        for r in results:
            name = r.segment.doc or "-"
            if suite is None or name != doc or counts["tests"] >= _SUITE_CASES:
                flush()
                doc = name
                suite = ET.Element("testsuite", name=name)
                counts = {"tests": 0, "failures": 0, "errors": 0}
            case, outcome = _testcase(r, gate, headline, name)
            suite.append(case)
            counts["tests"] += 1
            if outcome != "passed":
                counts[outcome + "s"] += 1
        flush()
        root = ET.Element("testsuites", name="mtcheck", **{k: str(v) for k, v in totals.items()})
        head = ET.tostring(root, encoding="unicode")  # <testsuites ... />
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("<?xml version='1.0' encoding='utf-8'?>\n")
            if not totals["tests"]:
                fh.write(head + "\n")
                return
            fh.write(head[:-3].rstrip() + ">\n")
            body.seek(0)
            shutil.copyfileobj(body, fh)
            fh.write("</testsuites>\n")


def write_junit(batch: BatchResult, gate: GateResult, path: str | Path) -> None:
    """Write a JUnit XML report of the gate (see :func:`write_junit_stream`).

    Segments stay in input order, as in a streamed run, so a document whose
    segments are interleaved with another's gets one suite per run.
    """
    write_junit_stream(batch.segments, gate, batch.headline, path)


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


class _SarifRules:
    """The rules a SARIF log refers to, numbered in order of first use."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.rules: list[dict] = []

    def __call__(self, rule_id: str, description: str) -> int:
        if rule_id not in self.index:
            self.index[rule_id] = len(self.rules)
            self.rules.append({"id": rule_id, "shortDescription": {"text": description}})
        return self.index[rule_id]


def _sarif_results(r: SegmentResult, rule_index: _SarifRules) -> list[dict]:
    """The SARIF results of one segment: one per finding, or one for an unreadable segment."""
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
        return [res]
    out = []
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
        out.append(res)
    return out


def _run_tail(rules: _SarifRules, version: str, signatures: dict, scores: dict) -> dict:
    return {"tool": {"driver": {"name": "mtcheck", "version": version, "rules": rules.rules}},
            "properties": {"signatures": signatures, "scores": scores}}


def sarif_dict(batch: BatchResult) -> dict:
    """The SARIF 2.1.0 log of a batch as a dict."""
    rules = _SarifRules()
    results = [res for r in batch.segments for res in _sarif_results(r, rules)]
    run = {"columnKind": "unicodeCodePoints", "results": results,
           **_run_tail(rules, batch.version, batch.signatures, batch.scores)}
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def write_sarif_stream(results: Iterable[SegmentResult], path: str | Path, *, version: str,
                       signatures: dict, scores: dict) -> None:
    """Write a SARIF 2.1.0 log from results read one at a time.

    The results array is written as the segments come; the rules they use
    follow it (JSON members have no order, and SARIF readers index
    ``ruleIndex`` into the rules wherever they stand), so memory holds one
    segment's results at most.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rules = _SarifRules()
    # backslashreplace: a lone surrogate from an API caller becomes its JSON escape instead of an error.
    with open(path, "w", encoding="utf-8", errors="backslashreplace") as fh:
        fh.write('{\n  "$schema": ' + json.dumps(SARIF_SCHEMA_URI) + ',\n  "version": "2.1.0",\n'
                 '  "runs": [\n    {\n      "columnKind": "unicodeCodePoints",\n      "results": [')
        first = True
        for r in results:
            for res in _sarif_results(r, rules):
                fh.write(("\n" if first else ",\n") + "        " + json.dumps(res, ensure_ascii=False))
                first = False
        fh.write("\n      ],\n" if not first else "],\n")
        tail = json.dumps(_run_tail(rules, version, signatures, scores), ensure_ascii=False, indent=2)
        # The tail's members continue the run object opened above.
        inner = tail.strip()[1:-1].strip("\n")
        fh.write("\n".join("    " + line for line in inner.split("\n")) + "\n    }\n  ]\n}\n")


def write_sarif(batch: BatchResult, path: str | Path) -> None:
    """Write the SARIF 2.1.0 log of a batch."""
    write_sarif_stream(batch.segments, path, version=batch.version, signatures=batch.signatures,
                       scores=batch.scores)


def gate_results_file(path: str | Path, thresholds, *, sarif: str | Path | None = None,
                      junit: str | Path | None = None) -> tuple[GateResult, dict]:
    """Gate a streamed job's JSON Lines results and write its CI files, reading the file back.

    Memory stays bounded whatever the batch size: one pass tallies the gate
    (:class:`~mtcheck.gate.GateTally`, keeping a bounded number of ids per
    violation) and writes SARIF, a second writes JUnit, which needs the verdict.

    Args:
        path: The output of :func:`mtcheck.jobs.run_job` (``--out``).
        thresholds: A :class:`~mtcheck.gate.Thresholds`.
        sarif: Where to write the SARIF log, if anywhere.
        junit: Where to write the JUnit report, if anywhere.

    Returns:
        The verdict and the file's summary record.

    Raises:
        InputError: the file is not a finished job's output.
        ConfigError: a metric threshold names a score the job did not compute.
    """
    from mtcheck.gate import STREAM_KEEP_IDS, GateTally
    from mtcheck.io.results import iter_segment_results, read_summary

    summary = read_summary(path)
    tally = GateTally(thresholds, summary["headline"], keep=STREAM_KEEP_IDS)

    def tallied():
        for r in iter_segment_results(path):
            tally.add(r)
            yield r

    if sarif is not None:
        write_sarif_stream(tallied(), sarif, version=summary["mtcheck_version"], signatures=summary["signatures"],
                           scores=summary["scores"])
    else:
        for _ in tallied():
            pass
    gate = tally.result(summary["scores"])
    if junit is not None:
        write_junit_stream(iter_segment_results(path), gate, summary["headline"], junit)
    return gate, summary
