#!/usr/bin/env python3
"""Would ONNX Runtime make the QE model fast enough? Model-only throughput, four engines.

    python scripts/bench_qe_onnx.py [--n 1000] [--batch 16]

The QE throughput target is 60 segments/s on two cores. This exports the
shipped network (frozen lower layers, trained top layers and heads, here
with the embedding table too) to ONNX on its own, lets
onnxruntime's BERT optimiser fuse what it recognises, quantises the linear
layers to int8 (dynamic, as ``MTCHECK_QE_INT8`` does in PyTorch), and times
the forward passes alone over the same length-sorted batches of
newstest2021 pairs: PyTorch float32 and int8, onnxruntime float32 and int8.
Tokenisation is left out, so these are upper bounds for the whole scorer.
Each engine's segment predictions are correlated with PyTorch float32's.
Exits 0 with a message when onnxruntime, onnx or the shared data is missing.
The network is taken from a PyTorch-engine model (``engine="torch"``);
``mtcheck`` itself runs the onnxruntime engine of
``mtcheck/models/qe_onnx.py`` by default, which this script predates.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtcheck.errors import DataUnavailableError  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args(argv)
    try:
        import onnx
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
    except ImportError as exc:
        print(f"bench_qe_onnx: skipped: {exc} (pip install onnxruntime onnx)")
        return 0
    import numpy as np
    import torch

    from mtcheck.metaeval.loaders import load_mqm_newstest2021
    from mtcheck.models.qe import MAX_SIDE, encode_pair, load_qe_dir, pad_batch
    from mtcheck.models.registry import default_for

    try:
        items = [it for it in load_mqm_newstest2021().items if it.source and it.mt][: args.n]
    except DataUnavailableError as exc:
        print(f"bench_qe_onnx: skipped: {exc}")
        return 0
    spec = default_for("qe")
    model = load_qe_dir(Path(spec.location), name=spec.name, engine="torch")
    net = model._net
    encs = [encode_pair(model.encoder._tokenize, it.source, it.mt, MAX_SIDE) for it in items]
    order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
    batches = [pad_batch([encs[i] for i in order[b:b + args.batch]], model.encoder._pad_id)
               for b in range(0, len(order), args.batch)]

    class Whole(torch.nn.Module):
        """The QE network as one module (the lower layers are not registered in QENet)."""

        def __init__(self) -> None:
            super().__init__()
            self.net = net
            self.lower = torch.nn.ModuleList(net.lower_layers)
            self.base = net.base

        def forward(self, ids, mask, src, mt):
            return self.net.upper(self.net.lower(ids, mask), mask, src, mt)

    whole = Whole().eval()
    names = ("ids", "mask", "src_mask", "mt_mask")

    def timed(run) -> tuple[float, np.ndarray]:
        run(batches[0])  # warm-up
        t0 = time.perf_counter()
        out = np.concatenate([run(b) for b in batches])
        return len(items) / (time.perf_counter() - t0), out

    def torch_run(b):
        with torch.inference_mode():
            return whole(*(b[k] for k in names))[0].numpy()

    rows = []
    rate, ref = timed(torch_run)
    rows.append(("PyTorch float32", rate, 1.0))
    with tempfile.TemporaryDirectory() as tmp:
        fp32, opt, int8 = (str(Path(tmp) / n) for n in ("qe.onnx", "qe-opt.onnx", "qe-int8.onnx"))
        mid = batches[len(batches) // 2]
        dyn = {k: {0: "batch", 1: "tokens"} for k in names}
        torch.onnx.export(whole, tuple(mid[k] for k in names), fp32, input_names=list(names),
                          output_names=["seg", "tok"], dynamic_axes={**dyn, "seg": {0: "batch"}},
                          opset_version=17, dynamo=False)
        optimised = optimizer.optimize_model(fp32, model_type="bert", num_heads=net.base.config.num_attention_heads,
                                             hidden_size=net.base.config.hidden_size)
        fused = {k: v for k, v in optimised.get_fused_operator_statistics().items() if v}
        optimised.save_model_to_file(opt)
        quantize_dynamic(opt, int8, weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        for label, path in (("onnxruntime float32", opt), ("onnxruntime int8", int8)):
            so = ort.SessionOptions()
            so.intra_op_num_threads = torch.get_num_threads()
            sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            rate, got = timed(lambda b: sess.run(["seg"], {k: b[k].numpy() for k in names})[0])
            rows.append((label, rate, float(np.corrcoef(got[:, 0], ref[:, 0])[0, 1])))
    net.quantize_int8()
    rate, got = timed(torch_run)
    rows.append(("PyTorch int8", rate, float(np.corrcoef(got[:, 0], ref[:, 0])[0, 1])))
    print(f"{len(items)} newstest2021 pairs, batch {args.batch}, {torch.get_num_threads()} threads; "
          f"onnxruntime {ort.__version__}, fused: {fused}")
    print("| engine | pairs/s (forward only) | Pearson with PyTorch float32 |")
    print("|---|---|---|")
    for label, rate, r in rows:
        print(f"| {label} | {rate:.1f} | {r:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
