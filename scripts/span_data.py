"""Shared data for the span scripts: the MQM items, the QE and LM predictions, the gold marks.

``train_span_combiner.py`` and its evaluation read the same three sets the
QE card uses: the newstest2020 calibration documents (never trained on by
the QE model), newstest2021 MQM and TED MQM (never used for training or
selection by either model). The slow model outputs are cached under
``~/.cache/mtcheck/span-combiner`` keyed by the model files, so a rerun only
re-trains:

* the QE model's predictions (``bench_qe.predictions``' own cache);
* the fluency LM's token log-probabilities with character offsets.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE = Path.home() / ".cache" / "mtcheck"
SETS = ("newstest2020-calib", "newstest2021-mqm", "ted-mqm")


@dataclass
class SpanSet:
    """One dataset's items with everything the detector and its evaluation need."""

    name: str
    items: list[Any]
    gold: dict[tuple[str, int], dict[int, str]]  # characters any rater marked → "major"/"minor"
    qe: list[Any] | None = None
    lm: list[Any] | None = None


def load_items(name: str, seed: int = 13) -> tuple[list[Any], Any]:
    """The items of one set (as the QE scripts select them) and its :class:`MqmErrors`."""
    from mtcheck.metaeval import loaders

    if name == "newstest2020-calib":
        from mtcheck.models.qe_train import calibration_documents

        ds = loaders.load_mqm_newstest2020()
        docs = calibration_documents(ds, 0.15, seed)
        items = [it for it in ds.items if it.doc in docs and it.human is not None and it.source and it.mt]
        return items, loaders.mqm_errors("newstest2020")
    loader, campaign = {"newstest2021-mqm": (loaders.load_mqm_newstest2021, "newstest2021"),
                        "ted-mqm": (loaders.load_mqm_ted, "ted")}[name]
    ds = loader()
    items = [it for it in ds.items if it.human is not None and it.source and it.mt and it.references]
    return items, loaders.mqm_errors(campaign)


def gold_marks(items, errors) -> dict[tuple[str, int], dict[int, str]]:
    """Per item with span data, the characters any rater marked (major where any rater said major)."""
    from mtcheck.metaeval.spans import rater_marks, union_marks

    chosen = {(it.system, it.item): it.mt for it in items}
    marks = rater_marks(errors.path, chosen, rename=errors.rename, segid_map=errors.segid_map)
    return {k: union_marks(v) for k, v in marks.items()}


def rater_sets(items, errors) -> dict[tuple[str, int], dict[str, dict[int, str]]]:
    """Per item, each rater's marks (for the human ceiling)."""
    from mtcheck.metaeval.spans import rater_marks

    chosen = {(it.system, it.item): it.mt for it in items}
    return rater_marks(errors.path, chosen, rename=errors.rename, segid_map=errors.segid_map)


def qe_predictions(name: str, items) -> list[Any]:
    """The shipped QE model's reference-free predictions (token probabilities included), cached."""
    from bench_qe import load_bench_model, predictions

    _, _, model, digest = load_bench_model()
    free, _ref = predictions(model, items, CACHE / "qe-bench" / f"{digest}-{name}.json", with_reference=False)
    return free


def lm_digest() -> str:
    from mtcheck.models.registry import resolve

    spec = resolve("lm")
    return hashlib.sha256(f"{spec.name}|{spec.location}".encode()).hexdigest()[:12]


def lm_scores(name: str, items, batch_size: int = 16) -> list[Any]:
    """The fluency LM's per-token log-probabilities for each MT, cached per item."""
    from mtcheck.models.lm import LMScore
    from mtcheck.models.registry import get_model

    import numpy as np

    path = CACHE / "span-combiner" / f"lm-{lm_digest()}-{name}.json"
    raw = json.loads(path.read_text()) if path.is_file() else {}
    key = lambda it: f"{it.system}\t{it.item}"  # noqa: E731
    todo = [it for it in items if key(it) not in raw]
    if todo:
        lm = get_model("lm")
        t0 = time.time()
        for start in range(0, len(todo), 512):
            chunk = todo[start:start + 512]
            for it, s in zip(chunk, lm.score([it.mt for it in chunk], batch_size=batch_size)):
                raw[key(it)] = [s.tokens, [list(o) for o in s.offsets], [round(float(x), 4) for x in s.logprobs],
                                s.truncated]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(raw))
            done = start + len(chunk)
            print(f"  {name}: LM scored {done}/{len(todo)} ({done / (time.time() - t0):.1f} seg/s)", flush=True)
    return [LMScore(r[0], [tuple(o) for o in r[1]], np.asarray(r[2], dtype=np.float64), r[3])
            for r in (raw[key(it)] for it in items)]


def load_set(name: str, *, lm: bool = True, seed: int = 13) -> SpanSet:
    items, errors = load_items(name, seed)
    out = SpanSet(name, items, gold_marks(items, errors))
    out.qe = qe_predictions(name, items)
    if lm:
        out.lm = lm_scores(name, items)
    return out


if __name__ == "__main__":
    import sys

    for n in sys.argv[1:] or SETS:
        s = load_set(n)
        print(f"{n}: {len(s.items)} items, {len(s.gold)} with span data")
