#!/usr/bin/env python3
"""Translation-model signals against WMT MQM: do they help, and what do they cost?

    python scripts/bench_translation_signals.py [--sources 12] [--systems 7] [--ted-sources 6]

Samples ``--sources`` source segments of newstest2021 MQM (and ``--ted-sources``
of TED MQM), each with the outputs of ``--systems`` systems (seeded), so that
item-grouped Kendall (ranking the systems' translations of one source) can be
computed. With the default translator (the model serving the ``translator``
role; by default Qwen2.5-Coder-0.5B-Instruct) it computes per item:

* ``bt_chrf``: chrF of the back-translation (en→zh generation) against the source;
  ``bt_xsim``: the encoder's cosine between the same back-translation and the source;
* ``tm_logprob``: mean log P(MT | source); ``tm_pmi``: that minus the mean
  log P(MT) without the source; ``tm_reverse``: mean log P(source | MT);
* ``fwd_ref``: chrF of the MT against the model's own zh→en translation,

beside chrF with the reference, ``xsim`` and the trained ``qe`` on the same
items. It prints segment Pearson and item-grouped Kendall against MQM, the
corpus chrF of the translator's zh→en output against reference A (is it
usable as a pseudo-reference?), whether adding each signal to ``qe`` in a
2-fold cross-validated linear model raises Pearson, and seconds per item and
peak RSS. Generations are cached (``$MTCHECK_CACHE_DIR/translations``).
Exits 0 with a message without the shared data or the model.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtcheck.errors import DataUnavailableError, ModelUnavailableError  # noqa: E402


def sample(ds, n_sources, n_systems, seed):
    by_item = {}
    for it in ds.items:
        if it.human is not None and it.source and it.mt and it.references:
            by_item.setdefault(it.item, []).append(it)
    rng = random.Random(seed)
    items = sorted(k for k, v in by_item.items() if len(v) >= n_systems)
    chosen = rng.sample(items, min(n_sources, len(items)))
    out = []
    for k in sorted(chosen):
        out.extend(rng.sample(sorted(by_item[k], key=lambda it: it.system), n_systems))
    return out


def cv_gain(base, extra, human, folds=2, seed=1):
    """Pearson of a 2-fold cross-validated least-squares fit on [base] and on [base, extra]."""
    import numpy as np

    idx = np.arange(len(human))
    np.random.default_rng(seed).shuffle(idx)
    parts = np.array_split(idx, folds)

    def fit(cols):
        X = np.column_stack([np.ones(len(human))] + cols)
        pred = np.zeros(len(human))
        for k in range(folds):
            test = parts[k]
            train = np.concatenate([parts[j] for j in range(folds) if j != k])
            coef, *_ = np.linalg.lstsq(X[train], human[train], rcond=None)
            pred[test] = X[test] @ coef
        return float(np.corrcoef(pred, human)[0, 1])

    return fit([base]), fit([base, extra])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=12)
    ap.add_argument("--systems", type=int, default=7)
    ap.add_argument("--ted-sources", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    import numpy as np
    import regex
    import sacrebleu

    import mtcheck.models  # noqa: F401  (registers the models)
    from mtcheck.metaeval import loaders
    from mtcheck.metaeval.stats import evaluate
    from mtcheck.metrics import get_metric
    from mtcheck.metrics.translation import cached_translator

    try:
        sets = {"newstest2021": sample(loaders.load_mqm_newstest2021(), args.sources, args.systems, args.seed)}
        if args.ted_sources:
            sets["TED"] = sample(loaders.load_mqm_ted(), args.ted_sources, args.systems, args.seed)
    except DataUnavailableError as exc:
        print(f"bench_translation_signals: skipped: {exc}")
        return 0
    t0 = time.perf_counter()
    try:
        tr = cached_translator()
        inner = tr.inner
    except ModelUnavailableError as exc:
        print(f"bench_translation_signals: skipped: {exc}")
        return 0
    print(f"translator {tr.name}: loaded in {time.perf_counter() - t0:.1f} s")
    chrf = sacrebleu.CHRF()
    for name, items in sets.items():
        srcs = [it.source for it in items]
        mts = [it.mt for it in items]
        refs = [it.references[0] for it in items]
        human = {(it.system, it.item): it.human for it in items}
        cost = {}
        t = time.perf_counter()
        backs = tr.translate(mts, "en", "zh")
        cost["bt (en→zh generation)"] = time.perf_counter() - t
        t = time.perf_counter()
        cond = tr.score(srcs, mts, "zh", "en")
        cost["forced decoding P(MT|src)"] = time.perf_counter() - t
        t = time.perf_counter()
        free = inner.score_unconditional(mts, "en")
        cost["unconditional P(MT)"] = time.perf_counter() - t
        t = time.perf_counter()
        rev = tr.score(mts, srcs, "en", "zh")
        cost["reverse P(src|MT)"] = time.perf_counter() - t
        t = time.perf_counter()
        uniq = list(dict.fromkeys(srcs))
        fwd = dict(zip(uniq, tr.translate(uniq, "zh", "en")))
        cost["fwd (zh→en generation, per source)"] = (time.perf_counter() - t) * len(items) / max(1, len(uniq))
        signals = {
            "bt_chrf": [chrf.sentence_score(b, [s]).score if b.strip() else None for b, s in zip(backs, srcs)],
            "bt_xsim": get_metric("bt_xsim", translator=tr).segment_scores(mts, [[r] for r in refs], srcs),
            "tm_logprob": [c.mean for c in cond],
            "tm_pmi": [c.mean - f.mean if c.logprobs and f.logprobs else None for c, f in zip(cond, free)],
            "tm_reverse": [r.mean for r in rev],
            "fwd_ref": [chrf.sentence_score(m, [fwd[s]]).score if fwd[s].strip() else None
                        for m, s in zip(mts, srcs)],
        }
        others = {
            "chrF (reference)": get_metric("chrf").segment_scores(mts, [[r] for r in refs], srcs),
            "xsim": get_metric("xsim").segment_scores(mts, [[r] for r in refs], srcs),
            "qe": get_metric("qe").segment_scores(mts, [[r] for r in refs], srcs),
        }
        n_src = len(uniq)
        print(f"\n== {name}: {len(items)} items ({n_src} sources × {args.systems} systems), seed {args.seed}")
        print("| signal | seg Pearson | item-grouped Kendall | Pearson of qe + signal (2-fold CV; qe alone in brackets) |")
        print("|---|---|---|---|")
        hv = np.array([it.human for it in items], dtype=float)
        qe = np.array(others["qe"], dtype=float)
        for label, values in {**signals, **others}.items():
            rep = evaluate(human, {(it.system, it.item): v for it, v in zip(items, values)}, metric_name=label)
            gain = ""
            if label in signals:
                x = np.array([np.nan if v is None else v for v in values], dtype=float)
                x = np.where(np.isnan(x), np.nanmean(x), x)
                alone, both = cv_gain(qe, x, hv)
                gain = f"{both:.3f} ({alone:.3f})"
            print(f"| {label} | {rep.segment_pearson.value:.3f} | {rep.item_kendall.value:.3f} | {gain} |")
        fwd_out = [fwd[s] for s in uniq]
        ref_by_src = {it.source: it.references[0] for it in items}
        print(f"translator zh→en corpus chrF against reference A ({n_src} sources): "
              f"{chrf.corpus_score(fwd_out, [[ref_by_src[s] for s in uniq]]).score:.1f}; the MT systems on the "
              f"same items: {chrf.corpus_score(mts, [refs]).score:.1f}")
        han = sum(1 for b in backs if regex.search(r"\p{Han}", b))
        print(f"back-translations containing Chinese: {han} of {len(backs)}")
        for what, seconds in cost.items():
            print(f"  {what}: {seconds / len(items):.2f} s/item")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"cache hits {tr.hits}, misses {tr.misses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
