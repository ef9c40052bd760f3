"""How often the rule checks flag human translations (a false-flag estimate).

Runs the terms, untranslated, punctuation, placeholders and length checks
over newstest2021 zh→en, source vs human reference A (1,948 line pairs),
and prints, per check, the share of segments with at least one finding, by
highest severity. Human references should mostly pass: a check that flags
more than 5% of them at major or above is too noisy. ``--show N`` prints
up to N flagged examples per check for inspection; ``--system NAME`` runs
on a system output (``newstest2021.zh-en.hyp.NAME.en``) instead.

The whole file is one document for the terms consistency rule (the plain
text files carry no document ids), which over-counts inconsistencies.

Usage:
    .venv/bin/python scripts/eval_rule_checks.py [--show 5] [--system Online-B]

The data path comes from MTCHECK_SHARED_DATA (default
<repo>/../shared/mt-eval-zhen); without it the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mtcheck.checks.base import run_checks  # noqa: E402
from mtcheck.checks.length import LengthCheck  # noqa: E402
from mtcheck.checks.placeholders import PlaceholdersCheck  # noqa: E402
from mtcheck.checks.punctuation import PunctuationCheck  # noqa: E402
from mtcheck.checks.terms import TermsCheck  # noqa: E402
from mtcheck.checks.untranslated import UntranslatedCheck  # noqa: E402
from mtcheck.config import CheckOptions  # noqa: E402
from mtcheck.core import Segment, Severity  # noqa: E402

BASE = "wmt_testsets_zhen/newstest2021/txt"
SRC = f"{BASE}/sources/newstest2021.zh-en.src.zh"
REF = f"{BASE}/references/newstest2021.zh-en.ref.A.en"
HYP = f"{BASE}/system-outputs/newstest2021.zh-en.hyp.{{}}.en"
CHECKS = (TermsCheck(), UntranslatedCheck(), PunctuationCheck(), PlaceholdersCheck(), LengthCheck())


def read_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", type=int, default=0, help="print up to N flagged examples per check")
    parser.add_argument("--system", default=None, help="evaluate this system's output instead of ref.A")
    args = parser.parse_args(argv)

    base = Path(os.environ.get("MTCHECK_SHARED_DATA", REPO.parent / "shared" / "mt-eval-zhen"))
    target = base / (HYP.format(args.system) if args.system else REF)
    if not (base / SRC).is_file() or not target.is_file():
        print(f"shared data not found under {base} (set MTCHECK_SHARED_DATA); skipping evaluation")
        return 0
    src, tgt = read_lines(base / SRC), read_lines(target)
    if len(src) != len(tgt):
        print(f"{SRC} has {len(src)} lines but {target.name} has {len(tgt)}")
        return 1
    segments = [Segment(id=str(i + 1), source=s, mt=t) for i, (s, t) in enumerate(zip(src, tgt))]
    options = CheckOptions()
    n = len(segments)
    print(f"{n} segments: newstest2021 source vs {args.system or 'reference A (human)'}\n")
    print(f"{'check':13s} {'flagged':>8s} {'minor':>8s} {'major':>8s} {'critical':>8s} {'>=major':>8s}  spans by category")
    for check in CHECKS:
        found = run_checks([check], segments, options)
        worst: Counter[str] = Counter()
        categories: Counter[str] = Counter()
        flagged = []
        for seg in segments:
            spans = found.get(seg.id, [])
            if not spans:
                continue
            flagged.append((seg, spans))
            worst[max(spans, key=lambda s: s.severity.rank).severity.value] += 1
            categories.update(f"{s.category}:{s.severity.value}" for s in spans)
        at_major = worst["major"] + worst["critical"]
        cats = ", ".join(f"{c} {k}" for c, k in categories.most_common())
        print(f"{check.name:13s} {len(flagged) / n:8.2%} {worst['minor'] / n:8.2%} {worst['major'] / n:8.2%} "
              f"{worst['critical'] / n:8.2%} {at_major / n:8.2%}  {cats}")
        for seg, spans in flagged[: args.show]:
            print(f"    [{seg.id}] src: {seg.source}")
            print(f"    [{seg.id}] mt:  {seg.mt}")
            for s in spans:
                print(f"        {s.severity.value} {s.category} {s.side.value}[{s.start}:{s.end}]="
                      f"{s.text(seg)!r}: {s.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
