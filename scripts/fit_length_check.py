"""Fit the constants of the ``length`` check on human zh→en translations.

Model (see mtcheck/checks/length.py): the expected number of non-space
English characters for a source with ``h`` Han characters and ``o`` other
non-space characters is ``a*h + b*o``; the residual
``r = log(english / (a*h + b*o))`` is taken as normal with mean 0 (a free
mean would only trade off against ``a`` and ``b``) and variance
``s0**2 + k / n`` where ``n = h + o`` (short sources vary more).
All parameters are fitted by maximum likelihood on newstest2021 source vs
reference A. The script prints the fit, the share of references beyond
several |z| thresholds (in-sample and 2-fold cross-fitted), and the
constants to paste into length.py.

Usage:
    MTCHECK_SHARED_DATA=/path/to/mt-eval-zhen .venv/bin/python scripts/fit_length_check.py

Exits 0 with a message when the shared data is absent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mtcheck.checks.length import char_counts  # noqa: E402

SRC = "wmt_testsets_zhen/newstest2021/txt/sources/newstest2021.zh-en.src.zh"
REF = "wmt_testsets_zhen/newstest2021/txt/references/newstest2021.zh-en.ref.A.en"


def shared_dir() -> Path:
    return Path(os.environ.get("MTCHECK_SHARED_DATA", REPO.parent / "shared" / "mt-eval-zhen"))


def read_lines(path: Path) -> list[str]:
    # split("\n"), not splitlines(): the texts may contain U+2028 and similar.
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def fit(h: np.ndarray, o: np.ndarray, e: np.ndarray) -> dict[str, float]:
    n = h + o

    def nll(p: np.ndarray) -> float:
        a, b, s0, k = np.exp(p)
        r = np.log(e / (a * h + b * o))
        var = s0**2 + k / n
        return float(np.sum(np.log(var) + r**2 / var))

    start = np.array([np.log(3.5), np.log(1.0), np.log(0.15), np.log(0.3)])
    res = minimize(nll, start, method="Nelder-Mead", options={"maxiter": 20000, "xatol": 1e-8, "fatol": 1e-8})
    a, b, s0, k = np.exp(res.x)
    return {"a": float(a), "b": float(b), "s0": float(s0), "k": float(k)}


def zscores(params: dict[str, float], h: np.ndarray, o: np.ndarray, e: np.ndarray) -> np.ndarray:
    n = h + o
    r = np.log(e / (params["a"] * h + params["b"] * o))
    return r / np.sqrt(params["s0"] ** 2 + params["k"] / n)


def main() -> int:
    base = shared_dir()
    if not (base / SRC).is_file() or not (base / REF).is_file():
        print(f"shared data not found under {base} (set MTCHECK_SHARED_DATA); nothing to fit")
        return 0
    src = read_lines(base / SRC)
    ref = read_lines(base / REF)
    if len(src) != len(ref):
        print(f"source has {len(src)} lines but reference has {len(ref)}; cannot fit")
        return 1
    counts = np.array([char_counts(s) for s in src], dtype=float)
    e = np.array([sum(1 for c in r if not c.isspace()) for r in ref], dtype=float)
    keep = (counts.sum(axis=1) > 0) & (e > 0)
    h, o, e = counts[keep, 0], counts[keep, 1], e[keep]
    n = h + o
    print(f"pairs: {len(src)} read, {int(keep.sum())} with non-empty source and reference")
    lr = np.log(e / n)
    print(f"plain log(en/zh chars): mean {lr.mean():.4f} sd {lr.std():.4f}; "
          f"median ratio {np.median(e / n):.3f}")

    params = fit(h, o, e)
    print("fit: " + ", ".join(f"{k}={v:.4f}" for k, v in params.items()))
    z = zscores(params, h, o, e)

    # 2-fold cross-fit: z of each half under parameters fitted on the other half.
    rng = np.random.default_rng(2021)
    fold = rng.permutation(len(e)) % 2
    z_cv = np.empty_like(z)
    for f in (0, 1):
        p = fit(h[fold != f], o[fold != f], e[fold != f])
        z_cv[fold == f] = zscores(p, h[fold == f], o[fold == f], e[fold == f])

    print("\nshare of human references beyond |z| (too short | too long), by minimum source length:")
    for min_n in (1, 4, 6, 8, 10):
        m = n >= min_n
        row = []
        for t in (2.0, 2.5, 3.0, 3.5):
            row.append(f"|z|>{t}: {np.mean(np.abs(z[m]) > t):.3%} (cv {np.mean(np.abs(z_cv[m]) > t):.3%}; "
                       f"short {np.mean(z[m] < -t):.2%})")
        print(f"  n>={min_n:2d} ({int(m.sum())} segs): " + "; ".join(row))

    print("\nresidual by source length bin (mean, sd of z):")
    for lo, hi in ((1, 6), (6, 10), (10, 20), (20, 40), (40, 80), (80, 10_000)):
        m = (n >= lo) & (n < hi)
        if m.any():
            print(f"  n in [{lo},{hi}): {int(m.sum()):4d} segs, z mean {z[m].mean():+.3f} sd {z[m].std():.3f}")

    print("\nconstants for mtcheck/checks/length.py:")
    print(f"EN_PER_HAN = {params['a']:.4f}")
    print(f"EN_PER_OTHER = {params['b']:.4f}")
    print(f"LOG_RESIDUAL_S0 = {params['s0']:.4f}")
    print(f"LOG_RESIDUAL_K = {params['k']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
