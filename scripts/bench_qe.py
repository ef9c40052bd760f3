#!/usr/bin/env python3
"""Benchmark the shipped QE model: agreement with expert MQM, calibration, speed and memory.

    python scripts/bench_qe.py [--bootstrap 200] [--fluency] [--speed-n 1000] [--model DIR] [--reference-free]

For newstest2021 MQM and WMT21 TED MQM (never used in training) it prints
one table with an item-bootstrap 95% interval per statistic (segment Pearson,
flat and item-grouped Kendall, system Pearson, pairwise accuracy) for:

* ``qe`` reference-free and ``qe+ref`` (the reference-aware stacked model);
  at the system level their batch scores as mtcheck computes them (means
  weighted by MT words), the plain means printed below the table,
* chrF and sentence-BLEU with the reference (system level: corpus scores),
* xsim (e5 cos(source, MT)) and, with ``--fluency``, the SmolLM2 fluency
  metric (slow: about 9 segments/s here).

It also writes a reliability table and plot (predicted vs human MQM
penalty, by decile of the prediction) to ``out/bench/qe-reliability-*.{csv,svg}``
with the share of human penalties inside the predicted 80% interval, and
measures throughput and peak RSS of ``mtcheck``'s QE scorer on
``--speed-n`` newstest2021 segments in a fresh process.

``--model DIR`` benchmarks a directory written by ``scripts/train_qe.py``
instead of the shipped model (``MTCHECK_QE_INT8=1`` quantises it as it does
the shipped one).

Predictions are cached under ~/.cache/mtcheck/qe-bench (keyed by the model
files' digest) so the tables can be re-rendered quickly. Without the shared
data it says so and exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def model_digest(directory: Path) -> str:
    """Digest of what the reference-free model predicts with: the weights and the config.

    Left out: history, the rule weight and the reference-aware parts (the cache
    keys its predictions by those parts themselves, see :func:`predictions`).
    """
    h = hashlib.sha256((directory / "qe.safetensors").read_bytes())
    cfg = json.loads((directory / "config.json").read_text())
    for key in ("history", "rule_weight", "rule_weight_fitted_on", "reference_model", "reference_net"):
        cfg.pop(key, None)
    h.update(json.dumps(cfg, sort_keys=True).encode())
    return h.hexdigest()[:16]


def load_bench_model(directory: Path | None = None):
    """The QE model a benchmark measures: the shipped one, or one in ``directory`` (``train_qe.py --out``).

    ``MTCHECK_QE_INT8=1`` quantises either. Returns ``(location, label,
    model, digest)``; the digest keys the prediction caches (``-int8`` apart,
    and ``-int8-ort`` for onnxruntime's int8, which differs from PyTorch's;
    the two engines' float32 predictions agree to about 1e-5 and share a
    cache, see ``scripts/check_qe_engines.py``).
    """
    import mtcheck.models.qe as qe
    from mtcheck.models.registry import get_model, resolve

    if directory is None:
        spec = resolve("qe")
        location, label, model = Path(spec.location), spec.name, get_model("qe")
    else:
        location, label = directory, directory.resolve().name
        model = qe.load_qe_dir(directory, name=label, int8=os.environ.get(qe.INT8_ENV, "") == "1")
    int8 = model.name.endswith("-int8")
    return location, label, model, model_digest(location) + ("-int8" if int8 else "") + (
        "-ort" if int8 and model.engine == "onnx" else "")


def fit_sets(seed: int = 13) -> dict:
    """The calibration split and the dev sets, filtered as their prediction caches are.

    ``{"newstest2020-calib": items, "newstest2021-mqm": items, "ted-mqm": items}``
    for the scripts that refit a part of the model from the cached
    predictions. Raises ``DataUnavailableError`` without the shared data.
    """
    from mtcheck.metaeval import loaders
    from mtcheck.models.qe_train import calibration_documents

    ds20 = loaders.load_mqm_newstest2020()
    dev = {"newstest2021-mqm": loaders.load_mqm_newstest2021(), "ted-mqm": loaders.load_mqm_ted()}
    calib_docs = calibration_documents(ds20, 0.15, seed)
    sets = {"newstest2020-calib": [it for it in ds20.items
                                   if it.doc in calib_docs and it.human is not None and it.source and it.mt]}
    for name, ds in dev.items():
        sets[name] = [it for it in ds.items if it.human is not None and it.source and it.mt and it.references]
    return sets


def fit_command_line(argv, doc: str, prog: str, extra=None):
    """The refit scripts' shared start: ``--cache``, ``--model``, ``--seed``, ``--write`` and :func:`fit_sets`.

    ``extra``, if given, adds a script's own options to the parser.

    Returns ``(args, sets, digest)``, or ``None`` after a message when the
    shared data is absent (the scripts then exit 0).
    """
    ap = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "mtcheck" / "qe-bench")
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "qe-e5-small")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--write", action="store_true")
    if extra is not None:
        extra(ap)
    args = ap.parse_args(argv)
    try:
        sets = fit_sets(args.seed)
    except DataUnavailableError as exc:
        print(f"{prog}: skipped: {exc}")
        return None
    return args, sets, model_digest(args.model)


def cached_penalties(cache: Path, digest: str, name: str):
    """The reference-free penalties cached for a set (``None``, with a message, when there are none)."""
    import numpy as np

    path = cache / f"{digest}-{name}.json"
    if not path.is_file():
        print(f"no cached predictions at {path}: run scripts/bench_qe.py and scripts/eval_qe_spans.py first")
        return None
    return np.array([r[0] for r in json.loads(path.read_text())["free"]])


def pack(preds, tokens: bool = True) -> dict:
    """Predictions as the JSON the caches hold: ``rows`` of the four numbers, and ``tokens`` if asked."""
    out = {"rows": [[p.penalty, p.score, p.low, p.high] for p in preds]}
    if tokens:
        out["tokens"] = [[list(t) for t in p.token_bad] for p in preds]
    return out


def unpack(rows, tokens=None) -> list:
    """The predictions :func:`pack` stored (token probabilities empty where none were)."""
    from mtcheck.models.qe import QEPrediction

    tokens = tokens or [[]] * len(rows)
    return [QEPrediction(*r, token_bad=tuple(map(tuple, t))) for r, t in zip(rows, tokens)]


def predictions(model, items, cache: Path, with_reference: bool = True):
    """Reference-free and reference-aware predictions, each cached once computed.

    The second is ``None`` for a model without a reference-aware part, or
    when ``with_reference`` is false.
    """
    raw = json.loads(cache.read_text()) if cache.is_file() else {}
    if "free" in raw:
        free = unpack(raw["free"], raw.get("tokens"))
    else:
        t0 = time.time()
        free = model.predict([it.source for it in items], [it.mt for it in items])
        print(f"  predicted {len(items)} pairs reference-free in {time.time() - t0:.0f}s")
        packed = pack(free)
        raw = {"free": packed["rows"], "tokens": packed["tokens"]}
    ref_model = (model.config or {}).get("reference_model")
    if (model.config or {}).get("reference_net"):  # its weights' digest tells versions apart
        ref_model = {"model": ref_model, "net": model.config["reference_net"]}
    if ref_model is None or not with_reference:  # e.g. a model whose stack is not fitted yet
        ref = None
    elif "ref" in raw and raw.get("ref_model") == ref_model:
        ref = unpack(raw["ref"])
    else:
        t0 = time.time()
        ref = model.predict_with_reference([it.source for it in items], [it.mt for it in items],
                                           [it.references[0] if it.references else None for it in items], base=free)
        print(f"  reference-aware part for {len(items)} pairs in {time.time() - t0:.0f}s")
        raw["ref"] = pack(ref, tokens=False)["rows"]
        raw["ref_model"] = ref_model
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(raw))
    return free, ref


def reference_net_predictions(directory: Path, items, cache: Path, name: str):
    """A reference cross-encoder's own predictions, cached by its weights.

    ``directory`` is either a model trained with ``train_qe.py --first
    reference`` or a QE model that carries one (``reference_net`` in its
    config, as the shipped model does); both give the same cache key for the
    same network. Each item's MT is read against its first reference; the
    token probabilities are kept, for the span scripts.

    Raises:
        ValueError: ``directory`` holds neither.
    """
    from mtcheck.models.qe import WEIGHTS_FILE, load_qe_dir

    cfg = json.loads((directory / "config.json").read_text())
    part = cfg.get("reference_net")
    if part:
        weights = directory / part["file"]
    elif cfg.get("train", {}).get("first") == "reference":
        part, weights = cfg, directory / WEIGHTS_FILE
    else:
        raise ValueError(f"{directory} holds no reference cross-encoder (no reference_net in its config.json, "
                         "and not trained with train_qe.py --first reference)")
    h = hashlib.sha256(weights.read_bytes())
    shape = {k: part.get(k) for k in ("n_top", "hidden_head", "unit")}
    if part.get("depth") is not None:  # older caches (full depth) keep their keys
        shape["depth"] = part["depth"]
    h.update(json.dumps(shape, sort_keys=True).encode())
    path = cache / f"qeref-{h.hexdigest()[:16]}-{name}.json"
    if path.is_file():
        raw = json.loads(path.read_text())
        if len(raw["rows"]) == len(items):
            return unpack(raw["rows"], raw["tokens"])
    model = load_qe_dir(directory, name="qe-ref")
    predict = model.predict_reference_net if cfg.get("reference_net") else model.predict
    t0 = time.time()
    preds = predict([it.references[0] for it in items], [it.mt for it in items])
    print(f"  {name}: reference cross-encoder over {len(items)} pairs in {time.time() - t0:.0f}s")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(pack(preds)))
    return preds


def reliability(items, preds, out: Path, title: str) -> str:
    """Deciles of the predicted penalty: mean predicted vs mean human penalty; interval coverage."""
    import numpy as np

    pred = np.array([p.penalty for p in preds])
    human = np.array([-it.human for it in items])
    inside = np.mean([(p.low <= h <= p.high) for p, h in zip(preds, human)])
    order = np.argsort(pred, kind="stable")
    bins = np.array_split(order, 10)
    rows = [(float(pred[b].mean()), float(human[b].mean()), len(b)) for b in bins if len(b)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".csv").write_text("bin,mean_predicted_penalty,mean_human_penalty,n\n" + "".join(
        f"{k + 1},{a:.4f},{b:.4f},{n}\n" for k, (a, b, n) in enumerate(rows)), encoding="utf-8")
    top = max(max(a for a, _, _ in rows), max(b for _, b, _ in rows), 1.0) * 1.1
    size, pad = 320, 40

    def xy(a, b):
        return pad + a / top * (size - 2 * pad), size - pad - b / top * (size - 2 * pad)

    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(a, b) for a, b, _ in rows))
    (x0, y0), (x1, y1) = xy(0, 0), xy(top, top)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" font-family="sans-serif" '
           f'font-size="11"><title>{title}</title>'
           f'<rect width="{size}" height="{size}" fill="white"/>'
           f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#bbb" stroke-dasharray="4"/>'
           f'<line x1="{pad}" y1="{size - pad}" x2="{size - pad}" y2="{size - pad}" stroke="black"/>'
           f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{size - pad}" stroke="black"/>'
           f'<polyline points="{pts}" fill="none" stroke="#c33" stroke-width="2"/>'
           + "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#c33"/>' for x, y in (xy(a, b) for a, b, _ in rows))
           + f'<text x="{size / 2}" y="{size - 8}" text-anchor="middle">predicted MQM penalty (decile means)</text>'
           f'<text x="12" y="{size / 2}" transform="rotate(-90 12 {size / 2})" text-anchor="middle">human MQM penalty</text>'
           f'<text x="{pad}" y="20">{title}; axes 0-{top:.1f}</text></svg>\n')
    out.with_suffix(".svg").write_text(svg, encoding="utf-8")
    lines = [f"  reliability ({out.with_suffix('.svg')}): decile mean predicted -> human penalty:"]
    lines.append("    " + ", ".join(f"{a:.2f}->{b:.2f}" for a, b, _ in rows))
    lines.append(f"  80% interval [q10, q90] holds the human penalty for {inside:.1%} of segments")
    return "\n".join(lines)


SPEED_CODE = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {root!r})
from mtcheck.resources import peak_rss_mb  # not ru_maxrss, which counts the parent's memory too
from mtcheck.metaeval.loaders import load_mqm_newstest2021
items = [it for it in load_mqm_newstest2021().items if it.mt][:{n}]
t0 = time.time()
sys.path.insert(0, {scripts!r})
from pathlib import Path
from bench_qe import load_bench_model
model_dir = {model_dir!r}
_, _, model, _ = load_bench_model(None if model_dir is None else Path(model_dir))
model.predict(["你好。"], ["Hello."])
t1 = time.time()
preds = model.predict([it.source for it in items], [it.mt for it in items])
t2 = time.time()
free_peak = peak_rss_mb()
if {with_reference!r} and model.reference_model is not None:
    model.predict_with_reference([it.source for it in items], [it.mt for it in items],
                                 [it.references[0] if it.references else None for it in items], base=preds)
t3 = time.time()
print(json.dumps({{"n": len(items), "load_s": t1 - t0, "seconds": t2 - t1, "seg_per_s": len(items) / (t2 - t1),
                  "peak_rss_mb": free_peak, "ref_seconds": t3 - t2, "ref_seg_per_s": len(items) / (t3 - t1),
                  "ref_peak_rss_mb": peak_rss_mb()}}))
"""


