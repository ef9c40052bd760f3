"""`mtcheck eval --spans`: human span files against mtcheck results (figures worked out by hand below)."""

import json

import pytest
from typer.testing import CliRunner

from mtcheck.cli import app
from mtcheck.errors import EmptyInputError, InputError
from mtcheck.metaeval.spanfiles import evaluate_spans, read_gold_spans, read_result_spans

#                      0         1         2
#                      0123456789012345678901234567 8
MT_A = "Sales after the curtain rose."
MT_B = "净利润😀up 12%"           # 10 code points, one space

GOLD = [
    {"id": "a", "mt": MT_A, "rater": "r1", "spans": [{"start": 6, "end": 23, "severity": "Major"}]},   # "after the curtain"
    {"id": "a", "mt": MT_A, "rater": "r2", "spans": [{"start": 16, "end": 23, "severity": "minor"}]},  # "curtain"
    {"id": "b", "mt": MT_B, "rater": "r1", "spans": []},
]


def _results(spans_a, spans_b):
    def seg(sid, mt, spans):
        return {"id": sid, "mt": mt, "source": "源", "status": "ok",
                "spans": [{"start": a, "end": b, "side": "mt", "severity": sev, "category": "X", "message": ""}
                          for a, b, sev in spans]
                + [{"start": 0, "end": 1, "side": "source", "severity": "critical", "category": "Y", "message": ""}]}
    return [seg("a", MT_A, spans_a), seg("b", MT_B, spans_b), seg("c", "not in gold", [])]


@pytest.fixture
def files(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in GOLD), encoding="utf-8")
    res = tmp_path / "results.json"
    res.write_text(json.dumps({"segments": _results([(6, 23, "major")], [(0, 3, "minor")])}, ensure_ascii=False),
                   encoding="utf-8")
    return gold, res


def test_hand_worked_report(files):
    gold, res = files
    r = evaluate_spans(read_gold_spans(gold), read_result_spans(res))
    assert (r.segments, r.raters, r.multi_rater_segments) == (2, 2, 1)
    # Union gold: a = 6..22 (17 chars, major); b = nothing. Predicted: a 6..22 major, b 0..2 minor.
    u = r.system_vs_union
    assert (u.precision, u.recall) == pytest.approx((17 / 20, 1.0))
    assert u.span_f1 == pytest.approx(2 * 0.5 * 1 / 1.5)            # span P 1/2 (b's span hits nothing), R 1
    assert u.severity_f1 == pytest.approx(u.f1)                     # every shared character agrees on major
    assert r.system_vs_union_major.f1 == pytest.approx(1.0)
    # Against each rater: a/r1 tp 17; a/r2 tp 7 fp 10 (severity half credit); b/r1 fp 3.
    e = r.system_vs_each
    assert (e.precision, e.recall, e.pairs) == pytest.approx((24 / 37, 1.0, 3))
    sp, sr = 20.5 / 37, 20.5 / 24
    assert e.severity_f1 == pytest.approx(2 * sp * sr / (sp + sr))
    # Ceiling on a: r1 vs r2 tp 7 fp 10, r2 vs r1 tp 7 fn 10 -> 14/24; major only: r2 has no major -> 0.
    assert r.ceiling.f1 == pytest.approx(14 / 24) and r.ceiling_major.f1 == 0.0
    # Flag every non-space character: 25 in a + 9 in b; the gold's 17 in a include 2 spaces.
    f = r.flag_all_vs_union
    assert (f.precision, f.recall) == pytest.approx((15 / 34, 15 / 17))


def test_results_as_json_lines_give_the_same_report(files, tmp_path):
    gold, res = files
    lines = tmp_path / "results.jsonl"
    lines.write_text("".join(json.dumps({"record": "segment", **s}, ensure_ascii=False) + "\n"
                             for s in _results([(6, 23, "major")], [(0, 3, "minor")]))
                     + json.dumps({"record": "summary"}) + "\n", encoding="utf-8")
    g = read_gold_spans(gold)
    assert evaluate_spans(g, read_result_spans(lines)) == evaluate_spans(g, read_result_spans(res))


@pytest.mark.parametrize("line, fragment", [
    ('{"id": "x", "spans": []}', "string 'mt'"),
    ('{"id": "x", "mt": "ab", "spans": [{"start": 1, "end": 3, "severity": "major"}]}', "<= 2"),
    ('{"id": "x", "mt": "ab", "spans": [{"start": 0, "end": 1, "severity": "fatal"}]}', "minor, major or critical"),
    ('{"id": "x", "mt": "ab", "spans": [{"start": true, "end": 1, "severity": "minor"}]}', "integers"),
    ("[1, 2]", "JSON object"),
    ("{broken", "not a JSON line"),
])
def test_bad_gold_records_name_the_line(tmp_path, line, fragment):
    path = tmp_path / "g.jsonl"
    path.write_text('{"id": "ok", "mt": "fine", "spans": []}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"g\.jsonl:2: .*" + fragment.replace("(", r"\(")):
        read_gold_spans(path)


def test_empty_gold_and_mismatches_are_errors(tmp_path, files):
    gold, res = files
    empty = tmp_path / "e.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(EmptyInputError):
        read_gold_spans(empty)
    g = read_gold_spans(gold)
    results = read_result_spans(res)
    with pytest.raises(InputError, match="not in the results: b"):
        evaluate_spans(g, {k: v for k, v in results.items() if k != "b"})
    with pytest.raises(InputError, match="MT of segment.* a differs"):
        evaluate_spans(g, {**results, "a": (MT_A + "!", {})})


def test_cli_eval_spans(files, tmp_path):
    gold, res = files
    out = CliRunner().invoke(app, ["eval", "--spans", "--human", str(gold), "--metric", str(res),
                                   "--json", str(tmp_path / "r.json")])
    assert out.exit_code == 0, out.output
    assert "2 segment(s), 2 rater(s), 1 segment(s) with two or more raters" in out.output
    assert "| another rater (ceiling) | each rater | 0.583 |" in out.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["system_vs_union"]["precision"] == pytest.approx(0.85)
    bad = CliRunner().invoke(app, ["eval", "--spans", "--human", str(res), "--metric", str(res)])
    assert bad.exit_code == 2 and "results.json" in bad.output


@pytest.mark.parametrize("content, reader, fragment", [
    # found by the fuzz campaign: undecodable bytes escaped as UnicodeDecodeError
    (b'{"id": "a", "mt": "x", "spans": []}\n\x80\n', "gold", r"g\.jsonl:2: not valid UTF-8 at byte 0"),
    (b'{"record": "segment", "id": "a", "mt": "x"}\n{"record": "summary"}\n\xff\n', "results",
     r"g\.jsonl:3: not valid UTF-8"),
    (b'{"record": "segment", "id": "a", "mt": 5}\n', "results", r"g\.jsonl:1: segment record lacks or garbles"),
])
def test_undecodable_and_garbled_files_are_named(tmp_path, content, reader, fragment):
    path = tmp_path / "g.jsonl"
    path.write_bytes(content)
    read = read_gold_spans if reader == "gold" else read_result_spans
    with pytest.raises(InputError, match=fragment):
        read(path)


def test_undecodable_results_line_read_back(tmp_path):
    from mtcheck.io.results import iter_segment_results

    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"record": "summary"}\n\x80abc\n')
    with pytest.raises(InputError, match=r"r\.jsonl:2: not valid UTF-8 at byte 0"):
        list(iter_segment_results(path))
