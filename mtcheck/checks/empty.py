"""Empty or whitespace-only source and MT.

An empty segment is scored like any other (it gets chrF 0 against a
reference), but an editor must see it: an empty MT for a non-empty source is
a total omission, an MT for an empty source is an addition.
"""

from __future__ import annotations

from mtcheck.checks.alignment import UNPAIRED
from mtcheck.checks.base import Check
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side, Span


class EmptyCheck(Check):
    name = "empty"
    description = "empty or whitespace-only source or MT"

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        if segment.metadata.get("alignment") in UNPAIRED:
            return []  # an unaligned document sentence is the alignment check's finding
        src_blank = not segment.source.strip()
        mt_blank = not segment.mt.strip()
        if src_blank and mt_blank:
            return [
                Span(0, len(segment.mt), Side.MT, "Other/Empty segment", Severity.MINOR,
                     "both source and MT are empty", evidence=_describe(segment.mt))
            ]
        if mt_blank:
            return [
                Span(0, len(segment.source), Side.SOURCE, "Accuracy/Omission", Severity.CRITICAL,
                     "MT is empty: the whole source is untranslated",
                     evidence=f"MT {_describe(segment.mt)}; source has {len(segment.source.strip())} characters")
            ]
        if src_blank:
            return [
                Span(0, len(segment.mt), Side.MT, "Accuracy/Addition", Severity.MAJOR,
                     "source is empty but the MT is not",
                     evidence=f"source {_describe(segment.source)}")
            ]
        return []


def _describe(text: str) -> str:
    return "is the empty string" if not text else f"is whitespace only ({len(text)} characters)"
