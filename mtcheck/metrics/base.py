"""The metric interface.

A metric scores hypotheses (English MT) given, per segment, the Chinese
source and zero or more references. It offers sentence-level
``segment_scores`` and a corpus-level ``corpus_score``; every corpus score
carries a signature string so the number can be reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import mtcheck


@dataclass(frozen=True)
class CorpusScore:
    """A corpus-level score with the signature that reproduces it.

    ``n`` is how many segments entered the score (segments without a
    reference do not enter a reference-based score).
    """

    metric: str
    score: float | None
    signature: str
    n: int


class Metric:
    """Base class: subclasses set the class attributes and implement both scorers."""

    name: str = ""
    #: Whether the metric needs at least one reference per segment.
    needs_reference: bool = True
    higher_is_better: bool = True
    #: Registry role of the model the metric needs (None: no model).
    model_role: str | None = None
    #: Whether a neural metric runs by default when its model is installed
    #: (opt-in metrics, e.g. those that generate translations, set False).
    default: bool = True
    #: Whether the corpus score is the mean of the segment scores, so a caller
    #: that has them can aggregate (:meth:`corpus_from_segments`) instead of
    #: running the model again.
    corpus_is_mean: bool = False
    #: Whether the metric's model can also flag error spans when asked
    #: (``spans=True`` to its constructor; ``--model-spans`` on the command line).
    optional_spans: bool = False

    def segment_scores(
        self,
        hyps: Sequence[str],
        refs: Sequence[Sequence[str]],
        sources: Sequence[str] | None = None,
    ) -> list[float | None]:
        """One score per hypothesis; ``None`` where the metric cannot apply.

        Args:
            hyps: MT outputs.
            refs: Per segment, its references (possibly none).
            sources: Per segment, its source (used by reference-free metrics).
        """
        raise NotImplementedError

    def corpus_score(
        self,
        hyps: Sequence[str],
        refs: Sequence[Sequence[str]],
        sources: Sequence[str] | None = None,
    ) -> CorpusScore:
        raise NotImplementedError

    def signature(self, nrefs: str = "1") -> str:
        raise NotImplementedError

    def segment_outputs(
        self,
        hyps: Sequence[str],
        refs: Sequence[Sequence[str]],
        sources: Sequence[str] | None = None,
    ) -> dict[str, list[float | None]]:
        """Named per-segment outputs: the metric's own score under its name, plus any
        companions a model gives in the same pass (e.g. ``qe_mqm``). Default: the score only."""
        return {self.name: self.segment_scores(hyps, refs, sources)}

    def with_findings(self, outputs: dict[str, list[float | None]],
                      penalties: list[float]) -> dict[str, list[float | None]]:
        """Outputs adjusted for the rule checks' findings (MQM penalty per segment).

        Default: unchanged. The QE metric folds the findings into its score.
        """
        return outputs

    def last_spans(self) -> list[list] | None:
        """Spans the metric's model found during its last :meth:`segment_outputs` call.

        One list of :class:`~mtcheck.core.Span` per segment of that call, or
        ``None`` for metrics that do not flag spans (the default).
        """
        return None

    def last_texts(self) -> dict[str, list[str | None]] | None:
        """Texts the metric's model made during its last :meth:`segment_outputs` call, by kind.

        One entry per segment of that call (``None`` where it made none), e.g.
        ``{"back_translation": [...]}``; ``None`` for metrics that make no text (the default).
        """
        return None

    def last_statistics(self) -> list | None:
        """Per segment of the last :meth:`segment_outputs` call, the statistics its corpus score sums.

        ``None`` (the default) for metrics without such statistics; those
        that have them also implement :meth:`corpus_from_statistics`.
        """
        return None

    def corpus_from_statistics(self, stats: Sequence, refs: Sequence[Sequence[str]]) -> CorpusScore:
        """The corpus score from the segments' :meth:`last_statistics` entries."""
        raise NotImplementedError(f"metric {self.name} keeps no statistics")

    def corpus_from_segments(
        self, scores: Sequence[float | None], refs: Sequence[Sequence[str]] | None,
        hyps: Sequence[str] | None = None,
    ) -> CorpusScore:
        """The corpus score of a mean-aggregated metric from its segment scores.

        ``hyps`` is for metrics whose aggregate weights segments by length.
        """
        import math

        vals = [s for s in scores if s is not None]
        nrefs = max((sum(r is not None for r in rs) for rs in refs or ()), default=0)
        mean = math.fsum(vals) / len(vals) if vals else None
        return CorpusScore(self.name, mean, self.signature(str(nrefs)), len(vals))


def with_mtcheck(label: str, signature: str) -> str:
    """Name the metric and append the mtcheck version to a backend signature.

    ``with_mtcheck("chrF", "nrefs:1|...|version:2.6.0")`` gives
    ``metric:chrF|nrefs:1|...|version:2.6.0|mtcheck:0.1.0``.
    """
    return f"metric:{label}|{signature}|mtcheck:{mtcheck.__version__}"
