"""mtcheck: quality checking for Chinese→English machine translation of corporate text.

The package is organised by kind of thing: ``io`` reads batches into
:class:`~mtcheck.core.Segment` objects, ``metrics`` scores them, ``checks``
flags spans an editor must look at, ``report`` writes what a person or a CI job
reads, and ``metaeval`` measures all of it against human judgements.
"""

__version__ = "0.1.0"

from mtcheck.core import (  # noqa: E402  (re-exported public API)
    BatchResult,
    DocumentResult,
    Segment,
    SegmentResult,
    Severity,
    Side,
    Span,
)

__all__ = [
    "__version__",
    "BatchResult",
    "DocumentResult",
    "Segment",
    "SegmentResult",
    "Severity",
    "Side",
    "Span",
]
