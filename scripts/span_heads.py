#!/usr/bin/env python3
"""Two more heads on the QE model's token states: error severity and error category (experiment).

    python scripts/span_heads.py [--cache DIR] [--epochs 6]

The shipped token head gives one number per MT token, the probability that a
rater marks it; a span is major when that probability is high. This script
asks whether the same final-layer states know more than that head reads
from them. It runs the shipped QE model (PyTorch) once over every
newstest2020, newstest2021 and TED item with rater spans and keeps the
states the token head sees (cached under ``--cache``), then fits, on the
newstest2020 training documents only (those ``scripts/train_qe.py``
trained on):

1. **a severity head**: a linear layer from a token's state to two
   logits, the share of raters who marked it (any severity) and the share
   who marked it major. Scored on the calibration documents against each
   rater, as the human ceiling is (``eval_qe_spans.py``), for every major
   threshold: major spans as phrases of the major head alone, and the
   shipped phrases (token probability 0.2) made major by the major head's
   peak instead of the token probability — beside the shipped rule.
2. **a category head**: a linear layer from the mean state of a span's
   tokens to one of eight MQM categories (Accuracy/Addition,
   Accuracy/Mistranslation, Fluency/Grammar, Fluency/Punctuation,
   Fluency/Spelling, Locale convention, Style/Awkward, Terminology),
   trained on the raters' own spans. Scored two ways: accuracy on the
   raters' spans of the calibration documents, newstest2021 and TED (beside
   always answering the commonest category), and on the spans the shipped
   detector emits that overlap a rated error (right when a rater gave one of
   the errors it overlaps that category; beside always answering
   Accuracy/Mistranslation, the generic category the spans carry today).

Nothing in the package uses these heads; the script exists to measure
them. Exits 0 with a message without the shared data.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mtcheck.errors import DataUnavailableError  # noqa: E402

CATEGORIES = ("Accuracy/Addition", "Accuracy/Mistranslation", "Fluency/Grammar", "Fluency/Punctuation",
              "Fluency/Spelling", "Locale convention", "Style/Awkward", "Terminology")
#: Category prefixes of the three MQM files (they spell some differently) -> the names above.
_PREFIXES = (("Accuracy/Mistranslation", "Accuracy/Mistranslation"), ("Accuracy/Addition", "Accuracy/Addition"),
             ("Fluency/Grammar", "Fluency/Grammar"), ("Fluency/Punctuation", "Fluency/Punctuation"),
             ("Fluency/Spelling", "Fluency/Spelling"), ("Locale", "Locale convention"), ("Style", "Style/Awkward"),
             ("Terminology", "Terminology"))


def category(raw: str) -> str | None:
    """One of :data:`CATEGORIES` for an MQM category as the files write it, or ``None`` (omission, other…)."""
    text = raw.strip().replace("_", " ")
    for prefix, name in _PREFIXES:
        if text.startswith(prefix):
            return name
    return None


def category_spans(errors_path: Path, chosen: dict, *, rename=lambda s: s, segid_map=None) -> dict:
    """Per item whose rows fit its chosen MT: ``[(start, end, category or None)]`` of every rater's MT spans.

    Args:
        errors_path: A Google MQM error file.
        chosen: ``(system, item) -> MT text`` as the dataset loader chose it.
        rename, segid_map: As for :func:`mtcheck.metaeval.spans.fitting_rows`.
    """
    from mtcheck.metaeval.spans import fitting_rows

    out: dict = defaultdict(list)
    for row in fitting_rows(errors_path, chosen, rename=rename, segid_map=segid_map):
        if row.is_error:
            out[row.key].extend((a, b, category(row.category)) for a, b in row.spans)
    return out


def token_states(model, items):
    """Per item: ``(MT token offsets, final-layer states float16 [n, dim], token probabilities)``."""
    import numpy as np
    import torch

    from mtcheck.models.qe import MAX_SIDE, encode_pair, pad_batch

    net = model._net
    seen = {}
    hook = net.tok_head.register_forward_hook(lambda _m, inputs, _o: seen.__setitem__("h", inputs[0]))
    encs = [encode_pair(model.encoder._tokenize, it.source, it.mt, MAX_SIDE) for it in items]
    order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
    out = [None] * len(encs)
    net.eval()
    try:
        with torch.inference_mode():
            for b in range(0, len(order), 32):
                idx = order[b:b + 32]
                _seg, tok = net.forward_batch(pad_batch([encs[i] for i in idx], model.encoder._pad_id))
                for r, i in enumerate(idx):
                    pos = list(encs[i].mt_positions)
                    out[i] = (tuple(encs[i].mt_offsets), seen["h"][r, pos].float().numpy().astype(np.float16),
                              torch.sigmoid(tok[r, pos].float()).numpy())
    finally:
        hook.remove()
    return out


def load_sets(cache: Path, seed: int):
    """Items with rater spans of the three MQM sets, with their states (computed once, then cached)."""
    import numpy as np

    os.environ["MTCHECK_QE_ENGINE"] = "torch"  # the hook needs the PyTorch network
    from bench_qe import load_bench_model

    from mtcheck.metaeval import loaders
    from mtcheck.metaeval.spans import error_char_rates, token_rates
    from mtcheck.models.qe_train import calibration_documents

    _loc, _label, model, digest = load_bench_model(None)
    loaders_by_name = {"newstest2020": loaders.load_mqm_newstest2020, "newstest2021": loaders.load_mqm_newstest2021,
                       "ted": loaders.load_mqm_ted}
    sets = {}
    for name, load in loaders_by_name.items():
        ds = load()
        source = loaders.mqm_errors(name)
        items = [it for it in ds.items if it.human is not None and it.source and it.mt
                 and not it.system.startswith("ref-")]
        chosen = {(it.system, it.item): it.mt for it in items}
        rates = error_char_rates(source.path, chosen, rename=source.rename, segid_map=source.segid_map)
        major = error_char_rates(source.path, chosen, rename=source.rename, segid_map=source.segid_map,
                                 severities=frozenset({"major"}))
        items = [it for it in items if (it.system, it.item) in rates]
        calib = calibration_documents(ds, 0.15, seed) if name == "newstest2020" else set()
        path = cache / digest / f"{name}.pickle"
        states = None
        if path.is_file():
            with path.open("rb") as fh:
                states = pickle.load(fh)
            if len(states) != len(items):
                states = None
        if states is None:
            t0 = time.time()
            states = token_states(model, items)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                pickle.dump(states, fh, protocol=pickle.HIGHEST_PROTOCOL)
            print(f"{name}: token states of {len(items)} items in {time.time() - t0:.0f}s", flush=True)
        spans = category_spans(source.path, chosen, rename=source.rename, segid_map=source.segid_map)
        rows = []
        for it, (offsets, h, p) in zip(items, states):
            key = (it.system, it.item)
            rows.append({"key": key, "mt": it.mt, "calib": it.doc in calib, "offsets": offsets, "h": h, "p": p,
                         "any": np.asarray(token_rates(rates[key], offsets), np.float32),
                         "major": np.asarray(token_rates(major[key], offsets), np.float32),
                         "spans": spans.get(key, [])})
        sets[name] = rows
    return sets


def fit_linear(x, y, *, soft: bool, epochs: int, seed: int = 0):
    """A linear layer fitted by Adam: sigmoid cross-entropy on soft targets, or softmax on class ids."""
    import torch

    torch.manual_seed(seed)
    x = torch.as_tensor(x, dtype=torch.float32)
    y = torch.as_tensor(y)
    layer = torch.nn.Linear(x.shape[1], y.shape[1] if soft else len(CATEGORIES))
    opt = torch.optim.Adam(layer.parameters(), 1e-3, weight_decay=1e-5)
    loss_fn = torch.nn.functional.binary_cross_entropy_with_logits if soft else torch.nn.functional.cross_entropy
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for b in range(0, len(x), 1024):
            i = perm[b:b + 1024]
            loss = loss_fn(layer(x[i]), y[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return layer.eval()


def _apply(layer, h):
    import torch

    with torch.no_grad():
        return layer(torch.as_tensor(h, dtype=torch.float32))


def token_list(row, values):
    return [(a, b, float(v)) for (a, b), v in zip(row["offsets"], values)]


def severity_report(rows, marks, epochs):
    """Major P/R/F1 against each rater on the calibration documents, per major threshold."""
    import numpy as np
    import torch

    from eval_qe_spans import MAJOR_GRID
    from mtcheck.core import Severity
    from mtcheck.metaeval.spans import against_raters
    from mtcheck.spans.detector import DetectorOptions, token_spans

    train = [r for r in rows if not r["calib"]]
    calib = [r for r in rows if r["calib"] and r["key"] in marks]
    x = np.concatenate([r["h"] for r in train])
    y = np.stack([np.concatenate([r["any"] for r in train]), np.concatenate([r["major"] for r in train])], 1)
    layer = fit_linear(x, y, soft=True, epochs=epochs)
    for r in calib:
        r["p_major"] = torch.sigmoid(_apply(layer, r["h"])[:, 1]).numpy()

    def score(spans_of):
        pred = {r["key"]: {i: "major" for a, b in spans_of(r) for i in range(a, b)} for r in calib}
        s = against_raters(pred, marks, True, min_raters=2)
        return f"{s.precision:.3f} / {s.recall:.3f} / {s.f1:.3f}"

    def shipped(m):
        return lambda r: [(s.start, s.end) for s in token_spans(r["mt"], token_list(r, r["p"]), DetectorOptions(0.2, m, 5))
                          if s.severity is Severity.MAJOR]

    def head_alone(m):
        return lambda r: [(s.start, s.end) for s in token_spans(r["mt"], token_list(r, r["p_major"]),
                                                                 DetectorOptions(m, m, 5))]

    def head_severity(m):
        def spans(r):
            major = token_list(r, r["p_major"])
            out = []
            for s in token_spans(r["mt"], token_list(r, r["p"]), DetectorOptions(0.2, 1.1, 5)):
                peak = max((v for a, b, v in major if a < s.end and s.start < b), default=0.0)
                if peak >= m:
                    out.append((s.start, s.end))
            return out
        return spans

    print(f"\n== severity head: major spans on the newstest2020 calibration split ({len(calib)} items), "
          "against each rater, P / R / F1")
    print("| major threshold | shipped (token probability) | major head alone | shipped phrases, major head's severity |")
    print("|---|---|---|---|")
    for m in (0.1, 0.15, 0.2, 0.25, *MAJOR_GRID):
        cells = [score(shipped(m)) if m >= 0.2 else "—", score(head_alone(m)), score(head_severity(m))]
        print(f"| {m} | " + " | ".join(cells) + " |")


def category_report(sets, epochs):
    """Accuracy of the category head on rater spans and on the detector's spans."""
    import numpy as np

    from mtcheck.spans.detector import DetectorOptions, token_spans

    def mean_state(row, a, b):
        idx = [i for i, (x, y) in enumerate(row["offsets"]) if x < b and y > a]
        return row["h"][idx].astype(np.float32).mean(0) if idx else None

    x, y = [], []
    for r in sets["newstest2020"]:
        if r["calib"]:
            continue
        for a, b, c in r["spans"]:
            v = mean_state(r, a, b) if c else None
            if v is not None:
                x.append(v)
                y.append(CATEGORIES.index(c))
    commonest = CATEGORIES[Counter(y).most_common(1)[0][0]]
    layer = fit_linear(np.stack(x), np.asarray(y), soft=False, epochs=epochs)
    print(f"\n== category head: trained on {len(x)} rater spans of the newstest2020 training documents "
          f"(commonest: {commonest})")
    print("| set | rater spans: head / commonest | detector spans on an error: head / always Accuracy/Mistranslation |")
    print("|---|---|---|")
    for name, rows in sets.items():
        rows = [r for r in rows if r["calib"]] if name == "newstest2020" else rows
        gold_n = gold_right = gold_common = 0
        det_n = det_right = det_const = 0
        predicted: Counter = Counter()
        for r in rows:
            for a, b, c in r["spans"]:
                v = mean_state(r, a, b) if c else None
                if v is None:
                    continue
                gold_n += 1
                gold_right += CATEGORIES[int(_apply(layer, v).argmax())] == c
                gold_common += c == commonest
            if not r["spans"]:
                continue
            for s in token_spans(r["mt"], token_list(r, r["p"]), DetectorOptions(0.2, 0.3, 5)):
                cats = {c for a, b, c in r["spans"] if a < s.end and s.start < b}
                if not cats:
                    continue
                v = mean_state(r, s.start, s.end)
                if v is None:
                    continue
                guess = CATEGORIES[int(_apply(layer, v).argmax())]
                predicted[guess] += 1
                det_n += 1
                det_right += guess in cats
                det_const += "Accuracy/Mistranslation" in cats
        label = "newstest2020 calibration" if name == "newstest2020" else name
        print(f"| {label} | {gold_right / gold_n:.3f} / {gold_common / gold_n:.3f} ({gold_n} spans) | "
              f"{det_right / det_n:.3f} / {det_const / det_n:.3f} ({det_n} spans; head says "
              + ", ".join(f"{k} {v}" for k, v in predicted.most_common(3)) + ") |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "mtcheck" / "span-heads")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=13, help="the calibration split's seed (as train_qe.py)")
    args = ap.parse_args(argv)
    from mtcheck.metaeval import loaders
    from mtcheck.metaeval.spans import rater_marks

    try:
        loaders.shared_data_dir()
    except DataUnavailableError as exc:
        print(f"span_heads: skipped: {exc}")
        return 0
    sets = load_sets(args.cache, args.seed)
    calib = {r["key"]: r["mt"] for r in sets["newstest2020"] if r["calib"]}
    marks = {k: v for k, v in rater_marks(loaders.mqm_errors("newstest2020").path, calib).items() if len(v) >= 2}
    severity_report(sets["newstest2020"], marks, args.epochs)
    category_report(sets, args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