def reference_metric_report(metric_name: str, label: str, ds, items, human, boot):
    """The table row of a reference-based metric (chrF, BLEU) on ``items`` of ``ds``.

    Segment scores against every reference; at the system level the
    metric's corpus score (``bench_metaeval.corpus_scorer``), as sacrebleu
    computes it, not the mean of segment scores.
    """
    from bench_metaeval import corpus_scorer

    from mtcheck.metaeval.stats import Judgements, evaluate_judgements
    from mtcheck.metrics import get_metric

    metric = get_metric(metric_name)
    seg = metric.segment_scores([it.mt for it in items], [list(it.references) for it in items])
    j = Judgements.from_scores(human, {(it.system, it.item): v for it, v in zip(items, seg)}, ds.systems)
    scorer, _sig = corpus_scorer(metric, ds, j)
    return evaluate_judgements(j, metric_name=label, system_metric=scorer, bootstrap=boot)


def qe_report(label: str, values, items, human, systems, boot):
    """The table row of QE scores on ``items``, and the system figures of their plain means.

    At the system level the row measures what mtcheck reports for a batch:
    the mean of the segment scores weighted by MT words
    (``QE.corpus_from_segments``), as the chrF and BLEU rows measure corpus
    scores. Returns ``(report, (system Pearson, pairwise accuracy))``, the
    pair computed from unweighted means.
    """
    from mtcheck.metaeval.stats import (
        Judgements, evaluate_judgements, pairwise_accuracy, system_pearson, weighted_system_scorer,
    )
    from mtcheck.metrics.qe import mt_weight

    j = Judgements.from_scores(human, {(it.system, it.item): v for it, v in zip(items, values)}, systems)
    words = {(it.system, it.item): float(mt_weight(it.mt)) for it in items}
    report = evaluate_judgements(j, metric_name=label, system_metric=weighted_system_scorer(j, words),
                                 bootstrap=boot)
    return report, (system_pearson(j, boot), pairwise_accuracy(j, boot))


