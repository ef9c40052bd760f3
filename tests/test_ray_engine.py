"""The Ray engine (``--engine ray``): same output as the local engine, resume, errors, and reading through Ray.

The reference is the local engine on the same input (itself tested against
the in-memory pipeline in ``test_jobs.py``). Tests that need Ray share one
local instance started here (2 CPUs, no dashboard) and shut it down after;
they skip when Ray is not installed. Only chrF/BLEU and rule checks run.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mtcheck.config import ScoreConfig
from mtcheck.core import Segment
from mtcheck.errors import InputError, UsageError
from mtcheck.io import read_inputs
from mtcheck.jobs import CHUNK_RECORD, JobOptions, run_job
from tests.test_jobs import ROWS, _jsonl_text, _records

CONFIG = ScoreConfig(metrics=("chrf", "bleu"))


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def _local(path, out, **kw):
    return run_job(read_inputs([path]), out, CONFIG, JobOptions(fsync=False, **kw))


def _ray(path, out, **kw):
    return run_job(read_inputs([path]), out, CONFIG, JobOptions(fsync=False, engine="ray", **kw))


# ----------------------------------------------------------------------------- without Ray


def test_missing_ray_names_the_extra(monkeypatch):
    from mtcheck.engines import ray_engine

    monkeypatch.setitem(sys.modules, "ray", None)   # makes `import ray` fail, installed or not
    with pytest.raises(ray_engine.RayEngineError, match=r"pip install 'mtcheck\[ray\]'"):
        ray_engine.require_ray()
    with pytest.raises(ray_engine.RayEngineError, match="not installed"):
        list(ray_engine.scored_with_ray([], CONFIG, ray_engine.RaySettings()))


def test_importing_the_job_runner_does_not_import_ray():
    code = "import sys, mtcheck.jobs, mtcheck.engines.ray_engine; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("kw, message", [
    ({"address": "auto"}, "go with engine 'ray'"),
    ({"gpus_per_worker": 1.0}, "go with engine 'ray'"),
    ({"engine": "ray", "workers": 0}, "workers must be a positive"),
])
def test_invalid_ray_options(kw, message):
    with pytest.raises(UsageError, match=message):
        JobOptions(**kw)


def test_cli_address_needs_out(write):
    from typer.testing import CliRunner

    from mtcheck.cli import app

    path = write("in.jsonl", _jsonl_text(bad_line_after=None))
    result = CliRunner().invoke(app, ["score", str(path), "--metrics", "chrf", "--address", "auto"])
    assert result.exit_code == 2 and "go with --out" in result.output


# ----------------------------------------------------------------------------- same output as the local engine


def test_ray_output_equals_the_local_engine(ray_instance, write, tmp_path):
    # Chunks of 2 split d1 (3 segments) and d3 (4), so merged document records are covered too.
    path = write("in.jsonl", _jsonl_text())
    local = _local(path, tmp_path / "local.jsonl", chunk_size=2, csv_path=str(tmp_path / "local.csv"))
    remote = _ray(path, tmp_path / "ray.jsonl", chunk_size=2, workers=2, csv_path=str(tmp_path / "ray.csv"))
    assert remote.chunks == local.chunks > 4
    ours, theirs = _records(tmp_path / "ray.jsonl", keep_chunks=True), _records(tmp_path / "local.jsonl", keep_chunks=True)
    assert [r["record"] for r in ours] == [r["record"] for r in theirs]
    for a, b in zip(ours, theirs):                  # segment by segment, documents, chunk markers
        assert a == b
    assert ours[-1]["record"] == "summary" and ours[-1] == theirs[-1]
    assert remote.summary == local.summary and remote.failed == 1
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert (tmp_path / "ray.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


def test_ray_keeps_input_order_over_many_chunks(ray_instance, tmp_path):
    # 40 one-segment chunks over 2 actors: any reordering would show in the segment ids.
    rows = [(f"s{i}", f"d{i}", src, mt, refs) for i, (_, _, src, mt, refs) in enumerate(ROWS * 4)]
    path = tmp_path / "many.jsonl"
    path.write_text(_jsonl_text(rows, bad_line_after=None), encoding="utf-8")
    _ray(path, tmp_path / "ray.jsonl", chunk_size=1, workers=2)
    _local(path, tmp_path / "local.jsonl", chunk_size=1)
    ids = [r["id"] for r in _records(tmp_path / "ray.jsonl") if r["record"] == "segment"]
    assert ids == [f"s{i}" for i in range(40)]
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()


def test_ray_resumes_a_local_run(ray_instance, write, tmp_path):
    # The chunk iterator's resume bookkeeping runs in the engine's feeder thread: cutting, reuse, totals.
    path = write("in.jsonl", _jsonl_text())
    _local(path, tmp_path / "full.jsonl", chunk_size=3)
    full = (tmp_path / "full.jsonl").read_bytes()
    lines = full.splitlines(keepends=True)
    second_marker = [i for i, x in enumerate(lines) if b'"record": "chunk"' in x][1]
    (tmp_path / "part.jsonl").write_bytes(b"".join(lines[:second_marker + 2]) + lines[second_marker + 2][:17])
    result = _ray(path, tmp_path / "part.jsonl", chunk_size=3, resume=True)
    assert result.reused_chunks == 2 and result.chunks > 2
    assert (tmp_path / "part.jsonl").read_bytes() == full


def test_an_input_error_mid_stream_keeps_the_chunks_before_it(ray_instance, tmp_path):
    def segments():
        for i in range(6):
            yield Segment(id=f"s{i}", source="会议在北京举行。", mt="The meeting was held in Beijing.",
                          references=("The meeting took place in Beijing.",), doc=f"d{i}")
        raise InputError("cannot read the rest", "big.jsonl", 7)

    with pytest.raises(InputError, match="big.jsonl:7: cannot read the rest"):
        run_job(segments(), tmp_path / "o.jsonl", CONFIG, JobOptions(chunk_size=2, engine="ray", fsync=False))
    recs = _records(tmp_path / "o.jsonl", keep_chunks=True)
    # The last chunk is held back until the input says it is complete, so two of three are written.
    assert [r["record"] for r in recs].count(CHUNK_RECORD) == 2
    assert "summary" not in [r["record"] for r in recs]


def test_cli_engine_ray_equals_local(ray_instance, write, tmp_path):
    from typer.testing import CliRunner

    from mtcheck.cli import app

    path = write("in.jsonl", _jsonl_text())
    base = ["score", str(path), "--metrics", "chrf,bleu", "--chunk-size", "3", "--quiet"]
    ray_run = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "r.jsonl"), "--engine", "ray", "--workers", "2"])
    local_run = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "l.jsonl")])
    assert ray_run.exit_code == local_run.exit_code == 2, ray_run.output  # one unreadable line, in both
    assert (tmp_path / "r.jsonl").read_bytes() == (tmp_path / "l.jsonl").read_bytes()


# ----------------------------------------------------------------------------- reading through Ray


def _fields(segments):
    return [(s.id, s.doc, s.source, s.mt, tuple(s.references), s.problem) for s in segments]


def test_read_segments_from_jsonl_and_parquet_match_the_local_reader(ray_instance, write, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mtcheck.engines.ray_engine import read_segments

    path = write("in.jsonl", _jsonl_text(bad_line_after=None))
    expected = _fields(read_inputs([path]))
    got = list(read_segments([str(path)]))
    assert _fields(got) == expected
    assert [(s.origin.path, s.origin.line) for s in got][:2] == [(str(path), 1), (str(path), 2)]
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    keys = sorted({k for r in rows for k in r})
    table = pa.table({k: [r.get(k) for r in rows] for k in keys})
    pq.write_table(table, tmp_path / "in.parquet")
    assert _fields(read_segments([str(tmp_path / "in.parquet")])) == expected


def test_read_segments_reports_missing_columns_and_files(ray_instance, write, tmp_path):
    from mtcheck.engines.ray_engine import read_segments

    path = write("in.jsonl", '{"id": "x", "source": "你好"}\n')
    with pytest.raises(InputError, match="missing column"):
        list(read_segments([str(path)]))
    with pytest.raises(InputError, match="Ray cannot read it"):
        list(read_segments([str(tmp_path / "absent.jsonl")]))
    with pytest.raises(UsageError, match="cannot tell the format"):
        list(read_segments([str(tmp_path / "in.tsv")]))


def test_cli_reads_a_url_through_ray_like_the_local_file(ray_instance, write, tmp_path):
    """A URL on the command line (``local://`` here, as ``s3://`` on a cluster) is read by Ray Data."""
    from typer.testing import CliRunner

    from mtcheck.cli import app

    path = write("in.jsonl", _jsonl_text(bad_line_after=None))
    base = ["check", "--metrics", "chrf,bleu", "--chunk-size", "3", "--quiet", "--max-critical", "99"]
    url_run = CliRunner().invoke(app, [*base, f"local://{path}", "--out", str(tmp_path / "u.jsonl"),
                                       "--engine", "ray", "--sarif", str(tmp_path / "u.sarif")])
    local_run = CliRunner().invoke(app, [*base, str(path), "--out", str(tmp_path / "l.jsonl"),
                                         "--sarif", str(tmp_path / "l.sarif")])
    assert url_run.exit_code == local_run.exit_code == 0, url_run.output

    def scored(name):
        return [(r["id"], r["doc"], r["scores"], r["spans"]) for r in _records(tmp_path / name)
                if r["record"] == "segment"]

    assert scored("u.jsonl") == scored("l.jsonl") and len(scored("u.jsonl")) > 5
    results = [json.loads((tmp_path / n).read_text(encoding="utf-8"))["runs"][0]["results"]
               for n in ("u.sarif", "l.sarif")]
    assert [r["properties"] for r in results[0]] == [r["properties"] for r in results[1]]
