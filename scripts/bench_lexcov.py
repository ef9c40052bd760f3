"""Benchmark the CC-CEDICT lexicon and the LexCov metric.

Prints, in order:

1. load times of the lexicon in fresh processes: *cold* (empty cache
   directory: jieba builds its prefix dictionary, the reverse index is built)
   and *warm* (the same cache directory again), with each process's peak RSS;
2. coverage speed: segments/s and peak RSS of a fresh process computing
   ``Lexicon.coverage`` on the first N (default 1,000) newstest2021
   source/MT pairs;
3. agreement of LexCov (harmonic mean) and of each direction (source
   coverage, MT coverage) with expert MQM on newstest2021 and WMT21 TED:
   segment Pearson, item-grouped Kendall, system Pearson (system score = mean
   segment score), via :mod:`mtcheck.metaeval.stats`; then, within items,
   whether outputs the raters marked with an omission (addition) have lower
   source (MT) coverage than the other outputs of the same item;
4. calque detection: ``is_literal_rendering`` on the design table of the
   tests and on a held-out table written before the method was run on it.

Sections 2 and 3 need the shared WMT data (``$MTCHECK_SHARED_DATA``, default
``<repo>/../shared/mt-eval-zhen``); without it they are skipped with a
message and the script exits 0.

Usage::

    python scripts/bench_lexcov.py [--pairs 1000] [--bootstrap 0] [--skip-load] [--skip-corr]
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

from mtcheck.errors import DataUnavailableError  # noqa: E402
from mtcheck.metaeval.loaders import load_mqm_newstest2021, load_mqm_ted, shared_data_dir  # noqa: E402
from mtcheck.metaeval.stats import BootstrapConfig, evaluate, format_table  # noqa: E402

# Child programs run in fresh interpreters so that times and peak RSS are their own.
_LOAD_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from mtcheck.models.lexicon import load_lexicon
t1 = time.perf_counter()
lx = load_lexicon()
t2 = time.perf_counter()
lx.segment("测试")
t3 = time.perf_counter()
lx.reverse("curtain")
t4 = time.perf_counter()
from mtcheck.resources import peak_rss_mb  # after the timings: not part of "import"
print(json.dumps({"import": t1 - t0, "parse": t2 - t1, "jieba": t3 - t2, "reverse_index": t4 - t3,
                  "rss_mb": peak_rss_mb()}))
"""

_SPEED_CHILD = r"""
import json, sys, time
from mtcheck.resources import peak_rss_mb
pairs = json.load(open(sys.argv[1], encoding="utf-8"))
from mtcheck.models.lexicon import load_lexicon
lx = load_lexicon()
lx.segment("测试")
rss0 = peak_rss_mb()
t = time.perf_counter()
for src, mt in pairs:
    lx.coverage(src, mt)
first = time.perf_counter() - t
t = time.perf_counter()
for src, mt in pairs:
    lx.coverage(src, mt)
second = time.perf_counter() - t
print(json.dumps({"n": len(pairs), "first_s": first, "second_s": second, "rss_loaded_mb": rss0,
                  "rss_peak_mb": peak_rss_mb()}))
"""

#: (word, English span, is a calque) — the table the method was designed on (also in the tests).
DESIGN_TABLE = (
    ("落幕", "the curtain falls", True), ("落幕", "after the curtain", True),
    ("落幕", "came to a close", False), ("落幕", "ended", False),
    ("火爆", "fire explosion", True), ("火爆", "booming", False),
    ("开门红", "open door red", True), ("开门红", "a good start", False),
    ("一带一路", "One Belt One Road", True), ("一带一路", "Belt and Road Initiative", False),
    ("电脑", "electric brain", True), ("电脑", "computer", False),
    ("加油", "add oil", True), ("加油", "keep it up", False),
    ("人山人海", "people mountain people sea", True), ("人山人海", "huge crowds", False),
    ("走后门", "walk through the back door", True), ("走后门", "use personal connections", False),
    ("小心", "small heart", True), ("小心", "be careful", False),
    ("拍板", "clap the board", True), ("拍板", "make the final decision", False),
)

