"""Benchmark: speed of the fluency LM, and how its scores agree with expert MQM on WMT21 zh→en.

Scores the MT outputs of newstest2021 and of the WMT21 TED talks (shared
data, read by :mod:`mtcheck.metaeval.loaders`) with the language model behind
mtcheck's ``fluency`` metric, then compares against the Google MQM scores
several readings of the same token log-probabilities: the metric's own mean
token log-probability, the summed log-probability, the least likely token,
minus the perplexity, and minus the token count (length alone, the baseline
the sum has to beat). Statistics: segment Pearson and Kendall (flat and
grouped by item), system Pearson (system score = mean of segment scores over
the items every system has, which is the metric's corpus score) and pairwise
accuracy, with item-bootstrap 95% intervals.

The CPU scores a few segments a second, so by default only a random subset
of items is used (``--items``, all systems' outputs for each item; identical
outputs are scored once). The speed of each scoring run and the peak RSS are
printed with the load average, since other processes on the machine slow it.

Usage::

    MTCHECK_SHARED_DATA=/path/to/mt-eval-zhen python scripts/bench_fluency.py [--items 25] [--seed 1]
        [--batch-size 16] [--bootstrap 200] [--threads N] [--datasets newstest2021-mqm ted-mqm]

``--items 0`` uses every item (an hour or more on two cores). Without the
data, or without the language model, it prints why and exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import resource
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mtcheck.errors import DataUnavailableError, ModelUnavailableError  # noqa: E402
from mtcheck.metaeval.loaders import JudgedDataset, load_mqm_newstest2021, load_mqm_ted, shared_data_dir  # noqa: E402
from mtcheck.metaeval.stats import BootstrapConfig, Judgements, evaluate_judgements, format_table  # noqa: E402
from mtcheck.metrics.fluency import Fluency, fluency_features  # noqa: E402

DATASETS = {"newstest2021-mqm": load_mqm_newstest2021, "ted-mqm": load_mqm_ted}

#: Row label -> how to read it from fluency_features (higher must mean better).
VARIANTS = {
    "fluency = mean logprob": lambda f: f["mean"],
    "sum logprob": lambda f: f["sum"],
    "min logprob": lambda f: f["min"],
    "-perplexity": lambda f: -f["ppl"],
    "-n_tokens (length only)": lambda f: -f["n_tokens"],
}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def choose_items(dataset: JudgedDataset, n_items: int, seed: int) -> list[int]:
    """``n_items`` random items that every system has a rated output for (all of them for 0)."""
    human = dataset.human_scores()
    systems = dataset.systems
    complete = [
        i for i in dataset.item_ids
        if all(human.get((s, i)) is not None for s in systems)
    ]
    if n_items <= 0 or n_items >= len(complete):
        return complete
    return sorted(random.Random(seed).sample(complete, n_items))


def run_dataset(name: str, root: Path, metric: Fluency, args: argparse.Namespace) -> str:
    dataset = DATASETS[name](root)
    items = set(choose_items(dataset, args.items, args.seed))
    cells = [it for it in dataset.items if it.item in items and it.mt is not None and it.human is not None]
    texts = sorted({it.mt for it in cells})
    start = time.perf_counter()
    feats = fluency_features(metric.lm_scores(texts))
    elapsed = time.perf_counter() - start
    n_tokens = int(feats["n_tokens"].sum())
    row_of = {t: k for k, t in enumerate(texts)}
    human = {(it.system, it.item): it.human for it in cells}
    reports = []
    for label, read in VARIANTS.items():
        values = read(feats)
        seg = {
            (it.system, it.item): (None if np.isnan(values[row_of[it.mt]]) else float(values[row_of[it.mt]]))
            for it in cells
        }
        j = Judgements.from_scores(human, seg, dataset.systems)
        reports.append(evaluate_judgements(j, metric_name=label, bootstrap=BootstrapConfig(n=args.bootstrap,
                                                                                           seed=args.seed)))
    scope = "all" if args.items <= 0 or len(items) == len(dataset.item_ids) else f"a random {len(items)}"
    head = [
        f"== {dataset.name}: {dataset.human_score}",
        f"items: {scope} of {len(dataset.item_ids)} rated items (seed {args.seed}), {len(dataset.systems)} systems, "
        f"{len(cells)} rated outputs, {len(texts)} distinct texts",
        f"scoring: {len(texts)} texts, {n_tokens} tokens in {elapsed:.1f} s = {len(texts) / elapsed:.2f} segments/s, "
        f"{n_tokens / elapsed:.0f} tokens/s (batch {args.batch_size}, {metric.model.threads} threads, "
        f"load average {os.getloadavg()[0]:.2f})",
        "",
    ]
    return "\n".join(head) + format_table(reports)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=25, help="random items per dataset, 0 = all (default 25)")
    parser.add_argument("--seed", type=int, default=1, help="item sample and bootstrap seed (default 1)")
    parser.add_argument("--batch-size", type=int, default=16, help="texts per forward pass (default 16)")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples (default 200)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: every core)")
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=list(DATASETS))
    args = parser.parse_args(argv)
    try:
        root = shared_data_dir()
    except DataUnavailableError as exc:
        print(f"skipping the fluency benchmark: {exc}")
        return 0
    metric = Fluency(batch_size=args.batch_size)
    start = time.perf_counter()
    try:
        model = metric.model
    except ModelUnavailableError as exc:
        print(f"skipping the fluency benchmark: {exc}")
        return 0
    load_s = time.perf_counter() - start
    if args.threads is not None:
        model.threads = args.threads
    command = " ".join(shlex.quote(a) for a in ["python", "scripts/bench_fluency.py", *sys.argv[1:]])
    print(f"command: {command}")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"data: {root}")
    print(f"model: {model.name}, start token {model.prefix_token!r}, loaded in {load_s:.1f} s")
    print(f"signature: {metric.signature()}")
    print()
    for name in args.datasets:
        start = time.perf_counter()
        print(run_dataset(name, root, metric, args))
        print(f"({time.perf_counter() - start:.1f} s)")
        print()
    print(f"peak RSS: {_peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
