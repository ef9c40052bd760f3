"""Agreement statistics between a metric and human judgements, WMT style.

The input is a grid of scores indexed by ``(system, item)``: one human score
and one metric score per cell. A cell whose human *or* metric score is
missing (``None`` or NaN) is dropped from every statistic ("pairwise
deletion"). On that grid we compute the statistics the WMT metrics task
reports (as implemented in google-research/mt-metrics-eval):

* segment level, "flat": Pearson r and Kendall tau-b over all valid cells
  pooled, as if every (system, item) were an independent sample;
* segment level, "item-grouped": Kendall tau-b across systems within each
  item, averaged over items (items with fewer than two valid systems, or with
  constant human or constant metric scores, are skipped and counted);
* system level: Pearson r between per-system human and metric scores, where
  each system's score is its mean over the *complete* items (items with a
  valid cell for every system), so all systems are compared on the same
  material. A corpus-level metric (BLEU, chrF as WMT reports them) can
  replace the mean of its segment scores through a :data:`SystemScorer`;
* pairwise ranking accuracy over system pairs (Kocmi et al. 2021): the
  fraction of pairs the metric orders like the humans. Human ties are
  handled explicitly, see :func:`pairwise_accuracy`.

Confidence intervals come from the item bootstrap: draw ``n`` resamples of
the items with replacement (the same items for every system, every statistic
and, with the same seed, every metric), recompute each statistic on each
resample and take the percentile interval. Resamples are represented as a
``(n, items)`` matrix of counts so that every statistic is computed for all
resamples at once with numpy; flat Kendall uses item-by-item aggregates of
the pair signs, which makes a resampled tau-b a pair of quadratic forms.

Higher is assumed better on both sides; for an error-rate metric (TER)
negate its scores before calling.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

import numpy as np
import scipy.stats

from mtcheck.errors import UsageError

#: Given item weights of shape ``(B, K)`` over :attr:`Judgements.complete_items`
#: (in that order; row ``b`` holds how often each item occurs in resample ``b``),
#: return system scores of shape ``(B, S)`` in :attr:`Judgements.systems` order.
#: Row of all ones = the actual (not resampled) system scores.
SystemScorer = Callable[[np.ndarray], np.ndarray]

_HUMAN_TIES = ("exclude", "include")


@dataclass(frozen=True)
class BootstrapConfig:
    """How to draw the item bootstrap.

    Attributes:
        n: Number of resamples.
        seed: Seed of numpy's ``default_rng``; equal seeds give equal resamples.
        confidence: Width of the percentile interval (0.95 = 2.5th to 97.5th).
    """

    n: int = 1000
    seed: int = 1
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if self.n < 1:
            raise UsageError(f"bootstrap resamples must be at least 1, got {self.n}")
        if not 0.0 < self.confidence < 1.0:
            raise UsageError(f"bootstrap confidence must be in (0, 1), got {self.confidence}")


@dataclass(frozen=True)
class Estimate:
    """One statistic: its value, its bootstrap interval and what entered it.

    Attributes:
        value: The statistic on the actual data; NaN where undefined (e.g.
            fewer than two units, or a constant side).
        ci: Percentile bootstrap interval ``(low, high)``, or ``None`` when no
            bootstrap was asked for or it cannot be computed.
        n: How many units entered the value (``unit`` says which).
        unit: ``"cells"``, ``"items"``, ``"systems"`` or ``"pairs"``.
        skipped: Units left out by the statistic's own rule: items without a
            defined tau for the grouped Kendall, human-tied pairs for pairwise
            accuracy (when excluded), incomplete items for system level.
    """

    value: float
    ci: tuple[float, float] | None = None
    n: int = 0
    unit: str = ""
    skipped: int = 0

    def format(self, digits: int = 3) -> str:
        """``0.123 [0.100, 0.150]``, or ``n/a`` for an undefined value."""
        if math.isnan(self.value):
            return "n/a"
        text = f"{self.value:.{digits}f}"
        if self.ci is not None:
            text += f" [{self.ci[0]:.{digits}f}, {self.ci[1]:.{digits}f}]"
        return text


@dataclass(frozen=True, eq=False)
class Judgements:
    """Human and metric scores on one ``systems x items`` grid.

    Build it with :meth:`from_scores`. Arrays hold NaN where a cell is not
    valid; a cell is valid only when both its human and its metric score are
    present, so the two arrays always have NaN in the same places.

    Attributes:
        systems: System names, row order.
        items: Item ids, column order (sorted, so the order and therefore the
            bootstrap resamples do not depend on input order).
        human: Human scores, shape ``(len(systems), len(items))``.
        metric: Metric scores, same shape.
    """

    systems: tuple[str, ...]
    items: tuple[Hashable, ...]
    human: np.ndarray
    metric: np.ndarray

    @classmethod
    def from_scores(
        cls,
        human: Mapping[tuple[str, Hashable], float | None],
        metric: Mapping[tuple[str, Hashable], float | None],
        systems: Iterable[str] | None = None,
    ) -> "Judgements":
        """Align two ``(system, item) -> score`` mappings.

        Args:
            human: Human scores; ``None``/NaN = not rated.
            metric: Metric scores; ``None``/NaN = no score.
            systems: Restrict to these systems (default: every system with a
                valid cell), e.g. to leave out the reference translation.

        Returns:
            The grid over the systems and items that have at least one valid
            cell.
        """
        wanted = None if systems is None else set(systems)
        cells: dict[tuple[str, Hashable], tuple[float, float]] = {}
        for key, h in human.items():
            if wanted is not None and key[0] not in wanted:
                continue
            m = metric.get(key)
            if _missing(h) or _missing(m):
                continue
            cells[key] = (float(h), float(m))  # type: ignore[arg-type]
        sys_names = tuple(sorted({s for s, _ in cells}))
        item_ids = tuple(sorted({i for _, i in cells}, key=_item_sort_key))
        h_arr = np.full((len(sys_names), len(item_ids)), np.nan)
        m_arr = np.full_like(h_arr, np.nan)
        s_index = {s: k for k, s in enumerate(sys_names)}
        i_index = {i: k for k, i in enumerate(item_ids)}
        for (s, i), (h, m) in cells.items():
            h_arr[s_index[s], i_index[i]] = h
            m_arr[s_index[s], i_index[i]] = m
        return cls(sys_names, item_ids, h_arr, m_arr)

    @property
    def valid(self) -> np.ndarray:
        return ~np.isnan(self.human)

    @property
    def n_cells(self) -> int:
        return int(self.valid.sum())

    @property
    def complete_mask(self) -> np.ndarray:
        """Items with a valid cell for every system."""
        if not self.systems:
            return np.zeros(len(self.items), dtype=bool)
        return self.valid.all(axis=0)

    @property
    def complete_items(self) -> tuple[Hashable, ...]:
        return tuple(i for i, ok in zip(self.items, self.complete_mask) if ok)


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        # Internal misuse (the readers parse numbers); a clear message helps.
        raise TypeError(f"score {x!r} is not a number") from None


def _item_sort_key(item: Hashable) -> tuple[int, Any]:
    # Numbers before strings, each in natural order; anything else by repr.
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        return (0, item)
    if isinstance(item, str):
        return (1, item)
    return (2, repr(item))


# ---------------------------------------------------------------------------
# Bootstrap plumbing


def bootstrap_weights(n_items: int, config: BootstrapConfig) -> np.ndarray:
    """Item counts of ``config.n`` resamples of ``n_items`` items with replacement.

    Returns:
        Integer array of shape ``(config.n, n_items)``; each row sums to ``n_items``.
    """
    rng = np.random.default_rng(config.seed)
    if n_items == 0:
        return np.zeros((config.n, 0), dtype=np.int64)
    draws = rng.integers(0, n_items, size=(config.n, n_items))
    offsets = (np.arange(config.n) * n_items)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=config.n * n_items)
    return counts.reshape(config.n, n_items)


def percentile_ci(samples: np.ndarray, confidence: float = 0.95) -> tuple[float, float] | None:
    """Percentile interval of bootstrap samples, ignoring undefined (NaN) ones."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return None
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return (float(low), float(high))


