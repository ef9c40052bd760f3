"""Benchmark: how well do chrF and sentence-BLEU agree with expert MQM on WMT21 zh→en?

Evaluates mtcheck's ``chrf`` and ``bleu`` metrics against the Google MQM
judgements of newstest2021 and of the WMT21 TED talks (shared data, read by
:mod:`mtcheck.metaeval.loaders`), and prints one table per dataset:
segment-level Pearson and Kendall (flat and grouped by item), system-level
Pearson and pairwise accuracy, each with an item-bootstrap 95% interval.

As in WMT, segment-level scores are sentence scores and system-level scores
are corpus scores (not means of sentence scores). For the bootstrap, the
corpus score of each resample is recomputed from summed sacrebleu sufficient
statistics, which is what a corpus score over the resampled items is.

Usage::

    MTCHECK_SHARED_DATA=/path/to/mt-eval-zhen python scripts/bench_metaeval.py [--bootstrap 200] [--seed 1]

Without the data it prints why and exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mtcheck.errors import DataUnavailableError  # noqa: E402
from mtcheck.metaeval.loaders import JudgedDataset, load_mqm_newstest2021, load_mqm_ted, shared_data_dir  # noqa: E402
from mtcheck.metaeval.stats import BootstrapConfig, Judgements, evaluate_judgements, format_table  # noqa: E402
from mtcheck.metrics import get_metric  # noqa: E402

DATASETS = {"newstest2021-mqm": load_mqm_newstest2021, "ted-mqm": load_mqm_ted}
METRICS = ("chrf", "bleu")


def corpus_scorer(metric, dataset: JudgedDataset, j: Judgements):
    """A SystemScorer giving each system's corpus score over (resampled) complete items.

    Uses the sacrebleu scorer behind the mtcheck metric (``_scorer`` and
    sacrebleu's statistics methods are internal APIs); the unweighted result
    is checked against ``metric.corpus_score`` so a mismatch cannot go unseen.
    """
    scorer = metric._scorer(sentence_level=False)
    by_key = {(it.system, it.item): it for it in dataset.items}
    complete = j.complete_items
    stats = []
    for system in j.systems:
        hyps = [by_key[(system, i)].mt for i in complete]
        refs = [by_key[(system, i)].references[0] for i in complete]
        stats.append(scorer._extract_corpus_statistics(hyps, [refs]))
    stats_arr = np.asarray(stats, dtype=np.int64)  # (systems, items, statistics)

    def score(weights: np.ndarray) -> np.ndarray:
        summed = np.einsum("bk,skf->bsf", weights.astype(np.int64), stats_arr)
        out = np.empty(summed.shape[:2])
        for b in range(summed.shape[0]):
            for s in range(summed.shape[1]):
                out[b, s] = scorer._compute_score_from_stats(summed[b, s].tolist()).score
        return out

    signature = None
    check = score(np.ones((1, len(complete)), dtype=np.int64))[0]
    for k, system in enumerate(j.systems):
        hyps = [by_key[(system, i)].mt for i in complete]
        refs = [list(by_key[(system, i)].references) for i in complete]
        official = metric.corpus_score(hyps, refs)
        signature = official.signature
        if abs(official.score - check[k]) > 1e-9:
            raise RuntimeError(f"{metric.name} {system}: summed statistics give {check[k]}, corpus_score {official.score}")
    return score, signature


def run_dataset(name: str, bootstrap: BootstrapConfig, root: Path) -> str:
    dataset = DATASETS[name](root)
    human = dataset.human_scores()
    items = [it for it in dataset.items if it.mt is not None and it.references]
    hyps = [it.mt for it in items]
    refs = [list(it.references) for it in items]
    reports, signatures = [], []
    for metric_name in METRICS:
        metric = get_metric(metric_name)
        seg = metric.segment_scores(hyps, refs)
        seg_scores = {(it.system, it.item): s for it, s in zip(items, seg)}
        j = Judgements.from_scores(human, seg_scores, dataset.systems)
        scorer, signature = corpus_scorer(metric, dataset, j)
        label = "sentBLEU / BLEU" if metric_name == "bleu" else "chrF"
        reports.append(evaluate_judgements(j, metric_name=label, system_metric=scorer, bootstrap=bootstrap))
        signatures.append(f"  {metric_name}: {signature}")
    j0 = Judgements.from_scores(human, human, dataset.systems)
    head = [
        f"== {dataset.name}: {dataset.human_score}",
        f"systems ({len(j0.systems)}; reference {dataset.reference_system} excluded): {', '.join(j0.systems)}",
        f"items: {len(j0.items)} rated segments ({min(j0.items)}..{max(j0.items)}), "
        f"{len(j0.complete_items)} rated for every system",
        f"reference: {dataset.reference_system} ({dataset.notes})",
        "",
    ]
    tail = [
        "",
        "signatures (corpus level; segment level uses the same settings sentence by sentence,",
        "BLEU with effective order as in sacrebleu's sentence_bleu):",
        *signatures,
    ]
    return "\n".join(head) + format_table(reports) + "\n" + "\n".join(tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="bootstrap seed (default 1)")
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=list(DATASETS))
    args = parser.parse_args(argv)
    try:
        root = shared_data_dir()
    except DataUnavailableError as exc:
        print(f"skipping the meta-evaluation benchmark: {exc}")
        return 0
    command = " ".join(shlex.quote(a) for a in ["python", "scripts/bench_metaeval.py", *sys.argv[1:]])
    print(f"command: {command}")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"data: {root}")
    print()
    bootstrap = BootstrapConfig(n=args.bootstrap, seed=args.seed)
    for name in args.datasets:
        start = time.perf_counter()
        print(run_dataset(name, bootstrap, root))
        print(f"({time.perf_counter() - start:.1f} s)")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
