#!/usr/bin/env python3
"""Measure the numbers and dates checks on real WMT zh-en data.

(a) False flags: both checks run on newstest2021 source vs the human
    reference A, which should mostly pass; prints the fraction of segments
    flagged by each check, by severity, and the most common flagged texts.
(b) Precision/recall against Google's MQM annotations of newstest2021
    (15 systems × 650 segments, one rater each). An item is (system, seg_id).
    An "MQM number error" is a Major/Minor error whose marked span contains a
    digit, a Chinese numeral or an English number word. Precision of the
    numbers check is the fraction of its MT-side spans that overlap any marked
    error span of the item, and the fraction overlapping a number error span;
    recall is the fraction of number errors overlapped by a flagged span (on
    the side the error was marked on).

The data is read from $MTCHECK_SHARED_DATA (default <repo>/../shared/mt-eval-zhen);
when absent the script says so and exits 0. Nothing from the data is written.

Usage:
    .venv/bin/python scripts/eval_number_check.py [--show N] [--part a|b|both]
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import sys
import time
from pathlib import Path

import regex

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mtcheck.checks.dates import DatesCheck  # noqa: E402
from mtcheck.checks.numbers import NumbersCheck  # noqa: E402
from mtcheck.config import CheckOptions  # noqa: E402
from mtcheck.core import Segment, Severity, Side  # noqa: E402

NEWSTEST = Path("wmt_testsets_zhen/newstest2021/txt")
SRC = NEWSTEST / "sources/newstest2021.zh-en.src.zh"
REF = NEWSTEST / "references/newstest2021.zh-en.ref.A.en"
MQM = Path("google_mqm_zhen/mqm_newstest2021_zhen.tsv")

_NUMBER_WORDS = (r"\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
                 r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|"
                 r"ninety|hundred|thousand|million|billion|trillion|first|second|third|fourth|fifth|sixth|"
                 r"seventh|eighth|ninth|tenth|twice|double|doubled|half|dozen|percent)\b")
NUMBERISH = regex.compile(r"[0-9０-９〇零一二三四五六七八九十百千万亿两]|" + _NUMBER_WORDS, regex.IGNORECASE)
TAG = regex.compile(r"</?v>")


def data_dir() -> Path:
    return Path(os.environ.get("MTCHECK_SHARED_DATA", REPO.parent / "shared" / "mt-eval-zhen"))


def part_a(root: Path, show: int) -> None:
    src_lines = (root / SRC).read_text(encoding="utf-8").splitlines()
    ref_lines = (root / REF).read_text(encoding="utf-8").splitlines()
    if len(src_lines) != len(ref_lines):
        print(f"(a) skipped: {SRC} has {len(src_lines)} lines but {REF} has {len(ref_lines)}")
        return
    opts = CheckOptions()
    checks = [NumbersCheck(), DatesCheck()]
    n = len(src_lines)
    print(f"(a) false flags on human reference A, newstest2021 zh-en ({n} segments)")
    examples: dict[str, list[str]] = collections.defaultdict(list)
    texts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    any_major = 0
    flagged_any: set[int] = set()
    for check in checks:
        worst: dict[int, Severity] = {}
        by_cat: collections.Counter = collections.Counter()
        for i, (s, r) in enumerate(zip(src_lines, ref_lines)):
            seg = Segment(str(i + 1), s, r)
            for span in check.check_segment(seg, opts):
                if i not in worst or span.severity.rank > worst[i].rank:
                    worst[i] = span.severity
                by_cat[(span.category, span.severity.value)] += 1
                if span.severity.rank >= Severity.MAJOR.rank:
                    flagged_any.add(i)
                    key = f"{span.category} [{span.severity.value}]"
                    texts[check.name][f"{span.category}: {span.text(seg)}"] += 1
                    if len(examples[check.name]) < show:
                        examples[check.name].append(
                            f"  line {i + 1} {key}: {span.text(seg)!r} -- {span.evidence}\n"
                            f"      SRC {s}\n      REF {r}")
        major_plus = sum(1 for v in worst.values() if v.rank >= Severity.MAJOR.rank)
        counts = collections.Counter(v.value for v in worst.values())
        print(f"  {check.name}: segments flagged at any severity {len(worst)}/{n} = {len(worst) / n:.2%}; "
              f"at major or above {major_plus}/{n} = {major_plus / n:.2%} "
              f"(worst severity: critical {counts['critical']}, major {counts['major']}, minor {counts['minor']})")
        for (cat, sev), c in sorted(by_cat.items(), key=lambda x: -x[1]):
            print(f"      {c:4d} spans  {cat} [{sev}]")
        any_major = len(flagged_any)
    print(f"  either check, major or above: {any_major}/{n} = {any_major / n:.2%}")
    for name, ex in examples.items():
        if ex:
            print(f"  --- first {len(ex)} major+ flags of {name}:")
            print("\n".join(ex))
    if show:
        for name, counter in texts.items():
            print(f"  --- most frequent major+ flagged texts of {name}:")
            for t, c in counter.most_common(15):
                print(f"      {c:3d}  {t}")


def _spans_of(tagged: str) -> tuple[str, list[tuple[int, int]]]:
    """Strip <v>…</v> tags; return the plain text and the tagged spans' offsets in it."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    plain_len = 0
    start = None
    for m in TAG.finditer(tagged):
        piece = tagged[pos:m.start()]
        out.append(piece)
        plain_len += len(piece)
        if m.group() == "<v>":
            start = plain_len
        elif start is not None:
            spans.append((start, plain_len))
            start = None
        pos = m.end()
    out.append(tagged[pos:])
    return "".join(out), spans