def _ones(n_items: int) -> np.ndarray:
    return np.ones((1, n_items), dtype=np.int64)


# ---------------------------------------------------------------------------
# Segment level, flat


def segment_pearson(j: Judgements, bootstrap: BootstrapConfig | None = None) -> Estimate:
    """Pearson r over all valid cells pooled."""
    value = _pearson_flat(j, _ones(len(j.items)))[0]
    ci = None
    if bootstrap is not None:
        ci = percentile_ci(_pearson_flat(j, bootstrap_weights(len(j.items), bootstrap)), bootstrap.confidence)
    return Estimate(float(value), ci, j.n_cells, "cells")


def _pearson_flat(j: Judgements, weights: np.ndarray) -> np.ndarray:
    # Per-item moment sums; a resample is a weighted sum of them.
    valid = j.valid
    h = np.where(valid, j.human, 0.0)
    m = np.where(valid, j.metric, 0.0)
    moments = np.stack(
        [valid.sum(0), h.sum(0), m.sum(0), (h * h).sum(0), (m * m).sum(0), (h * m).sum(0)], axis=1
    ).astype(float)
    n, sh, sm, shh, smm, shm = (weights @ moments).T
    with np.errstate(invalid="ignore", divide="ignore"):
        sxx = shh - sh * sh / n
        syy = smm - sm * sm / n
        sxy = shm - sh * sm / n
        r = sxy / np.sqrt(sxx * syy)
    # Guard against round-off making a constant side look non-constant.
    tiny = 1e-12 * np.maximum(1.0, np.maximum(np.abs(shh), np.abs(smm)))
    r[(n < 2) | (sxx <= tiny) | (syy <= tiny)] = np.nan
    return np.clip(r, -1.0, 1.0)