#: Written after the method was fixed, before it was run on these rows.
HELD_OUT_TABLE = (
    ("黑马", "black horse", True), ("黑马", "dark horse", False),
    ("水军", "water army", True), ("水军", "paid online commenters", False),
    ("画蛇添足", "draw a snake and add feet to it", True), ("画蛇添足", "overdo it", False),
    ("对牛弹琴", "play the lute to a cow", True), ("对牛弹琴", "preach to deaf ears", False),
    ("铁饭碗", "iron rice bowl", True), ("铁饭碗", "a job for life", False),
    ("跳槽", "jump the trough", True), ("跳槽", "change jobs", False),
    ("炒鱿鱼", "stir-fry squid", True), ("炒鱿鱼", "fire an employee", False),
    ("唱反调", "sing the opposite tune", True), ("唱反调", "take the opposing view", False),
    ("山寨", "mountain village", True), ("山寨", "knockoff", False),
    ("接地气", "connected to the earth's qi", True), ("接地气", "down-to-earth", False),
)


def _child(code: str, *args: str, cache: str | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if cache is not None:
        env["MTCHECK_CACHE_DIR"] = cache
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_load() -> None:
    print("== load (fresh processes)")
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold", "warm", "warm"):
            r = _child(_LOAD_CHILD, cache=cache)
            print(f"{label}: import {r['import']:.2f} s, parse CEDICT {r['parse']:.2f} s, jieba init {r['jieba']:.2f} s, "
                  f"reverse index {r['reverse_index']:.2f} s, peak RSS {r['rss_mb']:.0f} MB")
    print()


def bench_speed(n_pairs: int) -> None:
    print(f"== coverage speed ({n_pairs} newstest2021 source/MT pairs, fresh process)")
    dataset = load_mqm_newstest2021()
    pairs = [(it.source, it.mt) for it in dataset.items if it.source and it.mt][:n_pairs]
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as fh:
        json.dump(pairs, fh, ensure_ascii=False)
        path = fh.name
    try:
        r = _child(_SPEED_CHILD, path)
    finally:
        os.unlink(path)
    print(f"first pass {r['n'] / r['first_s']:.0f} segments/s ({r['first_s']:.2f} s, per-word caches filling), "
          f"second pass {r['n'] / r['second_s']:.0f} segments/s; "
          f"peak RSS {r['rss_loaded_mb']:.0f} MB after loading, {r['rss_peak_mb']:.0f} MB after both passes")
    print()


def bench_correlation(bootstrap: BootstrapConfig | None) -> None:
    from mtcheck.metrics.lexical import LexCov, harmonic_mean
    from mtcheck.models.lexicon import load_lexicon

    lexicon = load_lexicon()
    for loader in (load_mqm_newstest2021, load_mqm_ted):
        dataset = loader()
        items = [it for it in dataset.items if it.source is not None and it.mt is not None]
        start = time.perf_counter()
        covs = [lexicon.coverage(it.source, it.mt) for it in items]
        elapsed = time.perf_counter() - start
        variants = {
            "lexcov (harmonic mean)": [harmonic_mean(c.source, c.mt) for c in covs],
            "source coverage": [c.source for c in covs],
            "MT coverage": [c.mt for c in covs],
            "min(source, MT)": [None if c.source is None or c.mt is None else min(c.source, c.mt) for c in covs],
        }
        # The metric class must give the numbers reported for it.
        check = LexCov().segment_scores([it.mt for it in items[:200]], [()] * 200, [it.source for it in items[:200]])
        if check != variants["lexcov (harmonic mean)"][:200]:
            raise RuntimeError("LexCov.segment_scores disagrees with Lexicon.coverage")
        human = dataset.human_scores()
        reports = []
        for label, scores in variants.items():
            metric = {(it.system, it.item): s for it, s in zip(items, scores)}
            reports.append(evaluate(human, metric, metric_name=label, systems=dataset.systems, bootstrap=bootstrap))
        undefined = sum(s is None for s in variants["lexcov (harmonic mean)"])
        mean_src = _mean(variants["source coverage"])
        mean_mt = _mean(variants["MT coverage"])
        print(f"== {dataset.name}: {len(items)} items with text, coverage in {elapsed:.1f} s; "
              f"lexcov undefined for {undefined}; mean source coverage {mean_src:.3f}, mean MT coverage {mean_mt:.3f}")
        print(format_table(reports))
        print(f"signature: {LexCov().signature()}")
        bench_omissions(dataset.name, items, covs)
        print()


def error_cells(dataset_name: str) -> dict[tuple[str, int], set[str]]:
    """``(system, item) -> MQM error categories`` from the error file (names mapped as the loaders do)."""
    from mtcheck.metaeval import loaders

    errors = loaders.mqm_errors("newstest2021" if dataset_name == "newstest2021-mqm" else "ted")
    path, rename, segmap = errors.path, errors.rename, errors.segid_map
    out: dict[tuple[str, int], set[str]] = {}
    with path.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            f = line.rstrip("\n").split("\t")
            seg = int(f[3])
            system = rename(f[0]) if segmap is not None else (rename(f[0]) or f[0])
            out.setdefault((system, segmap[seg] if segmap else seg), set()).add(f[7])
    return out


def bench_omissions(name: str, items, covs) -> None:
    """Within an item, do outputs with an MQM omission (addition) have lower source (MT) coverage?"""
    errors = error_cells(name)
    for category, side in (("Accuracy/Omission", "source"), ("Accuracy/Addition", "mt")):
        by_item: dict[int, tuple[list[float], list[float]]] = {}
        for it, c in zip(items, covs):
            value = getattr(c, side)
            if value is None or (it.system, it.item) not in errors:
                continue
            flagged = category in errors[(it.system, it.item)]
            by_item.setdefault(it.item, ([], []))[0 if flagged else 1].append(value)
        diffs = [sum(a) / len(a) - sum(b) / len(b) for a, b in by_item.values() if a and b]
        if not diffs:
            continue
        from scipy.stats import binomtest

        n_lower, n_higher = sum(d < 0 for d in diffs), sum(d > 0 for d in diffs)
        sign_p = binomtest(n_lower, n_lower + n_higher).pvalue if n_lower + n_higher else float("nan")
        print(f"{category}: {len(diffs)} items with and without it; mean {side} coverage difference "
              f"(with − without) {sum(diffs) / len(diffs):+.3f}; lower in {n_lower}, higher in {n_higher}, "
              f"equal in {len(diffs) - n_lower - n_higher} (two-sided sign test p = {sign_p:.2g})")


def _mean(values) -> float:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else float("nan")


def bench_calques() -> None:
    from mtcheck.models.lexicon import load_lexicon

    lexicon = load_lexicon()
    print("== calque detection (is_literal_rendering, threshold 0.5)")
    for name, table in (("design table", DESIGN_TABLE), ("held-out table", HELD_OUT_TABLE)):
        right = 0
        lit_scores, idi_scores = [], []
        for word, english, calque in table:
            m = lexicon.literal_match(word, english)
            guess = lexicon.is_literal_rendering(word, english)
            right += guess == calque
            (lit_scores if calque else idi_scores).append(m.score)
            mark = "ok " if guess == calque else "MISS"
            print(f"  {mark} {word} ({lexicon.literal_gloss(word)}) | {english!r}: calque={calque} "
                  f"score={m.score:.2f} literal={list(m.literal_words)} idiomatic={list(m.idiomatic_words)}")
        print(f"{name}: {right}/{len(table)} right; mean score calques {_mean(lit_scores):.2f}, "
              f"idiomatic {_mean(idi_scores):.2f}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=1000, help="pairs for the speed test (default 1000)")
    parser.add_argument("--bootstrap", type=int, default=0, help="bootstrap resamples for intervals (default 0: none)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-load", action="store_true", help="skip the load-time section")
    parser.add_argument("--skip-corr", action="store_true", help="skip the speed and correlation sections")
    args = parser.parse_args(argv)
    if not args.skip_load:
        bench_load()
    bench_calques()
    if args.skip_corr:
        return 0
    try:
        shared_data_dir()
    except DataUnavailableError as exc:
        print(f"skipping the speed and correlation sections: {exc}")
        return 0
    bench_speed(args.pairs)
    bootstrap = BootstrapConfig(n=args.bootstrap, seed=args.seed) if args.bootstrap else None
    bench_correlation(bootstrap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
