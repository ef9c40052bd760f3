"""Training the QE cross-encoder (:mod:`mtcheck.models.qe`) on a CPU.

The recipe, and why:

* **Frozen lower layers, cached once.** Embeddings and the lower
  ``12 - n_top`` layers keep the base encoder's weights, so their output for
  a training pair never changes: :func:`cache_lower` computes it once (float16,
  concatenated into one array with row offsets) and every epoch runs the top
  layers and heads only. On 2 cores this makes an epoch several times cheaper
  than fine-tuning the whole encoder.
* **Multi-task loss** (as CometKiwi/XCOMET): squared error on the MQM penalty
  (in units of one major error, capped at 25 points), pinball loss for the
  10th/90th percentiles, and binary cross-entropy of the token head against
  the share of raters who marked each MT token (tokens without human spans
  are masked out).
* **Checkpoints** after every epoch (model, optimiser, schedule, RNG), so
  :func:`train` resumes where a killed run stopped.

Everything is seeded; with the same data, seed and thread count the result is
reproducible.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from mtcheck.models.qe import PENALTY_UNIT, QUANTILES, PairEncoding, decode_segment, pad_batch

#: Penalties above this (several non-translations) are treated as this much.
PENALTY_CAP = 25.0
#: Regression unit: one major error.
UNIT = PENALTY_UNIT


def calibration_documents(dataset: Any, fraction: float = 0.15, seed: int = 13) -> set[str]:
    """The documents held out of training for calibration and model selection (seeded).

    Every QE script (training, baselines, thresholds, rule weight) splits
    newstest2020 with this one function, so they all see the same split.
    """
    docs = sorted({it.doc for it in dataset.items if it.doc})
    random.Random(seed).shuffle(docs)
    return set(docs[: max(1, round(len(docs) * fraction))])


def document_folds(dataset: Any, n_folds: int, seed: int = 13) -> list[set[str]]:
    """``n_folds`` disjoint sets of ``dataset``'s documents with about as many items each (seeded).

    Documents are shuffled, then each goes to the fold with the fewest items
    so far, so a set of a few long documents (WMT21 TED: 5 talks) still
    splits evenly where it can. For cross-validation on a dev set: no
    document, hence no source sentence, is on both sides of a fold.

    Raises:
        ValueError: Fewer documents than folds, or fewer than two folds.
    """
    sizes: dict[str, set] = {}
    for it in dataset.items:
        if it.doc:
            sizes.setdefault(it.doc, set()).add(it.item)
    if n_folds < 2 or len(sizes) < n_folds:
        raise ValueError(f"cannot split {len(sizes)} documents into {n_folds} folds (need 2 <= folds <= documents)")
    docs = sorted(sizes)
    random.Random(seed).shuffle(docs)
    folds: list[set[str]] = [set() for _ in range(n_folds)]
    filled = [0] * n_folds
    # Longest first, so the greedy balance is tight; the shuffle only breaks ties between equal sizes.
    for doc in sorted(docs, key=lambda d: -len(sizes[d])):
        k = min(range(n_folds), key=lambda f: (filled[f], f))
        folds[k].add(doc)
        filled[k] += len(sizes[doc])
    return folds


@dataclass(frozen=True)
class Example:
    """One training or evaluation pair."""

    key: tuple[str, str, int]  # (dataset, system, item)
    enc: PairEncoding
    penalty: float
    #: Per MT token, the share of raters who marked it; None = no span data.
    token_targets: tuple[float, ...] | None = None
    #: Seen by the ranking loss only: the penalty is a made-up order (a synthetic
    #: negative), not a score to regress on.
    rank_only: bool = False
    #: Each rater's own penalty, in one rater order shared by every example of the
    #: item (:func:`with_rater_penalties`); None where the item has one rating.
    rater_penalties: tuple[float, ...] | None = None


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters (frozen: a run's settings are part of its model card)."""

    n_top: int = 3
    epochs: int = 3
    batch_size: int = 16
    lr_layers: float = 3e-5
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.05
    token_weight: float = 0.5
    quantile_weight: float = 0.5
    seed: int = 13
    hidden_head: int = 256
    #: Weight of the pairwise ranking loss between translations of the same source
    #: (0: off). With it, batches hold whole items (every system's output of a source),
    #: so the model must order them rather than only learn how hard the source is.
    rank_weight: float = 0.0
    #: Items per batch when ranking (batch_size is then ignored).
    items_per_batch: int = 2
    #: Ranking pairs only where no rater of the item orders the two outputs the other
    #: way round (items with per-rater penalties; others keep every pair).
    rank_agree: bool = False