def part_b(root: Path, show: int) -> None:
    path = root / MQM
    items: dict[tuple[str, str], dict] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        col = {name: k for k, name in enumerate(header)}
        for row in reader:
            if len(row) < len(header):
                continue
            key = (row[col["system"]], row[col["seg_id"]])
            src_plain, src_spans = _spans_of(row[col["source"]])
            tgt_plain, tgt_spans = _spans_of(row[col["target"]])
            item = items.setdefault(key, {"source": src_plain, "target": tgt_plain, "errors": []})
            sev = row[col["severity"]]
            if sev not in ("Major", "Minor"):
                continue
            for side, plain, spans in ((Side.SOURCE, src_plain, src_spans), (Side.MT, tgt_plain, tgt_spans)):
                for a, b in spans:
                    item["errors"].append((side, a, b, plain[a:b], row[col["category"]], sev))
    check = NumbersCheck()
    opts = CheckOptions()
    n_flag = n_hit_any = n_hit_num = 0
    n_num_err = n_num_err_found = 0
    n_acc_digit = n_acc_digit_found = 0
    n_flag_sev: collections.Counter = collections.Counter()
    misses: list[str] = []
    false_pos: list[str] = []
    for (system, seg_id), item in items.items():
        seg = Segment(f"{system}:{seg_id}", item["source"], item["target"])
        spans = check.check_segment(seg, opts)
        errors = item["errors"]
        for sp in spans:
            if sp.side is not Side.MT:
                continue
            n_flag += 1
            n_flag_sev[sp.severity.value] += 1
            over = [e for e in errors if e[0] is Side.MT and e[1] < sp.end and sp.start < e[2]]
            if over:
                n_hit_any += 1
            elif len(false_pos) < show:
                false_pos.append(f"  {system} {seg_id}: {sp.text(seg)!r} [{sp.severity.value}] {sp.evidence}")
            if any(NUMBERISH.search(e[3]) for e in over):
                n_hit_num += 1
        for side, a, b, text, cat, sev in errors:
            if not NUMBERISH.search(text):
                continue
            n_num_err += 1
            hit = any(sp.side is side and sp.start < b and a < sp.end for sp in spans)
            n_num_err_found += hit
            if cat.startswith("Accuracy") and regex.search(r"[0-9０-９]", text):
                n_acc_digit += 1
                n_acc_digit_found += hit
            if not hit and len(misses) < show:
                misses.append(f"  {system} {seg_id} {cat}/{sev}: {text!r}")
    print(f"(b) numbers check vs Google MQM newstest2021 zh-en ({len(items)} items)")
    print(f"  MT-side flagged spans: {n_flag} (critical {n_flag_sev['critical']}, major {n_flag_sev['major']}, "
          f"minor {n_flag_sev['minor']})")
    if n_flag:
        print(f"  precision vs any MQM error span: {n_hit_any}/{n_flag} = {n_hit_any / n_flag:.1%}")
        print(f"  precision vs number-containing MQM error spans: {n_hit_num}/{n_flag} = {n_hit_num / n_flag:.1%}")
    if n_num_err:
        print(f"  recall of number-containing MQM errors (Major/Minor): {n_num_err_found}/{n_num_err} = "
              f"{n_num_err_found / n_num_err:.1%}")
    if n_acc_digit:
        print(f"  recall of Accuracy/* MQM errors whose span has a digit: {n_acc_digit_found}/{n_acc_digit} = "
              f"{n_acc_digit_found / n_acc_digit:.1%}")
    if show:
        print("  --- unmatched flags (sample):")
        print("\n".join(false_pos))
        print("  --- missed number errors (sample):")
        print("\n".join(misses))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--show", type=int, default=0, help="print this many example flags and misses")
    ap.add_argument("--part", choices=("a", "b", "both"), default="both")
    args = ap.parse_args(argv)
    root = data_dir()
    needed = [SRC, REF] if args.part == "a" else [MQM] if args.part == "b" else [SRC, REF, MQM]
    missing = [str(root / p) for p in needed if not (root / p).is_file()]
    if missing:
        print(f"shared WMT data not found ({', '.join(missing)}); set MTCHECK_SHARED_DATA to the "
              "mt-eval-zhen folder. Skipping.")
        return 0
    t0 = time.perf_counter()
    if args.part in ("a", "both"):
        part_a(root, args.show)
    if args.part in ("b", "both"):
        part_b(root, args.show)
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
