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
    checks: Iterable[Check], segments: Sequence[Segment], options: CheckOptions,
    errors: dict[str | None, list[str]] | None = None,
) -> dict[str, list[Span]]:
    """Run ``checks`` over ``segments`` (one document or a whole batch).

    A check that raises on one segment (a bug, or input no test foresaw) must
    not take the batch down with it: the error is recorded in ``errors`` under
    that segment's id, and the other checks and segments still run. An error
    of a document-level check is recorded under ``None``. Without ``errors``
    the exception propagates (library callers that want to see it).

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
            try:
                spans = check.check_segment(seg, options)
            except Exception as exc:
                if errors is None:
                    raise
                errors.setdefault(seg.id, []).append(_describe(check, exc))
                continue
            found[seg.id].extend(_tag(span, check.name) for span in spans)
        try:
            by_seg = check.check_document(readable, options)
        except Exception as exc:
            if errors is None:
                raise
            errors.setdefault(None, []).append(_describe(check, exc))
            continue
        for seg_id, spans in by_seg.items():
            found.setdefault(seg_id, []).extend(_tag(span, check.name) for span in spans)
    from mtcheck.spans import merge_spans

    for seg_id, spans in found.items():
        spans.sort(key=lambda s: (s.side.value, s.start, s.end, -s.severity.rank))
        found[seg_id] = merge_spans(spans)
    return found


def _describe(check: Check, exc: Exception) -> str:
    return f"internal error in check {check.name!r}: {type(exc).__name__}: {exc}"


def _tag(span: Span, name: str) -> Span:
    if span.check:
        return span
    from dataclasses import replace

    return replace(span, check=name)
