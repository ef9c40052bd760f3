#!/usr/bin/env python3
"""Train and measure the learned span detector (``span_combiner.py``, an experiment).

    python scripts/train_span_combiner.py [--lm] [--save FILE] [--hidden 16] [--seed 13]

1. For every MT word of the three MQM sets (``span_data.py``) it computes the
   combiner's features (``span_combiner.py``): the QE token head, the
   CC-CEDICT coverage, the rule checks' findings, the word's shape.
2. It trains the small network on the newstest2020 calibration documents
   (which the QE model never trained on), in 4 folds by document, and picks
   the thresholds on the out-of-fold predictions: ``threshold`` by the best
   character F1 over all errors, ``major_threshold`` by the best character
   F1 of major spans against major errors.
3. It retrains on all calibration documents and reports, on newstest2021 and
   TED MQM (never trained on or used for selection), character precision /
   recall / F1, span F1 and severity F1, for all and for major errors only,
   beside the shipped QE token head, flag-everything and random words at the
   gold density; and, on the calibration split with the out-of-fold
   predictions, against each rater next to the rater-pair human ceiling.
4. With ``--lm`` the English LM's surprisal features are added (one LM
   pass over every MT, cached), so the LM's share is measured.

``--save FILE`` writes the network trained on all calibration documents.
Exits 0 with a message when the shared data is absent.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mtcheck.errors import DataUnavailableError  # noqa: E402



def set_features(data, with_lm: bool = False):
    """Per item with gold marks: (key, words, X, y_bad, y_major)."""
    from mtcheck.checks import get_checks
    from mtcheck.config import CheckOptions, default_checks
    from mtcheck.checks.base import run_checks
    from mtcheck.core import Segment
    from mtcheck.models.lexicon import english_content, english_words
    from mtcheck.models.registry import get_model
    from span_combiner import WordInputs, lm_features, word_features

    lex = get_model("lexicon")
    checks = get_checks(default_checks())
    keep = [i for i, it in enumerate(data.items) if (it.system, it.item) in data.gold]
    segments = [Segment(id=str(i), source=data.items[i].source, mt=data.items[i].mt) for i in keep]
    found = run_checks(checks, segments, CheckOptions())
    rows = []
    for i in keep:
        it = data.items[i]
        cov = lex.coverage(it.source, it.mt)
        content = [(w.start, w.end) for w in english_words(it.mt) if english_content(w.text)]
        q = data.qe[i]
        inputs = WordInputs(it.mt, it.source, q.token_bad, q.penalty, found.get(str(i), []),
                            [(w.start, w.end) for w in cov.uncovered_mt], content)
        ws, X = word_features(inputs)
        if with_lm:
            X = np.column_stack([X, lm_features(ws, data.lm[i].offsets, data.lm[i].logprobs)])
        gold = data.gold[(it.system, it.item)]
        yb = np.array([any(c in gold for c in range(a, b)) for a, b in ws], dtype=float)
        ym = np.array([any(gold.get(c) == "major" for c in range(a, b)) for a, b in ws], dtype=float)
        rows.append(((it.system, it.item), ws, X, yb, ym, getattr(it, "doc", None)))
    return rows


def fit(X, yb, ym, hidden: int, seed: int, steps: int = 600, with_lm: bool = False):
    """A one-hidden-layer tanh network with two sigmoid outputs, trained full-batch with Adam on both BCE losses."""
    import warnings

    import torch

    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a feature missing everywhere (no LM) has no mean
        mean = np.nanmean(X, axis=0)
    mean = np.where(np.isnan(mean), 0.0, mean)
    Xf = np.where(np.isnan(X), mean, X)
    scale = Xf.std(axis=0)
    scale = np.where(scale < 1e-6, 1.0, scale)
    Z = torch.tensor((Xf - mean) / scale, dtype=torch.float32)
    Y = torch.tensor(np.column_stack([yb, ym]), dtype=torch.float32)
    l1 = torch.nn.Linear(Z.shape[1], hidden)
    l2 = torch.nn.Linear(hidden, 2)
    params = list(l1.parameters()) + list(l2.parameters())
    opt = torch.optim.Adam(params, lr=1e-2, weight_decay=1e-4)
    for _ in range(steps):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(l2(torch.tanh(l1(Z))), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    from span_combiner import FEATURES, LM_FEATURES

    return {"features": list(FEATURES + (LM_FEATURES if with_lm else ())), "mean": mean.tolist(), "scale": scale.tolist(),
            "w1": l1.weight.detach().numpy().T.astype(float).tolist(), "b1": l1.bias.detach().numpy().tolist(),
            "w2": l2.weight.detach().numpy().T.astype(float).tolist(), "b2": l2.bias.detach().numpy().tolist()}


def stack(rows):
    return (np.concatenate([r[2] for r in rows]), np.concatenate([r[3] for r in rows]),
            np.concatenate([r[4] for r in rows]))


def marks_of(rows, probs, options, text_of):
    """Per item, the characters of the combiner's spans ("major"/"minor")."""
    from mtcheck.core import Severity
    from span_combiner import phrases

    out, k = {}, 0
    for key, ws, X, *_ in rows:
        p = probs[k:k + len(ws)]
        k += len(ws)
        spans = phrases(text_of[key], ws, p, options)
        out[key] = {i: ("major" if s.severity.rank >= Severity.MAJOR.rank else "minor")
                    for s in spans for i in range(s.start, s.end)}
    return out


