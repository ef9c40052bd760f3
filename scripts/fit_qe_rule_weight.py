#!/usr/bin/env python3
"""Fit how much the rule checks' findings add to the QE model's predicted penalty.

    python scripts/fit_qe_rule_weight.py [--write]

The headline ``qe`` scores ``model penalty + w × (MQM penalty of the checks'
findings)``. ``w`` is picked from a grid on the newstest2020 calibration
split (the documents ``scripts/train_qe.py`` held out) by segment Pearson +
item-grouped Kendall, ties broken by pairwise accuracy; newstest2021 and TED
are printed for reference, not used. ``--write`` stores ``rule_weight`` in
the model's config.json. Uses the prediction cache of
``scripts/bench_qe.py`` / ``scripts/eval_qe_spans.py`` (run those first).
Exits 0 with a message without the shared data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


def main(argv=None) -> int:
    import numpy as np
    from bench_qe import cached_penalties, fit_command_line
    from train_feature_qe import findings

    from mtcheck.metaeval.stats import evaluate

    start = fit_command_line(argv, __doc__, "fit_qe_rule_weight")
    if start is None:
        return 0
    args, sets, digest = start
    results = {}
    for name, items in sets.items():
        model = cached_penalties(args.cache, digest, name)
        if model is None:
            return 1
        rules = np.array([f[3] for f in findings(items)])
        human = {(it.system, it.item): it.human for it in items}
        for w in GRID:
            r = evaluate(human, {(it.system, it.item): -p for it, p in zip(items, model + w * rules)})
            results[(name, w)] = (r.segment_pearson.value, r.item_kendall.value, r.pairwise_accuracy.value)
    best = max(GRID, key=lambda w: (round(sum(results[("newstest2020-calib", w)][:2]), 3),
                                    results[("newstest2020-calib", w)][2]))
    print("| w | " + " | ".join(f"{n} Pearson / item Kendall / pairwise" for n in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for w in GRID:
        cells = " | ".join("{:.3f} / {:.3f} / {:.3f}".format(*results[(n, w)]) for n in sets)
        print(f"| {w:g}{' (chosen)' if w == best else ''} | {cells} |")
    if args.write:
        cfg_path = args.model / "config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["rule_weight"] = best
        cfg["rule_weight_fitted_on"] = "newstest2020 calibration split (scripts/fit_qe_rule_weight.py)"
        cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote rule_weight {best:g} to {cfg_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