@dataclass
class LowerCache:
    """Frozen-layer outputs of many examples: one float16 array and row offsets."""

    states: Any  # np.ndarray (total_tokens, dim) float16
    offsets: Any  # np.ndarray (n + 1,) int64

    def get(self, i: int) -> Any:
        return self.states[self.offsets[i]:self.offsets[i + 1]]

    def save(self, path: Path) -> None:
        import numpy as np

        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path.with_suffix(".states.npy"), self.states)
        np.save(path.with_suffix(".offsets.npy"), self.offsets)

    @classmethod
    def concat(cls, parts: Sequence["LowerCache"]) -> "LowerCache":
        """One cache holding ``parts``' examples in order (in memory)."""
        import numpy as np

        offsets, base = [np.zeros(1, dtype=np.int64)], 0
        for p in parts:
            offsets.append(np.asarray(p.offsets[1:]) + base)
            base += int(p.offsets[-1])
        return cls(np.concatenate([np.asarray(p.states) for p in parts]), np.concatenate(offsets))

    def take(self, indices: Sequence[int]) -> "LowerCache":
        """A cache of the examples at ``indices``, in that order (copied into memory)."""
        import numpy as np

        rows = [np.asarray(self.get(i)) for i in indices]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(r) for r in rows])
        dim = self.states.shape[1]
        states = np.concatenate(rows) if rows else np.zeros((0, dim), dtype=self.states.dtype)
        return LowerCache(states, offsets)

    @classmethod
    def load(cls, path: Path) -> "LowerCache | None":
        import numpy as np

        s, o = path.with_suffix(".states.npy"), path.with_suffix(".offsets.npy")
        if not (s.is_file() and o.is_file()):
            return None
        return cls(np.load(s, mmap_mode="r"), np.load(o))


def cache_lower(net: Any, examples: Sequence[Example], pad_id: int, *, batch_size: int = 32,
                progress: Callable[[int, int], None] | None = None) -> LowerCache:
    """Run the frozen part over every example once; keep each example's rows (float16)."""
    import numpy as np
    import torch

    lengths = [len(e.enc.ids) for e in examples]
    offsets = np.zeros(len(examples) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths)
    dim = net.base.config.hidden_size
    states = np.zeros((int(offsets[-1]), dim), dtype=np.float16)
    order = sorted(range(len(examples)), key=lambda i: lengths[i])
    done = 0
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            batch = pad_batch([examples[i].enc for i in idx], pad_id)
            h = net.lower(batch["ids"], batch["mask"]).float().numpy()
            for r, i in enumerate(idx):
                states[offsets[i]:offsets[i + 1]] = h[r, :lengths[i]]
            done += len(idx)
            if progress:
                progress(done, len(examples))
    return LowerCache(states, offsets)


def _collate(examples: Sequence[Example], idx: Sequence[int], cache: LowerCache, pad_id: int) -> dict[str, Any]:
    import numpy as np
    import torch

    batch = pad_batch([examples[i].enc for i in idx], pad_id)
    width = batch["ids"].shape[1]
    dim = cache.states.shape[1]
    h = np.zeros((len(idx), width, dim), dtype=np.float32)
    tok_t = torch.zeros((len(idx), width))
    tok_m = torch.zeros((len(idx), width))
    for r, i in enumerate(idx):
        rows = cache.get(i)
        h[r, :len(rows)] = rows
        t = examples[i].token_targets
        if t is not None:
            pos = list(examples[i].enc.mt_positions)
            tok_t[r, pos] = torch.tensor(t, dtype=torch.float32)
            tok_m[r, pos] = 1.0
    batch["h"] = torch.from_numpy(h)
    batch["y"] = torch.tensor([min(examples[i].penalty, PENALTY_CAP) / UNIT for i in idx], dtype=torch.float32)
    batch["tok_t"], batch["tok_m"] = tok_t, tok_m
    batch["group"] = torch.tensor([hash(examples[i].key[::2]) % (2**61) for i in idx], dtype=torch.long)
    batch["reg_w"] = torch.tensor([0.0 if examples[i].rank_only else 1.0 for i in idx])
    width = max((len(examples[i].rater_penalties or ()) for i in idx), default=0)
    if width:
        raters = torch.full((len(idx), width), float("nan"))
        for r, i in enumerate(idx):
            own = examples[i].rater_penalties or ()
            raters[r, :len(own)] = torch.tensor(own, dtype=torch.float32)
        batch["raters"] = raters
    return batch


