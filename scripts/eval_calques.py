#!/usr/bin/env python3
"""Measure the calques check on WMT21 zh→en human references and rated MT.

    python scripts/eval_calques.py [--examples 10] [--json out.json]

Two numbers:

* **False flags on human translations.** The check runs on every human
  translation of newstest2021 and of the WMT21 TED talks: the reference
  (``ref-A``, once per segment) and the second human translation
  (``ref-B``, which the MQM campaign rated as a system). A flag there is
  counted as a false flag (a human may write a literal phrase, but the
  check should be quiet on good translations); reported per 1,000
  segments, with examples.
* **Precision against human error spans.** The check runs on every MT
  output of the two MQM campaigns (ref-A/ref-B left out). A flag is "on an
  error" when at least one rater marked a character inside it
  (``mtcheck.metaeval.spans.error_char_rates``: ``<v>…</v>`` spans of the
  MQM error rows, any category or severity except No-error/Neutral);
  flags on segments whose rows do not fit the chosen MT text have no rates
  and are counted apart. As a baseline, the same share for a span of the
  same length placed uniformly at random in the same MT.

Data is read from $MTCHECK_SHARED_DATA (default ../shared/mt-eval-zhen
next to the repository); the script exits 0 with a message when it is
absent. Nothing is written unless --json is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def log(msg: str) -> None:
    print(msg, flush=True)


def datasets(root):
    """(name, dataset, errors file, rename, segid map) for newstest2021 and TED."""
    from mtcheck.metaeval import loaders

    out = []
    for name, load in (("newstest2021", loaders.load_mqm_newstest2021), ("ted", loaders.load_mqm_ted)):
        errors = loaders.mqm_errors(name, root)
        out.append((name, load(root), errors.path, errors.rename, errors.segid_map))
    return out


def human_translations(ds) -> list[tuple[str, int, str, str]]:
    """``(translation, item, source, text)`` of every human translation: reference A once per item, and ref-B."""
    humans: list[tuple[str, int, str, str]] = []
    seen_items: set[int] = set()
    for it in ds.items:
        if it.source and it.references and it.item not in seen_items:
            seen_items.add(it.item)
            humans.append(("ref-A", it.item, it.source, it.references[0]))
        if it.system == "ref-B" and it.source and it.mt:
            humans.append(("ref-B", it.item, it.source, it.mt))
    return humans


def run(root, n_examples: int) -> dict:
    from mtcheck.checks.calques import CalquesCheck
    from mtcheck.config import CheckOptions
    from mtcheck.core import Segment
    from mtcheck.metaeval.spans import error_char_rates

    check, options = CalquesCheck(), CheckOptions()
    report: dict = {}
    for name, ds, errors_path, rename, segmap in datasets(root):
        # --- human translations -------------------------------------------------
        humans = human_translations(ds)
        t0 = time.time()
        false_flags, examples = 0, []
        flagged_segments = 0
        for system, item, source, text in humans:
            found = check.check_segment(Segment(f"{system}:{item}", source, text), options)
            if found:
                flagged_segments += 1
                false_flags += len(found)
                for s in found:
                    if len(examples) < n_examples:
                        examples.append({"system": system, "item": item, "flagged": text[s.start:s.end],
                                         "evidence": s.evidence.split(";")[0], "mt": text})
        ref_seconds = time.time() - t0
        by_system = {sysname: sum(1 for h in humans if h[0] == sysname) for sysname in ("ref-A", "ref-B")}
        # --- MT outputs against rater spans ----------------------------------------
        mts = [it for it in ds.items if it.mt and it.source and not it.system.startswith("ref")]
        chosen = {(it.system, it.item): it.mt for it in mts}
        rates = error_char_rates(errors_path, chosen, rename=rename, segid_map=segmap)
        t0 = time.time()
        flags = on_error = no_rates = 0
        mean_share = 0.0
        baseline = 0.0
        mt_examples: list[dict] = []
        by_expression: dict[str, list[int]] = {}
        for it in mts:
            found = check.check_segment(Segment(f"{it.system}:{it.item}", it.source, it.mt), options)
            if not found:
                continue
            r = rates.get((it.system, it.item))
            for s in found:
                flags += 1
                zh = s.evidence.split(" (", 1)[0].removeprefix("literal rendering of ")
                if r is None:
                    no_rates += 1
                    continue
                window = r[s.start:s.end]
                hit = max(window) > 0
                on_error += hit
                mean_share += max(window)
                by_expression.setdefault(zh, [0, 0])
                by_expression[zh][0] += 1
                by_expression[zh][1] += hit
                baseline += _random_span_hit_rate(r, s.end - s.start)
                if len(mt_examples) < n_examples:
                    mt_examples.append({"system": it.system, "item": it.item, "flagged": it.mt[s.start:s.end],
                                        "marked_by_raters": round(max(window), 2), "evidence": s.evidence.split(";")[0],
                                        "mt": it.mt})
        mt_seconds = time.time() - t0
        rated = flags - no_rates
        report[name] = {
            "human_segments": len(humans),
            "human_segments_by_translation": by_system,
            "false_flags": false_flags,
            "false_flag_segments": flagged_segments,
            "false_flags_per_1000_segments": round(1000 * false_flags / len(humans), 2) if humans else None,
            "false_flag_examples": examples,
            "mt_segments": len(mts),
            "mt_segments_with_rates": sum(1 for it in mts if (it.system, it.item) in rates),
            "mt_flags": flags,
            "mt_flags_per_1000_segments": round(1000 * flags / len(mts), 2) if mts else None,
            "mt_flags_without_rates": no_rates,
            "mt_flags_on_rater_errors": on_error,
            "precision": round(on_error / rated, 3) if rated else None,
            "mean_rater_share_on_flags": round(mean_share / rated, 3) if rated else None,
            "random_span_baseline": round(baseline / rated, 3) if rated else None,
            "precision_by_expression": {zh: {"flags": n, "on_errors": h}
                                        for zh, (n, h) in sorted(by_expression.items(), key=lambda kv: -kv[1][0])},
            "mt_examples": mt_examples,
            "seconds": {"human": round(ref_seconds, 2), "mt": round(mt_seconds, 2)},
        }
    return report


def _random_span_hit_rate(rates: list[float], length: int) -> float:
    """Share of the positions of a span of ``length`` characters that would touch a marked character."""
    n = len(rates) - length + 1
    if n <= 0:
        return float(any(x > 0 for x in rates))
    marked = [1 if x > 0 else 0 for x in rates]
    window = sum(marked[:length])
    hits = int(window > 0)
    for k in range(1, n):
        window += marked[k + length - 1] - marked[k - 1]
        hits += window > 0
    return hits / n


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="mt-eval-zhen directory (default: $MTCHECK_SHARED_DATA or ../shared/mt-eval-zhen)")
    parser.add_argument("--examples", type=int, default=10, help="examples to show per dataset and kind")
    parser.add_argument("--json", type=Path, default=None, help="also write the full report here")
    args = parser.parse_args(argv)
    try:
        report = run(args.data, args.examples)
    except DataUnavailableError as exc:
        log(f"eval_calques: skipped: {exc}")
        return 0
    for name, r in report.items():
        log(f"== {name}")
        log(f"human translations: {r['human_segments']} segments {r['human_segments_by_translation']}; "
            f"{r['false_flags']} flags on {r['false_flag_segments']} segments = "
            f"{r['false_flags_per_1000_segments']} false flags per 1,000 segments")
        for ex in r["false_flag_examples"]:
            log(f"   {ex['system']}:{ex['item']}  {ex['flagged']!r}  [{ex['evidence']}]  {ex['mt'][:140]}")
        log(f"MT: {r['mt_segments']} segments ({r['mt_segments_with_rates']} with rater spans); {r['mt_flags']} flags "
            f"({r['mt_flags_per_1000_segments']} per 1,000), {r['mt_flags_without_rates']} without rater spans; "
            f"{r['mt_flags_on_rater_errors']} on a rater-marked error: precision {r['precision']} "
            f"(random span of the same length: {r['random_span_baseline']}); "
            f"mean share of raters marking the span {r['mean_rater_share_on_flags']}")
        for zh, c in list(r["precision_by_expression"].items())[:15]:
            log(f"   {zh}: {c['on_errors']}/{c['flags']}")
        for ex in r["mt_examples"]:
            log(f"   {ex['system']}:{ex['item']}  {ex['flagged']!r} raters={ex['marked_by_raters']}  "
                f"[{ex['evidence']}]  {ex['mt'][:140]}")
        log(f"time: {r['seconds']}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