def choose(rows, probs, gold, text_of, precision: float = 0.40):
    """Thresholds with the best character F1 (all errors), then the best major-only F1.

    Also a precise operating point: the lowest threshold whose character
    precision (all errors) reaches ``precision``, or ``None`` when none does.
    """
    from mtcheck.metaeval.spans import span_scores
    from span_combiner import CombinerOptions

    keys = [r[0] for r in rows]
    best = max(((span_scores([(m[k], gold[k]) for k in keys]).f1, t) for t in np.arange(0.15, 0.71, 0.05)
                for m in [marks_of(rows, probs, CombinerOptions(t, 1.1, 99), text_of)]))
    t = round(float(best[1]), 2)
    best_m = max(((span_scores([(m[k], gold[k]) for k in keys], True).f1, mt)
                  for mt in np.arange(0.1, 0.81, 0.05)
                  for m in [marks_of(rows, probs, CombinerOptions(t, mt, 99), text_of)]))
    precise = None
    for pt in np.arange(0.3, 0.96, 0.05):
        m = marks_of(rows, probs, CombinerOptions(pt, 1.1, 99), text_of)
        s = span_scores([(m[k], gold[k]) for k in keys])
        print(f"  threshold {pt:.2f}: char P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f}")
        if s.precision >= precision:
            precise = round(float(pt), 2)
            break
    return t, round(float(best_m[1]), 2), best[0], best_m[0], precise


def predict(params, X):
    from span_combiner import Combiner

    return Combiner(params).probabilities(X)


HEAD = ("| | char P | char R | char F1 | span F1 | severity F1 | major P | major R | major F1 |\n"
        "|---|---|---|---|---|---|---|---|---|")


def line(name, pred, gold, keys):
    from mtcheck.metaeval.spans import span_scores

    a = span_scores([(pred.get(k, {}), gold[k]) for k in keys])
    m = span_scores([(pred.get(k, {}), gold[k]) for k in keys], True)
    return (f"| {name} | {a.precision:.3f} | {a.recall:.3f} | {a.f1:.3f} | {a.span_f1:.3f} | {a.severity_f1:.3f} | "
            f"{m.precision:.3f} | {m.recall:.3f} | {m.f1:.3f} |")


