"""Benchmark: streaming jobs (`mtcheck score --out`) at 10k, 100k and 1M segments.

Builds synthetic JSON Lines inputs by repeating the newstest2021 zh→en MQM
items (source, one system's MT, reference A; every segment gets a unique id
and every repetition its own document ids) to 10,000 and 100,000 segments
(and 1,000,000 with ``--big``), then scores each with
:func:`mtcheck.jobs.run_job` in a fresh subprocess, so the peak RSS printed
is that run's own. Rule checks plus chrF and BLEU only, so it runs on a CPU.
Then seg/s with 1 worker against 2 workers on the first size, and with
``--ray`` also ``--engine ray`` with that many actors on a local Ray instance
the child starts (its actors' RSS is not measured).

Usage::

    python scripts/bench_stream.py [--sizes 10000,100000] [--big] [--chunk-size 1000] [--workers 2] [--ray]
                                   [--gate] [--light] [--no-compare]

Reads the data from $MTCHECK_SHARED_DATA (default ../shared/mt-eval-zhen);
without it, prints why and exits 0. Inputs and outputs go to a temporary
directory (``--keep DIR`` to keep them). Times on a shared machine are noisy:
the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

METRICS = ("chrf", "bleu")


def build_input(path: Path, n: int) -> int:
    """Write ``n`` segments by cycling through the newstest2021 MQM items; return how many distinct items."""
    from mtcheck.metaeval.loaders import load_mqm_newstest2021

    items = [it for it in load_mqm_newstest2021().items if it.source and it.mt]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            it = items[i % len(items)]
            rep = i // len(items)
            # Items come system by system; a document id per system and repetition keeps documents
            # contiguous and of their natural size.
            rec = {"id": f"s{i}", "doc": f"{it.doc or 'nodoc'}|{it.system}#{rep}", "source": it.source, "mt": it.mt,
                   "ref": it.references[0] if it.references else ""}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return len(items)


def _child(inp: str, out: str, workers: int, chunk_size: int, engine: str = "local") -> dict:
    """Runs in the subprocess: one streaming job, timed, with its peak RSS."""
    import resource

    from mtcheck.config import ScoreConfig, default_checks
    from mtcheck.io import read_inputs
    from mtcheck.jobs import JobOptions, run_job

    # --light: the empty check only, no metric, to show memory flatness up to 1M segments in minutes.
    light = os.environ.get("MTCHECK_BENCH_LIGHT") == "1"
    config = ScoreConfig(metrics=() if light else METRICS, checks=("empty",) if light else default_checks())
    t0 = time.perf_counter()
    result = run_job(read_inputs([inp]), out, config,
                     JobOptions(chunk_size=chunk_size, workers=workers, engine=engine))
    wall = time.perf_counter() - t0
    # ru_maxrss is in KiB on Linux; the children's figure covers worker processes.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    row = {"segments": result.segments, "seconds": wall, "seg_per_s": result.segments / wall,
           "peak_rss_mb": own, "peak_worker_rss_mb": kids, "chunks": result.chunks,
           "chrf": result.summary["scores"].get("chrf")}
    if os.environ.get("MTCHECK_BENCH_GATE") == "1":
        # What `check --out --sarif --junit` does after scoring: the gate and CI files from the file read back.
        from mtcheck.gate import Thresholds
        from mtcheck.report.ci import gate_results_file

        t1 = time.perf_counter()
        gate, _ = gate_results_file(out, Thresholds(max_major=0), sarif=out + ".sarif", junit=out + ".xml")
        row.update({"gate_seconds": time.perf_counter() - t1, "gate_passed": gate.passed,
                    "peak_rss_after_gate_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "sarif_mb": os.path.getsize(out + ".sarif") / 2**20})
    return row


def _run(inp: Path, out: Path, workers: int, chunk_size: int, engine: str = "local") -> dict:
    cmd = [sys.executable, __file__, "--child", str(inp), str(out), str(workers), str(chunk_size), engine]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({' '.join(cmd)}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated segment counts")
    ap.add_argument("--big", action="store_true", help="also 1,000,000 segments")
    ap.add_argument("--chunk-size", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2, help="workers for the comparison with 1")
    ap.add_argument("--keep", type=Path, default=None, help="keep inputs and outputs in this directory")
    ap.add_argument("--light", action="store_true",
                    help="the empty check only, no metric (memory flatness at 1M segments in minutes)")
    ap.add_argument("--ray", action="store_true", help="also --engine ray with --workers actors (needs mtcheck[ray])")
    ap.add_argument("--gate", action="store_true",
                    help="after each 1-worker job, also gate it and write SARIF and JUnit by reading the output back "
                         "(as `check --out` does), with that pass's seconds and the peak RSS after it")
    ap.add_argument("--no-compare", action="store_true", help="skip the 1-vs-N-worker comparison")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        inp, out, workers, chunk, engine = args.child
        print(json.dumps(_child(inp, out, int(workers), int(chunk), engine)))
        return 0

    from mtcheck.errors import DataUnavailableError

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.big and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    work = args.keep or Path(tempfile.mkdtemp(prefix="mtcheck-bench-stream-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()[0]:.2f} (cpus: {os.cpu_count()})")
    if args.light:
        os.environ["MTCHECK_BENCH_LIGHT"] = "1"  # read by the child processes
    if args.gate:
        os.environ["MTCHECK_BENCH_GATE"] = "1"
    what = "the empty check only (--light)" if args.light else f"metrics {','.join(METRICS)} + all rule checks"
    print(f"{what}; chunk size {args.chunk_size}; files in {work}")
    print(f"{'segments':>9} {'engine':>6} {'workers':>7} {'seconds':>8} {'seg/s':>7} {'peak RSS MB':>11} {'worker RSS MB':>13}")
    rows = []
    try:
        for n in sizes:
            inp = work / f"in-{n}.jsonl"
            distinct = build_input(inp, n)
            row = _run(inp, work / f"out-{n}-w1.jsonl", 1, args.chunk_size)
            rows.append((n, 1, row))
            print(f"{n:>9} {'local':>6} {1:>7} {row['seconds']:>8.1f} {row['seg_per_s']:>7.0f} {row['peak_rss_mb']:>11.0f} "
                  f"{'-':>13}", flush=True)
            if args.gate:
                print(f"{'':>9} gate + SARIF ({row['sarif_mb']:.1f} MB) + JUnit read back: {row['gate_seconds']:.1f} s "
                      f"({n / row['gate_seconds']:.0f} seg/s), peak RSS after it {row['peak_rss_after_gate_mb']:.0f} MB",
                      flush=True)
        if args.no_compare:
            print(f"load average after: {os.getloadavg()[0]:.2f}")
            return 0
        n = sizes[0]
        row = _run(work / f"in-{n}.jsonl", work / f"out-{n}-w{args.workers}.jsonl", args.workers, args.chunk_size)
        rows.append((n, args.workers, row))
        print(f"{n:>9} {'local':>6} {args.workers:>7} {row['seconds']:>8.1f} {row['seg_per_s']:>7.0f} "
              f"{row['peak_rss_mb']:>11.0f} {row['peak_worker_rss_mb']:>13.0f}", flush=True)
        if args.ray:
            out_ray = work / f"out-{n}-ray{args.workers}.jsonl"
            row = _run(work / f"in-{n}.jsonl", out_ray, args.workers, args.chunk_size, "ray")
            print(f"{n:>9} {'ray':>6} {args.workers:>7} {row['seconds']:>8.1f} {row['seg_per_s']:>7.0f} "
                  f"{row['peak_rss_mb']:>11.0f} {'-':>13}")
            same = out_ray.read_bytes() == (work / f"out-{n}-w1.jsonl").read_bytes()
            print(f"ray output {'is byte-identical to' if same else 'DIFFERS from'} the 1-worker output")
    except DataUnavailableError as exc:
        print(f"bench_stream: shared data not available ({exc}); nothing to measure")
        return 0
    print(f"inputs repeat {distinct} distinct newstest2021 MQM items")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
