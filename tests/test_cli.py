"""The command line: exit codes, messages and outputs, through typer's CliRunner."""

import json

import pytest
from typer.testing import CliRunner

from mtcheck.cli import app

runner = CliRunner()

TSV = ("id\tdoc\tsource\tmt\tref\n"
       "a\td1\t阿里巴巴今天发布了财报。\tAlibaba released its results today.\tAlibaba published results today.\n"
       "b\td1\t研发投入达到350亿元。\tR&D spending reached 35 billion yuan.\tR&D investment hit 35 billion yuan.\n"
       "c\td2\t你好。\t\tHello.\n")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_help_and_version():
    assert invoke("--help").exit_code == 0
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.strip() == "mtcheck 0.1.0"


def test_score_tsv_summary_and_outputs(write, tmp_path):
    path = write("b.tsv", TSV)
    out = tmp_path / "out"
    result = invoke("score", path, "--json", out / "r.json", "--csv", out / "r.csv", "--jsonl", out / "r.jsonl")
    assert result.exit_code == 0, result.output
    assert "3 segments (3 scored, 0 failed) in 2 document(s)" in result.output
    assert "metric:chrF|nrefs:1" in result.output
    assert "CRITICAL Accuracy/Omission" in result.output      # the empty MT of segment c
    data = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in data["segments"]] == ["a", "b", "c"]
    assert (out / "r.csv").read_text(encoding="utf-8").splitlines()[0].startswith("id,doc,status,error,mqm_est,chrf,bleu,ter")
    records = [json.loads(x) for x in (out / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["record"] for r in records] == ["segment"] * 3 + ["document"] * 2 + ["summary"]
    assert f"wrote {out / 'r.json'}" in result.output


def test_score_json_to_stdout_is_pure_json(write):
    result = invoke("score", write("b.tsv", TSV), "--json", "-", "--metrics", "chrf")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data["signatures"]) == ["mqm_est", "chrf"]
    assert data["summary"]["headline"] == "mqm_est" and data["summary"]["headline_score"] == -25 / 3


def test_score_text_files(write):
    s = write("s.zh", "你好。\n谢谢。\n")
    t = write("t.en", "Hello.\nThanks.\n")
    r = write("r.en", "Hello.\nThank you.\n")
    result = invoke("score", "-s", s, "-t", t, "-r", r, "--metrics", "chrf,bleu", "--json", "-")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["segments"][0]["scores"]["chrf"] == pytest.approx(100.0)


@pytest.mark.parametrize(
    "files, extra, fragment",
    [
        ({"s.zh": "一\n二\n三\n", "t.en": "one\ntwo\n"}, [], "line counts differ"),
        ({"s.zh": b"\xe4\xb8\n", "t.en": "one\n"}, [], "invalid utf-8"),
        ({"b.tsv": "src\tmt\nx\ty\n"}, [], "missing column(s) source"),
        ({"e.tsv": ""}, [], "file is empty"),
        ({"b.tsv": TSV}, ["--metrics", "comet"], "unknown metric(s): comet"),
        ({"b.tsv": TSV}, ["--checks", "spellcheck"], "unknown check(s): spellcheck"),
        ({"b.xlsx": "x"}, [], "cannot tell the format"),
        ({"b.tsv": TSV}, ["--encoding", "nope"], "unknown encoding"),
    ],
)
def test_input_errors_exit_2_with_one_line(write, files, extra, fragment):
    paths = [write(name, content) for name, content in files.items()]
    args = ["-s", paths[0], "-t", paths[1]] if len(paths) == 2 else [paths[0]]
    result = invoke("score", *args, *extra)
    assert result.exit_code == 2
    assert fragment.lower() in result.stderr.lower()
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_input_file(tmp_path):
    result = invoke("score", "-s", tmp_path / "none.zh", "-t", tmp_path / "none.en")
    assert result.exit_code == 2 and "cannot open file" in result.stderr


def test_bad_segment_reported_others_kept(write, tmp_path):
    path = write("b.jsonl", '{"source": "你好。", "mt": "Hello."}\n{broken\n{"source": "谢谢。", "mt": "Thanks."}\n')
    result = invoke("score", path, "--json", tmp_path / "r.json")
    assert result.exit_code == 2
    assert "1 of 3 segment(s) could not be read (line2)" in result.stderr
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in data["segments"]] == ["ok", "failed", "ok"]
    assert "invalid JSON" in data["segments"][1]["error"]


def test_no_input_is_usage_error():
    result = invoke("score")
    assert result.exit_code == 2 and "no input" in result.stderr


def test_docpair(write):
    src = write("doc.zh", "阿里巴巴今天发布了财报。公司收入增长了百分之三十二。\n净利润为7800万元。\n")
    mt = write("doc.en", "Alibaba released its results today. The company's revenue grew by 32%.\n"
                         "Net profit was 78 million yuan.\n")
    result = invoke("score", "-s", src, "-t", mt, "--format", "docpair", "--json", "-")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [s["metadata"]["alignment"] for s in data["segments"]] == ["1-1", "1-1", "1-1"]
    assert data["segments"][2]["mt"] == "Net profit was 78 million yuan."
    assert data["segments"][0]["doc"] == "doc"


def test_ctrl_c_exits_130_without_traceback(write, monkeypatch):
    import mtcheck.pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mtcheck.pipeline, "score_batch", interrupted)
    result = invoke("score", write("b.tsv", TSV), "--metrics", "chrf")
    assert result.exit_code == 130 and result.stderr.strip() == "mtcheck: interrupted"
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command, outputs", [
    ("score", ["--json", "r.json", "--csv", "r.csv", "--jsonl", "r.jsonl"]),
    ("check", ["--json", "r.json"]),
    ("report", ["-o", "r.html"]),
])
def test_ctrl_c_writes_partial_results_with_every_segment(write, monkeypatch, tmp_path, command, outputs):
    import csv

    import mtcheck.pipeline

    real = mtcheck.pipeline.run_checks
    calls = {"n": 0}

    def run_checks(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:           # Ctrl-C while the second document (d2) is checked
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(mtcheck.pipeline, "run_checks", run_checks)
    monkeypatch.chdir(tmp_path)
    result = invoke(command, write("b.tsv", TSV), "--metrics", "chrf", *outputs)
    assert result.exit_code == 130 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1] == "mtcheck: interrupted"
    assert "2 of 3 segment(s) checked, the others marked 'not checked'" in result.stderr
    if command == "report":
        html = (tmp_path / "r.html").read_text(encoding="utf-8")
        assert "interrupted (Ctrl-C): 2 of 3 segment(s) checked" in html and "not checked: the run was" in html
        return
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [(s["id"], s["status"]) for s in data["segments"]] == [("a", "ok"), ("b", "ok"), ("c", "failed")]
    assert data["segments"][2]["error"].startswith("not checked")
    if command == "score":
        with open(tmp_path / "r.csv", encoding="utf-8", newline="") as fh:
            assert [row[0] for row in csv.reader(fh)][1:] == ["a", "b", "c"]
        lines = (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(x)["record"] for x in lines].count("segment") == 3
