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

The same rows, kept rater by rater (:func:`rater_marks`), give the scores of
a span detector against the humans and the **human ceiling** — each rater
scored against each other rater of the same item (:func:`rater_agreement`):

* character precision/recall/F1, micro-averaged over (prediction, gold) pairs;
* span F1, where a predicted span is right if it overlaps a gold span and a
  gold span is found if a prediction overlaps it;
* severity-weighted character F1 in the manner of the WMT23 QE task 2: a
  flagged character counts 1 when its severity matches the gold one and 0.5
  when it does not (the severities are minor and major; critical counts as major).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from mtcheck.metaeval.loaders import _integer, mqm_rows

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


#: Character index -> severity ("minor" or "major") of one rater's (or one detector's) marks on one text.
Marks = Mapping[int, str]


def _severity(text: str) -> str:
    sev = text.strip().lower()
    return "major" if sev.startswith(("major", "critical")) else "minor"


@dataclass(frozen=True)
class FittingRow:
    """One MQM error row whose tag-free text is the item's chosen text.

    Attributes:
        key: ``(system, item)`` as the dataset names them.
        rater: The rater who wrote the row.
        spans: ``(start, end)`` of its ``<v>`` spans in that text.
        category: The MQM category as the file writes it.
        severity: The severity as the file writes it (``No-error``/``Neutral`` rows included).
    """

    key: tuple[str, int]
    rater: str
    spans: tuple[tuple[int, int], ...]
    category: str
    severity: str

    @property
    def is_error(self) -> bool:
        return self.severity.strip().lower() not in _NOT_ERRORS


def fitting_rows(
    errors_path: Path,
    chosen: Mapping[tuple[str, int], str],
    *,
    rename: Callable[[str], str] = lambda s: s,
    segid_map: Mapping[int, int] | None = None,
    side: str = "target",
) -> Iterator[FittingRow]:
    """The rows of an MQM error file whose tag-free target (or source) is the item's chosen text.

    Args:
        errors_path: A Google MQM error file.
        chosen: ``(system, item) -> text`` as the dataset loader chose it.
        rename: Maps the file's system names to the dataset's.
        segid_map: Maps the file's seg ids to the dataset's item ids (unknown ids are skipped).
        side: ``"target"`` (the MT) or ``"source"`` (where omissions are marked).

    Raises:
        InputError: the file is not a Google MQM error file.
        ValueError: ``side`` is neither ``"target"`` nor ``"source"``.
    """
    if side not in ("target", "source"):
        raise ValueError(f"side must be 'target' or 'source', not {side!r}")
    for number, fields in mqm_rows(errors_path):
        system, _doc, _doc_id, seg_text, rater, source, target, category, severity = fields
        seg = _integer(seg_text, errors_path, number, "seg_id")
        if segid_map is not None:
            seg = segid_map.get(seg, -1)
        key = (rename(system), seg)
        wanted = chosen.get(key)
        if wanted is None:
            continue
        text, spans = tagged_spans(source if side == "source" else target)
        if text == wanted:
            yield FittingRow(key, rater, tuple(spans), category, severity)


def rater_marks(
    errors_path: Path,
    chosen_mt: Mapping[tuple[str, int], str],
    *,
    rename: Callable[[str], str] = lambda s: s,
    segid_map: Mapping[int, int] | None = None,
    side: str = "target",
) -> dict[tuple[str, int], dict[str, dict[int, str]]]:
    """Per item, per rater who saw its chosen MT, the characters that rater marked and their severity.

    A rater with no error on the item has an empty mapping; a character
    marked both minor and major by one rater is major.

    With ``side="source"`` the marks are those raters put in the source
    (omissions, in the WMT files), and ``chosen_mt`` maps each item to its
    chosen *source* text instead.

    Args:
        errors_path: A Google MQM error file.
        chosen_mt: ``(system, item) -> MT text`` as the dataset loader chose it
            (system names and item ids as in the dataset).
        rename: Maps the file's system names to the dataset's.
        segid_map: Maps the file's seg ids to the dataset's item ids.

    Raises:
        InputError: the file is not a Google MQM error file.
        ValueError: ``side`` is neither ``"target"`` nor ``"source"``.
    """
    out: dict[tuple[str, int], dict[str, dict[int, str]]] = {}
    for row in fitting_rows(errors_path, chosen_mt, rename=rename, segid_map=segid_map, side=side):
        marks = out.setdefault(row.key, {}).setdefault(row.rater, {})
        if not row.is_error:
            continue
        sev = _severity(row.severity)
        n = len(chosen_mt[row.key])
        for a, b in row.spans:
            for k in range(a, min(b, n)):
                if marks.get(k) != "major":
                    marks[k] = sev
    return out


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
    if severities is None:
        return _rates(rater_marks(errors_path, chosen_mt, rename=rename, segid_map=segid_map), chosen_mt, None)
    # A character one rater marked both minor and major is major in rater_marks; counting minor
    # errors alone needs the rows, so only major-or-not is derived from the marks.
    if severities - {"major", "critical"}:
        raise ValueError(f"severities: only major (and critical) can be selected, got {sorted(severities)}")
    return _rates(rater_marks(errors_path, chosen_mt, rename=rename, segid_map=segid_map), chosen_mt, "major")


