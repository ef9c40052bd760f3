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
    + similarity_weight * ((r(X | Y) + r(Y | X)) / 2 - cos(X, Y))
    + length_weight * gale_church(len X, len Y)
    + anchor_weight * anchors(X, Y)
    + kind_cost

* ``cos(X, Y)`` is the cosine of the embeddings of the two sides.
* ``r(X | Y)`` is the mean cosine of ``X`` with its ``neighbours`` most
  similar single sentences in the other document *other than* ``Y``
  (``exclude_candidate``; ``Y`` is only ever among them when it is a single
  sentence), and ``r(Y | X)`` likewise: the middle term is a CSLS margin
  (Conneau et al. 2018, "Word translation without parallel data"), which
  measures how much better ``Y`` fits ``X`` than ``X``'s best competitors
  do. Raw cosines are a poor guide here: multilingual-e5-small gives a
  translation about 0.86 and an unrelated sentence *of the same document*
  about 0.77, and some sentences (short or generic ones) are close to
  everything ("hubness"). Plain CSLS counts the candidate among the
  neighbours, which shrinks the margin of a true translation towards that
  of an unrelated pair; leaving it out widens the gap (on the benchmark's
  held-out documents, bead F1 0.939 → 0.953 with all four edits and
  0.950 → 0.975 with omissions, other weights unchanged). In the first
  round of development the CSLS margin also beat raw cosines and
  vecalign's normalisation (dividing ``1 - cos`` by the sides' mean
  dissimilarity to the other document).
* ``gale_church`` is the length cost of :mod:`mtcheck.io.align` (``-log``
  of the two-sided tail probability of the length mismatch), which breaks
  ties between merges the encoder finds about equally good.
* ``anchors`` is ``1 - 2 * shared / all`` over the *anchors* of the bead:
  the numbers on both sides ("3,000" and "3000" are one number; "19:54"
  and "19时54分" are 19 and 54 on both sides) and the Latin words of the
  Chinese side (names and acronyms such as "NBA", which the English keeps),
  a Latin word being shared when the English has it. It is -1 when every
  anchor is shared, +1 when none is and 0 for a bead with no anchors.
  Digits survive translation where meaning is hard to tell apart by
  embedding: two news sentences about case counts are close in meaning,
  rarely in their numbers. Numbers written out ("3名" → "three") or
  converted ("186.4亿" → "18.64 billion") miss, which is why the weight
  is small.
* ``kind_cost`` is :attr:`~EmbeddingAlignConfig.merge_cost` for ``1-2`` and
  ``2-1`` beads and :attr:`~EmbeddingAlignConfig.double_cost` for ``2-2``;
  without them a concatenation, which is always a fair match for the
  concatenated translations, would undercut two correct ``1-1`` beads.

A concatenation's embedding tends to follow its longer sentence, so the
vector of a two-sentence side is ``concat_weight`` (0.75) of the
concatenation's embedding plus the rest of the length-weighted mean of the
two sentence vectors (:func:`_mean_pairs`), renormalised.

A ``1-0`` or ``0-1`` bead for sentence ``X`` costs
``max(0, skip_cost + skip_weight * (match_cost - best(X)))``, where
``best(X)`` is the cheapest ``1-1`` bead ``X`` could be in: a sentence with
a good partner somewhere is unlikely to be the one the translation left
out. Two skips are preferred to a ``1-1`` bead when the pair costs more
than the two skips, so ``skip_cost`` (against ``match_cost``) sets how
poor a pair must be before the aligner calls it an omission plus an
addition. ``2-2`` beads are off by default (``double_cost=None``): on the
benchmark they replaced more correct pairs of ``1-1`` beads than they
found.

