"""Scoring and every writer on hostile batches: nothing lost, nothing injected, deterministic.

The property test drives :func:`targets.batch_target`, which checks JSON,
JSONL, CSV, HTML, Markdown, SARIF, JUnit and the terminal summary; the
example tests pin what the campaign found and the injection cases one by one.
"""

from __future__ import annotations

import datetime
import decimal
import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given

from mtcheck.config import ScoreConfig
from mtcheck.core import BatchResult, Segment, SegmentResult, Severity, Side, Span
from mtcheck.gate import Thresholds, evaluate_gate
from mtcheck.pipeline import score_batch
from mtcheck.report.ci import sarif_dict, write_junit, write_sarif
from mtcheck.report.files import write_csv, write_json, write_jsonl
from mtcheck.report.html import render_html, write_report
from mtcheck.report.terminal import render_summary
from tests.robustness import targets as T


@T.fuzz_settings(15)
@given(T.segments_strategy(max_segments=6))
def test_every_output_keeps_every_segment_and_no_markup(segments):
    T.batch_target(segments)


@T.fuzz_settings(8)
@given(T.segments_strategy(max_segments=4, surrogates=True))
def test_outputs_survive_lone_surrogates_from_api_callers(segments):
    T.batch_target(segments)


def _batch(*segments: Segment) -> BatchResult:
    return score_batch(list(segments), ScoreConfig(metrics=()))


# ---------------------------------------------------------------------------
# Regressions


@pytest.mark.parametrize(
    "char, written",
    [("\x00", "\ufffd"), ("\x01", "\ufffd"), ("\x1b[2J", "\ufffd[2J"), ("\x7f", "\x7f"),  # DEL is legal XML
     ("\ufffe", "\ufffd"), ("\uffff", "\ufffd"), ("\ud800", "\ufffd")],
)
def test_junit_stays_well_formed_with_characters_xml_cannot_hold(tmp_path, char, written):
    # ElementTree wrote them verbatim: a JUnit file no CI could parse.
    batch = _batch(Segment(f"id{char}", f"源{char}", f"MT{char}", doc=f"d{char}"),
                   Segment("bad", "", "", problem=f"broken{char}"))
    write_junit(batch, evaluate_gate(batch, Thresholds()), tmp_path / "j.xml")
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert [c.get("name") for c in root.iter("testcase")] == [f"id{written}", "bad"]
    assert [s.get("name") for s in root.iter("testsuite")] == [f"d{written}", "-"]
    assert root.find(".//error").text == f"broken{written}"


def test_junit_keeps_tab_newline_and_astral_characters(tmp_path):
    batch = _batch(Segment("a\tb", "𠀀\n", "x"))
    write_junit(batch, evaluate_gate(batch, Thresholds()), tmp_path / "j.xml")
    (case,) = ET.parse(tmp_path / "j.xml").getroot().iter("testcase")
    assert case.get("name") == "a\tb"


def test_json_writers_accept_metadata_json_has_no_type_for(tmp_path):
    # Parquet columns give datetimes, bytes and decimals; json.dump raised TypeError on them.
    seg = Segment("1", "你好", "Hello", metadata={"when": datetime.datetime(2021, 11, 11, 20, 0),
                                                  "raw": b"\x00\xff", "price": decimal.Decimal("1.50")})
    batch = _batch(seg)
    write_json(batch, tmp_path / "r.json")
    write_jsonl(batch, tmp_path / "r.jsonl")
    meta = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["segments"][0]["metadata"]
    assert meta == {"when": "2021-11-11 20:00:00", "raw": "00ff", "price": "1.50"}
    first = json.loads((tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["metadata"] == meta


def test_lone_surrogate_from_an_api_caller_is_written_escaped(tmp_path):
    batch = _batch(Segment("s\ud800", "源\udfff", "mt"))
    write_json(batch, tmp_path / "r.json")
    write_csv(batch, tmp_path / "r.csv")
    write_sarif(batch, tmp_path / "r.sarif")
    write_report(batch, tmp_path / "r.html")
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["segments"][0]["id"] == "s\ud800"
    assert "s\\ud800" in (tmp_path / "r.csv").read_text(encoding="utf-8")
    assert "&#55296;" in (tmp_path / "r.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# Injection into every text field of the report


PAYLOADS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>',
            "'><b onmouseover=x>", "</td></tr></table><script>x</script>", "<!--", "{{ 7*7 }}"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_report_escapes_user_text_in_every_field(payload):
    seg = Segment(id=f"id{payload}", source=f"源{payload}营收", mt=f"MT {payload} 35", references=(payload,),
                  doc=f"doc{payload}", metadata={"k": payload})
    failed = Segment(id=f"bad{payload}", source="", mt="", doc=f"doc{payload}", problem=f"broken {payload}")
    batch = _batch(seg, failed)
    # A finding whose message, category, evidence and suggestion carry the payload too.
    batch.segments[0].spans.append(Span(0, 1, Side.MT, f"Cat{payload}", Severity.MAJOR, f"msg {payload}",
                                        evidence=f"ev {payload}", check=f"chk{payload}", suggestion=f"sg {payload}"))
    html = render_html(batch, title=f"t{payload}")
    T.check_html(html, batch)
    assert "<script>alert" not in html and "<img" not in html and "<svg onload" not in html


@pytest.mark.parametrize("field", ["id", "source", "mt", "error", "message", "evidence", "doc"])
def test_terminal_summary_holds_no_control_characters(field):
    evil = "\x1b[31mred\x1b[0m\x07\x00\u202e\x9b2J"
    seg = Segment(id=evil if field == "id" else "1", source=evil if field == "source" else "营收35亿元",
                  mt=evil if field == "mt" else "Revenue 3.5 billion", doc=evil if field == "doc" else "d")
    bad = Segment("2", "", "", problem=evil if field == "error" else "x")
    batch = _batch(seg, bad)
    batch.segments[0].spans.append(Span(0, 1, Side.MT, "Style", Severity.MINOR,
                                        evil if field == "message" else "m",
                                        evidence=evil if field == "evidence" else ""))
    out = render_summary(batch, worst=5)
    assert T.control_free(out), sorted({c for c in out if not c.isprintable() and c not in "\n\t "})


def test_sarif_counts_every_failed_segment_and_finding():
    batch = _batch(Segment("1", "营收35亿元。", "Revenue of 3.5 million yuan."), Segment("2", "", "", problem="x"))
    results = sarif_dict(batch)["runs"][0]["results"]
    assert len(results) == 1 + len(batch.segments[0].spans)
    assert [r["properties"]["segmentId"] for r in results if r["ruleId"] == "input/unreadable"] == ["2"]


def test_result_for_a_failed_segment_keeps_its_reason():
    r = SegmentResult(Segment("x", "", "", problem="why"), status="failed", error="why")
    assert r.to_dict()["error"] == "why"