def print_plain_means(rows) -> None:
    print("qe rows, system level: means weighted by MT words, as mtcheck scores a batch; "
          "with plain means of the segment scores instead (sys Pearson / pairwise acc):")
    for label, sp, pa in rows:
        print(f"  {label}: {sp.format()} / {pa.format()}")


def speed(n: int, model_dir: Path | None = None, with_reference: bool = True) -> dict:
    code = SPEED_CODE.format(root=str(ROOT), scripts=str(ROOT / "scripts"), n=n,
                             model_dir=None if model_dir is None else str(model_dir),
                             with_reference=with_reference)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fluency", action="store_true", help="also evaluate the (slow) fluency metric")
    ap.add_argument("--speed-n", type=int, default=1000, help="segments for the speed run (0: skip)")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "mtcheck" / "qe-bench")
    ap.add_argument("--model", type=Path, default=None,
                    help="a directory written by scripts/train_qe.py (default: the shipped qe model)")
    ap.add_argument("--reference-free", action="store_true",
                    help="leave out the reference-aware model (its rows and its speed run)")
    args = ap.parse_args(argv)

    from mtcheck.metaeval.loaders import load_mqm_newstest2021, load_mqm_ted, shared_data_dir
    from mtcheck.metaeval.stats import BootstrapConfig, Judgements, evaluate_judgements, format_table
    from mtcheck.metrics import get_metric

    try:
        root = shared_data_dir()
    except DataUnavailableError as exc:
        print(f"skipping the QE benchmark: {exc}")
        return 0
    location, label, model, digest = load_bench_model(args.model)
    print("command:", " ".join(shlex.quote(a) for a in ["python", "scripts/bench_qe.py", *sys.argv[1:]]))
    print("date:", datetime.datetime.now().astimezone().isoformat(timespec="seconds"))
    print(f"model: {label} ({location}, digest {digest}); signature fields {model.signature_fields}")
    boot = BootstrapConfig(n=args.bootstrap, seed=args.seed) if args.bootstrap else None  # 0: no intervals
    for name, loader in (("newstest2021-mqm", load_mqm_newstest2021), ("ted-mqm", load_mqm_ted)):
        ds = loader(root)
        items = [it for it in ds.items if it.human is not None and it.source and it.mt and it.references]
        human = {(it.system, it.item): it.human for it in items}
        print(f"\n== {name}: {len(items)} rated items, {len(ds.systems)} systems")
        free, ref = predictions(model, items, args.cache / f"{digest}-{name}.json",
                                with_reference=not args.reference_free)
        reports, plain_means = [], []

        def add(label, values):
            j = Judgements.from_scores(human, {(it.system, it.item): v for it, v in zip(items, values)}, ds.systems)
            reports.append(evaluate_judgements(j, metric_name=label, bootstrap=boot))

        def add_qe(label, values):
            report, plain = qe_report(label, values, items, human, ds.systems, boot)
            reports.append(report)
            plain_means.append((label, *plain))

        add_qe("qe (no reference)", [p.score for p in free])
        if ref is not None:
            add_qe("qe+ref", [p.score for p in ref])
        hyps, refs = [it.mt for it in items], [list(it.references) for it in items]
        for metric_name, label in (("chrf", "chrF"), ("bleu", "sentBLEU / BLEU")):
            reports.append(reference_metric_report(metric_name, label, ds, items, human, boot))
        src = model.encoder.embed([it.source for it in items])
        mt = model.encoder.embed(hyps)
        add("xsim (e5 cos src-MT)", list((src * mt).sum(1)))
        if args.fluency:
            add("fluency (SmolLM2)", get_metric("fluency").segment_scores(hyps, refs, [it.source for it in items]))
        print(format_table(reports))
        print_plain_means(plain_means)
        print(reliability(items, free, args.out / f"qe-reliability-{name}", f"{name}: qe (no reference)"))
    if args.speed_n:
        s = speed(args.speed_n, args.model, with_reference=not args.reference_free)
        print(f"\nspeed (fresh process, {s['n']} newstest2021 segments, reference-free): {s['seg_per_s']:.1f} seg/s, "
              f"model load {s['load_s']:.1f} s, peak RSS {s['peak_rss_mb']:.0f} MB")
        if model.reference_model is not None and not args.reference_free:
            print(f"with the reference (-r; the reference-aware part {s['ref_seconds']:.1f} s on top): "
                  f"{s['ref_seg_per_s']:.1f} seg/s in all, peak RSS {s['ref_peak_rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
