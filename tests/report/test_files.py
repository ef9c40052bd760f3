import csv
import io
import json
from importlib import resources

import jsonschema
import pytest

from mtcheck.core import Segment
from mtcheck.pipeline import score_batch
from mtcheck.report import render_summary, write_csv, write_json, write_jsonl

SCHEMA = json.loads(resources.files("mtcheck.report").joinpath("schema/results-1.json").read_text(encoding="utf-8"))

BATCH = [
    Segment("1", "阿里巴巴发布财报。", "Alibaba released its results.", ("Alibaba published its results.",), "d1"),
    Segment("2", "你好。", "", ("Hello.",), "d1"),
    Segment("3", "", "", (), "d1", problem="b.jsonl:3: invalid JSON"),
    Segment("4", "谢谢\x1b[31m。", "Thanks\x1b[2J\x07.", ("Thanks.",), None),
]


@pytest.fixture(scope="module")
def batch():
    return score_batch(BATCH)


def test_json_validates_against_schema(batch, tmp_path):
    write_json(batch, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    assert data["schema_version"] == "1.1"
    assert len(data["segments"]) == 4


def test_schema_rejects_a_broken_result(batch):
    data = batch.to_dict()
    data["segments"][1]["spans"][0]["severity"] = "catastrophic"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_jsonl_records(batch, tmp_path):
    write_jsonl(batch, tmp_path / "r.jsonl")
    recs = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["record"] for r in recs] == ["segment"] * 4 + ["document"] * 2 + ["summary"]
    assert recs[-1]["failed_ids"] == ["3"]


def test_csv_rows(batch, tmp_path):
    write_csv(batch, tmp_path / "r.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8"))))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[1]["critical"] == "1" and rows[1]["findings"] == "critical:Accuracy/Omission@source[0:3]"
    assert rows[2]["status"] == "failed" and rows[2]["chrf"] == ""
    assert rows[3]["chrf"] != "" and rows[2]["chrf"] == ""


def test_terminal_summary_strips_control_characters(batch):
    text = render_summary(batch, worst=10)
    assert "\x1b" not in text and "\x07" not in text
    assert "Thanks\ufffd[2J\ufffd." in text  # shown, but defused
    assert "Failed segments (1)" in text and "b.jsonl:3: invalid JSON" in text