def segment_kendall(j: Judgements, bootstrap: BootstrapConfig | None = None) -> Estimate:
    """Kendall tau-b over all valid cells pooled (scipy's ``kendalltau``)."""
    valid = j.valid
    value = _kendall_b(j.human[valid], j.metric[valid])
    ci = None
    if bootstrap is not None:
        weights = bootstrap_weights(len(j.items), bootstrap)
        ci = percentile_ci(_kendall_flat_weighted(j, weights), bootstrap.confidence)
    return Estimate(value, ci, j.n_cells, "cells")


def _kendall_b(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(scipy.stats.kendalltau(x, y, variant="b").statistic)


def _pair_aggregates(j: Judgements) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Item-by-item sums over cell pairs: concordance sign, x ties, y ties.

    ``K[i, k]`` sums ``sign(h_c - h_d) * sign(m_c - m_d)`` over cells ``c`` of
    item ``i`` and ``d`` of item ``k``; ``EX``/``EY`` count pairs with equal
    human/metric score (a cell paired with itself included).
    """
    n_items = len(j.items)
    h = j.human.T  # (items, systems)
    m = j.metric.T
    s = h.shape[1]
    conc = np.zeros((n_items, n_items))
    ties_h = np.zeros((n_items, n_items))
    ties_m = np.zeros((n_items, n_items))
    block = max(1, 4_000_000 // max(1, n_items * s * s))
    with np.errstate(invalid="ignore"):
        for a in range(0, n_items, block):
            b = min(n_items, a + block)
            dh = h[a:b, None, :, None] - h[None, :, None, :]
            dm = m[a:b, None, :, None] - m[None, :, None, :]
            # NaN (invalid cell) differences compare False and their sign is NaN -> 0.
            conc[a:b] = np.nan_to_num(np.sign(dh) * np.sign(dm)).sum(axis=(2, 3))
            ties_h[a:b] = (dh == 0).sum(axis=(2, 3))
            ties_m[a:b] = (dm == 0).sum(axis=(2, 3))
    return conc, ties_h, ties_m


def _kendall_flat_weighted(j: Judgements, weights: np.ndarray) -> np.ndarray:
    """tau-b of the pooled cells when item ``i`` is repeated ``weights[b, i]`` times.

    With ``w`` the item counts and ``n_i`` the valid cells per item, the
    resample has ``N = w . n`` cells; over ordered pairs of cell copies,
    ``sum sign*sign = w'Kw`` (a copy paired with itself adds 0) and the number
    of equal-x pairs is ``w'EXw`` (which counts the ``N`` self-pairs). So
    ``C - D = w'Kw / 2`` and tau-b's tie-corrected pair counts are
    ``P0 - (w'EXw - N)/2`` with ``P0 = N(N-1)/2``.
    """
    conc, ties_h, ties_m = _pair_aggregates(j)
    w = weights.astype(float)
    n_per_item = j.valid.sum(axis=0).astype(float)
    total = w @ n_per_item
    pairs = total * (total - 1) / 2
    c_minus_d = np.einsum("bi,ij,bj->b", w, conc, w) / 2
    untied_h = pairs - (np.einsum("bi,ij,bj->b", w, ties_h, w) - total) / 2
    untied_m = pairs - (np.einsum("bi,ij,bj->b", w, ties_m, w) - total) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = c_minus_d / np.sqrt(untied_h * untied_m)
    tau[(untied_h <= 0) | (untied_m <= 0)] = np.nan
    return np.clip(tau, -1.0, 1.0)


# ---------------------------------------------------------------------------
# Segment level, grouped by item


def item_kendall(j: Judgements, bootstrap: BootstrapConfig | None = None) -> Estimate:
    """Mean over items of Kendall tau-b across the systems that item has.

    Items with fewer than two valid systems, or whose human or metric scores
    are all equal, have no tau and are skipped (``Estimate.skipped``). A
    resample averages the taus of the drawn items, with multiplicity.
    """
    taus = _item_taus(j)
    defined = ~np.isnan(taus)
    value = float(taus[defined].mean()) if defined.any() else float("nan")
    ci = None
    if bootstrap is not None:
        w = bootstrap_weights(len(j.items), bootstrap) * defined
        with np.errstate(invalid="ignore", divide="ignore"):
            samples = (w @ np.where(defined, taus, 0.0)) / w.sum(axis=1)
        ci = percentile_ci(samples, bootstrap.confidence)
    return Estimate(value, ci, int(defined.sum()), "items", int((~defined).sum()))


def _item_taus(j: Judgements) -> np.ndarray:
    """Kendall tau-b of every item's column, all items at once.

    Over the pairs of systems both valid on an item, tau-b is
    ``sum(sx * sy) / sqrt(sum(sx**2) * sum(sy**2))`` with ``sx``, ``sy`` the
    signs of the pair's human and metric differences (the squared signs
    count the pairs untied on each side), so a tie on one side drops the pair
    from that side's count only, as in :func:`_kendall_b`. An item with no
    untied pair on a side has no tau (NaN). One pass of array arithmetic
    instead of a SciPy call per item: model searches score thousands of
    candidates.
    """
    ok = j.valid
    n_sys = ok.shape[0]
    upper = np.triu(np.ones((n_sys, n_sys), dtype=bool), k=1)[:, :, None]
    pair = ok[:, None, :] & ok[None, :, :] & upper
    with np.errstate(invalid="ignore"):
        sx = np.where(pair, np.sign(j.human[:, None, :] - j.human[None, :, :]), 0.0)
        sy = np.where(pair, np.sign(j.metric[:, None, :] - j.metric[None, :, :]), 0.0)
    num = (sx * sy).sum(axis=(0, 1))
    den = np.sqrt((sx * sx).sum(axis=(0, 1)) * (sy * sy).sum(axis=(0, 1)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


# ---------------------------------------------------------------------------
# System level


def system_pearson(
    j: Judgements,
    bootstrap: BootstrapConfig | None = None,
    system_metric: SystemScorer | Mapping[str, float] | None = None,
) -> Estimate:
    """Pearson r between per-system human and metric scores.

    Each system's human score is its mean over the complete items (items with
    a valid cell for every system); incomplete items are left out and counted
    in ``Estimate.skipped``.

    Args:
        j: The grid.
        bootstrap: Resampling of the items; ``None`` for no interval.
        system_metric: How to score systems on the metric side. ``None``: mean
            of the metric's segment scores over the complete items. A
            :data:`SystemScorer`: called with item weights, so corpus-level
            scores are recomputed per resample. A mapping ``system -> score``:
            fixed scores, which cannot be resampled, so the interval is ``None``.
    """
    human_sys, metric_sys = _system_scores(j, _ones(int(j.complete_mask.sum())), system_metric)
    value = _pearson_rows(human_sys, metric_sys)[0]
    ci = _system_ci(j, bootstrap, system_metric, _pearson_rows)
    return Estimate(float(value), ci, len(j.systems), "systems", int((~j.complete_mask).sum()))


def pairwise_accuracy(
    j: Judgements,
    bootstrap: BootstrapConfig | None = None,
    system_metric: SystemScorer | Mapping[str, float] | None = None,
    human_ties: str = "exclude",
) -> Estimate:
    """Fraction of system pairs the metric orders as the humans do.

    System scores are those of :func:`system_pearson`. A pair agrees when
    ``sign(metric_a - metric_b) == sign(human_a - human_b)``.

    Args:
        human_ties: ``"exclude"`` (default): pairs the humans score exactly
            equal have no order to agree with and are left out (counted in
            ``Estimate.skipped``); a metric tie on a pair the humans order is
            a disagreement. ``"include"``: every pair counts, and a human tie
            agrees only with an exact metric tie (mt-metrics-eval's sign
            agreement).
    """
    if human_ties not in _HUMAN_TIES:
        raise UsageError(f"human_ties must be one of {', '.join(_HUMAN_TIES)}, got {human_ties!r}")
    stat = lambda h, m: _pairwise_rows(h, m, human_ties)[0]  # noqa: E731
    human_sys, metric_sys = _system_scores(j, _ones(int(j.complete_mask.sum())), system_metric)
    acc, n_pairs, n_ties = _pairwise_rows(human_sys, metric_sys, human_ties)
    ci = _system_ci(j, bootstrap, system_metric, stat)
    return Estimate(float(acc[0]), ci, int(n_pairs[0]), "pairs", int(n_ties[0]))


def weighted_system_scorer(j: Judgements, weights: Mapping[tuple[str, Hashable], float]) -> SystemScorer:
    """System scores as weighted means of the metric's segment scores over the complete items.

    For metrics whose corpus score weights segments (mtcheck's QE weights
    each by its MT words), so that the system level measures the score a
    user is shown for a batch, as corpus BLEU and chrF do for theirs.

    Args:
        j: The grid the statistics are computed on.
        weights: ``(system, item) -> weight`` (> 0) for every complete cell.

    Raises:
        UsageError: a complete cell has no weight, or a weight is not positive.
    """
    complete = [i for i, ok in zip(j.items, j.complete_mask) if ok]
    w_cells = np.empty((len(j.systems), len(complete)))
    for a, system in enumerate(j.systems):
        for b, item in enumerate(complete):
            w = weights.get((system, item))
            if w is None or not w > 0:
                raise UsageError(f"system {system}, item {item}: need a positive weight, got {w!r}")
            w_cells[a, b] = w
    values = j.metric[:, j.complete_mask] * w_cells

    def scorer(item_weights: np.ndarray) -> np.ndarray:
        return (item_weights @ values.T) / (item_weights @ w_cells.T)

    return scorer


def _system_scores(
    j: Judgements, weights: np.ndarray, system_metric: SystemScorer | Mapping[str, float] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Human and metric system scores per resample, each ``(B, S)``."""
    complete = j.complete_mask
    w = weights.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = w.sum(axis=1, keepdims=True)
        human = (w @ j.human[:, complete].T) / denom
        if system_metric is None:
            metric = (w @ j.metric[:, complete].T) / denom
        elif callable(system_metric):
            metric = np.asarray(system_metric(weights), dtype=float)
            if metric.shape != human.shape:
                raise ValueError(f"system scorer returned shape {metric.shape}, expected {human.shape}")
        else:
            missing = [s for s in j.systems if s not in system_metric]
            if missing:
                raise UsageError(f"no system-level metric score for: {', '.join(missing)}")
            row = np.array([float(system_metric[s]) for s in j.systems])
            metric = np.broadcast_to(row, human.shape)
    return human, metric


