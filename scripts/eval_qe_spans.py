#!/usr/bin/env python3
"""Error spans of the QE token head against human MQM spans (character level).

    python scripts/eval_qe_spans.py

1. Picks the detector thresholds on the newstest2020 calibration split (the
   documents ``scripts/train_qe.py`` held out of training): ``threshold`` by
   the best character F1 over all errors, ``major_threshold`` by the best
   character F1 of major spans against major errors.
2. Reports, on newstest2021 and TED MQM (never trained on), micro-averaged
   character precision/recall/F1 (gold = characters any rater marked), the
   same for major errors only, and span-level F1 (a predicted span is right
   when it overlaps a gold span; a gold span is found when a prediction
   overlaps it) — next to two baselines measured in the same run: flag every
   character, and random characters at the gold density (seeded).

Token probabilities come from the same prediction cache as
``scripts/bench_qe.py``. Exits 0 with a message without the shared data.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def gold_sets(errors, chosen, rename, segmap, severities=None):
    from mtcheck.metaeval.spans import error_char_rates

    rates = error_char_rates(errors, chosen, rename=rename, segid_map=segmap, severities=severities)
    return {k: {i for i, r in enumerate(v) if r > 0} for k, v in rates.items()}


def runs(chars):
    """Maximal runs of consecutive character indices, as (start, end) pairs."""
    out = []
    for i in sorted(chars):
        if out and out[-1][1] == i:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1])
    return [tuple(r) for r in out]


def score(pairs):
    """``pairs``: (predicted char set, gold char set) per segment → char P/R/F1 and span F1."""
    tp = fp = fn = 0
    sp_hit = sp_n = sg_hit = sg_n = 0
    for pred, gold in pairs:
        tp += len(pred & gold)
        fp += len(pred - gold)
        fn += len(gold - pred)
        pr, gr = runs(pred), runs(gold)
        sp_n += len(pr)
        sg_n += len(gr)
        sp_hit += sum(any(a < d and c < b for c, d in gr) for a, b in pr)
        sg_hit += sum(any(a < d and c < b for c, d in pr) for a, b in gr)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    sp = sp_hit / sp_n if sp_n else 0.0
    sr = sg_hit / sg_n if sg_n else 0.0
    sf = 2 * sp * sr / (sp + sr) if sp + sr else 0.0
    return p, r, f, sf


def predicted(items, preds, options, major_only=False):
    from mtcheck.core import Severity
    from mtcheck.spans.detector import token_spans

    out = {}
    for it, p in zip(items, preds):
        spans = token_spans(it.mt, p.token_bad, options)
        out[(it.system, it.item)] = {i for s in spans if not major_only or s.severity is Severity.MAJOR
                                     for i in range(s.start, s.end)}
    return out


def flag_all(items):
    return {(it.system, it.item): {i for i, ch in enumerate(it.mt) if not ch.isspace()} for it in items}


def random_at_density(items, gold, seed=1):
    rng = random.Random(seed)
    total = sum(len(it.mt) for it in items)
    density = sum(len(g) for g in gold.values()) / max(1, total)
    return {(it.system, it.item): {i for i in range(len(it.mt)) if rng.random() < density} for it in items}


def row(name, pred, gold, keys):
    p, r, f, sf = score([(pred.get(k, set()), gold.get(k, set())) for k in keys])
    return f"| {name} | {p:.3f} | {r:.3f} | {f:.3f} | {sf:.3f} |"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "mtcheck" / "qe-bench")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)

    from bench_qe import model_digest, predictions

    from mtcheck.metaeval import loaders
    from mtcheck.models.registry import get_model, resolve
    from mtcheck.spans.detector import DetectorOptions

    try:
        base = loaders.shared_data_dir()
    except DataUnavailableError as exc:
        print(f"eval_qe_spans: skipped: {exc}")
        return 0
    import mtcheck.models.qe  # noqa: F401

    d = base / "google_mqm_zhen"
    model = get_model("qe")
    digest = model_digest(Path(resolve("qe").location))

    # 1. thresholds on the calibration split of newstest2020
    ds20 = loaders.load_mqm_newstest2020()
    from mtcheck.models.qe_train import calibration_documents

    calib_docs = calibration_documents(ds20, 0.15, args.seed)
    calib = [it for it in ds20.items if it.doc in calib_docs and it.human is not None and it.source and it.mt]
    chosen = {(it.system, it.item): it.mt for it in calib}
    g_all = gold_sets(d / "mqm_newstest2020_zhen.tsv.gz", chosen, lambda s: s, None)
    g_maj = gold_sets(d / "mqm_newstest2020_zhen.tsv.gz", chosen, lambda s: s, None, frozenset({"major"}))
    cache = args.cache / f"{digest}-newstest2020-calib.json"
    t0 = time.time()
    preds, _ = predictions(model, calib, cache)
    print(f"calibration split: {len(calib)} items ({time.time() - t0:.0f}s)")
    keys = [(it.system, it.item) for it in calib if (it.system, it.item) in g_all]
    best = (-1.0, None)
    for t in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
        f = score([(v, g_all[k]) for k, v in predicted(calib, preds, DetectorOptions(t, 1.1, 99)).items()
                   if k in g_all])[2]
        if f > best[0]:
            best = (f, t)
    threshold = best[1]
    best_m = (-1.0, None)
    for mt in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        if mt < threshold:
            continue
        pm = predicted(calib, preds, DetectorOptions(threshold, mt, 99), major_only=True)
        f = score([(pm[k], g_maj.get(k, set())) for k in keys])[2]
        if f > best_m[0]:
            best_m = (f, mt)
    options = DetectorOptions(threshold, best_m[1], 5)
    print(f"chosen on calibration: threshold {threshold} (char F1 {best[0]:.3f}), "
          f"major_threshold {best_m[1]} (major char F1 {best_m[0]:.3f}), max_spans 5")

    # 2. dev sets
    specs = {
        "newstest2021-mqm": (loaders.load_mqm_newstest2021, d / "mqm_newstest2021_zhen.tsv",
                             loaders._rename_newstest2021,
                             loaders._read_segid_map(d / "mqm_newstest2021_zhen.segid_map.tsv")),
        "ted-mqm": (loaders.load_mqm_ted, d / "mqm_ted_zhen.tsv",
                    lambda n: {"ref": "ref-A", "refB": "ref-B"}.get(n, n), None),
    }
    for name, (loader, errors, rename, segmap) in specs.items():
        ds = loader()
        items = [it for it in ds.items if it.human is not None and it.source and it.mt and it.references]
        chosen = {(it.system, it.item): it.mt for it in items}
        g_all = gold_sets(errors, chosen, rename, segmap)
        g_maj = gold_sets(errors, chosen, rename, segmap, frozenset({"major"}))
        free, _ = predictions(model, items, args.cache / f"{digest}-{name}.json")
        if not any(p.token_bad for p in free):
            print(f"{name}: the cache has no token probabilities; delete {args.cache} and rerun")
        keys = [k for k in chosen if k in g_all]
        n_gold = sum(bool(g_all[k]) for k in keys)
        print(f"\n== {name}: {len(keys)} items with span data, {n_gold} with an error span; "
              f"gold density {sum(len(g_all[k]) for k in keys) / sum(len(chosen[k]) for k in keys):.3f} of characters")
        print("| all errors | char P | char R | char F1 | span F1 |\n|---|---|---|---|---|")
        pa = predicted(items, free, options)
        print(row("QE token head", pa, g_all, keys))
        print(row("flag everything", flag_all(items), g_all, keys))
        print(row("random at gold density", random_at_density(items, g_all), g_all, keys))
        print("| major errors only | char P | char R | char F1 | span F1 |\n|---|---|---|---|---|")
        pm = predicted(items, free, options, major_only=True)
        print(row("QE token head (major spans)", pm, g_maj, keys))
        print(row("flag everything", flag_all(items), g_maj, keys))
        print(row("random at gold density", random_at_density(items, g_maj), g_maj, keys))
        n_spans = sum(len(runs(v)) for v in pa.values())
        print(f"spans flagged: {n_spans} in {sum(bool(v) for v in pa.values())} of {len(keys)} segments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
