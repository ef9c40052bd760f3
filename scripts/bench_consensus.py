#!/usr/bin/env python3
"""Do several MT systems' outputs of one source rank each other? Consensus against MQM.

    python scripts/bench_consensus.py [--bootstrap 200] [--seed 1]

The QE model and every reference-free signal mtcheck has rank the systems'
translations of one sentence barely better than chance (item-grouped Kendall
0.02–0.05). When a team compares several MT systems on the same sources, the
other systems' outputs are at hand, and a translation that agrees with the
others is more often right: this measures that. For each item of
newstest2021 and TED MQM (the reference translation left out), each system's
output is scored by its mean sentence chrF against the other systems'
outputs of the same source ("consensus", no reference), and the table puts
it beside chrF with the reference and the shipped QE model (its cached
predictions from ``bench_qe.py`` where present), with item-bootstrap 95%
intervals. Without the shared data it says so and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def consensus(items) -> dict:
    """``(system, item) -> mean chrF of the output against the other systems' outputs of its item``."""
    from sacrebleu.metrics import CHRF

    chrf = CHRF()
    by_item = defaultdict(list)
    for it in items:
        by_item[it.item].append(it)
    out = {}
    for group in by_item.values():
        for it in group:
            others = [o.mt for o in group if o is not it]
            if others:
                out[(it.system, it.item)] = sum(chrf.sentence_score(it.mt, [o]).score for o in others) / len(others)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    from sacrebleu.metrics import CHRF

    from mtcheck.metaeval.stats import BootstrapConfig, evaluate, format_table

    try:
        from span_data import load_items
        sets = {name: load_items(name)[0] for name in ("newstest2021-mqm", "ted-mqm")}
    except DataUnavailableError as exc:
        print(f"bench_consensus: skipped: {exc}")
        return 0
    boot = BootstrapConfig(args.bootstrap, args.seed) if args.bootstrap else None
    chrf = CHRF()
    for name, items in sets.items():
        t0 = time.time()
        human = {(it.system, it.item): it.human for it in items}
        rows = {"consensus (chrF vs the other systems)": consensus(items),
                "chrF with reference": {(it.system, it.item): chrf.sentence_score(it.mt, [it.references[0]]).score
                                        for it in items}}
        try:
            from span_data import qe_predictions

            preds = qe_predictions(name, items)
            rows["qe (no reference)"] = {(it.system, it.item): p.score for it, p in zip(items, preds)}
        except Exception as exc:  # the QE model or its cache missing: the other rows still stand
            print(f"  qe left out: {exc}")
        reports = [evaluate(human, scores, metric_name=label, bootstrap=boot) for label, scores in rows.items()]
        systems = len({it.system for it in items})
        print(f"\n== {name}: {len(items)} items, {systems} systems ({time.time() - t0:.0f}s)")
        print(format_table(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
