"""ONNX Runtime as the engine of the QE cross-encoder (same weights, same numbers, faster).

On two CPU cores PyTorch spends about a quarter of the QE forward pass
outside the matrix products: GELU, residual adds and layer norms run as
separate passes over memory. onnxruntime's BERT optimiser fuses them
(``BiasGelu``, ``SkipLayerNormalization``, and each layer's attention into
one ``Attention`` operator with a single query/key/value product), and its
matrix products are at least as fast, so the same network runs 12–17%
faster here with outputs equal to PyTorch's to about 1e-5 (the model card
has the figures; the attention fusion, graph format 2, adds about 7%).

The network's transformer layers and heads are exported once, from the
loaded PyTorch network, to ``$MTCHECK_CACHE_DIR/qe-onnx/`` under a digest
of their weights and of the tool versions, so a changed model or base never
reuses a stale graph. The word embeddings (250k rows) stay in PyTorch: the
graph takes the embedding output, which keeps the cached file at ~45 MB.

``MTCHECK_QE_ENGINE`` picks the engine: ``auto`` (the default: onnxruntime
when it and ``onnx`` are installed, else PyTorch), ``onnx`` (onnxruntime or
a clear error) or ``torch``. In ``auto``, a failed export falls back to
PyTorch with a warning rather than failing the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

from mtcheck.errors import ModelUnavailableError

ENGINE_ENV = "MTCHECK_QE_ENGINE"
ENGINES = ("auto", "onnx", "torch")
#: Bump when the exported graph's inputs, outputs or export options change.
#: 2: attention exported in the form the optimiser fuses (:func:`_export_attention`).
GRAPH_FORMAT = 2
#: The name under which :func:`_export_attention` is registered with transformers.
EXPORT_ATTENTION = "mtcheck_onnx_export"
_INPUTS = ("states", "mask", "src_mask", "mt_mask")
_export_lock = threading.Lock()


class EngineFallbackWarning(UserWarning):
    """``auto`` could not use onnxruntime and runs the QE network in PyTorch."""


def requested_engine() -> str:
    """The engine ``$MTCHECK_QE_ENGINE`` asks for (``auto`` when unset).

    Raises:
        ModelUnavailableError: The variable names no engine.
    """
    value = os.environ.get(ENGINE_ENV, "").strip().lower() or "auto"
    if value not in ENGINES:
        raise ModelUnavailableError(f"{ENGINE_ENV}={value!r}: expected one of {', '.join(ENGINES)}")
    return value


def onnx_missing() -> str | None:
    """Why onnxruntime cannot be used here (a message), or ``None`` when it can."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        from onnxruntime.transformers import optimizer  # noqa: F401
    except ImportError as exc:
        return f"{exc} (pip install onnxruntime onnx)"
    return None


def _cache_root() -> Path:
    from mtcheck.models.encoder import cache_dir

    return cache_dir() / "qe-onnx"


def net_digest(net: Any, int8: bool) -> str:
    """Hex digest of everything the exported graph depends on.

    The lower (frozen) layers, the trained top layers and heads, the layer
    shapes, and the versions of torch, onnx and onnxruntime, since each
    changes what an export writes.
    """
    import onnx
    import onnxruntime
    import torch

    h = hashlib.sha256()
    h.update(f"g{GRAPH_FORMAT}|int8:{int8}|torch:{torch.__version__}|onnx:{onnx.__version__}|"
             f"ort:{onnxruntime.__version__}|heads:{net.base.config.num_attention_heads}".encode())
    modules = [*net.lower_layers, net]
    for module in modules:
        for name, tensor in module.state_dict().items():
            t = tensor.detach().contiguous().float().cpu()
            h.update(f"{name}{tuple(t.shape)}".encode())
            h.update(t.numpy().tobytes())
    return h.hexdigest()[:20]


