"""The short fuzz campaign CI runs: every target, about a minute in all, a fixed seed.

``make test`` runs it (it is ``slow``, which still runs there). It drives
``scripts/fuzz.py`` the way a person would, in its own process with the
project's interpreter and the hypothesis engine (atheris may be absent), and
reads the figures from its ``--json`` output: every target must have been
tried on at least one input and none may have failed. A failure prints the
minimal input and traceback the script recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

#: The whole campaign's share of CI time, split evenly between the targets by the script. The
#: budget is checked between batches, so batches are small (10 inputs): the slowest targets take
#: about 0.2 s an input, and a default batch of 500 would overrun the budget many times over.
SECONDS = 60


@pytest.mark.slow
def test_short_campaign_tries_every_target_and_finds_nothing(tmp_path):
    out = tmp_path / "fuzz.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "fuzz.py"), "--engine", "hypothesis", "--seconds", str(SECONDS),
         "--seed", "11", "--batch", "10", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, errors="replace", timeout=SECONDS * 10,
    )
    assert out.is_file(), f"no JSON written (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    data = json.loads(out.read_text(encoding="utf-8"))
    listed = subprocess.run([sys.executable, str(REPO / "scripts" / "fuzz.py"), "--list"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    expected = {line.split()[0] for line in listed.splitlines() if line.strip()}
    targets = {t["name"]: t for t in data["targets"]}
    assert set(targets) == expected
    assert all(t["engine"] == "hypothesis" for t in targets.values())
    untried = sorted(name for name, t in targets.items() if t["inputs"] <= 0)
    assert not untried, f"targets that tried no input: {untried}"
    failures = {name: t["failures"] for name, t in targets.items() if t["failures"]}
    assert not failures, json.dumps(failures, indent=2, ensure_ascii=False)[:6000]
    assert data["failures"] == 0 and proc.returncode == 0, proc.stdout[-3000:]
