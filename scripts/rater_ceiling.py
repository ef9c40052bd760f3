#!/usr/bin/env python3
"""The human ceiling of item-grouped Kendall: one expert rater against another.

    python scripts/rater_ceiling.py [--bootstrap 200] [--seed 1] [--no-model]

Issue #6 asks the QE model for item-grouped Kendall >= 0.20 on newstest2021
and TED MQM. Both have one rating per cell; this measures what a second
expert reaches against such labels, on newstest2020, where three raters
rated every system's output of each segment (``mtcheck.metaeval.raters``):

1. every item's per-rater MQM recomputed from the error rows, checked
   against the published averages;
2. rater against rater, the human side one rater for all systems, then
   (as newstest2021 and TED were rated) a rater drawn per system;
3. on the calibration documents the QE model never trained on: the same
   two figures, the shipped QE model and chrF against each rater, and
   both against the raters' mean (the usual table's statistic);
4. how many raters newstest2021 and TED used per segment.

The reference system (Human-A.0) is left out throughout, as in every
benchmark. Without the shared data it says so and exits 0.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def check_against_averages(rater_scores, dataset) -> tuple[int, int]:
    """How many items' mean rater score equals the published score (to 1e-6), of how many."""
    same = total = 0
    for it in dataset.items:
        raters = rater_scores.get((it.system, it.item))
        if it.human is None or not raters:
            continue
        total += 1
        same += abs(sum(raters.values()) / len(raters) - it.human) < 1e-6
    return same, total


def raters_per_item(rater_scores, systems) -> Counter:
    """Distribution of the number of distinct raters among an item's ``systems``."""
    per_item: dict[int, set] = {}
    for (system, item), raters in rater_scores.items():
        if system in systems:
            per_item.setdefault(item, set()).update(raters)
    return Counter(len(r) for r in per_item.values())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-model", action="store_true", help="skip the QE model's row (no model load)")
    args = ap.parse_args(argv)

    from mtcheck.metaeval.loaders import load_mqm_newstest2020, load_mqm_newstest2021, load_mqm_ted, mqm_errors
    from mtcheck.metaeval.raters import metric_rater_item_kendall, rater_item_kendall, read_rater_scores
    from mtcheck.metaeval.stats import BootstrapConfig, Judgements, item_kendall
    from mtcheck.metrics import get_metric
    from mtcheck.models.qe_train import calibration_documents

    try:
        ds = load_mqm_newstest2020()
        scores = read_rater_scores(mqm_errors("newstest2020"))
    except DataUnavailableError as exc:
        print(f"skipped: {exc}")
        return 0
    boot = BootstrapConfig(n=args.bootstrap, seed=args.seed) if args.bootstrap else None
    systems = ds.systems  # the reference system is not among them

    same, total = check_against_averages(scores, ds)
    print(f"newstest2020: {total} rated items; mean of the raters' recomputed scores = published score on {same}")

    def row(label, est):
        print(f"  {label:<62} {est.format()}  ({est.n} units, {est.skipped} skipped)")

    print("\nall 2,000 segments, rater against rater:")
    row("human side: one rater for every system", rater_item_kendall(scores, systems=systems, bootstrap=boot))
    row("human side: a rater drawn per system (as newstest2021/TED)",
        rater_item_kendall(scores, systems=systems, mixed=True, seed=args.seed, bootstrap=boot))

    calib = calibration_documents(ds)
    items = [it for it in ds.items if it.doc in calib]
    ids = {it.item for it in items}
    cal_scores = {k: v for k, v in scores.items() if k[1] in ids}
    print(f"\ncalibration documents ({len(calib)} documents, {len(ids)} segments, never trained on):")
    row("rater against rater", rater_item_kendall(cal_scores, systems=systems, bootstrap=boot))
    row("rater against rater, human side drawn per system",
        rater_item_kendall(cal_scores, systems=systems, mixed=True, seed=args.seed, bootstrap=boot))

    metrics = {}
    chrf = get_metric("chrf").segment_scores([it.mt for it in items], [list(it.references) for it in items])
    metrics["chrF (with the reference)"] = chrf
    if not args.no_model:
        qe = get_metric("qe").segment_outputs([it.mt for it in items], [[] for _ in items],
                                              [it.source for it in items])["qe_mqm"]
        metrics["qe (shipped, no reference)"] = qe
    human = {(it.system, it.item): it.human for it in items}
    for label, values in metrics.items():
        cells = {(it.system, it.item): v for it, v in zip(items, values)}
        row(f"{label} against each rater", metric_rater_item_kendall(cal_scores, cells, systems=systems,
                                                                     bootstrap=boot))
        row(f"{label} against the raters' mean",
            item_kendall(Judgements.from_scores(human, cells, systems), boot))

    for campaign, loader in (("newstest2021", load_mqm_newstest2021), ("ted", load_mqm_ted)):
        counts = raters_per_item(read_rater_scores(mqm_errors(campaign)), set(loader().systems))
        print(f"\n{campaign}: distinct raters among a segment's systems: "
              + ", ".join(f"{k}: {v} segments" for k, v in sorted(counts.items())))
    if boot:
        print(f"\n[low, high]: 95% percentile interval, bootstrap over segments (a drawn segment keeps all its rater units), {boot.n} resamples, seed {boot.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
