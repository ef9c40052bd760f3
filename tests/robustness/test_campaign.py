"""The fuzz campaign script itself: a short run per kind of target, as CI would run it."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import REPO


def _fuzz_main():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import fuzz
    finally:
        sys.path.remove(str(REPO / "scripts"))
    return fuzz.main


def test_every_target_is_listed(capsys):
    assert _fuzz_main()(["--list"]) == 0
    names = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    expected = {"reader:text", "reader:tsv", "reader:csv", "reader:jsonl", "reader:json", "reader:xliff",
                "reader:po", "reader:tmx", "reader:docpair", "reader:glossary", "reader:dataset-record",
                "reader:dataset-file", "check:numbers", "check:dates", "check:terms", "check:empty",
                "check:alignment", "check:untranslated", "check:punctuation", "check:placeholders",
                "check:length", "parse:quantities", "split", "align", "spans:merge", "batch",
                "roundtrip:csv", "roundtrip:jsonl"}
    assert expected <= names


def test_short_run_reports_counts_and_passes(capsys, tmp_path):
    out = tmp_path / "f.json"
    rc = _fuzz_main()(["--examples", "25", "--seed", "3", "--targets", "reader:tsv,check:numbers,spans:merge",
                       "--json", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    rows = {line.split()[0]: line.split() for line in printed.splitlines()[1:-1]}
    assert set(rows) == {"reader:tsv", "check:numbers", "spans:merge"}
    assert all(int(r[2]) >= 25 and r[3] == "0" for r in rows.values())
    import json

    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["failures"] == 0 and data["total_inputs"] >= 75


def test_a_failing_target_is_reported_and_sets_the_exit_code(capsys, monkeypatch):
    from tests.robustness import targets as T

    def broken(seg):
        raise T.TargetFailure("planted")

    monkeypatch.setattr(T, "check_target", lambda name: broken)
    rc = _fuzz_main()(["--examples", "5", "--targets", "check:empty"])
    printed = capsys.readouterr().out
    assert rc == 1 and "FAILURE TargetFailure: planted" in printed


@pytest.mark.parametrize("args", [["--targets", "nothing:*", "--examples", "1"]])
def test_unknown_target_pattern_is_a_usage_error(args):
    with pytest.raises(SystemExit, match="no target matches"):
        _fuzz_main()(args)
