"""The memory ceiling: how the limit is chosen, that it interrupts, and that the CLI keeps partial results."""

import json
import os
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

import mtcheck.resources as resources
from mtcheck.cli import app
from mtcheck.errors import ConfigError
from mtcheck.resources import MemoryCeiling, resolve_limit

TSV = ("id\tdoc\tsource\tmt\tref\n"
       "a\td1\t你好。\tHello.\tHello.\n"
       "b\td2\t谢谢。\tThanks.\tThank you.\n"
       "c\td3\t再见。\tBye.\tGoodbye.\n")


@pytest.mark.parametrize("cli, env, config, expected", [
    (512, "1024", 2048, 512.0),        # the command line wins
    (None, "1024", 2048, 1024.0),      # then the environment
    (None, None, 2048, 2048.0),        # then the config file
    (0, "1024", 2048, None),           # 0 switches the ceiling off
    (None, "0", None, None),
    (None, "", 300.5, 300.5),          # an empty variable counts as unset
])
def test_limit_precedence(monkeypatch, cli, env, config, expected):
    if env is None:
        monkeypatch.delenv(resources.ENV, raising=False)
    else:
        monkeypatch.setenv(resources.ENV, env)
    assert resolve_limit(cli, config, "mtcheck.toml") == expected


def test_default_is_a_share_of_physical_memory(monkeypatch):
    monkeypatch.delenv(resources.ENV, raising=False)
    monkeypatch.setattr(resources, "physical_mb", lambda: 1000.0)
    assert resolve_limit(None, None, "x") == pytest.approx(900.0)
    monkeypatch.setattr(resources, "physical_mb", lambda: None)
    assert resolve_limit(None, None, "x") is None


@pytest.mark.parametrize("env, config, fragment", [
    ("lots", None, "MTCHECK_MAX_MEMORY_MB must be a number"),
    ("-5", None, "non-negative"),
    (None, True, "max-memory-mb must be a non-negative"),
    (None, "nan", "non-negative"),
])
def test_bad_limits_are_named(monkeypatch, env, config, fragment):
    if env is None:
        monkeypatch.delenv(resources.ENV, raising=False)
    else:
        monkeypatch.setenv(resources.ENV, env)
    with pytest.raises(ConfigError, match=fragment):
        resolve_limit(None, config, "mtcheck.toml")


def _wait_for_interrupt(seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.005)


def test_ceiling_interrupts_the_main_thread():
    with pytest.raises(KeyboardInterrupt):
        with MemoryCeiling(1.0, interval=0.01) as ceiling:   # this process holds far more than 1 MiB
            _wait_for_interrupt()
    assert ceiling.tripped is not None and ceiling.tripped > 1.0


def test_no_ceiling_never_interrupts():
    with MemoryCeiling(None, interval=0.01) as ceiling:
        time.sleep(0.1)
    assert ceiling.tripped is None


@pytest.fixture
def high_water_during_checks(monkeypatch):
    """Memory looks low until the second document is being checked, then far over any ceiling."""
    import mtcheck.pipeline

    state = {"calls": 0, "high": False}
    monkeypatch.setattr(resources, "rss_mb", lambda: 10**6 if state["high"] else 1.0)
    real = mtcheck.pipeline.run_checks

    def run_checks(*args, **kwargs):
        state["calls"] += 1
        if state["calls"] == 2:
            state["high"] = True
            _wait_for_interrupt()
        return real(*args, **kwargs)

    monkeypatch.setattr(mtcheck.pipeline, "run_checks", run_checks)
    return state


def test_cli_stops_at_the_ceiling_and_keeps_partial_results(tmp_path, monkeypatch, high_water_during_checks):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.tsv").write_text(TSV, encoding="utf-8")
    result = CliRunner().invoke(app, ["score", "b.tsv", "--metrics", "chrf", "--max-memory", "100",
                                      "--json", "r.json"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "over the ceiling of 100 MiB" in result.stderr and "--out FILE" in result.stderr
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [(s["id"], s["status"]) for s in data["segments"]] == [("a", "ok"), ("b", "failed"), ("c", "failed")]


def test_streamed_job_at_the_ceiling_suggests_resume(tmp_path, monkeypatch, high_water_during_checks):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.tsv").write_text(TSV, encoding="utf-8")
    # One document per chunk: the first chunk is committed before the second is checked.
    result = CliRunner().invoke(app, ["score", "b.tsv", "--metrics", "chrf", "--max-memory", "100",
                                      "--out", "r.jsonl", "--chunk-size", "1"])
    assert result.exit_code == 2 and "--resume" in result.stderr
    records = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records if r["record"] == "segment"] == ["a"]


def test_ceiling_interrupts_even_when_sigint_is_ignored():
    """Found by the full suite: a library had left SIGINT ignored, so interrupt_main() did nothing."""
    import signal

    saved = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(KeyboardInterrupt):
            with MemoryCeiling(1.0, interval=0.01):
                _wait_for_interrupt()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN     # restored afterwards
    finally:
        signal.signal(signal.SIGINT, saved)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (Linux)")
def test_peak_rss_of_a_child_is_its_own_not_its_parents():
    ballast = bytearray(400 * 2**20)  # the parent holds 400 MiB, touched
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    code = ("import json, resource; from mtcheck.resources import peak_rss_mb; "
            "print(json.dumps([peak_rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))")
    own, maxrss = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                            check=True).stdout)
    del ballast
    assert own < 200  # a bare interpreter plus mtcheck's package import
    # What ru_maxrss reports instead where Linux keeps the parent's size across exec (vfork):
    # then the difference is the parent's ballast. Elsewhere the two agree.
    assert maxrss > 400 or abs(maxrss - own) < 50


def test_peak_rss_is_at_least_current_rss():
    peak, now = resources.peak_rss_mb(), resources.rss_mb()
    assert peak is not None and now is not None and peak >= now * 0.99