def _graph_module(net: Any) -> Any:
    """The QE network from embedding output to ``(segment, token_logits)`` as one module."""
    import torch

    class Layers(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # Registered here (QENet keeps them unregistered, as the base is shared), so that
            # the exporter writes their weights as named initialisers, as it does the top layers'.
            self.lower = torch.nn.ModuleList(net.lower_layers)
            self.net = net

        def forward(self, states: Any, mask: Any, src_mask: Any, mt_mask: Any) -> Any:
            return self.net.upper(self.net.frozen_layers(states, mask), mask, src_mask, mt_mask)

    return Layers().eval()


def _export_attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any,
                      scaling: float | None = None, dropout: float = 0.0, **kwargs: Any) -> tuple[Any, None]:
    """Scaled dot-product attention written as the original BERT graph writes it, for export only.

    The arithmetic of transformers' eager attention, except that the scores
    are *divided* by sqrt(head size) after the query-key product. PyTorch's
    fused kernel (``sdpa``) exports as a pattern the onnxruntime optimiser
    does not know, and the eager form multiplies by the scale, which makes
    the optimiser take the scale for the mask and give up; with a ``Div`` it
    finds the mask, and fuses the layer's attention into one operator.
    """
    import torch

    divisor = query.size(-1) ** 0.5 if scaling is None else 1.0 / scaling
    scores = torch.matmul(query, key.transpose(2, 3)) / divisor
    if attention_mask is not None:
        scores = scores + attention_mask
    probs = torch.softmax(scores, dim=-1)
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), None


@contextlib.contextmanager
def _fusable_attention(module: Any) -> Any:
    """While exporting, make every layer under ``module`` use :func:`_export_attention`.

    The layers' configs are switched back afterwards: the frozen lower
    layers belong to the encoder that the embedding metrics share. The
    function computes what the usual one does (to ~1e-6), so a metric
    that ran meanwhile would get the same numbers. With a transformers
    too old to register attention functions, nothing changes and the
    graph is exported without the attention fusion.
    """
    try:
        from transformers import AttentionInterface
    except ImportError:
        yield
        return
    AttentionInterface.register(EXPORT_ATTENTION, _export_attention)
    configs = {id(c): c for sub in module.modules() if (c := getattr(sub, "config", None)) is not None}
    before = {k: c._attn_implementation for k, c in configs.items()}
    try:
        for c in configs.values():
            c._attn_implementation = EXPORT_ATTENTION
        yield
    finally:
        for k, c in configs.items():
            c._attn_implementation = before[k]


