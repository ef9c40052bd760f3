"""Fluency: how natural the English of a translation reads, by a language model.

A reference-free metric: it looks at the MT output only. The language model
(role ``lm``, by default SmolLM2-135M, see :mod:`mtcheck.models.lm`) gives
each token of the output its log-probability given the tokens before it; a
segment's fluency is the **mean token log-probability** (natural log, so a
value of ``-3`` means the model found the average token about ``e^3 ≈ 20``
times less likely than a sure guess; higher is more fluent). The corpus
score is the mean of the segment scores.

Why the mean and not the sum (measured by ``scripts/bench_fluency.py`` on
85 random items of each WMT21 zh→en MQM set, numbers in ``models/LM.md``):
the summed log-probability falls with every token, so it mostly measures
length, and short outputs also collect fewer MQM errors. Its segment
Pearson with MQM (0.47 newstest2021, 0.33 TED) is nearly all length: the
token count alone gets 0.36 / 0.30. Among outputs of the same source
(item-grouped Kendall) the mean does best of sum, mean and min (0.062 /
0.047 against 0.046 / 0.036 for the sum) and it does not reward short
output. It stays a weak signal, blind to accuracy errors and not a system
ranking: use it to flag unnatural English and as a feature, not as a
quality score on its own.

:func:`fluency_features` exposes the per-segment features (sum, mean, min,
perplexity, token count) for models that combine signals.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

from mtcheck.errors import UsageError
from mtcheck.metrics.base import CorpusScore, Metric, with_mtcheck

if TYPE_CHECKING:
    import numpy as np

    from mtcheck.models.lm import LMScore

#: Names of the columns :func:`fluency_features` returns.
FEATURES = ("sum", "mean", "min", "ppl", "n_tokens")


def fluency_features(lm_scores: Sequence[LMScore]) -> dict[str, np.ndarray]:
    """Per-segment features of language-model scores, column by column.

    Args:
        lm_scores: One :class:`~mtcheck.models.lm.LMScore` per segment.

    Returns:
        ``{"sum", "mean", "min", "ppl", "n_tokens"}`` → float arrays with
        one value per segment: summed, mean and lowest token log-probability,
        perplexity ``exp(-mean)``, and the token count. A segment without
        tokens has ``sum`` 0, ``n_tokens`` 0 and NaN for the others.
    """
    import numpy as np

    return {
        "sum": np.array([s.total for s in lm_scores], dtype=np.float64),
        "mean": np.array([s.mean for s in lm_scores], dtype=np.float64),
        "min": np.array([s.min for s in lm_scores], dtype=np.float64),
        "ppl": np.array([s.perplexity for s in lm_scores], dtype=np.float64),
        "n_tokens": np.array([s.n_tokens for s in lm_scores], dtype=np.float64),
    }


class Fluency(Metric):
    """Mean token log-probability of the MT output under an English LM.

    Args:
        batch_size: Texts per forward pass of the model.
        model: A loaded :class:`~mtcheck.models.lm.LanguageModel` (tests,
            or a caller that already holds one); by default the model
            serving the ``lm`` role is loaded on first use.
    """

    name = "fluency"
    label = "fluency"
    needs_reference = False
    model_role = "lm"
    corpus_is_mean = True
    higher_is_better = True

    def __init__(self, batch_size: int = 16, model: Any | None = None):
        if batch_size < 1:
            raise UsageError(f"fluency: batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        self._model = model

    @property
    def model(self) -> Any:
        if self._model is None:
            from mtcheck.models import get_model
            import mtcheck.models.lm  # noqa: F401  (registers the lm role's default)

            self._model = get_model("lm")
        return self._model

    def model_name(self) -> str:
        """Name of the model that scores (or would score), without loading it."""
        if self._model is not None:
            return self._model.name
        from mtcheck.models.registry import resolve
        import mtcheck.models.lm  # noqa: F401

        return resolve("lm").name

    def lm_scores(self, hyps: Sequence[str]) -> list[LMScore]:
        """The language model's token scores of each hypothesis."""
        return self.model.score(list(hyps), batch_size=self.batch_size)

    def features(self, hyps: Sequence[str]) -> dict[str, np.ndarray]:
        """:func:`fluency_features` of ``hyps``."""
        return fluency_features(self.lm_scores(hyps))

    def segment_scores(self, hyps, refs=None, sources=None) -> list[float | None]:
        """Mean token log-probability per hypothesis; ``None`` for an empty one.

        ``refs`` and ``sources`` are not used; when given they must be as
        long as ``hyps``.
        """
        _check_lengths(hyps, refs, sources)
        if not hyps:
            return []
        out: list[float | None] = []
        for s in self.lm_scores(hyps):
            out.append(None if s.n_tokens == 0 or math.isnan(s.mean) else s.mean)
        return out

    def corpus_score(self, hyps, refs=None, sources=None) -> CorpusScore:
        """Mean of the segment scores over the segments that have one."""
        return self.corpus_from_segments(self.segment_scores(hyps, refs, sources), refs)

    def signature(self, nrefs: str = "0") -> str:
        """``metric:fluency|model:<lm name>|agg:mean|mtcheck:<version>`` (references play no part)."""
        return with_mtcheck(self.label, f"model:{self.model_name()}|agg:mean")


def _check_lengths(hyps: Sequence[str], refs: Sequence[Any] | None, sources: Sequence[Any] | None) -> None:
    if isinstance(hyps, str):
        raise UsageError("fluency takes a sequence of hypotheses, not one string")
    for what, other in (("references", refs), ("sources", sources)):
        if other is not None and len(other) not in (0, len(hyps)):
            raise UsageError(f"fluency: {len(hyps)} hypotheses but {len(other)} {what}")
