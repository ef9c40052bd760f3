"""Embedding-based sentence alignment of a Chinese document and its English MT.

:mod:`mtcheck.io.align` pairs sentences by length alone, which cannot tell
*which* of two neighbouring sentences an MT system dropped or merged. This
module adds meaning: a cross-lingual encoder (``get_model("encoder")``)
embeds every sentence, and a candidate bead is scored by how similar the
embedding of its Chinese side is to the embedding of its English side, in
the spirit of vecalign (Thompson & Koehn 2019) and Bertalign (Liu & Zhu
2022). Dynamic programming then picks the cheapest monotonic chain of beads
covering both documents, exactly as the length aligner does; the result is
the same :class:`~mtcheck.io.align.Bead` list.

Bead kinds are ``1-1``, ``1-2``, ``2-1``, ``2-2`` (a bead side of two is the
two sentences *concatenated*, embedded as one text), ``1-0`` (a Chinese
sentence with no English: an omission) and ``0-1`` (English with no
source: an addition). The cost of a bead with text on both sides is::

    match_cost
    + similarity_weight * (r(X) + r(Y)) / 2 - cos(X, Y))
    + length_weight * gale_church(len X, len Y)
    + kind_cost

* ``cos(X, Y)`` is the cosine of the embeddings of the two sides.
* ``r(X)`` is the mean cosine of ``X`` with its ``neighbours`` most similar
  single sentences in the other document, and ``r(Y)`` likewise: the
  middle term is the CSLS margin of Conneau et al. (2018, "Word translation
  without parallel data"), which measures how much better ``Y`` fits ``X``
  than ``X``'s best competitors do. Raw cosines are a poor guide here:
  multilingual-e5-small gives a translation about 0.86 and an unrelated
  sentence *of the same document* about 0.77, and some sentences (short or
  generic ones) are close to everything ("hubness"). During development
  (the benchmark's documents with reference translations only, weights
  tuned per variant on one half, scored on the other) the margin beat both
  raw cosines and vecalign's normalisation (dividing ``1 - cos`` by the
  sides' mean dissimilarity to the other document): mean bead F1 over the
  scenarios 0.973 against 0.962, and 0.905 against 0.841 in the hardest
  scenario (a merge, a split, an omission and an addition in each document
  of ten sentences).
* ``gale_church`` is the length cost of :mod:`mtcheck.io.align` (``-log``
  of the two-sided tail probability of the length mismatch), which breaks
  ties between merges the encoder finds about equally good.
* ``kind_cost`` is :attr:`~EmbeddingAlignConfig.merge_cost` for ``1-2`` and
  ``2-1`` beads and :attr:`~EmbeddingAlignConfig.double_cost` for ``2-2``;
  without them a concatenation, which is always a fair match for the
  concatenated translations, would undercut two correct ``1-1`` beads.

``1-0`` and ``0-1`` beads cost :attr:`~EmbeddingAlignConfig.skip_cost`
each. Two skips are preferred to a ``1-1`` bead when the pair costs more
than twice that, so ``skip_cost`` (against ``match_cost``) sets how poor a
pair must be before the aligner calls it an omission plus an addition.
``2-2`` beads are off by default (``double_cost=None``): on the benchmark
they replaced more correct pairs of ``1-1`` beads than they found.

The default weights were tuned on synthetic documents built from WMT
newstest2021 zh-en (half of the documents used for tuning, the other half
for the figures): see ``scripts/bench_alignment.py``, whose docstring has
the command and the results. In short, on 200 held-out document pairs of
ten sentences (reference and one MT system), bead F1 rises from 0.78 to
0.99 with two omissions per document, from 0.95 to 0.99 with two splits,
stays at 0.96 with two merges, and rises from 0.59 to 0.93 with a merge, a
split, an omission and an addition in every document.

Embedding cost. Each distinct sentence and each concatenation of two
adjacent sentences is embedded once per call (``pairs="embed"``, the
default), i.e. about ``2 (n + m)`` texts for ``n`` Chinese and ``m``
English sentences. ``pairs="mean"`` instead approximates a concatenation by
the length-weighted mean of its sentences' vectors, which halves the
encoder work at some cost in accuracy (measured in the benchmark).

Search cost. The cost matrices are built with numpy in O(n·m); the dynamic
programme visits every cell, O(n·m) in Python, which takes about a second
for 300 × 300 sentences. For longer documents pass ``band``: only cells
within ``band`` (plus ``|n - m|``) of the diagonal are searched, which is
O((n + m)·band) but assumes the alignment strays no further from the
diagonal than that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from mtcheck.errors import ConfigError, UsageError

# align.py's Gale–Church term is private there; it is the same model, so the
# embedding aligner reuses it rather than keep a second copy in step.
from mtcheck.io.align import (
    ZH_EN_RATIO,
    ZH_EN_VARIANCE,
    Bead,
    _match_cost,
    en_length,
    zh_length,
)
from mtcheck.io.split import Sentence

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np


class SentenceEncoder(Protocol):
    """What the aligner needs from an encoder (``mtcheck.models.encoder.Encoder`` fits)."""

    def embed(self, texts: Sequence[str]) -> Any:
        """L2-normalised vectors, one row per text (``(len(texts), dim)`` array)."""
        ...


@dataclass(frozen=True)
class EmbeddingAlignConfig:
    """Weights of :func:`align_embeddings` (see the module docstring for the cost).

    Attributes:
        match_cost: Constant cost of every bead with sentences on both sides.
        similarity_weight: Weight of the CSLS margin (cosine units).
        neighbours: How many nearest sentences of the other document make up
            ``r(X)`` (fewer when the document is shorter).
        length_weight: Weight of the Gale–Church length cost (0 disables it).
        skip_cost: Cost of a ``1-0`` or ``0-1`` bead.
        merge_cost: Extra cost of a ``1-2`` or ``2-1`` bead.
        double_cost: Extra cost of a ``2-2`` bead; ``None`` (the default)
            leaves ``2-2`` beads out.
        normalise: Use the CSLS margin; when off, ``r(X)`` and ``r(Y)`` are
            both ``typical_similarity`` and only raw cosines count.
        typical_similarity: Cosine of two unrelated sentences of one
            document (0.77 is what multilingual-e5-small gives in
            newstest2021), used when ``normalise`` is off.
        pairs: ``"embed"``: embed concatenated sentence pairs; ``"mean"``:
            approximate them by the length-weighted mean of the sentence
            vectors (half the encoder work).
        ratio: English length per unit of Chinese length (as in
            :mod:`mtcheck.io.align`).
        variance: Gale–Church's s² (as in :mod:`mtcheck.io.align`).
        band: Search only cells within this distance of the diagonal (plus
            the difference in sentence counts); ``None`` searches all.
    """

    match_cost: float = 1.0
    similarity_weight: float = 10.0
    neighbours: int = 3
    length_weight: float = 0.02
    skip_cost: float = 0.6
    merge_cost: float = 0.6
    double_cost: float | None = None
    normalise: bool = True
    typical_similarity: float = 0.77
    pairs: str = "embed"
    ratio: float = ZH_EN_RATIO
    variance: float = ZH_EN_VARIANCE
    band: int | None = None

    def __post_init__(self) -> None:
        for name in ("match_cost", "similarity_weight", "length_weight", "skip_cost", "merge_cost"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"embedding aligner: {name} must be a non-negative number, got {value!r}")
        if self.double_cost is not None and not (
            isinstance(self.double_cost, (int, float)) and math.isfinite(self.double_cost) and self.double_cost >= 0
        ):
            raise ConfigError(
                f"embedding aligner: double_cost must be a non-negative number or None, got {self.double_cost!r}"
            )
        if not (isinstance(self.neighbours, int) and self.neighbours >= 1):
            raise ConfigError(f"embedding aligner: neighbours must be a positive integer, got {self.neighbours!r}")
        if not (isinstance(self.typical_similarity, (int, float)) and -1 <= self.typical_similarity <= 1):
            raise ConfigError(
                f"embedding aligner: typical_similarity must be a cosine in [-1, 1], got {self.typical_similarity!r}"
            )
        for name in ("ratio", "variance"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f"embedding aligner: {name} must be a positive number, got {value!r}")
        if self.pairs not in ("embed", "mean"):
            raise ConfigError(f"embedding aligner: pairs must be 'embed' or 'mean', got {self.pairs!r}")
        if self.band is not None and not (isinstance(self.band, int) and self.band >= 1):
            raise ConfigError(f"embedding aligner: band must be a positive integer or None, got {self.band!r}")


DEFAULT_CONFIG = EmbeddingAlignConfig()

# How the two sentences of a bead side are joined before embedding: Chinese
# runs on without a space, English takes one.
SRC_JOIN = ""
TGT_JOIN = " "


def align_embeddings(
    src: Sequence[Sentence | str],
    tgt: Sequence[Sentence | str],
    encoder: SentenceEncoder,
    *,
    config: EmbeddingAlignConfig = DEFAULT_CONFIG,
) -> list[Bead]:
    """Align Chinese sentences (``src``) with English ones (``tgt``) by meaning and length.

    Args:
        src: Chinese sentences in document order (:class:`Sentence` objects
            from :func:`~mtcheck.io.split.split_zh`, or plain strings).
        tgt: English sentences in document order.
        encoder: Anything with ``embed(texts)`` returning L2-normalised
            vectors, one row per text; usually ``get_model("encoder")``.
        config: Weights and options.

    Returns:
        Beads in document order; together they hold every source index and
        every target index exactly once, both ascending. :attr:`Bead.cost`
        is each bead's share of the total cost.

    Raises:
        UsageError: The encoder returned something other than one vector
            per text.
    """
    src_texts = [_text(s) for s in src]
    tgt_texts = [_text(t) for t in tgt]
    n, m = len(src_texts), len(tgt_texts)
    if n == 0 or m == 0:
        # Nothing to compare: everything is an omission or an addition.
        return [Bead((i,), (), config.skip_cost) for i in range(n)] + [
            Bead((), (j,), config.skip_cost) for j in range(m)
        ]
    costs = bead_costs(src_texts, tgt_texts, encoder, config=config)
    return align_costs(costs, skip_cost=config.skip_cost, band=config.band)


def bead_costs(
    src_texts: Sequence[str],
    tgt_texts: Sequence[str],
    encoder: SentenceEncoder,
    *,
    config: EmbeddingAlignConfig = DEFAULT_CONFIG,
) -> dict[str, np.ndarray]:
    """Cost of every candidate bead with text on both sides.

    Returns:
        Bead kind to a matrix whose ``[i, j]`` is the cost of the bead
        starting at source sentence ``i`` and target sentence ``j``:
        ``"1-1"`` is ``(n, m)``, ``"2-1"`` ``(n - 1, m)``, ``"1-2"``
        ``(n, m - 1)``, ``"2-2"`` ``(n - 1, m - 1)`` (kinds that do not fit
        a one-sentence document, or ``2-2`` with ``double_cost=None``, are
        left out).
    """
    import numpy as np

    n, m = len(src_texts), len(tgt_texts)
    src1, src2, tgt1, tgt2 = _embed_all(src_texts, tgt_texts, encoder, config.pairs)

    # r(.): mean cosine of every bead side with its nearest single sentences of the other document.
    def neighbourhood(vectors: np.ndarray, others: np.ndarray) -> np.ndarray:
        if not config.normalise:
            return np.full(len(vectors), float(config.typical_similarity))
        k = min(config.neighbours, len(others))
        sims = vectors @ others.T
        return np.sort(sims, axis=1)[:, -k:].mean(axis=1)

    r_s1, r_t1 = neighbourhood(src1, tgt1), neighbourhood(tgt1, src1)
    r_s2 = neighbourhood(src2, tgt1) if n > 1 else None
    r_t2 = neighbourhood(tgt2, src1) if m > 1 else None

    len_s1 = np.array([zh_length(t) for t in src_texts])
    len_t1 = np.array([float(en_length(t)) for t in tgt_texts])
    len_s2 = len_s1[:-1] + len_s1[1:]
    len_t2 = len_t1[:-1] + len_t1[1:]

    def matrix(sv, tv, rs, rt, ls, lt, extra: float) -> np.ndarray:
        margin = (rs[:, None] + rt[None, :]) / 2.0 - sv @ tv.T
        cost = config.match_cost + config.similarity_weight * margin + extra
        if config.length_weight:
            lengths = np.array([[_match_cost(a, b, config.ratio, config.variance) for b in lt] for a in ls])
            cost = cost + config.length_weight * lengths
        return cost

    costs = {"1-1": matrix(src1, tgt1, r_s1, r_t1, len_s1, len_t1, 0.0)}
    if n > 1:
        costs["2-1"] = matrix(src2, tgt1, r_s2, r_t1, len_s2, len_t1, config.merge_cost)
    if m > 1:
        costs["1-2"] = matrix(src1, tgt2, r_s1, r_t2, len_s1, len_t2, config.merge_cost)
    if n > 1 and m > 1 and config.double_cost is not None:
        costs["2-2"] = matrix(src2, tgt2, r_s2, r_t2, len_s2, len_t2, config.double_cost)
    return costs


def align_costs(costs: dict[str, np.ndarray], *, skip_cost: float, band: int | None = None) -> list[Bead]:
    """The cheapest monotonic bead chain given the cost of every candidate bead.

    Args:
        costs: As returned by :func:`bead_costs`: ``"1-1"`` (required,
            ``(n, m)``) and optionally ``"2-1"``, ``"1-2"``, ``"2-2"``.
        skip_cost: Cost of each ``1-0`` and ``0-1`` bead.
        band: Search only cells within this distance of the diagonal (plus
            ``|n - m|``); ``None`` searches all.

    Returns:
        Beads in order, covering every index of both sides exactly once.
    """
    c11 = costs["1-1"]
    n, m = c11.shape
    # (source count, target count, matrix or None for a skip); 1-1 first so that
    # ties, broken by "strictly cheaper wins", go to the plainest bead.
    shapes: list[tuple[int, int, Any]] = [(1, 1, c11.tolist())]
    for kind, (a, b) in (("2-1", (2, 1)), ("1-2", (1, 2)), ("2-2", (2, 2))):
        if kind in costs:
            shapes.append((a, b, costs[kind].tolist()))
    shapes += [(1, 0, None), (0, 1, None)]

    width = None if band is None else band + abs(n - m)
    inf = math.inf
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back = [[-1] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        if width is None:
            lo, hi = 0, m
        else:
            centre = i * m / n if n else 0
            lo, hi = max(0, math.floor(centre - width)), min(m, math.ceil(centre + width))
        row = cost[i]
        for j in range(lo, hi + 1):
            if i == 0 and j == 0:
                continue
            best, arg = inf, -1
            for k, (di, dj, mat) in enumerate(shapes):
                if di > i or dj > j:
                    continue
                prev = cost[i - di][j - dj]
                if prev == inf:
                    continue
                total = prev + (skip_cost if mat is None else mat[i - di][j - dj])
                if total < best:
                    best, arg = total, k
            row[j] = best
            back[i][j] = arg

    beads: list[Bead] = []
    i, j = n, m
    while i > 0 or j > 0:
        di, dj, _ = shapes[back[i][j]]
        beads.append(Bead(tuple(range(i - di, i)), tuple(range(j - dj, j)), cost[i][j] - cost[i - di][j - dj]))
        i, j = i - di, j - dj
    beads.reverse()
    return beads


def _text(s: Sentence | str) -> str:
    return s if isinstance(s, str) else s.text


def _embed_all(
    src_texts: Sequence[str], tgt_texts: Sequence[str], encoder: SentenceEncoder, pairs: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectors of the single sentences and adjacent pairs of both sides, each distinct text embedded once."""
    import numpy as np

    src_pairs = [a + SRC_JOIN + b for a, b in zip(src_texts, src_texts[1:])]
    tgt_pairs = [a + TGT_JOIN + b for a, b in zip(tgt_texts, tgt_texts[1:])]
    wanted = list(src_texts) + list(tgt_texts)
    if pairs == "embed":
        wanted += src_pairs + tgt_pairs
    unique = list(dict.fromkeys(wanted))
    vectors = np.asarray(encoder.embed(unique), dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(unique):
        raise UsageError(
            f"embedding aligner: the encoder returned shape {getattr(vectors, 'shape', None)} "
            f"for {len(unique)} texts; expected one vector per text"
        )
    index = {t: k for k, t in enumerate(unique)}

    def rows(texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, vectors.shape[1]))
        return vectors[[index[t] for t in texts]]

    src1, tgt1 = rows(src_texts), rows(tgt_texts)
    if pairs == "embed":
        return src1, rows(src_pairs), tgt1, rows(tgt_pairs)
    src_len = np.array([max(zh_length(t), 1.0) for t in src_texts])
    tgt_len = np.array([max(float(en_length(t)), 1.0) for t in tgt_texts])
    return src1, _mean_pairs(src1, src_len), tgt1, _mean_pairs(tgt1, tgt_len)


def _mean_pairs(vectors: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Length-weighted, re-normalised mean of each adjacent pair of vectors.

    Mean pooling over the tokens of a concatenation is close to the
    token-count-weighted mean of the two sentences' pooled vectors; text
    length stands in for the token count.
    """
    import numpy as np

    if len(vectors) < 2:
        return np.zeros((0, vectors.shape[1]))
    w0, w1 = lengths[:-1, None], lengths[1:, None]
    mixed = (w0 * vectors[:-1] + w1 * vectors[1:]) / (w0 + w1)
    return mixed / np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)


__all__ = [
    "DEFAULT_CONFIG",
    "EmbeddingAlignConfig",
    "SentenceEncoder",
    "align_costs",
    "align_embeddings",
    "bead_costs",
]
