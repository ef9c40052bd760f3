"""LexCov: reference-free lexical coverage between a Chinese source and its MT.

Each source segment is cut into words (jieba) and each word looked up in
CC-CEDICT (:mod:`mtcheck.models.lexicon`). Two shares are computed:

* source coverage — of the source's content words, how many have a gloss
  word in the MT (low: something was left out);
* MT coverage — of the MT's content words, how many are a gloss word of some
  source word (low: something was added, or the MT paraphrases freely).

The segment score combines them like an F-measure: their harmonic mean, so
that a segment must do well in both directions (an MT that copies every
gloss of every word cannot reach 1 on MT coverage, and an MT that renders
half the source cannot reach 1 on source coverage). Where one direction is
undefined (no content word on that side) the other is the score; where both
are, the metric does not apply (``None``). The corpus score is the mean of
the segment scores, so a system-level number weights every segment alike.

This is a dictionary signal, blind to word order and to whether a gloss is
the right sense: it is meant as cheap evidence of omissions and additions
(``Coverage.uncovered_source`` / ``uncovered_mt`` carry offsets), not as a
quality estimate. Its correlations with human MQM are in ``models/LEXICON.md``.
"""

from __future__ import annotations

from typing import Sequence

from mtcheck.errors import UsageError
from mtcheck.metrics.base import CorpusScore, Metric, with_mtcheck

DIRECTIONS = ("both", "source", "mt")


def harmonic_mean(a: float | None, b: float | None) -> float | None:
    """Harmonic mean of two shares; the defined one when the other is ``None``."""
    if a is None:
        return b
    if b is None:
        return a
    if a + b == 0:
        return 0.0
    return 2 * a * b / (a + b)


class LexCov(Metric):
    """Lexical coverage (see the module docstring).

    Args:
        direction: ``"both"`` (harmonic mean, the default), ``"source"``
            (source coverage only) or ``"mt"`` (MT coverage only).
    """

    name = "lexcov"
    needs_reference = False
    model_role = "lexicon"
    corpus_is_mean = True
    higher_is_better = True

    def __init__(self, direction: str = "both"):
        if direction not in DIRECTIONS:
            raise UsageError(f"lexcov direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
        self.direction = direction
        self._model = None

    def _lexicon(self):
        if self._model is None:
            import mtcheck.models.lexicon  # noqa: F401  (registers the cc-cedict model)
            from mtcheck.models.registry import get_model

            self._model = get_model("lexicon")
        return self._model

    def segment_scores(
        self,
        hyps: Sequence[str],
        refs: Sequence[Sequence[str]],
        sources: Sequence[str] | None = None,
    ) -> list[float | None]:
        """One score per hypothesis in [0, 1]; ``None`` where neither side has a content word.

        Raises:
            UsageError: no sources were given, or not one per hypothesis.
        """
        if sources is None:
            raise UsageError("lexcov is reference-free and needs the source texts")
        if len(sources) != len(hyps):
            raise UsageError(f"lexcov: {len(hyps)} hypotheses but {len(sources)} sources")
        lexicon = self._lexicon()
        out: list[float | None] = []
        for hyp, src in zip(hyps, sources):
            if not src or not src.strip():
                out.append(None)
                continue
            cov = lexicon.coverage(src, hyp or "")
            if self.direction == "source":
                out.append(cov.source)
            elif self.direction == "mt":
                out.append(cov.mt)
            else:
                out.append(harmonic_mean(cov.source, cov.mt))
        return out

    def corpus_score(
        self,
        hyps: Sequence[str],
        refs: Sequence[Sequence[str]],
        sources: Sequence[str] | None = None,
    ) -> CorpusScore:
        return self.corpus_from_segments(self.segment_scores(hyps, refs, sources), refs)

    def signature(self, nrefs: str = "1") -> str:
        # The model name follows overrides (--model lexicon=PATH), without loading anything.
        import mtcheck.models.lexicon  # noqa: F401
        from mtcheck.models.registry import resolve

        extra = "" if self.direction == "both" else f"|dir:{self.direction}"
        return with_mtcheck("lexcov", f"model:{resolve('lexicon').name}|seg:jieba{extra}")
