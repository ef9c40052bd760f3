#!/usr/bin/env python3
"""Cross-validate the QE cross-encoder on a dev set: how much in-domain training data is worth.

    python scripts/cv_qe.py --set ted [--folds 2] [--only K ...] [--bootstrap 200] [--dir DIR] [-- TRAIN_QE_OPTIONS]

The shipped model is trained on newstest2020 only, and newstest2021 and
TED stay unseen. This asks what the same recipe reaches when part of a dev
set's own domain is in the training data: the set's documents are cut into
``--folds`` folds (by document, sizes balanced), and for each fold
``scripts/train_qe.py --cv SET --cv-fold K`` trains on newstest2020 plus
the other folds and predicts the held-out one. The pooled out-of-fold
predictions cover every item of the set once; they are scored with the
same statistics and item bootstrap as ``scripts/bench_qe.py``, beside the
shipped model and chrF on the same items. ``--only K`` (repeatable) runs
and scores only those folds: a held-out split of part of the set rather
than cross-validation over all of it, which the table's title then says.

Training options default to the shipped model's command (``--depth 6
--synthetic 2 --rank-only --keep last``); anything after ``--`` replaces
them. Each fold is one run of ``train_qe.py`` in its own process, written
to ``DIR/SET-foldK``; a fold whose predictions exist is not rerun, and an
interrupted one resumes from its checkpoints. Without the shared data it
says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mtcheck.errors import DataUnavailableError  # noqa: E402

SHIPPED_RECIPE = ("--depth", "6", "--synthetic", "2", "--rank-only", "--keep", "last")
PREDICTIONS = "cv_predictions.jsonl"


def read_fold(path: Path) -> dict[tuple[str, int], float]:
    """``(system, item) -> predicted penalty`` of one fold's ``cv_predictions.jsonl``."""
    out = {}
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                row = json.loads(line)
                out[(row["system"], int(row["item"]))] = float(row["penalty"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: expected a JSON object with system, item and penalty ({exc})") from exc
    return out


def pool_folds(folds: list[dict[tuple[str, int], float]]) -> dict[tuple[str, int], float]:
    """The folds' predictions as one grid.

    Raises:
        ValueError: A cell is predicted by two folds (the folds overlap, so a
            model saw what it was scored on).
    """
    pooled: dict[tuple[str, int], float] = {}
    for k, fold in enumerate(folds):
        both = pooled.keys() & fold.keys()
        if both:
            raise ValueError(f"fold {k} predicts {len(both)} cells another fold also predicts, e.g. {min(both)}")
        pooled.update(fold)
    return pooled


def run_fold(name: str, fold: int, folds: int, out: Path, recipe: list[str]) -> None:
    cmd = [sys.executable, str(ROOT / "scripts" / "train_qe.py"), *recipe, "--cv", name, "--cv-fold", str(fold),
           "--cv-folds", str(folds), "--out", str(out)]
    print("running:", " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    recipe = list(SHIPPED_RECIPE)
    if "--" in argv:
        cut = argv.index("--")
        argv, recipe = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=("newstest2021", "ted"), default="ted")
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--only", type=int, action="append", default=None, metavar="K",
                    help="run and score only fold K (repeatable; default every fold)")
    ap.add_argument("--dir", type=Path, default=Path.home() / ".cache" / "mtcheck" / "qe-cv")
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "mtcheck" / "qe-bench",
                    help="bench_qe.py's prediction cache, for the shipped model's row")
    args = ap.parse_args(argv)

    from mtcheck.metaeval.loaders import load_mqm_newstest2021, load_mqm_ted, shared_data_dir

    try:
        root = shared_data_dir()
    except DataUnavailableError as exc:
        print(f"skipping QE cross-validation: {exc}")
        return 0
    from bench_qe import load_bench_model, predictions, print_plain_means, qe_report, reference_metric_report

    from mtcheck.metaeval.stats import BootstrapConfig, format_table
    from mtcheck.models.qe import penalty_to_score

    chosen = sorted(set(args.only)) if args.only else list(range(args.folds))
    if any(not 0 <= k < args.folds for k in chosen):
        ap.error(f"--only: folds are numbered 0..{args.folds - 1}")
    folds = []
    for k in chosen:
        out = args.dir / f"{args.set}-fold{k}"
        if not (out / PREDICTIONS).is_file():
            run_fold(args.set, k, args.folds, out, recipe)
        folds.append(read_fold(out / PREDICTIONS))
        info = json.loads((out / "config.json").read_text())["train"]["cv"]
        print(f"fold {k}: held out {info['held_out_docs']} ({info['held_out_examples']} examples); "
              f"{info['added_examples']} examples of the set trained on")
    pooled = pool_folds(folds)

    ds = {"newstest2021": load_mqm_newstest2021, "ted": load_mqm_ted}[args.set](root)
    items = [it for it in ds.items if it.human is not None and it.source and it.mt and it.references]
    missing = [(it.system, it.item) for it in items if (it.system, it.item) not in pooled]
    if missing and len(chosen) == args.folds:
        raise SystemExit(f"cv_qe: {len(missing)} rated items have no out-of-fold prediction, e.g. {missing[0]}")
    # bench_qe's cache holds the shipped model's predictions for the whole set: predict (or read) them all.
    _, label, model, digest = load_bench_model(None)
    free, _ = predictions(model, items, args.cache / f"{digest}-{args.set}-mqm.json", with_reference=False)
    shipped = {(it.system, it.item): p.score for it, p in zip(items, free)}
    items = [it for it in items if (it.system, it.item) in pooled]  # with --only: the chosen folds' items
    human = {(it.system, it.item): it.human for it in items}
    boot = BootstrapConfig(n=args.bootstrap, seed=args.seed) if args.bootstrap else None
    reports, plain_means = [], []

    def add(label, values):
        report, plain = qe_report(label, values, items, human, ds.systems, boot)
        reports.append(report)
        plain_means.append((label, *plain))

    what = f"{args.folds}-fold CV" if len(chosen) == args.folds else f"fold {'+'.join(map(str, chosen))} of {args.folds}"
    add(f"qe, {what} (newstest2020 + other folds)",
        [penalty_to_score(pooled[(it.system, it.item)]) for it in items])
    add(f"qe shipped ({label}, newstest2020 only)", [shipped[(it.system, it.item)] for it in items])
    reports.append(reference_metric_report("chrf", "chrF", ds, items, human, boot))
    print(f"\n== {args.set} ({what}): {len(items)} rated items, {len(ds.systems)} systems; training options: "
          f"{' '.join(recipe)}")
    print(format_table(reports))
    print_plain_means(plain_means)
    return 0


if __name__ == "__main__":
    sys.exit(main())
