#!/usr/bin/env python3
"""How fast the neural signals could possibly run here: arithmetic per segment against the CPU's matmul rate.

    python scripts/bench_flops.py [--n 1000] [--system Online-W] [--threads 2]

The speed targets of the model-stack and QE issues (encoder + LM at 30
segments/s, QE at 60) are set in segments per second; this prints what they
ask of the CPU. For the first N newstest2021 segments (one system's output)
it counts each model's tokens with its own tokenizer and from the model's
configuration the multiply-adds of one forward pass:

* every dense layer: 2 × (its weights) per token;
* attention scores and their use: 4 × layers × hidden × tokens² per text;
* the LM's output layer over the whole vocabulary (the log-probability of
  each token needs the normaliser over all of them).

Then it measures the float32 matrix-multiply rate torch reaches on this CPU
with the given threads, on the shapes these models multiply (a batch of 16
texts of the median length) and on a large square product, and prints the
ceiling in segments/second each model would reach if every multiply ran at
that rate — no tokenisation, no memory traffic, no Python. Measured
throughput (``bench_pipeline.py``, ``bench_qe.py``) is below that ceiling;
a target above it cannot be met with these models on this machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def dense_flops_per_token(cfg, kind: str) -> tuple[float, float]:
    """(2 × dense weights per token, attention coefficient 4 × layers × hidden) for a BERT or Llama config."""
    h, layers, ff = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size
    if kind == "bert":
        per_layer = 4 * h * h + 2 * h * ff
    else:  # llama-style: grouped K/V, gated MLP
        kv = h // cfg.num_attention_heads * getattr(cfg, "num_key_value_heads", cfg.num_attention_heads)
        per_layer = 2 * h * h + 2 * h * kv + 3 * h * ff
    return 2.0 * per_layer * layers, 4.0 * layers * h


def matmul_rate(m: int, k: int, n: int, seconds: float = 2.0) -> float:
    """GFLOP/s of float32 ``(m×k) @ (k×n)``, best of repeated timed runs."""
    import torch

    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(3):
        a @ b
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        reps = max(1, int(2e9 / (2 * m * k * n)))
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = max(best, 2 * m * k * n * reps / (time.perf_counter() - t0) / 1e9)
    return best


def int8_rate(m: int, k: int, n: int, seconds: float = 2.0) -> float:
    """Effective GFLOP/s of a dynamically int8-quantised ``Linear(k, n)`` on an ``m×k`` float input."""
    import torch

    layer = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(torch.nn.Linear(k, n, bias=False)),
                                                   {torch.nn.Linear}, dtype=torch.qint8)
    x = torch.randn(m, k)
    with torch.inference_mode():
        for _ in range(3):
            layer(x)
        best, end = 0.0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            reps = max(1, int(2e9 / (2 * m * k * n)))
            t0 = time.perf_counter()
            for _ in range(reps):
                layer(x)
            best = max(best, 2 * m * k * n * reps / (time.perf_counter() - t0) / 1e9)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=650, help="segments (newstest2021 has 650 per system)")
    ap.add_argument("--system", default="Online-W")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    from mtcheck.metaeval import loaders

    try:
        ds = loaders.load_mqm_newstest2021()
    except DataUnavailableError as exc:
        print(f"bench_flops: skipped: {exc}")
        return 0
    import torch

    import mtcheck.models.encoder  # noqa: F401
    import mtcheck.models.lm  # noqa: F401
    from mtcheck.models.qe import CONFIG_FILE, DEFAULT_DIR, MAX_SIDE, encode_pair
    from mtcheck.models.registry import get_model

    torch.set_num_threads(args.threads)
    items = [it for it in ds.items if it.system == args.system and it.mt][: args.n]
    enc, lm = get_model("encoder"), get_model("lm")
    e_cfg, l_cfg = enc._model.config, lm.model.config
    e_tok = [len(enc._tokenize(it.source, 512).ids) + len(enc._tokenize(it.mt, 512).ids) for it in items]
    e_sq = [len(enc._tokenize(it.source, 512).ids) ** 2 + len(enc._tokenize(it.mt, 512).ids) ** 2 for it in items]
    pair = [len(encode_pair(enc._tokenize, it.source, it.mt, MAX_SIDE).ids) for it in items]
    l_tok = [len(lm.tokenizer(it.mt)["input_ids"]) + 1 for it in items]  # + the start token

    e_dense, e_att = dense_flops_per_token(e_cfg, "bert")
    l_dense, l_att = dense_flops_per_token(l_cfg, "llama")
    head = 2.0 * l_cfg.hidden_size * l_cfg.vocab_size
    n = len(items)
    xsim = sum(e_dense * t for t in e_tok) / n + e_att * sum(e_sq) / n
    # The shipped QE network runs only the encoder's first `depth` layers (all of them in older configs).
    qe_depth = json.loads((DEFAULT_DIR / CONFIG_FILE).read_text()).get("depth") or e_cfg.num_hidden_layers
    qe = sum(e_dense * t + e_att * t * t for t in pair) / n * qe_depth / e_cfg.num_hidden_layers
    fluency = sum((l_dense + head) * t + l_att * t * t for t in l_tok) / n

    med_e, med_l = int(statistics.median(e_tok) / 2), int(statistics.median(l_tok))
    rates = {
        f"encoder FFN ({16 * med_e}×{e_cfg.hidden_size} @ {e_cfg.hidden_size}×{e_cfg.intermediate_size})":
            matmul_rate(16 * med_e, e_cfg.hidden_size, e_cfg.intermediate_size),
        f"LM FFN ({16 * med_l}×{l_cfg.hidden_size} @ {l_cfg.hidden_size}×{l_cfg.intermediate_size})":
            matmul_rate(16 * med_l, l_cfg.hidden_size, l_cfg.intermediate_size),
        f"LM output layer ({16 * med_l}×{l_cfg.hidden_size} @ {l_cfg.hidden_size}×{l_cfg.vocab_size})":
            matmul_rate(16 * med_l, l_cfg.hidden_size, l_cfg.vocab_size, 3.0),
        "square 2048³": matmul_rate(2048, 2048, 2048),
    }
    best = max(rates.values())
    q8 = {f"int8 encoder FFN ({16 * med_e}×{e_cfg.hidden_size} @ {e_cfg.hidden_size}×{e_cfg.intermediate_size})":
          int8_rate(16 * med_e, e_cfg.hidden_size, e_cfg.intermediate_size),
          f"int8 LM FFN ({16 * med_l}×{l_cfg.hidden_size} @ {l_cfg.hidden_size}×{l_cfg.intermediate_size})":
          int8_rate(16 * med_l, l_cfg.hidden_size, l_cfg.intermediate_size)}
    best8 = max(q8.values())
    print(f"{n} newstest2021 segments ({args.system}), torch {torch.__version__}, {args.threads} threads, float32")
    print(f"tokens per segment: encoder source+MT {sum(e_tok) / n:.1f}, QE pair {sum(pair) / n:.1f}, "
          f"LM MT {sum(l_tok) / n:.1f}")
    print("matmul rate (GFLOP/s):")
    for k, v in {**rates, **q8}.items():
        print(f"  {k}: {v:.1f}")
    print(f"\n| signal | GFLOP per segment | ceiling at {best:.0f} GFLOP/s, float32 (seg/s) | "
          f"ceiling at {best8:.0f}, int8 (seg/s) | target (seg/s) |\n|---|---|---|---|---|")
    rows = [("xsim (encoder, source and MT)", xsim, None), ("fluency (LM over the MT)", fluency, None),
            ("encoder + LM (pipeline target)", xsim + fluency, 30), (f"QE cross-encoder (pair, {qe_depth} of {e_cfg.num_hidden_layers} layers)", qe, 60)]
    for name, flops, target in rows:
        print(f"| {name} | {flops / 1e9:.2f} | {best * 1e9 / flops:.1f} | {best8 * 1e9 / flops:.1f} | "
              f"{target or '–'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