def with_rater_penalties(examples: Sequence[Example], dataset: str,
                         rater_scores: Mapping[tuple[str, int], Mapping[str, float]]) -> list[Example]:
    """The examples, with each rater's penalty attached to those of ``dataset`` whose item has two raters or more.

    Args:
        examples: Examples keyed ``(dataset, system, item)``; others pass unchanged.
        dataset: The dataset ``rater_scores`` belongs to.
        rater_scores: ``(system, item) -> {rater: MQM score}``
            (:func:`mtcheck.metaeval.raters.read_rater_scores`); the
            penalties are the negated scores, in rater-name order, which
            is the same for every system of an item when the same raters
            rated them all (newstest2020).
    """
    out = []
    for e in examples:
        raters = rater_scores.get((e.key[1], e.key[2]), {}) if e.key[0] == dataset else {}
        if len(raters) >= 2:
            e = dataclasses.replace(e, rater_penalties=tuple(-raters[r] for r in sorted(raters)))
        out.append(e)
    return out


def losses(seg: Any, tok: Any, batch: dict[str, Any], config: TrainConfig) -> tuple[Any, dict[str, float]]:
    """The multi-task loss of one batch and its parts (for logging)."""
    import torch
    import torch.nn.functional as F

    y = batch["y"]
    # Examples with weight 0 (rank_only) take no part in the regression terms.
    w = batch.get("reg_w")
    w = torch.ones_like(y) if w is None else w.to(y.dtype)
    n = w.sum().clamp(min=1.0)
    mse = (w * (seg[:, 0] - y) ** 2).sum() / n
    pin = seg.new_zeros(())
    for k, q in enumerate(QUANTILES, start=1):
        diff = y - seg[:, k]
        pin = pin + (w * torch.maximum(q * diff, (q - 1) * diff)).sum() / n
    m = batch["tok_m"]
    if m.sum() > 0:
        bce = (F.binary_cross_entropy_with_logits(tok, batch["tok_t"], reduction="none") * m).sum() / m.sum()
    else:
        bce = seg.new_zeros(())
    total = mse + config.quantile_weight * pin + config.token_weight * bce
    rank = seg.new_zeros(())
    if config.rank_weight > 0:
        # Every ordered pair of outputs of the same source whose human penalties differ
        # by at least one minor error: logistic loss on the predicted difference.
        same = batch["group"][:, None] == batch["group"][None, :]
        diff = y[:, None] - y[None, :]
        pairs = same & (diff * UNIT >= 1.0)
        raters = batch.get("raters")
        if config.rank_agree and raters is not None:
            # A pair some rater orders the other way is a disagreement between experts, not a
            # fact to learn; NaN (no such rater) compares False, so it never vetoes a pair.
            against = ((raters[:, None, :] - raters[None, :, :]) * diff[:, :, None] < 0).any(-1)
            pairs = pairs & ~against
        if pairs.any():
            margin = (seg[:, 0][:, None] - seg[:, 0][None, :])[pairs]
            rank = F.softplus(-margin * 2.0).mean()
        total = total + config.rank_weight * rank
    return total, {"mse": mse.item(), "pinball": pin.item(), "bce": bce.item(), "rank": rank.item()}


def predict_cached(net: Any, examples: Sequence[Example], cache: LowerCache, pad_id: int,
                   batch_size: int = 64) -> list[tuple[float, float, float]]:
    """``(penalty, low, high)`` per example from cached lower states."""
    import torch

    out: list[tuple[float, float, float] | None] = [None] * len(examples)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].enc.ids))
    net.eval()
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            batch = _collate(examples, idx, cache, pad_id)
            seg, _tok = net.upper(batch["h"], batch["mask"], batch["src_mask"], batch["mt_mask"])
            for r, i in enumerate(idx):
                out[i] = decode_segment((seg[r] * UNIT).tolist())
    return out  # type: ignore[return-value]


