"""Benchmark: how well does the rule-based headline (MQM-est) agree with expert MQM?

Runs every registered check (no reference is used) over the MQM-rated outputs
of newstest2021 and the WMT21 TED talks, and meta-evaluates

* ``mqm_est``: the headline, the MQM formula applied to the findings;
* ``flagged``: minus the number of findings (a plain count);
* for each check, minus the summed weight of its own findings,

with the same statistics as ``bench_metaeval.py`` (system level = mean of
segment scores). It also prints, per check, how often it fires on the human
translation ref-B, and what fraction of its flagged segments carry a human
MQM error (Major or Minor) at all.

Usage::

    python scripts/bench_checks_mqm.py [--bootstrap 200] [--seed 1]

Without the shared data it prints why and exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mtcheck.checks import CHECKS  # noqa: E402
from mtcheck.config import ScoreConfig  # noqa: E402
from mtcheck.core import Segment  # noqa: E402
from mtcheck.errors import DataUnavailableError  # noqa: E402
from mtcheck.metaeval.loaders import load_mqm_newstest2021, load_mqm_ted, shared_data_dir  # noqa: E402
from mtcheck.metaeval.stats import BootstrapConfig, evaluate, format_table  # noqa: E402
from mtcheck.pipeline import HEADLINE, score_batch  # noqa: E402

DATASETS = {"newstest2021-mqm": load_mqm_newstest2021, "ted-mqm": load_mqm_ted}


def run(name, loader, root, bootstrap):
    ds = loader(root)
    items = ds.items
    # one document per (system, doc) so document-level checks see one system's document
    segs = [Segment(id=f"{it.system}|{it.item}", source=it.source, mt=it.mt, doc=f"{it.system}|{it.doc}")
            for it in items]
    t0 = time.perf_counter()
    batch = score_batch(segs, ScoreConfig(metrics=()))
    elapsed = time.perf_counter() - t0
    human = ds.human_scores()
    keys = [(it.system, it.item) for it in items]
    columns = {HEADLINE: {}, "flagged": {}}
    columns.update({c: {} for c in CHECKS})
    for key, r in zip(keys, batch.segments):
        columns[HEADLINE][key] = r.scores[HEADLINE]
        columns["flagged"][key] = -float(len(r.spans))
        for c in CHECKS:
            columns[c][key] = -sum(s.severity.mqm_weight for s in r.spans if s.check == c)
    reports = [evaluate(human, col, metric_name=m, bootstrap=bootstrap) for m, col in columns.items()]
    lines = [f"== {name}: {len(items)} items, {len(ds.systems)} systems; checks ran at "
             f"{len(items) / elapsed:.0f} segments/s", format_table(reports), "", "per check:"]
    lines.append(f"  {'check':<13} {'fires (all)':>12} {'fires (ref-B)':>14} {'flagged items with a human error':>34}")
    for c in CHECKS:
        fired = [(k, r) for k, r in zip(keys, batch.segments) if any(s.check == c for s in r.spans)]
        ref_b = [k for k, _ in fired if k[0] == "ref-B"]
        n_ref_b = sum(1 for k in keys if k[0] == "ref-B")
        with_err = sum(1 for k, _ in fired if human.get(k) is not None and human[k] < 0)
        prec = f"{with_err / len(fired):.3f} ({with_err}/{len(fired)})" if fired else "n/a"
        lines.append(f"  {c:<13} {len(fired) / len(keys):>11.2%} {len(ref_b) / max(n_ref_b, 1):>13.2%} {prec:>34}")
    base = sum(1 for k in keys if human.get(k) is not None and human[k] < 0) / len(keys)
    lines.append(f"  (base rate: {base:.3f} of all items carry a human error)")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    try:
        root = shared_data_dir()
    except DataUnavailableError as exc:
        print(f"skipped: {exc}")
        return 0
    print(f"command: python scripts/bench_checks_mqm.py --bootstrap {args.bootstrap} --seed {args.seed}")
    print(f"date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}")
    print(f"checks: {', '.join(CHECKS)}")
    bootstrap = BootstrapConfig(n=args.bootstrap, seed=args.seed) if args.bootstrap else None
    for name, loader in DATASETS.items():
        print()
        print(run(name, loader, root, bootstrap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
