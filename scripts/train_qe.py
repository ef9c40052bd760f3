#!/usr/bin/env python3
"""Train the QE cross-encoder shipped as ``models/qe-e5-small`` (one command, seeded, resumable).

    python scripts/train_qe.py --depth 6 --synthetic 2 --rank-only --keep last --out models/qe-e5-small

Data (read from $MTCHECK_SHARED_DATA, default ../shared/mt-eval-zhen; the
script exits 0 with a message when it is absent):

* train: newstest2020 MQM (9 systems × 2,000 segments, 3 raters) minus the
  calibration documents;
* calibration: 15% of newstest2020's documents (seeded), used to pick the
  epoch and to fit the reference-aware stacked model;
* dev (never trained on): newstest2021 MQM and WMT21 TED MQM.

Two stages: one epoch of the multi-task loss (penalty, quantiles, token
tags) over length-sorted batches, then one epoch that adds a pairwise
ranking loss over batches of whole items (every system's translation of a
source), from the stage-1 weights. The epoch kept is the one with the best
Pearson + item-grouped Kendall on the calibration split, or with ``--keep
last`` the ranking stage's (the shipped model: see its card for why).
``--depth N`` runs only the base's first N layers (the shipped model: 6,
the top 3 of them trained), which halves the cost of a prediction.

``--first reference`` trains the same network to read "reference </s> MT"
instead (items without a reference are left out; no stacked model is
fitted): a reference-based cross-encoder, which ``scripts/fit_qe_reference.py
--reference-net DIR`` stacks into the shipped model as the feature ``qe_ref``.

``--cv SET --cv-fold K`` is cross-validation on a dev set (``newstest2021``
or ``ted``): its documents are cut into ``--cv-folds`` folds
(:func:`~mtcheck.models.qe_train.document_folds`), every fold but the K-th
joins the training data (both stages; the synthetic negatives stay
newstest2020's), and the K-th is the dev set that is evaluated; the
out-of-fold predictions go to ``cv_predictions.jsonl`` in --out.
``scripts/cv_qe.py`` runs every fold and scores the pooled predictions.

Splits are by document, so no source sentence is on both sides. Frozen-layer
states and the checkpoint live in --work (default ~/.cache/mtcheck/qe-train);
rerunning the command resumes after the last finished epoch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def build_examples(dataset, rates, tokenize, max_side, name):
    from mtcheck.metaeval.spans import token_rates
    from mtcheck.models.qe import encode_pair
    from mtcheck.models.qe_train import Example

    out = []
    for it in dataset.items:
        if it.human is None or not it.source or not it.mt:
            continue
        enc = encode_pair(tokenize, it.source, it.mt, max_side)
        r = rates.get((it.system, it.item))
        targets = tuple(token_rates(r, enc.mt_offsets)) if r is not None else None
        out.append(Example((name, it.system, it.item), enc, -float(it.human), targets))
    return out


def reference_first(dataset):
    """The dataset with each item's reference in place of its source; items without one are left out.

    The cross-encoder then reads "reference </s> MT": the same architecture and
    token tags, trained to score the MT against the reference instead of the source.
    """
    import dataclasses

    return dataclasses.replace(dataset, items=tuple(
        dataclasses.replace(it, source=it.references[0]) for it in dataset.items if it.references))


def checkpoint_shape(depth):
    """What a checkpoint's name adds to tell networks apart that share the frozen states.

    The work directory is keyed by the number of frozen layers, which is all
    its cached states depend on; a shallower network (``--depth``) with the
    same number of frozen layers trains other layers, so its checkpoints get
    their own names. Full-depth names stay as they were, so those runs resume.
    """
    return "" if depth is None else f"-depth{depth}"


def load_all(root, tokenize, max_side, first="source"):
    from mtcheck.metaeval import loaders
    from mtcheck.metaeval.spans import error_char_rates

    sets = {}
    specs = {"newstest2020": loaders.load_mqm_newstest2020, "newstest2021": loaders.load_mqm_newstest2021,
             "ted": loaders.load_mqm_ted}
    for name, loader in specs.items():
        ds = loader(root)
        if first == "reference":
            ds = reference_first(ds)
        errors = loaders.mqm_errors(name, root)
        chosen = {(it.system, it.item): it.mt for it in ds.items if it.mt}
        rates = error_char_rates(errors.path, chosen, rename=errors.rename, segid_map=errors.segid_map)
        sets[name] = (ds, build_examples(ds, rates, tokenize, max_side, name))
        n_tags = sum(e.token_targets is not None for e in sets[name][1])
        log(f"{name}: {len(sets[name][1])} examples, {n_tags} with token targets")
    return sets


def split_docs(dataset, examples, fraction, seed):
    from mtcheck.models.qe_train import calibration_documents

    calib_docs = calibration_documents(dataset, fraction, seed)
    doc_of = {(it.system, it.item): it.doc for it in dataset.items}
    train = [e for e in examples if doc_of[(e.key[1], e.key[2])] not in calib_docs]
    calib = [e for e in examples if doc_of[(e.key[1], e.key[2])] in calib_docs]
    return train, calib


def load_splits(data, tokenize, max_side, fraction, seed, first="source"):
    """Every set as :func:`load_all` reads it, and newstest2020 split into training and calibration examples."""
    sets = load_all(data, tokenize, max_side, first)
    ds20, ex20 = sets["newstest2020"]
    train, calib = split_docs(ds20, ex20, fraction, seed)
    return sets, ds20, train, calib


def quick_eval(examples, preds):
    """Flat Pearson and item-grouped Kendall (no bootstrap) of -penalty vs human."""
    return quick_stats({(e.key[1], e.key[2]): -e.penalty for e in examples},
                       {(e.key[1], e.key[2]): -p[0] for e, p in zip(examples, preds)})


def quick_stats(human, metric):
    """Pearson, item-grouped Kendall and pairwise accuracy of two ``(system, item)`` grids, no bootstrap."""
    from mtcheck.metaeval.stats import evaluate

    rep = evaluate(human, metric, metric_name="qe")

    def num(v):
        return None if v is None or v != v else round(float(v), 4)  # NaN (e.g. one system only) -> null

    return {"pearson": num(rep.segment_pearson.value), "item_kendall": num(rep.item_kendall.value),
            "pairwise": num(rep.pairwise_accuracy.value)}


def cached(net, examples, pad_id, path, what):
    from mtcheck.models.qe_train import LowerCache, cache_lower

    c = LowerCache.load(path)
    if c is not None and len(c.offsets) == len(examples) + 1:
        log(f"{what}: frozen states from {path}")
        return c
    t0 = time.time()
    last = [0.0]

    def progress(done, total):
        if time.time() - last[0] > 60:
            last[0] = time.time()
            log(f"{what}: frozen layers {done}/{total} ({done / (time.time() - t0):.1f} pairs/s)")

    c = cache_lower(net, examples, pad_id, progress=progress)
    c.save(path)
    log(f"{what}: {len(examples)} pairs in {time.time() - t0:.0f}s")
    return LowerCache.load(path)


#: Weights of the reference features, relative to the QE penalty's, in standard deviations.
REF_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
REF_FEATURES = ("qe", "chrf", "refsim")
#: +1 for a feature that grows with the errors (a penalty), -1 for one that shrinks (a similarity).
FEATURE_SIGN = {"qe": 1.0, "chrf": -1.0, "refsim": -1.0, "qe_ref": 1.0}


def search_reference_model(x, human, keys, grid=REF_GRID, features=REF_FEATURES):
    """Choose the stacked reference model's direction for ranking, then scale it by least squares.

    Args:
        x: ``(n, len(features))`` array: the reference-free penalty first,
            then the reference features (chrF 0-100, refsim the e5 cosine of
            MT and reference, qe_ref the reference cross-encoder's penalty).
        human: The ``n`` human MQM scores (<= 0; the penalty is their negation).
        keys: The ``n`` ``(system, item)`` keys, for item-grouped Kendall.
        grid: Candidate weights of each reference feature, in units of its
            standard deviation relative to the penalty's.
        features: The column names; the first is ``"qe"``, each one a key
            of :data:`FEATURE_SIGN`.

    Returns:
        ``(model, table)``: the ``reference_model`` dict for config.json
        (``direction``: the chosen weights of the reference features,
        ``None`` for the least-squares fallback) and, per candidate
        (``"least squares"`` or a tuple of weights), its
        ``(coef, intercept, {statistic: value})`` over ``x``.

    The direction with the highest item-grouped Kendall among those whose
    Pearson is at least the reference-free penalty's is kept (ties by
    Pearson): a least-squares fit maximises flat Pearson, which the penalty
    already carries through source difficulty and length, and leaves the
    reference's real contribution, ranking the outputs of one source, unused.
    """
    import itertools

    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    n_feat = len(features)
    if features[0] != "qe" or x.ndim != 2 or x.shape[1] != n_feat:
        raise ValueError(f"x must have one column per feature {features}, the first 'qe'; got shape {x.shape}")
    y = -np.asarray(human, dtype=np.float64)
    truth = dict(zip(keys, human))

    def stats(penalty):
        return quick_stats(truth, {k: -float(p) for k, p in zip(keys, penalty)})

    sd = x.std(axis=0)
    varies = sd > 1e-9 * np.maximum(1.0, np.abs(x).max(axis=0))
    # A constant feature cannot change the ranking: it gets no weight instead of a blown-up one.
    signs = np.array([FEATURE_SIGN[f] for f in features])
    sign = np.where(varies, signs, 0.0) / np.where(varies, sd, 1.0)
    lsq, *_ = np.linalg.lstsq(np.column_stack([x, np.ones(len(x))]), y, rcond=None)
    table = {"least squares": (lsq[:n_feat], float(lsq[n_feat]))}
    for weights in itertools.product(grid, repeat=n_feat - 1):
        direction = sign * np.array([1.0, *weights])
        slope, intercept = np.polyfit(x @ direction, y, 1)
        table[weights] = (slope * direction, float(intercept))
    table = {k: (c, i, stats(np.maximum(0.0, x @ c + i))) for k, (c, i) in table.items()}

    def value(k, stat):  # None: undefined (a constant prediction)
        v = table[k][2][stat]
        return -math.inf if v is None else v

    floor = stats(x[:, 0])["pearson"]
    floor = -math.inf if floor is None else floor
    eligible = [k for k in table if k != "least squares" and value(k, "pearson") >= floor] or ["least squares"]
    best = max(eligible, key=lambda k: (value(k, "item_kendall"), value(k, "pearson")))
    coef, intercept, chosen = table[best]
    named = ", ".join(f"{f} {w:g}" for f, w in zip(features[1:], best)) if best != "least squares" else ""
    how = ("least squares (no direction kept the reference-free Pearson)" if best == "least squares" else
           f"direction {named} (sd units relative to qe) by item-grouped Kendall "
           f"{chosen['item_kendall']} with Pearson {chosen['pearson']} >= the reference-free {floor}, "
           "then least squares")
    model = {"features": list(features), "coef": [round(float(c), 6) + 0.0 for c in coef],  # no -0.0
             "intercept": round(intercept, 6), "direction": None if best == "least squares" else list(best),
             "fitted_on": f"newstest2020 calibration split ({len(x)} items): {how}"}
    return model, table


def fit_reference_model(encoder, calib_ds, calib, preds):
    """The stacked model over [qe penalty, chrF, refsim] on the calibration split (:func:`search_reference_model`)."""
    import numpy as np

    from mtcheck.models.qe import reference_features

    ref_of = {(it.system, it.item): (it.mt, it.references[0] if it.references else None) for it in calib_ds.items}
    rows = [(e, p) for e, p in zip(calib, preds) if ref_of[(e.key[1], e.key[2])][1]]
    mts = [ref_of[(e.key[1], e.key[2])][0] for e, _ in rows]
    refs = [ref_of[(e.key[1], e.key[2])][1] for e, _ in rows]
    feats = reference_features(mts, refs, encoder)
    x = np.column_stack([[p[0] for _, p in rows], feats["chrf"], feats["refsim"]])
    model, _ = search_reference_model(x, [-e.penalty for e, _ in rows], [(e.key[1], e.key[2]) for e, _ in rows])
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "qe-e5-small")
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "mtcheck" / "qe-train")
    ap.add_argument("--data", default=None, help="shared data directory (default: $MTCHECK_SHARED_DATA)")
    ap.add_argument("--n-top", type=int, default=3)
    ap.add_argument("--depth", type=int, default=None,
                    help="run only the base's first N layers (default all 12): a faster, shallower model")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-side", type=int, default=128)
    ap.add_argument("--calib", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--rank-epochs", type=int, default=1,
                    help="then this many epochs with the pairwise ranking loss over whole items")
    ap.add_argument("--rank-weight", type=float, default=1.0)
    ap.add_argument("--synthetic", type=int, default=0, metavar="K",
                    help="add K corrupted outputs per source item to the ranking stage (synthetic negatives)")
    ap.add_argument("--rank-only", action="store_true",
                    help="the synthetic negatives enter the ranking loss only, not the regression")
    ap.add_argument("--rank-agree", action="store_true",
                    help="ranking pairs only where no newstest2020 rater orders the two outputs the other way")
    ap.add_argument("--keep", choices=("best", "last"), default="best",
                    help="best: the epoch with the best calibration Pearson + item-grouped Kendall; "
                         "last: the final epoch (of the ranking stage when there is one)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N examples of each split (smoke runs)")
    ap.add_argument("--first", choices=("source", "reference"), default="source",
                    help="what the cross-encoder reads before the MT: the source (QE, the default) or the "
                         "reference (a reference-based model; no stacked reference model is fitted)")
    ap.add_argument("--cv", choices=("newstest2021", "ted"), default=None,
                    help="cross-validation: train also on the other folds of this dev set, evaluate on fold --cv-fold")
    ap.add_argument("--cv-fold", type=int, default=0)
    ap.add_argument("--cv-folds", type=int, default=2)
    args = ap.parse_args(argv)
    if args.cv and args.cv_folds < 2:
        ap.error(f"--cv-folds must be at least 2, got {args.cv_folds}")
    if args.cv and not 0 <= args.cv_fold < args.cv_folds:
        ap.error(f"--cv-fold must be in 0..{args.cv_folds - 1}, got {args.cv_fold}")

    import torch

    from mtcheck.models.qe import build_net, save_qe
    from mtcheck.models.qe_train import UNIT, LowerCache, TrainConfig, document_folds, predict_cached, train
    from mtcheck.models.registry import get_model

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    encoder = get_model("e5-small-q4")
    try:
        sets, ds20, train_ex, calib_ex = load_splits(args.data, encoder._tokenize, args.max_side, args.calib,
                                                   args.seed, args.first)
    except DataUnavailableError as exc:
        print(f"train_qe: skipped: {exc}")
        return 0
    if args.limit:  # smoke runs: every split cut to N examples
        train_ex, calib_ex = train_ex[: args.limit], calib_ex[: args.limit]
        for name in ("newstest2021", "ted"):
            sets[name] = (sets[name][0], sets[name][1][: args.limit])
    log(f"train {len(train_ex)}, calibration {len(calib_ex)}, dev newstest2021 {len(sets['newstest2021'][1])}, "
        f"ted {len(sets['ted'][1])}")

    config = TrainConfig(n_top=args.n_top, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed)
    net = build_net(encoder._model, config.n_top, config.hidden_head, depth=args.depth)
    pad = encoder._pad_id
    key = [encoder.name, net.n_lower, args.max_side, args.calib, args.seed, args.limit]
    if args.first != "source":  # the source-first tag stays as it was, so its caches stay valid
        key.append(args.first)
    tag = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:12]
    work = args.work / tag
    caches = {
        "train": cached(net, train_ex, pad, work / "train", "train"),
        "calib": cached(net, calib_ex, pad, work / "calib", "calibration"),
        "newstest2021": cached(net, sets["newstest2021"][1], pad, work / "newstest2021", "newstest2021"),
        "ted": cached(net, sets["ted"][1], pad, work / "ted", "ted"),
    }
    evalsets = {"calib": calib_ex, "newstest2021": sets["newstest2021"][1], "ted": sets["ted"][1]}
    fit_ex, fit_cache, cv_info = train_ex, caches["train"], None
    if args.cv:
        cv_ds, cv_ex = sets[args.cv]
        held = document_folds(cv_ds, args.cv_folds, args.seed)[args.cv_fold]
        doc_of = {(it.system, it.item): it.doc for it in cv_ds.items}
        inside = [i for i, e in enumerate(cv_ex) if doc_of[(e.key[1], e.key[2])] not in held]
        outside = [i for i, e in enumerate(cv_ex) if doc_of[(e.key[1], e.key[2])] in held]
        fit_ex = train_ex + [cv_ex[i] for i in inside]
        fit_cache = LowerCache.concat([caches["train"], caches[args.cv].take(inside)])
        # From here on the dev set is its held-out fold only.
        evalsets[args.cv], caches[args.cv] = [cv_ex[i] for i in outside], caches[args.cv].take(outside)
        cv_info = {"set": args.cv, "fold": args.cv_fold, "folds": args.cv_folds, "held_out_docs": sorted(held),
                   "added_examples": len(inside), "held_out_examples": len(outside)}
        log(f"cross-validation on {args.cv}: fold {args.cv_fold} of {args.cv_folds} held out "
            f"({len(outside)} examples, documents {sorted(held)}); {len(inside)} of its examples join training")

    best = {"score": -1e9}

    def evaluate(model, epoch):
        res = {}
        for name, exs in evalsets.items():
            res[name] = quick_eval(exs, predict_cached(model, exs, caches[name], pad))
        # The epoch is chosen on the calibration split only (dev sets stay unseen for selection).
        score = sum(v for v in (res["calib"]["pearson"], res["calib"]["item_kendall"]) if v is not None)
        if score > best["score"] or "state" not in best:
            best.update(score=score, epoch=epoch, state={k: v.clone() for k, v in model.state_dict().items()})
        return res

    shape = checkpoint_shape(args.depth)
    if cv_info:
        shape += f"-cv{args.cv}{args.cv_fold}of{args.cv_folds}"
    state = train(net, fit_ex, fit_cache, pad, config, checkpoint=work / f"checkpoint{shape}.pt",
                  evaluate=evaluate, log=log)
    if "state" not in best:  # resumed after the last epoch: evaluate the final model
        evaluate(net, state.epoch)
    history = list(state.history)
    rank_ex, rank_cache, suffix = fit_ex, fit_cache, ""
    if args.synthetic and args.rank_epochs:
        # Synthetic negatives join the ranking stage only: they have no token targets, and
        # their penalty (one major error added) is only meant to order them below the original.
        from mtcheck.models.qe_full import synthetic_examples

        syn = synthetic_examples(ds20, train_ex, encoder._tokenize, args.max_side, args.seed, args.synthetic,
                                 rank_only=args.rank_only)
        syn_cache = cached(net, syn, pad, work / f"synthetic{args.synthetic}", "synthetic")
        rank_ex, rank_cache = fit_ex + syn, LowerCache.concat([fit_cache, syn_cache])
        suffix = f"-syn{args.synthetic}" + ("-rankonly" if args.rank_only else "")
        log(f"ranking stage: {len(syn)} synthetic negatives added")
    if args.rank_epochs:
        # Stage 2: from the stage-1 model, whole items per batch with the ranking loss.
        rank_config = TrainConfig(**{**config.__dict__, "epochs": args.rank_epochs, "rank_weight": args.rank_weight,
                                     "rank_agree": args.rank_agree})
        if args.rank_agree:
            from mtcheck.metaeval.loaders import mqm_errors
            from mtcheck.metaeval.raters import read_rater_scores
            from mtcheck.models.qe_train import with_rater_penalties

            # Only newstest2020 has several raters per item; the examples' order is kept, so the caches still fit.
            scores = read_rater_scores(mqm_errors("newstest2020", args.data))
            rank_ex = with_rater_penalties(rank_ex, "newstest2020", scores)
            suffix += "-agree"
        stage2 = train(net, rank_ex, rank_cache, pad, rank_config,
                       checkpoint=work / f"checkpoint{shape}-rank{args.rank_weight:g}{suffix}.pt",
                       evaluate=lambda m, e: evaluate(m, config.epochs + e), log=log)
        history += [{**h, "stage": "rank"} for h in stage2.history]
        config = rank_config
    if args.keep == "last":  # the ranking stage's weights, whatever the calibration score says
        best["epoch"] = args.epochs + args.rank_epochs  # numbered as evaluate() numbers them
    else:
        net.load_state_dict(best["state"], strict=False)
    ref_model = None
    if args.first == "source" and not cv_info:  # a cross-validation model is measured, never shipped
        calib_preds = predict_cached(net, calib_ex, caches["calib"], pad)
        ref_model = fit_reference_model(encoder, ds20, calib_ex, calib_preds)
        log(f"reference model: {ref_model}")
    config_out = {
        "base": encoder.name, "n_top": config.n_top, "depth": net.depth, "hidden_head": config.hidden_head,
        "unit": UNIT,
        "train": {**{k: getattr(config, k) for k in config.__dataclass_fields__}, "max_side": args.max_side,
                  "calibration_fraction": args.calib, "examples": len(fit_ex), "best_epoch": best["epoch"],
                  "stage1_epochs": args.epochs, "rank_epochs": args.rank_epochs,
                  "synthetic_per_item": args.synthetic, "synthetic_rank_only": args.rank_only,
                  "keep": args.keep,
                  "first": args.first, "cv": cv_info,
                  "data": "Google MQM newstest2020 zh-en (Apache-2.0), split by document" + (
                      f"; with the {args.cv} MQM documents outside fold {args.cv_fold} (cross-validation)"
                      if cv_info else "")},
        "history": history,
        "reference_model": ref_model,
    }
    save_qe(args.out, net, config_out)
    if cv_info:
        held_ex = evalsets[args.cv]
        preds = predict_cached(net, held_ex, caches[args.cv], pad)
        with (args.out / "cv_predictions.jsonl").open("w", encoding="utf-8") as f:
            for e, (penalty, low, high) in zip(held_ex, preds):
                f.write(json.dumps({"dataset": e.key[0], "system": e.key[1], "item": e.key[2], "penalty": penalty,
                                    "low": low, "high": high, "human_penalty": e.penalty}) + "\n")
        log(f"held-out fold: {quick_eval(held_ex, preds)}")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
