"""``--model-spans``: the QE token head's spans on the command line (off by default), with a fake QE model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mtcheck.cli import app
from tests.metrics.test_qe import SpanQE, install_fake

runner = CliRunner()

# "there!" makes SpanQE flag "there" (0.9: major); segment b has nothing to flag.
TSV = "id\tsource\tmt\na\t你好。\tHello there!\nb\t谢谢。\tThanks.\n"


@pytest.fixture
def fake_qe(monkeypatch):
    return install_fake(monkeypatch, SpanQE(with_reference=False))


def qe_spans(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    return {s["id"]: [(f["start"], f["end"], f["severity"], f["check"]) for f in s["spans"] if f["check"] == "qe-spans"]
            for s in data["segments"]}


@pytest.mark.parametrize(
    "args, config, expected",
    [
        ((), None, {"a": [], "b": []}),                                   # off by default
        (("--model-spans",), None, {"a": [(6, 11, "major", "qe-spans")], "b": []}),
        ((), "model-spans = true\n", {"a": [(6, 11, "major", "qe-spans")], "b": []}),  # or from the project file
    ],
)
def test_score_flags_model_spans_only_when_asked(fake_qe, write, tmp_path, monkeypatch, args, config, expected):
    path = write("b.tsv", TSV)
    if config is not None:
        write("mtcheck.toml", config)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["score", str(path), "--metrics", "qe", "--checks", "", "--json", str(out),
                                 *args])
    assert result.exit_code == 0, result.output
    assert qe_spans(out) == expected


def test_report_shows_model_spans(fake_qe, write, tmp_path):
    path = write("b.tsv", TSV)
    html = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(path), "--metrics", "qe", "--checks", "", "-o", str(html),
                                 "--model-spans"])
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8")
    assert "the QE model expects a human reviewer to mark this" in page
    assert "error probability 0.90" in page


def test_check_gates_on_model_spans(fake_qe, write):
    path = write("b.tsv", TSV)
    common = ["check", str(path), "--metrics", "qe", "--checks", "", "--max-major", "0", "--quiet"]
    assert runner.invoke(app, common).exit_code == 0
    result = runner.invoke(app, [*common, "--model-spans"])
    assert result.exit_code == 1, result.output
    assert "major" in result.output


@pytest.mark.parametrize("metrics", ["chrf", ""])
def test_model_spans_without_a_model_metric_is_a_usage_error(write, metrics):
    path = write("b.tsv", TSV)
    result = runner.invoke(app, ["score", str(path), "--metrics", metrics, "--model-spans"])
    assert result.exit_code == 2
    assert "--model-spans flags the spans of a model metric (qe)" in result.output


def test_model_spans_setting_must_be_a_boolean(write, tmp_path, monkeypatch):
    path = write("b.tsv", TSV)
    write("mtcheck.toml", 'model-spans = "yes"\n')
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["score", str(path), "--metrics", "chrf"])
    assert result.exit_code == 2
    assert "model-spans must be true or false, got 'yes'" in result.output


def test_streamed_job_flags_model_spans(fake_qe, write, tmp_path):
    path = write("b.tsv", TSV)
    out = tmp_path / "r.jsonl"
    result = runner.invoke(app, ["score", str(path), "--metrics", "qe", "--checks", "", "--out", str(out),
                                 "--model-spans", "--quiet"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    spans = {r["id"]: [(f["start"], f["end"], f["check"]) for f in r["spans"]]
             for r in records if r.get("record") == "segment"}
    assert spans == {"a": [(6, 11, "qe-spans")], "b": []}


def test_model_spans_from_the_config_without_a_model_metric_names_the_file(write, tmp_path, monkeypatch):
    path = write("b.tsv", TSV)
    config = write("mtcheck.toml", "model-spans = true\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["score", str(path), "--metrics", "chrf"])
    assert result.exit_code == 2
    assert f"model-spans in {config} flags the spans of a model metric (qe)" in result.output
