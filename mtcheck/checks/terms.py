"""Glossary terminology: agreed renderings used, and used consistently.

Segment level: every glossary term found in the Chinese source (longest
match first, so 阿里巴巴集团 is one term, not 阿里巴巴 + 集团) must be
matched in the MT by at least one of its allowed renderings (see
:mod:`mtcheck.checks.glossary` for the forgiving English-side matching).
If none is there, the finding is a major ``Terminology`` span on the
*source* side at the term, with the allowed renderings as evidence and the
preferred one as suggestion. Only presence is checked, not counts: a second
mention is often a pronoun in good English.

A rendering of some *other* entry that appears in the MT without its source
term is not flagged; translators add names for clarity and the signal is
too noisy.

Document level: once a term has been rendered in a document, later
segments that render the same term with a *different* allowed rendering
("Singles' Day" first, "Double 11" later) get a minor
``Terminology/Inconsistent`` span on the MT side, suggesting the
established form. If the first segment used several renderings (a full name
then its abbreviation, "gross merchandise volume (GMV)"), all of them count
as established. Only renderings that are names (start with a capital)
take part: common-noun renderings ("year-on-year" / "over the same
period") are paraphrases a translator may vary, and abbreviations (one
word, mostly capitals: CEO, GMV, YoY) alternate with their full form in
normal style. Segments are grouped by ``Segment.doc``; segments without a
doc id are treated as one document. Set ``terms.consistency=off`` to skip it.
"""

from __future__ import annotations

from typing import Sequence

from mtcheck.checks.base import Check
from mtcheck.checks.glossary import Glossary, GlossaryEntry, find_rendering, glossary_for_options, rendering_pattern
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side, Span
from mtcheck.errors import ConfigError

CATEGORY = "Terminology"
CATEGORY_INCONSISTENT = "Terminology/Inconsistent"


class TermsCheck(Check):
    name = "terms"
    description = "glossary terms in the source without an allowed rendering in the MT; inconsistent renderings"

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        glossary = glossary_for_options(options)
        spans: list[Span] = []
        occurrences: dict[str, list[tuple[int, int]]] = {}
        entries: dict[str, GlossaryEntry] = {}
        for start, end, entry in glossary.find_in_source(segment.source):
            occurrences.setdefault(entry.zh, []).append((start, end))
            entries[entry.zh] = entry
        # One finding per term, at its first occurrence: presence is what is checked.
        for zh, places in occurrences.items():
            entry = entries[zh]
            if _first_uses(segment.mt, entry, stop_at_one=True):
                continue
            start, end = places[0]
            listed = " | ".join(entry.en)
            evidence = f"allowed renderings: {listed}"
            if len(places) > 1:
                evidence += f"; the term occurs {len(places)} times in the source"
            if entry.note:
                evidence += f"; note: {entry.note}"
            spans.append(
                Span(start, end, Side.SOURCE, CATEGORY, Severity.MAJOR,
                     f"glossary term {entry.zh} is not rendered as agreed (expected {entry.en[0]!r})",
                     evidence=evidence, suggestion=entry.en[0])
            )
        return spans

    def check_document(self, segments: Sequence[Segment], options: CheckOptions) -> dict[str, list[Span]]:
        if not _consistency_on(options):
            return {}
        glossary = glossary_for_options(options)
        found: dict[str, list[Span]] = {}
        for group in _documents(segments):
            for seg_id, span in _inconsistencies(group, glossary):
                found.setdefault(seg_id, []).append(span)
        return found


def renderings_used(mt: str, entry: GlossaryEntry) -> dict[int, list[tuple[int, int]]]:
    """Which of ``entry``'s renderings occur in ``mt``.

    Returns:
        Index into ``entry.en`` to the offsets of its occurrences; only
        renderings that occur are keys.
    """
    used: dict[int, list[tuple[int, int]]] = {}
    for i, rendering in enumerate(entry.en):
        hits = find_rendering(mt, rendering, entry.case_sensitive)
        if hits:
            used[i] = hits
    return used


def _first_uses(mt: str, entry: GlossaryEntry, stop_at_one: bool = False) -> dict[int, tuple[int, int]]:
    """Index into ``entry.en`` to the first occurrence of that rendering in ``mt``.

    What both levels of the check need: :func:`renderings_used` lists every
    occurrence, which on a long MT dense with terms meant a full scan per
    rendering for each term even where the first occurrence settles it.
    With ``stop_at_one``, stops at the first rendering found.
    """
    first: dict[int, tuple[int, int]] = {}
    for i, rendering in enumerate(entry.en):
        m = rendering_pattern(rendering, entry.case_sensitive).search(mt)
        if m:
            first[i] = m.span()
            if stop_at_one:
                break
    return first


def _counts_for_consistency(rendering: str) -> bool:
    # Names (Singles' Day / Double 11, Douyin / TikTok) must be consistent;
    # common-noun renderings (year-on-year / over the same period) are
    # paraphrases a good translator varies, and abbreviations alternate
    # with their full form.
    return rendering[:1].isupper() and not is_abbreviation(rendering)


def is_abbreviation(rendering: str) -> bool:
    """An acronym-like rendering: one word, mostly capitals (CEO, GMV, YoY, HKEX; not WeChat)."""
    upper = sum(ch.isupper() for ch in rendering)
    lower = sum(ch.islower() for ch in rendering)
    return " " not in rendering and upper >= 2 and upper >= lower


def _documents(segments: Sequence[Segment]) -> list[list[Segment]]:
    groups: dict[str | None, list[Segment]] = {}
    for seg in segments:
        groups.setdefault(seg.doc, []).append(seg)
    return list(groups.values())


def _inconsistencies(segments: list[Segment], glossary: Glossary) -> list[tuple[str, Span]]:
    # zh term -> (indices of established renderings, id of the segment that set them)
    established: dict[str, tuple[frozenset[int], str]] = {}
    out: list[tuple[str, Span]] = []
    for seg in segments:
        seen_here: set[str] = set()
        for _, _, entry in glossary.find_in_source(seg.source):
            if entry.zh in seen_here:
                continue
            seen_here.add(entry.zh)
            # Abbreviations (CEO, GMV, HKEX) alternate with the full form in good
            # English, so they neither set nor break consistency.
            used = {i: hit for i, hit in _first_uses(seg.mt, entry).items()
                    if _counts_for_consistency(entry.en[i])}
            if not used:
                continue  # missing entirely: check_segment reports it
            if entry.zh not in established:
                established[entry.zh] = (frozenset(used), seg.id)
                continue
            first, first_id = established[entry.zh]
            if first & used.keys():
                continue
            index = min(used, key=lambda i: used[i][0])  # the rendering that comes first in the MT
            start, end = used[index]
            preferred = [entry.en[i] for i in sorted(first)]
            out.append((seg.id, Span(
                start, end, Side.MT, CATEGORY_INCONSISTENT, Severity.MINOR,
                f"{entry.zh} is rendered as {seg.mt[start:end]!r} here but as "
                f"{' / '.join(repr(p) for p in preferred)} earlier in the document",
                evidence=f"first rendered in segment {first_id}; allowed renderings: {' | '.join(entry.en)}",
                suggestion=preferred[0],
            )))
    return out


def _consistency_on(options: CheckOptions) -> bool:
    value = (options.get("terms", "consistency", "on") or "").strip().lower()
    if value in {"on", "true", "yes", "1"}:
        return True
    if value in {"off", "false", "no", "0"}:
        return False
    raise ConfigError(f"terms.consistency must be on or off, got {value!r}")
