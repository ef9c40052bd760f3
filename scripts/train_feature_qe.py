#!/usr/bin/env python3
"""The feature-model baseline for QE (issue: trained QE, model a), measured next to the cross-encoder.

    python scripts/train_feature_qe.py [--json out.json]

Features per (source, MT[, reference]):

* e5-small sentence vectors u (source) and v (MT) as COMET's estimator
  combines them: [u, v, |u - v|, u * v] (4 × 384), plus cos(u, v) (= xsim);
* length: log Han characters of the source, log words of the MT, their
  difference from the fitted length ratio;
* the rule checks' findings: counts of minor/major/critical findings and
  their MQM penalty (``mqm_est``);
* with a reference: sentence chrF and cos(MT, reference) (= refsim).

Regressors: ridge regression (closed form, alpha picked on the calibration
split) and a one-hidden-layer MLP (early-stopped on the calibration split).
Training and calibration data are the newstest2020 splits of
``scripts/train_qe.py`` (same seed, by document); dev = newstest2021 and
TED MQM. Fluency log-probabilities are left out: SmolLM2 scores ≈ 9
segments/s here, i.e. > 1 hour for these 35k items.

Prints a table (flat Pearson, item-grouped Kendall, pairwise accuracy) per
model and dev set; exits 0 with a message when the shared data is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def embed_all(encoder, texts, cache: Path):
    import numpy as np

    uniq = sorted(set(texts))
    key = hashlib.sha256("\n".join(uniq).encode()).hexdigest()[:16]
    path = cache / f"e5-{encoder.name}-{key}.npy"
    if path.is_file():
        vec = np.load(path)
    else:
        t0 = time.time()
        vec = encoder.embed(uniq, batch_size=32)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(path, vec)
        log(f"embedded {len(uniq)} texts in {time.time() - t0:.0f}s")
    index = {t: i for i, t in enumerate(uniq)}
    return vec, index


_FINDINGS: dict[int, list] = {}


def findings(items):
    """Per item: counts of minor/major/critical findings and their MQM penalty (once per item list)."""
    if id(items) in _FINDINGS:  # both modes (with and without reference) use the same lists
        return _FINDINGS[id(items)]
    _FINDINGS[id(items)] = _findings(items)
    return _FINDINGS[id(items)]


def _findings(items):
    from mtcheck.checks import get_checks, run_checks
    from mtcheck.config import CheckOptions, default_checks
    from mtcheck.core import Segment

    checks = get_checks(default_checks())
    options = CheckOptions()
    by_doc = {}
    for k, it in enumerate(items):
        by_doc.setdefault((it.system, it.doc), []).append((k, it))
    out = [None] * len(items)
    for group in by_doc.values():
        segs = [Segment(id=str(k), source=it.source, mt=it.mt, doc=it.doc) for k, it in group]
        found = run_checks(checks, segs, options)
        for k, _it in group:
            spans = found.get(str(k), [])
            counts = {"minor": 0, "major": 0, "critical": 0}
            pen = 0.0
            for s in spans:
                counts[s.severity.value] = counts.get(s.severity.value, 0) + 1
                pen += s.severity.mqm_weight
            out[k] = [counts["minor"], counts["major"], counts["critical"], pen]
    return out


def build_matrix(items, encoder, cache, with_reference):
    import numpy as np
    import regex
    from sacrebleu.metrics import CHRF

    texts = [it.source for it in items] + [it.mt for it in items]
    if with_reference:
        texts += [it.references[0] for it in items if it.references]
    vec, index = embed_all(encoder, texts, cache)
    u = vec[[index[it.source] for it in items]]
    v = vec[[index[it.mt] for it in items]]
    cos = (u * v).sum(1, keepdims=True)
    han = np.array([[math.log1p(len(regex.findall(r"\p{Han}", it.source)))] for it in items])
    words = np.array([[math.log1p(len(it.mt.split()))] for it in items])
    # 3.82 chars per Han character: the fitted length model of the length check.
    ratio = np.array([[math.log((len(it.mt) + 1) / (3.82 * len(regex.findall(r"\p{Han}", it.source)) + 1))]
                      for it in items])
    f = np.array(findings(items), dtype=np.float64)
    cols = [u, v, np.abs(u - v), u * v, cos, han, words, ratio, f]
    if with_reference:
        chrf = CHRF()
        refs = [it.references[0] if it.references else it.mt for it in items]
        c = np.array([[chrf.sentence_score(it.mt, [r]).score / 100.0] for it, r in zip(items, refs)])
        w = vec[[index[r] for r in refs]]
        cols += [c, (v * w).sum(1, keepdims=True)]
    return np.hstack(cols).astype(np.float64)


def ridge_fit(x, y, alpha):
    import numpy as np

    mu, sd = x.mean(0), x.std(0) + 1e-8
    z = (x - mu) / sd
    a = z.T @ z + alpha * np.eye(z.shape[1])
    w = np.linalg.solve(a, z.T @ (y - y.mean()))
    return lambda q: ((q - mu) / sd) @ w + y.mean()


def mlp_fit(x, y, xc, yc, seed=13, epochs=60):
    import torch

    torch.manual_seed(seed)
    mu, sd = x.mean(0), x.std(0) + 1e-8
    tx = torch.tensor((x - mu) / sd, dtype=torch.float32)
    ty = torch.tensor(y / 5.0, dtype=torch.float32)
    tc = torch.tensor((xc - mu) / sd, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 256), torch.nn.Tanh(), torch.nn.Dropout(0.2),
                              torch.nn.Linear(256, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)
    best = (float("inf"), None)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(tx), generator=g)
        for b in range(0, len(tx), 64):
            idx = perm[b:b + 64]
            loss = torch.nn.functional.mse_loss(net(tx[idx]).squeeze(-1), ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            err = float(((net(tc).squeeze(-1) * 5.0 - torch.tensor(yc)) ** 2).mean())
        if err < best[0]:
            best = (err, {k: t.clone() for k, t in net.state_dict().items()})
    net.load_state_dict(best[1])

    def predict(q):
        with torch.no_grad():
            return net(torch.tensor((q - mu) / sd, dtype=torch.float32)).squeeze(-1).numpy() * 5.0

    return predict


def evaluate(items, pred):
    from mtcheck.metaeval.stats import evaluate as ev

    human = {(it.system, it.item): it.human for it in items}
    metric = {(it.system, it.item): -float(p) for it, p in zip(items, pred)}
    r = ev(human, metric, metric_name="m")
    return {"pearson": round(r.segment_pearson.value, 4), "item_kendall": round(r.item_kendall.value, 4),
            "pairwise": round(r.pairwise_accuracy.value, 4)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "mtcheck" / "qe-train" / "features")
    ap.add_argument("--calib", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import numpy as np

    from mtcheck.metaeval import loaders
    from mtcheck.models.registry import get_model

    try:
        ds20 = loaders.load_mqm_newstest2020(args.data)
        dev = {"newstest2021": loaders.load_mqm_newstest2021(args.data), "ted": loaders.load_mqm_ted(args.data)}
    except DataUnavailableError as exc:
        print(f"train_feature_qe: skipped: {exc}")
        return 0
    # The same document split as scripts/train_qe.py.
    from mtcheck.models.qe_train import calibration_documents

    calib_docs = calibration_documents(ds20, args.calib, args.seed)
    usable = [it for it in ds20.items if it.human is not None and it.source and it.mt]
    train = [it for it in usable if it.doc not in calib_docs]
    calib = [it for it in usable if it.doc in calib_docs]
    dev_items = {k: [it for it in d.items if it.human is not None and it.source and it.mt] for k, d in dev.items()}
    encoder = get_model("e5-small-q4")
    results = {}
    for with_ref in (False, True):
        mode = "with reference" if with_ref else "reference-free"
        t0 = time.time()
        xs = {"train": build_matrix(train, encoder, args.cache, with_ref),
              "calib": build_matrix(calib, encoder, args.cache, with_ref)}
        for k, its in dev_items.items():
            xs[k] = build_matrix(its, encoder, args.cache, with_ref)
        log(f"{mode}: features {xs['train'].shape[1]} in {time.time() - t0:.0f}s")
        y = np.minimum([-it.human for it in train], 25.0)
        yc = np.minimum([-it.human for it in calib], 25.0)
        best_alpha, best_err = None, float("inf")
        for alpha in (1.0, 10.0, 100.0, 1000.0, 10000.0):
            f = ridge_fit(xs["train"], y, alpha)
            err = float(((f(xs["calib"]) - yc) ** 2).mean())
            if err < best_err:
                best_alpha, best_err = alpha, err
        models = {f"ridge (alpha {best_alpha:g})": ridge_fit(xs["train"], y, best_alpha),
                  "mlp": mlp_fit(xs["train"], y, xs["calib"], yc)}
        for name, f in models.items():
            row = {"calib": evaluate(calib, f(xs["calib"]))}
            for k, its in dev_items.items():
                row[k] = evaluate(its, f(xs[k]))
            results[f"{mode}: {name}"] = row
            log(f"{mode}: {name}: {json.dumps(row)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