The default weights were tuned on synthetic documents built from WMT
newstest2021 zh-en (half of the documents used for tuning, the other half
for the figures): see ``scripts/bench_alignment.py``, whose docstring has
the command and the results, and ``docs/benchmarks.md``. In short, on 100
held-out document pairs of ten sentences (reference and one MT system) per
scenario, bead F1 against the length aligner rises from 0.78 to 0.975 with
two omissions per document, from 0.95 to 0.99 with two splits, from 0.96
to 0.97 with two merges, and from 0.585 to 0.953 with a merge, a split, an
omission and an addition in every document (0.929 with the weights before
issue #8: plain CSLS, no anchors, flat skips, concatenations alone);
unmodified documents score 0.984. ``match_cost`` 1.4 (was 1.3) came from
tuning on five English sides instead of two: it gains 0.004 with all four
edits and gives up 0.005-0.016 in every other scenario.

Embedding cost. Each distinct sentence and each concatenation of two
adjacent sentences is embedded once per call (``pairs="embed"``, the
default), i.e. about ``2 (n + m)`` texts for ``n`` Chinese and ``m``
English sentences. ``pairs="mean"`` instead approximates a concatenation by
the length-weighted mean of its sentences' vectors, which halves the
encoder work at some cost in accuracy (measured in the benchmark).

Search cost. The cost matrices are built in O(n·m) (similarities with
numpy, lengths and anchors in Python); the dynamic programme, shared with
the length aligner (:func:`mtcheck.io.align.cheapest_chain`), visits every
cell, O(n·m) in Python. For 300 × 300 sentences they took 0.7 s and
0.2 s (encoder time apart). For longer documents pass ``band``: only cells
within ``band`` (plus ``|n - m|``) of the diagonal are searched, which is
O((n + m)·band) but assumes the alignment strays no further from the
diagonal than that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import regex

from mtcheck.errors import ConfigError, UsageError

# align.py's Gale–Church term is private there; it is the same model, so the
# embedding aligner reuses it rather than keep a second copy in step.
from mtcheck.io.align import (
    ZH_EN_RATIO,
    ZH_EN_VARIANCE,
    Bead,
    BeadKind,
    _match_cost,
    cheapest_chain,
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
        exclude_candidate: Leave a bead's own other side out of ``r(X)``
            (see the module docstring); off gives plain CSLS.
        length_weight: Weight of the Gale–Church length cost (0 disables it).
        anchor_weight: Weight of the number and Latin-name anchor term (0
            disables it).
        skip_cost: Cost of a ``1-0`` or ``0-1`` bead for a sentence whose
            best pairing costs ``match_cost``.
        skip_weight: How much a skip's cost rises per unit by which the
            sentence's best ``1-1`` bead is cheaper than ``match_cost`` (0: a
            flat ``skip_cost``).
        merge_cost: Extra cost of a ``1-2`` or ``2-1`` bead.
        double_cost: Extra cost of a ``2-2`` bead; ``None`` (the default)
            leaves ``2-2`` beads out.
        normalise: Use the CSLS margin; when off, ``r(X)`` and ``r(Y)`` are
            both ``typical_similarity`` and only raw cosines count.
        typical_similarity: Cosine of two unrelated sentences of one
            document (0.77 is what multilingual-e5-small gives in
            newstest2021), used when ``normalise`` is off and for a sentence
            with no other neighbour to compare with.
        pairs: ``"embed"``: embed concatenated sentence pairs; ``"mean"``:
            approximate them by the length-weighted mean of the sentence
            vectors (half the encoder work).
        concat_weight: With ``pairs="embed"``, a pair's vector is this much
            the concatenation's embedding and the rest the length-weighted
            mean of its sentences' vectors (1: the concatenation alone).
        ratio: English length per unit of Chinese length (as in
            :mod:`mtcheck.io.align`).
        variance: Gale–Church's s² (as in :mod:`mtcheck.io.align`).
        band: Search only cells within this distance of the diagonal (plus
            the difference in sentence counts); ``None`` searches all.
    """

    match_cost: float = 1.4
    similarity_weight: float = 10.0
    neighbours: int = 4
    exclude_candidate: bool = True
    length_weight: float = 0.03
    anchor_weight: float = 0.1
    skip_cost: float = 0.7
    skip_weight: float = 0.1
    merge_cost: float = 0.6
    double_cost: float | None = None
    normalise: bool = True
    typical_similarity: float = 0.77
    pairs: str = "embed"
    concat_weight: float = 0.75
    ratio: float = ZH_EN_RATIO
    variance: float = ZH_EN_VARIANCE
    band: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "match_cost",
            "similarity_weight",
            "length_weight",
            "anchor_weight",
            "skip_cost",
            "skip_weight",
            "merge_cost",
        ):
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
        if not (isinstance(self.concat_weight, (int, float)) and 0 <= self.concat_weight <= 1):
            raise ConfigError(f"embedding aligner: concat_weight must be in [0, 1], got {self.concat_weight!r}")
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

# Anchors. A thousands separator is dropped so that "1,000" and "1000" agree;
# every other non-digit splits numbers ("19:54" and "19时54分" both give 19, 54).
_THOUSANDS = regex.compile(r"(?<=\d)[,，](?=\d{3})")
_DIGITS = regex.compile(r"\d+")
# Latin words in Chinese text are mostly names and acronyms kept as they are
# in the translation ("NBA", "PCOO"); single letters are too common to count.
_LATIN_NAME = regex.compile(r"[A-Za-z]{2,}")
_LATIN_WORD = regex.compile(r"[A-Za-z]+")


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
    """Cost of every candidate bead (both documents must have a sentence).

    Returns:
        Bead kind to its costs. For kinds with text on both sides, a matrix
        whose ``[i, j]`` is the cost of the bead starting at source sentence
        ``i`` and target sentence ``j``: ``"1-1"`` is ``(n, m)``, ``"2-1"``
        ``(n - 1, m)``, ``"1-2"`` ``(n, m - 1)``, ``"2-2"`` ``(n - 1, m - 1)``
        (kinds that do not fit a one-sentence document, or ``2-2`` with
        ``double_cost=None``, are left out). ``"1-0"`` (``(n,)``) and
        ``"0-1"`` (``(m,)``) hold the cost of skipping each sentence.
    """
    import numpy as np

    n, m = len(src_texts), len(tgt_texts)
    src1, src2, tgt1, tgt2 = _embed_all(src_texts, tgt_texts, encoder, config.pairs, config.concat_weight)
    k = config.neighbours
    typical = float(config.typical_similarity)

    def r_side(sims: np.ndarray) -> np.ndarray:
        """r() of each row as a column, to broadcast against the bead matrix."""
        if not config.normalise:
            return np.full((sims.shape[0], 1), typical)
        return _mean_top(sims, k)[:, None]

    def r_bead(sims: np.ndarray) -> np.ndarray:
        """r() of each row for each candidate column (the candidate left out when configured)."""
        if not config.normalise:
            return np.full(sims.shape, typical)
        if not config.exclude_candidate:
            return np.broadcast_to(_mean_top(sims, k)[:, None], sims.shape)
        return _mean_top_excluding(sims, k, typical)

    s11 = src1 @ tgt1.T
    # Each side's r() for its bead: the candidate on the other side is among a
    # single sentence's neighbours (and is left out) only when it is itself a
    # single sentence.
    margins = {"1-1": (r_bead(s11) + r_bead(s11.T).T) / 2.0 - s11}
    if n > 1:
        s21 = src2 @ tgt1.T
        margins["2-1"] = (r_bead(s21) + r_side(s11.T).T) / 2.0 - s21
    if m > 1:
        s12 = src1 @ tgt2.T
        margins["1-2"] = (r_side(s11) + r_bead(s12.T).T) / 2.0 - s12
    if n > 1 and m > 1 and config.double_cost is not None:
        margins["2-2"] = (r_side(src2 @ tgt1.T) + r_side(tgt2 @ src1.T).T) / 2.0 - src2 @ tgt2.T

    len_s1 = [zh_length(t) for t in src_texts]
    len_t1 = [float(en_length(t)) for t in tgt_texts]
    sides = {
        1: ([[x] for x in range(n)], [[y] for y in range(m)]),
        2: ([[x, x + 1] for x in range(n - 1)], [[y, y + 1] for y in range(m - 1)]),
    }
    zh_anchors = [_zh_anchors(t) for t in src_texts]
    en_anchors = [_en_anchors(t) for t in tgt_texts]
    extra = {"1-1": 0.0, "2-1": config.merge_cost, "1-2": config.merge_cost, "2-2": config.double_cost}

    costs: dict[str, np.ndarray] = {}
    for kind, margin in margins.items():
        src_sides, tgt_sides = sides[int(kind[0])][0], sides[int(kind[2])][1]
        cost = config.match_cost + config.similarity_weight * margin + extra[kind]
        if config.length_weight:
            src_lens = [sum(len_s1[x] for x in xs) for xs in src_sides]
            tgt_lens = [sum(len_t1[y] for y in ys) for ys in tgt_sides]
            lengths = np.array(
                [[_match_cost(a, b, config.ratio, config.variance) for b in tgt_lens] for a in src_lens]
            ).reshape(len(src_lens), len(tgt_lens))
            cost = cost + config.length_weight * lengths
        if config.anchor_weight:
            cost = cost + config.anchor_weight * _anchor_matrix(zh_anchors, en_anchors, src_sides, tgt_sides)
        costs[kind] = cost

    # A sentence whose best pairing is good is unlikely to be the one left
    # out; one with no good partner anywhere is a likely omission/addition.
    best_src, best_tgt = costs["1-1"].min(axis=1), costs["1-1"].min(axis=0)
    costs["1-0"] = np.maximum(config.skip_cost + config.skip_weight * (config.match_cost - best_src), 0.0)
    costs["0-1"] = np.maximum(config.skip_cost + config.skip_weight * (config.match_cost - best_tgt), 0.0)
    return costs


def align_costs(costs: dict[str, np.ndarray], *, skip_cost: float, band: int | None = None) -> list[Bead]:
    """The cheapest monotonic bead chain given the cost of every candidate bead.

    Args:
        costs: As returned by :func:`bead_costs`: ``"1-1"`` (required,
            ``(n, m)``) and optionally ``"2-1"``, ``"1-2"``, ``"2-2"``, and
            per-sentence skip costs ``"1-0"`` (``(n,)``) and ``"0-1"``
            (``(m,)``).
        skip_cost: Cost of each ``1-0`` and ``0-1`` bead when ``costs`` has
            no per-sentence skip costs for that side.
        band: Search only cells within this distance of the diagonal (plus
            ``|n - m|``); ``None`` searches all.

    Returns:
        Beads in order, covering every index of both sides exactly once.
    """
    n, m = costs["1-1"].shape
    # 1-1 first so that ties, which cheapest_chain gives to the earlier kind,
    # go to the plainest bead.
    kinds: list[BeadKind] = []
    for kind, (a, b) in (("1-1", (1, 1)), ("2-1", (2, 1)), ("1-2", (1, 2)), ("2-2", (2, 2))):
        if kind in costs:
            kinds.append((a, b, 0.0, costs[kind]))
    if "1-0" in costs:
        kinds.append((1, 0, 0.0, [[c] * (m + 1) for c in costs["1-0"].tolist()]))
    else:
        kinds.append((1, 0, skip_cost, None))
    if "0-1" in costs:
        kinds.append((0, 1, 0.0, [costs["0-1"].tolist()] * (n + 1)))
    else:
        kinds.append((0, 1, skip_cost, None))
    return cheapest_chain(n, m, kinds, band=band)


def _text(s: Sentence | str) -> str:
    return s if isinstance(s, str) else s.text


def _mean_top(sims: np.ndarray, k: int) -> np.ndarray:
    """Mean of the ``k`` largest entries of each row (all of them in a shorter row)."""
    import numpy as np

    k = min(k, sims.shape[1])
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)


def _mean_top_excluding(sims: np.ndarray, k: int, fallback: float) -> np.ndarray:
    """``[a, b]``: mean of the ``k`` largest entries of row ``a`` other than column ``b``.

    With a single column there is nothing else to compare with, and every
    entry is ``fallback``.
    """
    import numpy as np

    k = min(k, sims.shape[1] - 1)
    if k < 1:
        return np.full(sims.shape, fallback)
    ranked = -np.sort(-sims, axis=1)
    top = ranked[:, :k].sum(axis=1, keepdims=True)
    kth, next_ = ranked[:, k - 1 : k], ranked[:, k : k + 1]
    # A column among the top k is swapped for the (k + 1)-th value; a tie at
    # the k-th value gives the same sum whichever of the tied columns it is.
    return np.where(sims >= kth, top - sims + next_, top) / k


def _zh_anchors(text: str) -> tuple[frozenset[int], frozenset[str]]:
    """Numbers and Latin words (lowercased) of a Chinese sentence."""
    return _numbers(text), frozenset(w.lower() for w in _LATIN_NAME.findall(text))


def _en_anchors(text: str) -> tuple[frozenset[int], frozenset[str]]:
    """Numbers and all words (lowercased) of an English sentence."""
    return _numbers(text), frozenset(w.lower() for w in _LATIN_WORD.findall(text))


def _numbers(text: str) -> frozenset[int]:
    # int() reads any Unicode decimal digits, full-width ones included.
    return frozenset(int(d) for d in _DIGITS.findall(_THOUSANDS.sub("", text)))


def _anchor_matrix(
    zh_anchors: Sequence[tuple[frozenset[int], frozenset[str]]],
    en_anchors: Sequence[tuple[frozenset[int], frozenset[str]]],
    src_sides: Sequence[Sequence[int]],
    tgt_sides: Sequence[Sequence[int]],
) -> np.ndarray:
    """``1 - 2 * shared / all`` anchors of every pair of bead sides (0 where neither side has one).

    The anchors are the numbers of both sides and the Latin words of the
    Chinese side; a number is shared when both sides have it, a Latin word
    when the English side has it as a word.
    """
    import numpy as np

    def union(anchors, idx):
        nums: frozenset = frozenset().union(*(anchors[i][0] for i in idx))
        words: frozenset = frozenset().union(*(anchors[i][1] for i in idx))
        return nums, words

    zs = [union(zh_anchors, xs) for xs in src_sides]
    es = [union(en_anchors, ys) for ys in tgt_sides]
    out = np.zeros((len(zs), len(es)))
    for a, (zn, zw) in enumerate(zs):
        for b, (en_, ew) in enumerate(es):
            total = len(zn | en_) + len(zw)
            if total:
                out[a, b] = 1.0 - 2.0 * (len(zn & en_) + len(zw & ew)) / total
    return out


def _embed_all(
    src_texts: Sequence[str],
    tgt_texts: Sequence[str],
    encoder: SentenceEncoder,
    pairs: str,
    concat_weight: float = 1.0,
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
    src_len = np.array([max(zh_length(t), 1.0) for t in src_texts])
    tgt_len = np.array([max(float(en_length(t)), 1.0) for t in tgt_texts])
    src_mean, tgt_mean = _mean_pairs(src1, src_len), _mean_pairs(tgt1, tgt_len)
    if pairs == "mean":
        return src1, src_mean, tgt1, tgt_mean
    if concat_weight == 1.0:
        return src1, rows(src_pairs), tgt1, rows(tgt_pairs)
    # The concatenation's own embedding tends to follow its longer sentence;
    # mixing in the mean of both keeps the shorter one in view.
    return (
        src1,
        _normalise(concat_weight * rows(src_pairs) + (1 - concat_weight) * src_mean),
        tgt1,
        _normalise(concat_weight * rows(tgt_pairs) + (1 - concat_weight) * tgt_mean),
    )


def _normalise(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


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
    return _normalise((w0 * vectors[:-1] + w1 * vectors[1:]) / (w0 + w1))


__all__ = [
    "DEFAULT_CONFIG",
    "EmbeddingAlignConfig",
    "SentenceEncoder",
    "align_costs",
    "align_embeddings",
    "bead_costs",
]