def _system_ci(
    j: Judgements,
    bootstrap: BootstrapConfig | None,
    system_metric: SystemScorer | Mapping[str, float] | None,
    stat: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[float, float] | None:
    if bootstrap is None or (system_metric is not None and not callable(system_metric)):
        return None
    # Draw over all items (as the other statistics do) so that one seed means
    # one set of resamples; only the complete items' counts are used here.
    weights = bootstrap_weights(len(j.items), bootstrap)[:, j.complete_mask]
    human_sys, metric_sys = _system_scores(j, weights, system_metric)
    return percentile_ci(stat(human_sys, metric_sys), bootstrap.confidence)


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r between the columns of each row pair, NaN where undefined."""
    if x.shape[1] < 2:
        return np.full(x.shape[0], np.nan)
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    sxx = (xc * xc).sum(axis=1)
    syy = (yc * yc).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=1) / np.sqrt(sxx * syy)
    scale_x = 1e-24 * np.maximum(1.0, (x * x).sum(axis=1))
    scale_y = 1e-24 * np.maximum(1.0, (y * y).sum(axis=1))
    r[(sxx <= scale_x) | (syy <= scale_y) | ~np.isfinite(r)] = np.nan
    return np.clip(r, -1.0, 1.0)


def _pairwise_rows(h: np.ndarray, m: np.ndarray, human_ties: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accuracy, pairs counted and human ties, per row."""
    a, b = np.triu_indices(h.shape[1], k=1)
    sh = np.sign(h[:, a] - h[:, b])
    sm = np.sign(m[:, a] - m[:, b])
    agree = sh == sm
    tied = sh == 0
    if human_ties == "exclude":
        counted = ~tied
    else:
        counted = np.ones_like(tied)
    counted &= ~np.isnan(sh) & ~np.isnan(sm)
    n = counted.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = (agree & counted).sum(axis=1) / n
    acc = np.where(n > 0, acc, np.nan)
    n_ties = tied.sum(axis=1)
    return acc, n, n_ties


# ---------------------------------------------------------------------------
# Everything at once


@dataclass(frozen=True)
class MetaEvalReport:
    """All statistics of one metric against one set of human judgements.

    Attributes:
        metric: Metric name (a row label).
        n_systems, n_items, n_cells, n_complete_items: Size of the grid:
            systems, items with any valid cell, valid cells, items valid for
            every system.
        segment_pearson, segment_kendall, item_kendall, system_pearson,
            pairwise_accuracy: See the functions of the same names.
        bootstrap: The resampling used for the intervals, if any.
        human_ties: How pairwise accuracy treated human ties.
    """

    metric: str
    n_systems: int
    n_items: int
    n_cells: int
    n_complete_items: int
    segment_pearson: Estimate
    segment_kendall: Estimate
    item_kendall: Estimate
    system_pearson: Estimate
    pairwise_accuracy: Estimate
    bootstrap: BootstrapConfig | None = None
    human_ties: str = "exclude"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(
    human: Mapping[tuple[str, Hashable], float | None],
    metric: Mapping[tuple[str, Hashable], float | None],
    *,
    metric_name: str = "metric",
    systems: Iterable[str] | None = None,
    system_metric: SystemScorer | Mapping[str, float] | None = None,
    bootstrap: BootstrapConfig | None = None,
    human_ties: str = "exclude",
) -> MetaEvalReport:
    """Compute every statistic of this module for one metric.

    Args:
        human: ``(system, item) -> human score`` (``None``/NaN = not rated).
        metric: ``(system, item) -> metric segment score``.
        metric_name: Row label of the report.
        systems: Systems to compare (default: all with a valid cell).
        system_metric: System-level metric scores, see :func:`system_pearson`.
            A :data:`SystemScorer` receives weights over
            ``Judgements.from_scores(human, metric, systems).complete_items``.
        bootstrap: Item bootstrap for the intervals; ``None`` for none.
        human_ties: See :func:`pairwise_accuracy`.
    """
    j = Judgements.from_scores(human, metric, systems)
    return evaluate_judgements(
        j, metric_name=metric_name, system_metric=system_metric, bootstrap=bootstrap, human_ties=human_ties
    )


def evaluate_judgements(
    j: Judgements,
    *,
    metric_name: str = "metric",
    system_metric: SystemScorer | Mapping[str, float] | None = None,
    bootstrap: BootstrapConfig | None = None,
    human_ties: str = "exclude",
) -> MetaEvalReport:
    """:func:`evaluate` on an already aligned grid."""
    return MetaEvalReport(
        metric=metric_name,
        n_systems=len(j.systems),
        n_items=len(j.items),
        n_cells=j.n_cells,
        n_complete_items=int(j.complete_mask.sum()),
        segment_pearson=segment_pearson(j, bootstrap),
        segment_kendall=segment_kendall(j, bootstrap),
        item_kendall=item_kendall(j, bootstrap),
        system_pearson=system_pearson(j, bootstrap, system_metric),
        pairwise_accuracy=pairwise_accuracy(j, bootstrap, system_metric, human_ties),
        bootstrap=bootstrap,
        human_ties=human_ties,
    )


_COLUMNS: tuple[tuple[str, str], ...] = (
    ("seg Pearson", "segment_pearson"),
    ("seg Kendall (flat)", "segment_kendall"),
    ("seg Kendall (by item)", "item_kendall"),
    ("sys Pearson", "system_pearson"),
    ("pairwise acc", "pairwise_accuracy"),
)


def format_table(reports: Sequence[MetaEvalReport], digits: int = 3) -> str:
    """A plain-text table, one row per report, then the sizes behind each column."""
    header = ["metric"] + [label for label, _ in _COLUMNS]
    rows = [[r.metric] + [getattr(r, attr).format(digits) for _, attr in _COLUMNS] for r in reports]
    widths = [max(len(str(row[k])) for row in [header] + rows) for k in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [line(header), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    notes = []
    for r in reports:
        ik, sp, pa = r.item_kendall, r.system_pearson, r.pairwise_accuracy
        notes.append(
            f"{r.metric}: {r.n_systems} systems, {r.n_items} items, {r.n_cells} cells; "
            f"by-item Kendall over {ik.n} items ({ik.skipped} skipped); "
            f"system level over {r.n_complete_items} complete items; "
            f"pairwise over {pa.n} pairs ({pa.skipped} human ties, {r.human_ties}d)"
        )
    if reports and reports[0].bootstrap is not None:
        b = reports[0].bootstrap
        notes.append(
            f"[low, high]: {b.confidence:.0%} percentile interval, item bootstrap, "
            f"{b.n} resamples, seed {b.seed}"
        )
    return "\n".join(out + [""] + notes)
