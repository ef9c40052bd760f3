"""Sentences a document-pair alignment could not pair.

When a source document and its MT are aligned by length, a 1-0 bead is a
source sentence with no English counterpart (a likely omission) and a 0-1
bead English text with no source (a likely addition). The aligner can be
wrong, so these are reported as *possible* findings with the alignment cost
as evidence. Segments that did not come from an alignment are not checked.
"""

from __future__ import annotations

from mtcheck.checks.base import Check
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side, Span

UNPAIRED = ("1-0", "0-1")


class AlignmentCheck(Check):
    name = "alignment"
    description = "document-pair sentences left unaligned (possible omission or addition)"

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        kind = segment.metadata.get("alignment")
        if kind == "1-0":
            return [Span(0, len(segment.source), Side.SOURCE, "Accuracy/Omission", Severity.MAJOR,
                         "possible omission: no English sentence aligns with this source sentence",
                         evidence=f"alignment bead 1-0, source sentence(s) {segment.metadata.get('source_sentences')}")]
        if kind == "0-1":
            return [Span(0, len(segment.mt), Side.MT, "Accuracy/Addition", Severity.MAJOR,
                         "possible addition: no source sentence aligns with this English sentence",
                         evidence=f"alignment bead 0-1, MT sentence(s) {segment.metadata.get('mt_sentences')}")]
        return []
