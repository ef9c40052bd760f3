#!/usr/bin/env python3
"""Do the QE model's two engines agree? PyTorch against onnxruntime on real MQM data.

    python scripts/check_qe_engines.py [--n 2000] [--model DIR]

Loads the shipped QE model (or ``--model DIR``) twice, ``engine="torch"``
and ``engine="onnx"``, predicts the first ``--n`` newstest2021 and TED MQM
items with each (source, MT; and the reference cross-encoder on the first
reference), and prints per set: the largest and mean absolute difference of
the segment penalty and of the token probabilities, the Pearson correlation
of the penalties, and how many MT words change side of the span detector's
threshold. Exits 0 with a message without onnxruntime or the shared data.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def compare(name: str, a, b, threshold: float) -> str:
    import numpy as np

    pa = np.array([p.penalty for p in a])
    pb = np.array([p.penalty for p in b])
    ta = np.array([t[2] for p in a for t in p.token_bad])
    tb = np.array([t[2] for p in b for t in p.token_bad])
    flips = int(((ta >= threshold) != (tb >= threshold)).sum())
    return (f"{name}: {len(a)} segments; penalty |diff| max {np.abs(pa - pb).max():.2e}, "
            f"mean {np.abs(pa - pb).mean():.2e}, Pearson {np.corrcoef(pa, pb)[0, 1]:.6f}; "
            f"token probability |diff| max {np.abs(ta - tb).max():.2e} over {len(ta)} tokens; "
            f"{flips} tokens change side of {threshold}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="items of each set (0: all)")
    ap.add_argument("--model", type=Path, help="a directory written by train_qe.py (default: the shipped model)")
    args = ap.parse_args(argv)

    from mtcheck.models.qe import DEFAULT_DIR, load_qe_dir
    from mtcheck.models.qe_onnx import onnx_missing
    from mtcheck.spans.detector import DetectorOptions

    missing = onnx_missing()
    if missing:
        print(f"check_qe_engines: skipped: {missing}")
        return 0
    from mtcheck.metaeval.loaders import load_mqm_newstest2021, load_mqm_ted

    try:
        sets = {"newstest2021": load_mqm_newstest2021(), "ted": load_mqm_ted()}
    except DataUnavailableError as exc:
        print(f"check_qe_engines: skipped: {exc}")
        return 0
    directory = args.model or DEFAULT_DIR
    models = {e: load_qe_dir(directory, name="qe", engine=e) for e in ("torch", "onnx")}
    threshold = DetectorOptions().threshold
    for name, ds in sets.items():
        items = [it for it in ds.items if it.source and it.mt]
        items = items[: args.n] if args.n else items
        preds = {}
        for engine, model in models.items():
            t0 = time.time()
            preds[engine] = model.predict([it.source for it in items], [it.mt for it in items])
            print(f"  {name} {engine}: {len(items) / (time.time() - t0):.1f} seg/s (CPU shared: not a benchmark)")
        print(compare(name, preds["torch"], preds["onnx"], threshold))
        with_ref = [it for it in items if it.references]
        if with_ref and models["torch"].has_reference_net:
            ref = {e: m.predict_reference_net([it.references[0] for it in with_ref], [it.mt for it in with_ref])
                   for e, m in models.items()}
            print(compare(f"{name}, reference cross-encoder", ref["torch"], ref["onnx"], threshold))
    return 0


if __name__ == "__main__":
    sys.exit(main())
