#!/usr/bin/env python3
"""Does a metric see what changed? Contrastive pairs made from the dev sets' outputs.

    python scripts/bench_qe_contrast.py [--model DIR] [--seed 7] [--calibration]

Item-grouped Kendall asks a metric to order the systems' translations of one
source, which mostly differ in small ways. This benchmark asks the simplest
form of that question. For every source item of newstest2021 and TED (never
trained on) it takes one system's output (seeded) and makes a worse copy with
each corruption of :func:`mtcheck.models.qe_full.corrupt`:

* ``omission``: a run of 25-50% of the words deleted. The copy is shorter,
  so a metric that mostly reads length scores it *better*;
* ``garble``: 4-8 neighbouring words shuffled (the same words, the same length);
* ``number``: one digit of a number changed (only the source can tell).

It prints, per corruption, how often each metric scores the copy below the
original (ties count one half) and the mean score drop: the QE model alone,
the QE score as ``mtcheck score`` gives it (the model's penalty plus
``rule_weight`` times the rule checks' findings), xsim (e5 cos of source and
MT) and chrF with the reference. ``--calibration`` measures the newstest2020
calibration split instead (the documents ``train_qe.py`` holds out to pick
an epoch), so that a choice between models can look at this without
looking at the dev sets.
Without the shared data it says so and exits 0.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def pairs(items, seed: int):
    """``(kind, original, corrupted)`` per item and corruption that applies, one output per item."""
    from mtcheck.models.qe_full import CORRUPTIONS, corrupt

    rng = random.Random(seed)
    by_item: dict = {}
    for it in items:
        by_item.setdefault(it.item, []).append(it)
    out = []
    for item in sorted(by_item):
        it = rng.choice(sorted(by_item[item], key=lambda x: x.system))
        for kind in CORRUPTIONS:
            bad = corrupt(it.mt, kind, rng)
            if bad is not None:
                out.append((kind, it, bad))
    return out


def agreement(good, bad) -> tuple[float, float]:
    """Share of pairs scored lower when corrupted (ties one half), and the mean drop."""
    import numpy as np

    g, b = np.asarray(good, dtype=float), np.asarray(bad, dtype=float)
    return float(((b < g) + 0.5 * (b == g)).mean()), float((g - b).mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="a QE model directory (default: the shipped one)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--calibration", action="store_true",
                    help="measure the newstest2020 calibration split instead of the dev sets")
    args = ap.parse_args(argv)

    from mtcheck.metaeval.loaders import load_mqm_newstest2021, load_mqm_ted, shared_data_dir
    from mtcheck.metrics import get_metric
    from bench_qe import load_bench_model

    from mtcheck.models.qe import penalty_to_score

    try:
        root = shared_data_dir()
    except DataUnavailableError as exc:
        print(f"bench_qe_contrast: skipped: {exc}")
        return 0

    where, _label, model, _digest = load_bench_model(args.model)
    print(f"model: {model.name} ({where}); seed {args.seed}")
    chrf = get_metric("chrf")
    import types

    from train_feature_qe import findings

    weight = float(model.config.get("rule_weight", 0.0))
    print("| set | corruption | pairs | qe model: lower / mean drop | qe with rules (w = "
          f"{weight:g}) | xsim | chrF+ref |")
    print("|---|---|---|---|---|---|---|")
    if args.calibration:
        from bench_qe import fit_sets

        sets = [("newstest2020 calibration", fit_sets()["newstest2020-calib"])]
    else:
        sets = [(name, loader(root).items) for name, loader in (("newstest2021", load_mqm_newstest2021),
                                                                 ("TED", load_mqm_ted))]
    for name, all_items in sets:
        items = [it for it in all_items if it.source and it.mt and it.references]
        made = pairs(items, args.seed)
        originals = sorted({id(it): it for _k, it, _b in made}.values(), key=lambda it: (it.item, it.system))
        sources = [it.source for it in originals] + [it.source for _k, it, _b in made]
        mts = [it.mt for it in originals] + [b for _k, _it, b in made]
        refs = [[it.references[0]] for it in originals] + [[it.references[0]] for _k, it, _b in made]
        preds = model.predict(sources, mts)
        qe = [p.score for p in preds]
        # The corrupted copies are checked as another system's document, so a
        # document-level check never compares a copy with its original.
        rows_in = [types.SimpleNamespace(system=it.system, doc=it.doc, source=it.source, mt=it.mt) for it in originals]
        rows_in += [types.SimpleNamespace(system=f"{it.system}*{k}", doc=it.doc, source=it.source, mt=b)
                    for k, it, b in made]
        rules = [f[3] for f in findings(rows_in)]
        with_rules = [penalty_to_score(p.penalty + weight * r) for p, r in zip(preds, rules)]
        src_v, mt_v = model.encoder.embed(sources), model.encoder.embed(mts)
        xsim = list((src_v * mt_v).sum(1))
        cf = chrf.segment_scores(mts, refs)
        at = {id(it): k for k, it in enumerate(originals)}
        n0 = len(originals)
        for kind in ("omission", "garble", "number"):
            rows = [(at[id(it)], n0 + j) for j, (k, it, _b) in enumerate(made) if k == kind]
            cells = []
            for scores in (qe, with_rules, xsim, cf):
                share, drop = agreement([scores[g] for g, _ in rows], [scores[b] for _, b in rows])
                cells.append(f"{share:.3f} / {drop:+.3f}")
            print(f"| {name} | {kind} | {len(rows)} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
