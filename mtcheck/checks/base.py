"""The check interface and the loop that runs checks over a batch."""

from __future__ import annotations

from typing import Iterable, Sequence

from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Span


class Check:
    """Base class of a check.

    Subclasses set ``name`` and ``description`` and override
    :meth:`check_segment`; document-level checks also override
    :meth:`check_document`.
    """

    name: str = ""
    description: str = ""

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        """Findings on one segment (may be empty)."""
        return []

    def check_document(
        self, segments: Sequence[Segment], options: CheckOptions
    ) -> dict[str, list[Span]]:
        """Findings that need the whole document, keyed by segment id."""
        return {}


def run_checks(
    checks: Iterable[Check], segments: Sequence[Segment], options: CheckOptions
) -> dict[str, list[Span]]:
    """Run ``checks`` over ``segments`` (one document or a whole batch).

    Returns:
        Segment id to its findings, sorted by side and offset, with findings
        of several checks on the very same text merged into one
        (:func:`mtcheck.spans.merge_spans`). Segments that failed to read
        (``problem`` set) are not checked.
    """
    checks = list(checks)
    readable = [s for s in segments if s.problem is None]
    found: dict[str, list[Span]] = {s.id: [] for s in readable}
    for check in checks:
        for seg in readable:
            found[seg.id].extend(
                _tag(span, check.name) for span in check.check_segment(seg, options)
            )
        for seg_id, spans in check.check_document(readable, options).items():
            found.setdefault(seg_id, []).extend(_tag(span, check.name) for span in spans)
    from mtcheck.spans import merge_spans

    for seg_id, spans in found.items():
        spans.sort(key=lambda s: (s.side.value, s.start, s.end, -s.severity.rank))
        found[seg_id] = merge_spans(spans)
    return found


def _tag(span: Span, name: str) -> Span:
    if span.check:
        return span
    from dataclasses import replace

    return replace(span, check=name)
