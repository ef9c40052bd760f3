"""Metrics: sentence- and corpus-level scores, registered by name in :data:`METRICS`.

Reference-based scores come from sacrebleu; the neural signals (``xsim``,
``refsim``, ``fluency``, ``lexcov``, and the trained ``qe``) load their model lazily, on first use; the
translation-model signals (``bt_chrf``, ``fwd_ref``, ``tm_logprob``, ``tm_pmi``, ``tm_reverse``) are opt-in.
"""

from __future__ import annotations

from mtcheck.metrics.base import CorpusScore, Metric
from mtcheck.metrics.embedding import RefSim, XSim
from mtcheck.metrics.fluency import Fluency
from mtcheck.metrics.lexical import LexCov
from mtcheck.metrics.qe import QE
from mtcheck.metrics.reference import BLEU, TER, ChrF
from mtcheck.metrics.translation import TRANSLATION_METRICS

METRICS: dict[str, type[Metric]] = {
    ChrF.name: ChrF,
    BLEU.name: BLEU,
    TER.name: TER,
    XSim.name: XSim,
    RefSim.name: RefSim,
    Fluency.name: Fluency,
    LexCov.name: LexCov,
    QE.name: QE,
    **{cls.name: cls for cls in TRANSLATION_METRICS},
}


def get_metric(name: str, **options) -> Metric:
    """Instantiate the metric registered as ``name``."""
    return METRICS[name](**options)


__all__ = ["METRICS", "Metric", "CorpusScore", "get_metric"]
