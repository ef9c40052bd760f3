"""Benchmark: throughput and peak memory of every signal and of the whole pipeline.

Scores the first N segments (default 1,000) of newstest2021 zh→en — the
source and one system's output (default Online-W), with reference A — once
per signal, each in a fresh subprocess so its peak RSS is its own, and prints
segments/second (model loading excluded, and reported separately) next to
sacrebleu chrF from the same run. The row ``spans`` is what an editor's
review of spans costs without a reference (`mtcheck score --metrics qe
--model-spans`: every check and the QE token head's spans, from source and
MT alone). The last row is the whole default pipeline (`mtcheck score`:
every check and every metric whose model is installed).

Usage::

    python scripts/bench_pipeline.py [--n 1000] [--system Online-W] [--only xsim,fluency]

Reads the data from $MTCHECK_SHARED_DATA (default ../shared/mt-eval-zhen);
without it, prints why and exits 0. Times on a shared machine are noisy: the
script prints the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ROWS = ("chrf", "bleu", "ter", "checks", "lexcov", "xsim", "refsim", "fluency", "spans", "pipeline")


def _child(name: str, n: int, system: str) -> dict:
    """Runs in the subprocess: load, warm up, then time one signal on n segments."""
    from mtcheck.config import ScoreConfig, default_checks
    from mtcheck.core import Segment
    from mtcheck.metaeval.loaders import shared_data_dir
    from mtcheck.pipeline import build_metrics, score_batch
    from mtcheck.resources import peak_rss_mb

    root = shared_data_dir() / "wmt_testsets_zhen" / "newstest2021" / "txt"
    src = (root / "sources" / "newstest2021.zh-en.src.zh").read_text(encoding="utf-8").splitlines()[:n]
    ref = (root / "references" / "newstest2021.zh-en.ref.A.en").read_text(encoding="utf-8").splitlines()[:n]
    hyp = (root / "system-outputs" / f"newstest2021.zh-en.hyp.{system}.en").read_text(encoding="utf-8").splitlines()[:n]
    segs = [Segment(str(i), s, h, (r,)) for i, (s, h, r) in enumerate(zip(src, hyp, ref), start=1)]
    t0 = time.perf_counter()
    counted: dict = {}
    if name == "pipeline":
        from mtcheck.config import DEFAULT_METRICS, neural_metrics

        config = ScoreConfig(metrics=DEFAULT_METRICS + neural_metrics(), optional_metrics=neural_metrics())
        score_batch(segs[:8], config)  # loads every model once
        load = time.perf_counter() - t0
        t1 = time.perf_counter()
        score_batch(segs, config)
    elif name in ("checks", "spans"):
        if name == "spans":
            segs = [Segment(s.id, s.source, s.mt) for s in segs]
            config = ScoreConfig(metrics=("qe",), checks=default_checks(), model_spans=True)
        else:
            config = ScoreConfig(metrics=(), checks=default_checks())
        score_batch(segs[:8], config)
        load = time.perf_counter() - t0
        t1 = time.perf_counter()
        batch = score_batch(segs, config)
        found = [sp for r in batch.segments for sp in r.spans]
        counted = {"spans": len(found), "model_spans": sum("qe-spans" in sp.check for sp in found)}
    else:
        (metric,) = build_metrics(ScoreConfig(metrics=(name,), checks=()))
        hyps, refs, srcs = [s.mt for s in segs], [list(s.references) for s in segs], [s.source for s in segs]
        metric.segment_scores(hyps[:8], refs[:8], srcs[:8])  # loads the model, warms up
        load = time.perf_counter() - t0
        t1 = time.perf_counter()
        metric.segment_scores(hyps, refs, srcs)
    elapsed = time.perf_counter() - t1
    rss_mb = peak_rss_mb()
    return {"name": name, "n": len(segs), "seconds": elapsed, "seg_per_s": len(segs) / elapsed,
            "load_s": load, "peak_rss_mb": rss_mb, **counted}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--system", default="Online-W")
    ap.add_argument("--only", default=None, help="comma-separated subset of: " + ",".join(ROWS))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.n, args.system)))
        return 0
    from mtcheck.errors import DataUnavailableError
    from mtcheck.metaeval.loaders import shared_data_dir

    try:
        shared_data_dir()
    except DataUnavailableError as exc:
        print(f"skipped: {exc}")
        return 0
    rows = args.only.split(",") if args.only else list(ROWS)
    print(f"command: python scripts/bench_pipeline.py --n {args.n} --system {args.system}"
          + (f" --only {args.only}" if args.only else ""))
    print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'signal':<10} {'segments':>8} {'seconds':>8} {'seg/s':>8} {'load s':>7} {'peak RSS MB':>12}")
    for name in rows:
        proc = subprocess.run([sys.executable, __file__, "--child", name, "--n", str(args.n), "--system", args.system],
                              capture_output=True, text=True, cwd=REPO)
        if proc.returncode != 0:
            print(f"{name:<10} FAILED: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{name:<10} {r['n']:>8} {r['seconds']:>8.2f} {r['seg_per_s']:>8.1f} {r['load_s']:>7.1f} {r['peak_rss_mb']:>12.0f}"
              + (f"   {r['spans']} spans, {r['model_spans']} of them the model's" if "spans" in r else ""))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