def baselines(data):
    """The shipped token-head detector, flag-everything and random characters, as ``eval_qe_spans.py`` makes them."""
    from eval_qe_spans import flag_all, predicted, random_at_density

    from mtcheck.spans.detector import DetectorOptions

    return [("QE token head (shipped detector)", predicted(data.items, data.qe, DetectorOptions())),
            ("flag everything (as major)", flag_all(data.items, "major")),
            ("random characters at gold density (as major)", random_at_density(data.items, data.gold,
                                                                               severity="major"))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--lm", action="store_true",
                    help="add the English LM's surprisal features (one LM pass over every MT, cached)")
    ap.add_argument("--only-calibration", action="store_true",
                    help="cross-validate on the calibration split only (no dev sets)")
    ap.add_argument("--save", type=Path, help="write the network trained on all calibration documents here (JSON)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # a small network: threads cost more than they bring

    from mtcheck.metaeval import loaders

    try:
        loaders.shared_data_dir()
    except DataUnavailableError as exc:
        print(f"train_span_combiner: skipped: {exc}")
        return 0
    from span_combiner import CombinerOptions
    from span_data import load_items, load_set, rater_sets

    from mtcheck.metaeval.spans import against_raters, rater_agreement

    t0 = time.time()
    names = ("newstest2020-calib",) if args.only_calibration else ("newstest2020-calib", "newstest2021-mqm", "ted-mqm")
    sets = {n: load_set(n, lm=args.lm) for n in names}
    print(f"data and model outputs: {time.time() - t0:.0f}s")
    label = "with LM features" if args.lm else "without LM features"
    t0 = time.time()
    feats = {n: set_features(d, args.lm) for n, d in sets.items()}
    print(f"features ({label}) in {time.time() - t0:.0f}s; words: "
          + ", ".join(f"{n} {sum(len(r[1]) for r in rows)}" for n, rows in feats.items()))
    # (system, item) keys repeat across sets (newstest2021 and TED share systems and item ids)
    texts = {n: {(it.system, it.item): it.mt for it in d.items} for n, d in sets.items()}
    cal = feats["newstest2020-calib"]
    docs = sorted({r[5] for r in cal})
    random.Random(args.seed).shuffle(docs)
    fold_of = {d: i % args.folds for i, d in enumerate(docs)}
    oof_rows, oof_probs = [], []
    for f in range(args.folds):
        train = [r for r in cal if fold_of[r[5]] != f]
        test = [r for r in cal if fold_of[r[5]] == f]
        X, yb, ym = stack(train)
        params = fit(X, yb, ym, args.hidden, args.seed + f, args.steps, args.lm)
        oof_rows += test
        oof_probs.append(predict(params, stack(test)[0]))
    oof = np.concatenate(oof_probs)
    t, mt, f_all, f_maj, precise = choose(oof_rows, oof, sets["newstest2020-calib"].gold, texts["newstest2020-calib"])
    print(f"thresholds on out-of-fold calibration predictions: {t} (char F1 {f_all:.3f}), "
          f"major {mt} (major char F1 {f_maj:.3f}); char precision 0.40 first reached at {precise}")
    options = CombinerOptions(t, mt, 5)
    X, yb, ym = stack(cal)
    params = fit(X, yb, ym, args.hidden, args.seed, args.steps, args.lm)
    params.update(threshold=t, major_threshold=mt, max_spans=5)

    # the human ceiling on the calibration split, beside the out-of-fold predictions
    items20, errors20 = load_items("newstest2020-calib", args.seed)
    marks = {k: v for k, v in rater_sets(items20, errors20).items() if len(v) >= 2}
    pred20 = marks_of(oof_rows, oof, options, texts["newstest2020-calib"])
    print(f"\n== newstest2020 calibration split, {len(marks)} items with 2+ raters, against each rater "
          f"(combiner out-of-fold, {label})")
    print("| | char P | char R | char F1 | span F1 | severity F1 |\n|---|---|---|---|---|---|")
    for major in (False, True):
        tag = " (major only)" if major else ""
        for name, s in (("another rater (ceiling)", rater_agreement(marks, major)),
                        ("span combiner", against_raters(pred20, marks, major, min_raters=2))):
            print(f"| {name}{tag} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.span_f1:.3f} | "
                  f"{s.severity_f1:.3f} |")

    for name in names[1:]:
        rows, d, text_of = feats[name], sets[name], texts[name]
        keys = [r[0] for r in rows]
        probs = predict(params, stack(rows)[0])
        pred = marks_of(rows, probs, options, text_of)
        print(f"\n== {name}: {len(keys)} items with span data ({label})\n{HEAD}")
        print(line("span combiner", pred, d.gold, keys))
        if precise is not None:
            hp = marks_of(rows, probs, CombinerOptions(precise, mt, 5), text_of)
            print(line(f"span combiner at threshold {precise}", hp, d.gold, keys))
        for bname, b in baselines(d):
            print(line(bname, b, d.gold, keys))
        print(f"segments with a span: {sum(bool(v) for v in pred.values())} of {len(keys)}"
              + (f" ({sum(bool(v) for v in hp.values())} at threshold {precise})" if precise is not None else ""))
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps({**params, "trained_on": "newstest2020 MQM calibration documents "
                                         f"(seed {args.seed}), hidden {args.hidden}, steps {args.steps}"}, indent=1))
        print(f"wrote {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