def export_graph(net: Any, path: Path, *, int8: bool = False) -> None:
    """Export ``net`` (a :func:`~mtcheck.models.qe.build_net` network) to ``path``, fused and optionally int8.

    Written to a temporary file beside ``path`` and renamed, so a killed run
    never leaves a half-written graph under the final name.
    """
    import tempfile

    import onnx
    import torch
    from onnxruntime.transformers import optimizer

    path.parent.mkdir(parents=True, exist_ok=True)
    module = _graph_module(net)
    # A small dummy batch: two rows of different lengths, so the mask is exercised;
    # batch and token axes are dynamic in the graph.
    width = 12
    mask = torch.ones((2, width), dtype=torch.long)
    mask[1, 8:] = 0
    src = torch.zeros_like(mask)
    src[:, 1:4] = 1
    mt = torch.zeros_like(mask)
    mt[:, 5:7] = 1
    states = torch.randn(2, width, net.base.config.hidden_size)
    axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    axes.update(segment={0: "batch"}, tokens={0: "batch", 1: "tokens"})
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        raw, fused_path = Path(tmp) / "raw.onnx", Path(tmp) / "fused.onnx"
        with warnings.catch_warnings(), torch.no_grad(), _fusable_attention(module):
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(module, (states, mask, src, mt), str(raw), input_names=list(_INPUTS),
                              output_names=["segment", "tokens"], dynamic_axes=axes, opset_version=17,
                              dynamo=False)
        optimised = optimizer.optimize_model(str(raw), model_type="bert",
                                             num_heads=net.base.config.num_attention_heads,
                                             hidden_size=net.base.config.hidden_size)
        optimised.save_model_to_file(str(fused_path))
        final = fused_path
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            final = Path(tmp) / "int8.onnx"
            quantize_dynamic(str(fused_path), str(final), weight_type=QuantType.QInt8,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        os.replace(final, path)


@contextlib.contextmanager
def _quiet_logging() -> Any:
    """Hide the optimiser's and quantiser's advice, which they log through the root logger."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


class OnnxQENet:
    """A QE network run by onnxruntime: the embeddings in PyTorch, the rest in the session.

    Has the two members :meth:`mtcheck.models.qe.QEModel._run` uses,
    ``eval()`` and ``forward_batch(batch)``.
    """

    def __init__(self, net: Any, session: Any, path: Path):
        self._net = net
        self._session = session
        self.path = path

    def eval(self) -> "OnnxQENet":
        return self

    def forward_batch(self, batch: dict[str, Any]) -> tuple[Any, Any]:
        import torch

        states = self._net.embed(batch["ids"])
        feeds = {"states": states.numpy(), "mask": batch["mask"].numpy(),
                 "src_mask": batch["src_mask"].numpy(), "mt_mask": batch["mt_mask"].numpy()}
        segment, tokens = self._session.run(["segment", "tokens"], feeds)
        return torch.from_numpy(segment), torch.from_numpy(tokens)


def _session(path: Path) -> Any:
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, torch.get_num_threads())
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_net(net: Any, *, int8: bool = False, cache: Path | None = None) -> OnnxQENet:
    """``net`` run by onnxruntime, exporting it first unless the cache holds its graph.

    Args:
        net: A loaded, float32 :func:`~mtcheck.models.qe.build_net` network.
        int8: Quantise the graph's linear layers to int8 (onnxruntime's dynamic quantisation).
        cache: Directory of cached graphs (default ``$MTCHECK_CACHE_DIR/qe-onnx``).

    Raises:
        ModelUnavailableError: onnxruntime or onnx is missing, or the export failed.
    """
    missing = onnx_missing()
    if missing:
        raise ModelUnavailableError(f"QE engine onnx: {missing}")
    path = (cache or _cache_root()) / f"qe-{net_digest(net, int8)}{'-int8' if int8 else ''}.onnx"
    with _export_lock:
        if path.is_file():
            try:
                return OnnxQENet(net, _session(path), path)
            except Exception:  # noqa: BLE001 - a damaged cache file is rebuilt below
                path.unlink(missing_ok=True)
        try:
            with _quiet_logging():
                export_graph(net, path, int8=int8)
            return OnnxQENet(net, _session(path), path)
        except Exception as exc:  # noqa: BLE001 - any exporter or runtime failure is the same to the caller
            raise ModelUnavailableError(f"QE engine onnx: could not export the network to {path}: "
                                        f"{type(exc).__name__}: {exc}") from exc


def with_engine(net: Any, engine: str, *, int8: bool = False) -> tuple[Any, str]:
    """``net`` on the engine asked for, and the engine it runs on (``"onnx"``/``"torch"``).

    ``auto`` takes onnxruntime when it is installed and the export works,
    PyTorch otherwise (with an :class:`EngineFallbackWarning` when the export
    failed, silently when onnxruntime is simply not installed).

    Raises:
        ModelUnavailableError: ``engine`` is ``onnx`` and onnxruntime cannot run it.
    """
    if engine not in ENGINES:
        raise ModelUnavailableError(f"QE engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if engine == "torch" or (engine == "auto" and onnx_missing()):
        return net, "torch"
    try:
        return onnx_net(net, int8=int8), "onnx"
    except ModelUnavailableError as exc:
        if engine == "onnx":
            raise
        warnings.warn(f"{exc}; running the QE network in PyTorch", EngineFallbackWarning, stacklevel=3)
        return net, "torch"
