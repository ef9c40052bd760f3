"""Metrics: sentence- and corpus-level scores, registered by name in :data:`METRICS`."""

from __future__ import annotations

from mtcheck.metrics.base import CorpusScore, Metric
from mtcheck.metrics.reference import BLEU, TER, ChrF

METRICS: dict[str, type[Metric]] = {
    ChrF.name: ChrF,
    BLEU.name: BLEU,
    TER.name: TER,
}


def get_metric(name: str, **options) -> Metric:
    """Instantiate the metric registered as ``name``."""
    return METRICS[name](**options)


__all__ = ["METRICS", "Metric", "CorpusScore", "get_metric"]
