"""Streaming jobs: chunking, exact batch scores, resume after a kill, and worker processes.

The reference for every comparison is the in-memory pipeline
(:func:`mtcheck.pipeline.score_batch` written by ``write_jsonl``/``write_csv``)
or sacrebleu itself on the whole corpus; only chrF/BLEU/TER and rule checks
run, so no model is needed.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
import sacrebleu

from mtcheck.config import ScoreConfig
from mtcheck.core import Segment
from mtcheck.errors import UsageError
from mtcheck.io import read_inputs
from mtcheck.jobs import (
    CHUNK_RECORD, TEST_DELAY_ENV, JobError, JobOptions, _MeanAcc, chunk_segments, run_job, unique_ids,
)
from mtcheck.pipeline import score_batch
from mtcheck.pipeline import unique_ids as batch_unique_ids
from mtcheck.report.files import write_csv, write_jsonl

REPO = Path(__file__).resolve().parent.parent
CONFIG = ScoreConfig(metrics=("chrf", "bleu", "ter"))

# Four documents (sizes 3, 2, 4, 1), one segment without a reference, one with two, one unreadable line,
# a number error (major finding) and a duplicate id across documents.
ROWS = [
    ("a1", "d1", "阿里巴巴今天发布了财报。", "Alibaba released its results today.", ["Alibaba published results today."]),
    ("a2", "d1", "研发投入达到350亿元。", "R&D spending reached 53 billion yuan.", ["R&D investment hit 35 billion yuan."]),
    ("a3", "d1", "阿里巴巴的营收增长了10%。", "Alibaba's revenue grew by 10%.", ["Alibaba's revenue rose 10%.", "Revenue at Alibaba grew 10 percent."]),
    ("b1", "d2", "天气很好。", "The weather is good.", []),
    ("b2", "d2", "我们去公园。", "We go to the park.", ["We are going to the park."]),
    ("c1", "d3", "会议在北京举行。", "The meeting was held in Beijing.", ["The meeting took place in Beijing."]),
    ("c2", "d3", "共有200人参加。", "A total of 200 people attended.", ["200 people attended in total."]),
    ("a1", "d3", "会议持续了三天。", "The meeting lasted three days.", ["The meeting went on for three days."]),
    ("c4", "d3", "下次会议在上海。", "The next meeting is in Shanghai.", ["The next meeting will be in Shanghai."]),
    ("e1", "d4", "谢谢。", "Thank you.", ["Thanks."]),
]


def _jsonl_text(rows=ROWS, bad_line_after: int | None = 4) -> str:
    lines = []
    for i, (sid, doc, src, mt, refs) in enumerate(rows):
        rec = {"id": sid, "doc": doc, "source": src, "mt": mt}
        for k, r in enumerate(refs):
            rec["ref" if k == 0 else f"ref{k + 1}"] = r
        lines.append(json.dumps(rec, ensure_ascii=False))
        if bad_line_after is not None and i == bad_line_after:
            lines.append('{"id": "broken", "source": ')
    return "\n".join(lines) + "\n"


def _records(path: Path, keep_chunks: bool = False) -> list[dict]:
    recs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    return recs if keep_chunks else [r for r in recs if r["record"] != CHUNK_RECORD]


def _in_memory(path: Path, tmp_path: Path, config=CONFIG) -> tuple[list[dict], str]:
    batch = score_batch(read_inputs([path]), config)
    write_jsonl(batch, tmp_path / "mem.jsonl")
    write_csv(batch, tmp_path / "mem.csv")
    return _records(tmp_path / "mem.jsonl"), (tmp_path / "mem.csv").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- chunking


def _segs(docs: str) -> list[Segment]:
    """``"aab-"`` → segments of documents a, a, b and one without a document."""
    return [Segment(id=str(i), source="源", mt="mt", doc=None if d == "-" else d) for i, d in enumerate(docs)]


@pytest.mark.parametrize("docs, size, expected", [
    # Whole documents fill a chunk until the next one does not fit.
    ("aabbbcc", 4, ["aa", "bbb", "cc"]),
    ("aabbcc", 4, ["aabb", "cc"]),
    ("abc", 10, ["abc"]),
    # A document longer than a chunk is split into parts of the chunk size; its tail shares a chunk.
    ("aaaaab", 2, ["aa", "aa", "ab"]),
    ("baaaaa", 2, ["b", "aa", "aa", "a"]),
    # Segments without a document id are one document, as in score_batch.
    ("---", 2, ["--", "-"]),
    ("a", 1, ["a"]),
])
def test_chunks_keep_documents_whole(docs, size, expected):
    chunks = list(chunk_segments(_segs(docs), size))
    got = ["".join(s.doc or "-" for s in c.segments) for c in chunks]
    assert got == expected
    assert [c.index for c in chunks] == list(range(len(expected)))
    assert all(len(c.segments) <= size for c in chunks)
    assert [s.id for c in chunks for s in c.segments] == [str(i) for i in range(len(docs))]


def test_split_document_is_marked_and_noted():
    chunks = list(chunk_segments(_segs("baaaaac"), 2))
    assert [(c.continues_from, c.continues_into) for c in chunks] == [
        (None, None), (None, "a"), ("a", "a"), ("a", None)]
    notes = [n for c in chunks for n in c.notes]
    assert len(notes) == 1 and "document a has more than 2 segments" in notes[0]


def test_non_contiguous_document_is_noted():
    chunks = list(chunk_segments(_segs("aba"), 10))
    assert [n for c in chunks for n in c.notes] and "document a is not contiguous" in chunks[0].notes[0]


def test_chunking_is_lazy():
    def endless():
        i = 0
        while True:
            yield Segment(id=str(i), source="源", mt="mt", doc=str(i // 3))
            i += 1

    first = next(iter(chunk_segments(endless(), 7)))
    assert [s.doc for s in first.segments] == ["0"] * 3 + ["1"] * 3


def test_unique_ids_across_the_stream_match_the_pipeline():
    segs = [Segment(id=i, source="s", mt="m") for i in ["x", "y", "x", "z", "x", "y"]]
    assert list(unique_ids(segs)) == batch_unique_ids(segs)


# ----------------------------------------------------------------------------- exact aggregates


def test_mean_is_exact_across_chunks():
    # fsum of these is 2.0; a float running sum, or a mean of chunk means, gets it wrong.
    values = [1e16, 1.0, -1e16, 1.0, 0.1, 0.2, -0.3]
    parts = [_MeanAcc() for _ in range(3)]
    for i, v in enumerate(values):
        parts[i % 3].add(v, None, 1)
    total = _MeanAcc()
    for p in parts:
        total.merge(p)
    exact = float(sum(Fraction(v) for v in values)) / len(values)
    assert total.value() == exact == math.fsum(values) / len(values)
    assert sum(values) / len(values) != exact  # the naive running sum would be wrong here


# ----------------------------------------------------------------------------- equality with the pipeline


@pytest.mark.parametrize("chunk_size", [4, 5, 100])
def test_streamed_output_equals_in_memory(write, tmp_path, chunk_size):
    path = write("in.jsonl", _jsonl_text())
    mem, mem_csv = _in_memory(path, tmp_path)
    result = run_job(read_inputs([path]), tmp_path / "job.jsonl", CONFIG,
                     JobOptions(chunk_size=chunk_size, csv_path=str(tmp_path / "job.csv"), fsync=False))
    job = _records(tmp_path / "job.jsonl")
    kinds = [r["record"] for r in job]
    assert kinds.count("segment") == 11 and kinds[-1] == "summary"
    assert [r for r in job if r["record"] == "segment"] == [r for r in mem if r["record"] == "segment"]
    assert [r for r in job if r["record"] == "document"] == [r for r in mem if r["record"] == "document"]
    assert job[-1] == mem[-1]  # summary: scores, signatures, counts, failed ids, notes
    assert (tmp_path / "job.csv").read_text(encoding="utf-8") == mem_csv
    assert result.failed == 1 and result.chunks >= (1 if chunk_size == 100 else 3)


def test_corpus_scores_equal_sacrebleu_on_the_whole_corpus(write, tmp_path):
    # Independent of mtcheck's own corpus code: sacrebleu's corpus functions on the readable rows.
    rows = [r for r in ROWS if len(r[4]) == 1]
    path = write("in.jsonl", _jsonl_text(rows, bad_line_after=None))
    result = run_job(read_inputs([path]), tmp_path / "job.jsonl", CONFIG, JobOptions(chunk_size=2, fsync=False))
    hyps, refs = [r[3] for r in rows], [[r[4][0] for r in rows]]
    scores = result.summary["scores"]
    assert scores["chrf"] == sacrebleu.corpus_chrf(hyps, refs).score
    assert scores["bleu"] == sacrebleu.corpus_bleu(hyps, refs).score
    assert scores["ter"] == sacrebleu.corpus_ter(hyps, refs).score
    # and not the mean of the chunk scores
    chunk_means = [sacrebleu.corpus_bleu(hyps[i:i + 2], [refs[0][i:i + 2]]).score for i in range(0, len(hyps), 2)]
    assert scores["bleu"] != pytest.approx(sum(chunk_means) / len(chunk_means))


def test_chunk_aggregates_use_the_kept_statistics_or_extract_them():
    from mtcheck.jobs import _aggregate, _plan

    segs = [Segment(id=sid, source=src, mt=mt, references=tuple(refs), doc=doc) for sid, doc, src, mt, refs in ROWS]
    batch = score_batch(batch_unique_ids(segs), CONFIG)
    plan = _plan(list(batch.segments[0].scores), CONFIG)
    kept = _aggregate(batch.segments, plan).to_json()
    for r in batch.segments:
        r.statistics.clear()  # as for results that did not come from this process's pipeline
    assert _aggregate(batch.segments, plan).to_json() == kept
    assert set(plan.stats) == {"chrf", "bleu", "ter"}


def test_split_documents_merge_into_the_in_memory_document_records(write, tmp_path):
    # Segment-level checks only, so a document checked in parts has the same findings as whole.
    config = ScoreConfig(metrics=("chrf", "bleu", "ter"), checks=("numbers", "empty", "untranslated"))
    path = write("in.jsonl", _jsonl_text())
    mem, _ = _in_memory(path, tmp_path, config)
    run_job(read_inputs([path]), tmp_path / "job.jsonl", config, JobOptions(chunk_size=2, fsync=False))
    job = _records(tmp_path / "job.jsonl")
    for kind in ("segment", "document"):  # the stream interleaves them; each in input order
        assert [r for r in job if r["record"] == kind] == [r for r in mem if r["record"] == kind]
    assert job[-1]["scores"] == mem[-1]["scores"] and job[-1]["signatures"] == mem[-1]["signatures"]
    assert any("has more than 2 segments" in n for n in job[-1]["notes"])


# ----------------------------------------------------------------------------- resume


def _run(path, out, **kw):
    return run_job(read_inputs([path]), out, CONFIG, JobOptions(chunk_size=3, fsync=False, **kw))


def test_resume_after_a_torn_last_line_equals_an_uninterrupted_run(write, tmp_path):
    path = write("in.jsonl", _jsonl_text())
    _run(path, tmp_path / "full.jsonl", csv_path=str(tmp_path / "full.csv"))
    full = (tmp_path / "full.jsonl").read_bytes()
    lines = full.splitlines(keepends=True)
    second_marker = [i for i, x in enumerate(lines) if b'"record": "chunk"' in x][1]
    # Killed while writing the line after the second chunk: half a line, and a CSV with an extra row.
    (tmp_path / "part.jsonl").write_bytes(b"".join(lines[:second_marker + 2]) + lines[second_marker + 2][:17])
    (tmp_path / "part.csv").write_bytes((tmp_path / "full.csv").read_bytes())
    result = _run(path, tmp_path / "part.jsonl", resume=True, csv_path=str(tmp_path / "part.csv"))
    assert result.reused_chunks == 2 and result.chunks > 2
    assert any("incomplete last line" in n for n in result.resume_notes)
    assert (tmp_path / "part.jsonl").read_bytes() == full
    assert (tmp_path / "part.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()


def test_resume_of_a_finished_run_reuses_everything(write, tmp_path):
    path = write("in.jsonl", _jsonl_text())
    first = _run(path, tmp_path / "o.jsonl")
    before = (tmp_path / "o.jsonl").read_bytes()
    again = _run(path, tmp_path / "o.jsonl", resume=True)
    assert again.reused_chunks == again.chunks == first.chunks
    assert (tmp_path / "o.jsonl").read_bytes() == before


@pytest.mark.parametrize("what", ["mt", "ref", "settings"])
def test_an_edited_segment_or_setting_is_rescored(write, tmp_path, what):
    path = write("in.jsonl", _jsonl_text())
    _run(path, tmp_path / "o.jsonl")
    rows = [list(r) for r in ROWS]
    if what == "mt":
        rows[6][3] = "Two hundred people came."        # c2, in the third chunk
    elif what == "ref":
        rows[6][4] = ["Exactly 200 people attended."]
    edited = write("in.jsonl", _jsonl_text([tuple(r) for r in rows]))  # same file, so same origins
    config = CONFIG if what != "settings" else ScoreConfig(metrics=("chrf", "bleu", "ter"), lowercase=True)
    result = run_job(read_inputs([edited]), tmp_path / "o.jsonl", config,
                     JobOptions(chunk_size=3, fsync=False, resume=True))
    fresh = run_job(read_inputs([edited]), tmp_path / "fresh.jsonl", config, JobOptions(chunk_size=3, fsync=False))
    assert result.reused_chunks == (0 if what == "settings" else 2)
    assert (tmp_path / "o.jsonl").read_bytes() == (tmp_path / "fresh.jsonl").read_bytes()
    assert fresh.reused_chunks == 0


def test_resume_refuses_a_file_that_is_not_job_output(write, tmp_path):
    path = write("in.jsonl", _jsonl_text())
    other = write("other.jsonl", '{"id": 1}\n')
    with pytest.raises(JobError, match="other.jsonl:1: expected a JSON object with a 'record' key"):
        _run(path, other, resume=True)


def test_resume_after_sigkill_of_the_cli_equals_an_uninterrupted_run(tmp_path):
    rows = [(f"s{i}", f"d{i // 2}", src, mt, refs) for i, (_, _, src, mt, refs) in enumerate(ROWS * 3)]
    path = tmp_path / "big.jsonl"
    path.write_text(_jsonl_text(rows, bad_line_after=None), encoding="utf-8")
    cmd = [sys.executable, "-m", "mtcheck.cli", "score", str(path), "--metrics", "chrf,bleu,ter",
           "--chunk-size", "2", "--quiet"]
    env = {**os.environ, TEST_DELAY_ENV: "0.4"}
    proc = subprocess.Popen([*cmd, "--out", str(tmp_path / "killed.jsonl"), "--csv", str(tmp_path / "killed.csv")],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    out = tmp_path / "killed.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b'"record": "chunk"') >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read()!r}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_text = out.read_text(encoding="utf-8")
    assert '"record": "summary"' not in killed_text
    done = subprocess.run([*cmd, "--out", str(out), "--csv", str(tmp_path / "killed.csv"), "--resume"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "chunk(s) reused" in done.stderr
    reused = int(done.stderr.split("resumed ")[1].split(": ")[1].split(" of")[0])
    assert reused >= 3
    whole = subprocess.run([*cmd, "--out", str(tmp_path / "whole.jsonl"), "--csv", str(tmp_path / "whole.csv")],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr
    resumed, uninterrupted = _records(out, keep_chunks=True), _records(tmp_path / "whole.jsonl", keep_chunks=True)
    assert len(resumed) == len(uninterrupted)
    for a, b in zip(resumed, uninterrupted):  # segment by segment, documents, chunk markers and summary
        assert a == b
    assert (tmp_path / "killed.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


# ----------------------------------------------------------------------------- workers and the CLI


def test_two_workers_give_the_same_output_as_one(write, tmp_path):
    path = write("in.jsonl", _jsonl_text())
    one = run_job(read_inputs([path]), tmp_path / "w1.jsonl", CONFIG,
                  JobOptions(chunk_size=2, fsync=False, csv_path=str(tmp_path / "w1.csv")))
    two = run_job(read_inputs([path]), tmp_path / "w2.jsonl", CONFIG,
                  JobOptions(chunk_size=2, fsync=False, workers=2, csv_path=str(tmp_path / "w2.csv")))
    assert one.chunks == two.chunks > 2
    assert (tmp_path / "w2.jsonl").read_bytes() == (tmp_path / "w1.jsonl").read_bytes()
    assert (tmp_path / "w2.csv").read_bytes() == (tmp_path / "w1.csv").read_bytes()


@pytest.mark.parametrize("kw, message", [
    ({"chunk_size": 0}, "chunk size must be a positive"),
    ({"workers": 0}, "workers must be a positive"),
    ({"engine": "spark"}, "unknown engine 'spark'"),
])
def test_invalid_options(kw, message):
    with pytest.raises(UsageError, match=message):
        JobOptions(**kw)


@pytest.mark.parametrize("args, message", [
    (["--resume"], "go with --out"),
    (["--workers", "2"], "go with --out"),
    (["--out", "o.jsonl", "--json", "r.json"], "either --out or --json"),
    (["--out", "o.jsonl", "--jsonl", "r.jsonl"], "either --out or --jsonl"),
    (["--out", "-"], "must be files"),
])
def test_cli_flag_combinations(write, args, message):
    from typer.testing import CliRunner

    from mtcheck.cli import app

    path = write("in.jsonl", _jsonl_text(bad_line_after=None))
    result = CliRunner().invoke(app, ["score", str(path), "--metrics", "chrf", *args])
    assert result.exit_code == 2 and message in result.output


def test_cli_out_writes_the_stream_and_reports_failed_lines(write, tmp_path):
    from typer.testing import CliRunner

    from mtcheck.cli import app

    path = write("in.jsonl", _jsonl_text())
    result = CliRunner().invoke(app, ["score", str(path), "--metrics", "chrf,bleu,ter", "--out",
                                      str(tmp_path / "o.jsonl"), "--chunk-size", "4"])
    assert result.exit_code == 2, result.output          # one unreadable line, as `score` without --out
    assert "11 segments (10 scored, 1 failed) in 5 document(s)" in result.output
    assert "1 of 11 segment(s) could not be read (line6)" in result.output
    mem, _ = _in_memory(path, tmp_path)
    assert _records(tmp_path / "o.jsonl")[-1] == mem[-1]


def test_non_contiguous_notes_are_capped():
    from mtcheck.jobs import _MAX_REAPPEAR_NOTES

    docs = "ab" * (_MAX_REAPPEAR_NOTES + 5)   # every run after the first two reappears
    notes = [n for c in chunk_segments(_segs(docs), 1000) for n in c.notes]
    reappearing = len(docs) - 2
    assert len(notes) == _MAX_REAPPEAR_NOTES + 1
    assert notes[-1].startswith(f"{reappearing - _MAX_REAPPEAR_NOTES} more non-contiguous")
