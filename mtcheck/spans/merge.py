"""Merging findings that point at exactly the same text.

Several checks can report one problem: 双十一 left untranslated is a missing
date for the dates check and a missing glossary term for the terms check, all
anchored on the same source characters. An editor should see it once, and the
headline should count it once. Spans on the same side with the same offsets
are merged into the most severe one; the others' categories and messages are
kept in its evidence, so nothing is lost. Overlapping but different spans are
left alone: they may well be different errors.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from mtcheck.core import Span


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Merge spans with identical side and offsets; keep input order otherwise.

    Returns:
        One span per distinct ``(side, start, end)``: the most severe (the
        first of equals), its ``check`` naming every contributing check and its
        evidence listing the others' findings.
    """
    groups: dict[tuple, list[Span]] = {}
    for s in spans:
        groups.setdefault((s.side, s.start, s.end), []).append(s)
    out = []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        lead = max(group, key=lambda s: s.severity.rank)  # max keeps the first of equals
        others = [s for s in group if s is not lead]
        extra = "; ".join(f"also {s.severity.value} {s.category} ({s.check}): {s.message}" for s in others)
        evidence = f"{lead.evidence}; {extra}" if lead.evidence else extra
        checks = "+".join(dict.fromkeys([lead.check, *(s.check for s in others)]))
        out.append(replace(lead, evidence=evidence, check=checks))
    return out