@dataclass
class TrainState:
    epoch: int = 0
    step: int = 0
    history: list = field(default_factory=list)


def train(net: Any, examples: Sequence[Example], cache: LowerCache, pad_id: int, config: TrainConfig, *,
          checkpoint: Path | None = None, evaluate: Callable[[Any, int], dict] | None = None,
          log: Callable[[str], None] = lambda s: None) -> TrainState:
    """Train ``net``'s top layers and heads; resume from ``checkpoint`` when it exists.

    Args:
        net: From :func:`mtcheck.models.qe.build_net`.
        examples: Training pairs; ``cache`` holds their frozen-layer states.
        pad_id: The tokenizer's padding id.
        config: Hyper-parameters.
        checkpoint: File written after every epoch and read at start.
        evaluate: Called after every epoch with ``(net, epoch)``; its dict
            goes into the history.
        log: Progress lines.

    Returns:
        The final state with the per-epoch history.
    """
    import torch

    params_layers = [p for p in net.top.parameters()]
    params_head = [p for n, p in net.named_parameters() if not n.startswith("top.")]
    opt = torch.optim.AdamW([{"params": params_layers, "lr": config.lr_layers},
                             {"params": params_head, "lr": config.lr_head}], weight_decay=config.weight_decay)
    if config.rank_weight > 0:
        steps_per_epoch = math.ceil(len({e.key[::2] for e in examples}) / config.items_per_batch)
    else:
        steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    total = steps_per_epoch * config.epochs
    warm = max(1, int(total * config.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    state = TrainState()
    if checkpoint is not None and checkpoint.is_file():
        ck = torch.load(checkpoint, weights_only=False)
        net.load_state_dict(ck["net"], strict=False)
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        state = TrainState(ck["epoch"], ck["step"], ck["history"])
        log(f"resumed from {checkpoint} after epoch {state.epoch}")

    for epoch in range(state.epoch, config.epochs):
        rng = random.Random(config.seed * 1000 + epoch)
        torch.manual_seed(config.seed * 1000 + epoch)
        if config.rank_weight > 0:
            # Whole items per batch: every system's output of a source together.
            groups: dict = {}
            for i, e in enumerate(examples):
                groups.setdefault(e.key[::2], []).append(i)
            keys = sorted(groups)
            rng.shuffle(keys)
            batches = [[i for k in keys[b:b + config.items_per_batch] for i in groups[k]]
                       for b in range(0, len(keys), config.items_per_batch)]
        else:
            # Batches of similar length (less padding), in random order.
            order = sorted(range(len(examples)), key=lambda i: (len(examples[i].enc.ids), rng.random()))
            batches = [order[b:b + config.batch_size] for b in range(0, len(order), config.batch_size)]
            rng.shuffle(batches)
        net.train()
        t0 = time.time()
        sums = {"mse": 0.0, "pinball": 0.0, "bce": 0.0, "rank": 0.0}
        for k, idx in enumerate(batches, start=1):
            batch = _collate(examples, idx, cache, pad_id)
            seg, tok = net.upper(batch["h"], batch["mask"], batch["src_mask"], batch["mt_mask"])
            loss, parts = losses(seg, tok, batch, config)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            state.step += 1
            for name in sums:
                sums[name] += parts[name]
            if k % 100 == 0 or k == len(batches):
                rate = sum(len(b) for b in batches[:k]) / (time.time() - t0)
                log(f"epoch {epoch + 1} batch {k}/{len(batches)} "
                    + " ".join(f"{n} {v / k:.4f}" for n, v in sums.items()) + f" ({rate:.1f} ex/s)")
        record = {"epoch": epoch + 1, **{n: v / len(batches) for n, v in sums.items()},
                  "seconds": round(time.time() - t0, 1)}
        if evaluate is not None:
            record.update(evaluate(net, epoch + 1))
        state.history.append(record)
        state.epoch = epoch + 1
        log(json.dumps(record))
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            tmp = checkpoint.with_suffix(".tmp")
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                        "epoch": state.epoch, "step": state.step, "history": state.history}, tmp)
            tmp.replace(checkpoint)
    return state
