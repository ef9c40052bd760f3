"""Human error spans of the Google MQM files as per-character error rates.

Each row of an MQM error file repeats the target with the erroneous span
wrapped in ``<v>…</v>`` (omissions mark the source instead). For the token
head of the QE model we need, per item and per character of the MT text the
dataset chose (:mod:`mtcheck.metaeval.loaders`), the share of raters who
marked it: 0 = nobody, 1 = every rater of that item.

Only rows whose tag-free target equals the chosen MT text count (rows with a
rater's pasted post-edit fragment do not fit the text and are left out, with
their rater); an item none of whose rows fit gets no character targets.
Neutral and No-error rows count their rater as having seen the text without
marking anything.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterable, Mapping

from mtcheck.errors import InputError
from mtcheck.metaeval.loaders import _MQM_COLUMNS, _lines, _integer

_OPEN, _CLOSE = "<v>", "</v>"
_TAG = re.compile(r"</?v>")
_NOT_ERRORS = {"no-error", "neutral"}


def tagged_spans(target: str) -> tuple[str, list[tuple[int, int]]]:
    """Strip ``<v>…</v>`` tags; return the text and the tagged spans' offsets in it.

    An unclosed ``<v>`` runs to the end; a stray ``</v>`` is dropped.
    """
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    start: int | None = None
    pos = 0
    length = 0
    for m in _TAG.finditer(target):
        chunk = target[pos:m.start()]
        text.append(chunk)
        length += len(chunk)
        if m.group() == _OPEN:
            if start is None:
                start = length
        elif start is not None:
            if length > start:
                spans.append((start, length))
            start = None
        pos = m.end()
    tail = target[pos:]
    text.append(tail)
    length += len(tail)
    if start is not None and length > start:
        spans.append((start, length))
    return "".join(text), spans


def error_char_rates(
    errors_path: Path,
    chosen_mt: Mapping[tuple[str, int], str],
    *,
    rename: Callable[[str], str] = lambda s: s,
    segid_map: Mapping[int, int] | None = None,
    severities: frozenset[str] | None = None,
) -> dict[tuple[str, int], list[float]]:
    """Per item, per character of its chosen MT, the share of raters who marked it.

    Args:
        errors_path: A Google MQM error file.
        chosen_mt: ``(system, item) -> MT text`` as the dataset loader chose it
            (system names and item ids as in the dataset).
        rename: Maps the file's system names to the dataset's.
        segid_map: Maps the file's seg ids to the dataset's item ids.
        severities: Count only errors of these severities (lower case, e.g.
            ``{"major"}``); default: every error.
    """
    seen: dict[tuple[str, int], set[str]] = {}
    marks: dict[tuple[str, int], dict[str, list[tuple[int, int]]]] = {}
    lines = _lines(errors_path)
    header = next(lines, None)
    if header is None or tuple(header[1].split("\t")) != _MQM_COLUMNS:
        raise InputError(f"expected the tab-separated header {' '.join(_MQM_COLUMNS)}", errors_path, 1)
    for number, line in lines:
        fields = line.split("\t")
        if len(fields) != len(_MQM_COLUMNS):
            raise InputError(f"expected {len(_MQM_COLUMNS)} tab-separated fields, found {len(fields)}",
                             errors_path, number)
        system, _doc, _doc_id, seg_text, rater, _source, target, _category, severity = fields
        seg = _integer(seg_text, errors_path, number, "seg_id")
        if segid_map is not None:
            seg = segid_map.get(seg, -1)
        key = (rename(system), seg)
        mt = chosen_mt.get(key)
        if mt is None:
            continue
        text, spans = tagged_spans(target)
        if text != mt:
            continue
        seen.setdefault(key, set()).add(rater)
        sev = severity.strip().lower()
        if sev not in _NOT_ERRORS and spans and (severities is None or sev in severities):
            marks.setdefault(key, {}).setdefault(rater, []).extend(spans)
    out: dict[tuple[str, int], list[float]] = {}
    for key, raters in seen.items():
        counts = [0] * len(chosen_mt[key])
        for spans in marks.get(key, {}).values():
            hit = [False] * len(counts)
            for a, b in spans:
                for k in range(a, min(b, len(counts))):
                    hit[k] = True
            for k, h in enumerate(hit):
                counts[k] += h
        out[key] = [c / len(raters) for c in counts]
    return out


def token_rates(char_rates: Iterable[float], offsets: Iterable[tuple[int, int]]) -> list[float]:
    """Per token (character offsets), the highest error rate of its characters (0 for empty tokens)."""
    rates = list(char_rates)
    out = []
    for a, b in offsets:
        window = rates[a:b]
        out.append(max(window) if window else 0.0)
    return out