def _rates(marks: Mapping[tuple[str, int], Mapping[str, Marks]], chosen_mt, only: str | None):
    out: dict[tuple[str, int], list[float]] = {}
    for key, raters in marks.items():
        counts = [0] * len(chosen_mt[key])
        for m in raters.values():
            for k, sev in m.items():
                if only is None or sev == only:
                    counts[k] += 1
        out[key] = [c / len(raters) for c in counts]
    return out


@dataclass(frozen=True)
class SpanScores:
    """Agreement of predicted with gold error characters, micro-averaged over (prediction, gold) pairs.

    Attributes:
        precision, recall, f1: Character level.
        span_f1: Span level (any overlap counts).
        severity_f1: Character F1 with half credit for the wrong severity.
        pairs: How many (prediction, gold) pairs were scored.
    """

    precision: float
    recall: float
    f1: float
    span_f1: float
    severity_f1: float
    pairs: int


def char_runs(chars: Iterable[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive character indices, as ``(start, end)`` pairs."""
    out: list[list[int]] = []
    for i in sorted(set(chars)):
        if out and out[-1][1] == i:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1])
    return [(a, b) for a, b in out]


def _f(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def span_scores(pairs: Iterable[tuple[Marks, Marks]], major_only: bool = False) -> SpanScores:
    """Score predicted marks against gold marks.

    Args:
        pairs: ``(predicted, gold)`` per scored text; each maps a character
            index to ``"minor"`` or ``"major"`` (a plain set of indices is
            read as all minor).
        major_only: Keep only major marks on both sides first.
    """
    tp = fp = fn = 0
    weighted = 0.0
    n_pred = n_gold = 0
    sp_hit = sp_n = sg_hit = sg_n = 0
    count = 0
    for pred, gold in pairs:
        count += 1
        pred = _as_marks(pred)
        gold = _as_marks(gold)
        if major_only:
            pred = {k: v for k, v in pred.items() if v == "major"}
            gold = {k: v for k, v in gold.items() if v == "major"}
        both = pred.keys() & gold.keys()
        tp += len(both)
        fp += len(pred) - len(both)
        fn += len(gold) - len(both)
        weighted += sum(1.0 if pred[k] == gold[k] else 0.5 for k in both)
        n_pred += len(pred)
        n_gold += len(gold)
        pr, gr = char_runs(pred), char_runs(gold)
        sp_n += len(pr)
        sg_n += len(gr)
        sp_hit += sum(any(a < d and c < b for c, d in gr) for a, b in pr)
        sg_hit += sum(any(a < d and c < b for c, d in pr) for a, b in gr)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    sev_f = _f(weighted / n_pred if n_pred else 0.0, weighted / n_gold if n_gold else 0.0)
    span_f = _f(sp_hit / sp_n if sp_n else 0.0, sg_hit / sg_n if sg_n else 0.0)
    return SpanScores(p, r, _f(p, r), span_f, sev_f, count)


def union_marks(raters: Mapping[str, Marks]) -> dict[int, str]:
    """The characters any rater marked; major where any rater marked it major."""
    out: dict[int, str] = {}
    for marks in raters.values():
        for k, sev in marks.items():
            if out.get(k) != "major":
                out[k] = sev
    return out


def _as_marks(marks) -> dict[int, str]:
    if isinstance(marks, Mapping):
        return dict(marks)
    return {k: "minor" for k in marks}


def rater_agreement(marks: Mapping[tuple[str, int], Mapping[str, Marks]], major_only: bool = False) -> SpanScores:
    """The human ceiling: every rater of an item scored against every other rater of it.

    Items with fewer than two raters are skipped. Over ordered pairs,
    precision and recall are equal, so the character F1 is their common value.
    """
    return span_scores(((raters[a], raters[b]) for raters in marks.values() if len(raters) > 1
                        for a, b in permutations(sorted(raters), 2)), major_only)


def against_raters(predicted: Mapping[tuple[str, int], Marks],
                   marks: Mapping[tuple[str, int], Mapping[str, Marks]], major_only: bool = False,
                   min_raters: int = 1) -> SpanScores:
    """A detector scored against each rater of each item separately (comparable to :func:`rater_agreement`).

    Args:
        predicted: Per item, the detector's marks (items it has none for count as unflagged).
        marks: Per item, per rater, the gold marks (from :func:`rater_marks`).
        major_only: Keep only major marks on both sides.
        min_raters: Skip items with fewer raters (2 gives the items of the human ceiling).
    """
    return span_scores(((predicted.get(key, {}), raters[r]) for key, raters in marks.items()
                        if len(raters) >= min_raters for r in sorted(raters)), major_only)


def token_rates(char_rates: Iterable[float], offsets: Iterable[tuple[int, int]]) -> list[float]:
    """Per token (character offsets), the highest error rate of its characters (0 for empty tokens)."""
    rates = list(char_rates)
    out = []
    for a, b in offsets:
        window = rates[a:b]
        out.append(max(window) if window else 0.0)
    return out
