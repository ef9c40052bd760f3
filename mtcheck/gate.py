"""The CI gate: thresholds a batch must meet, and which segments broke them.

A localisation pipeline runs ``mtcheck check`` and reads its exit code. The
thresholds (:class:`Thresholds`) come from the command line, an
``mtcheck.toml`` or a ``[tool.mtcheck]`` table in ``pyproject.toml``
(see :func:`mtcheck.config.load_project_config`). :func:`evaluate_gate`
returns every violated threshold with the segments that caused it, so the
last lines of the CI log say exactly what to fix.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Mapping

from mtcheck.core import BatchResult, SegmentResult, Severity
from mtcheck.errors import ConfigError


@dataclass(frozen=True)
class Thresholds:
    """Limits a batch must respect; ``None`` switches a limit off.

    Attributes:
        fail_under: Minimum batch headline score.
        metric_minimums: ``(metric, minimum)`` pairs for corpus-level scores
            where higher is better (e.g. ``("chrf", 50.0)``).
        max_critical, max_major, max_minor: Most findings allowed per severity.
        max_category: ``(category, most allowed)`` pairs; a category matches
            itself and its subcategories (``Accuracy`` covers ``Accuracy/Omission``).
        min_segment: Minimum headline score of every segment.
        max_failed: Most unreadable segments allowed.
    """

    fail_under: float | None = None
    metric_minimums: tuple[tuple[str, float], ...] = ()
    max_critical: int | None = 0
    max_major: int | None = None
    max_minor: int | None = None
    max_category: tuple[tuple[str, int], ...] = ()
    min_segment: float | None = None
    max_failed: int | None = 0

    def __post_init__(self) -> None:
        for name in ("max_critical", "max_major", "max_minor", "max_failed"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ConfigError(f"{name.replace('_', '-')} must be a non-negative integer, got {value!r}")
        for cat, limit in self.max_category:
            if not isinstance(limit, int) or limit < 0:
                raise ConfigError(f"max-category limit for {cat!r} must be a non-negative integer, got {limit!r}")


#: Keys accepted in configuration files (kebab-case, as in pyproject tables).
THRESHOLD_KEYS = {
    "fail-under": "fail_under",
    "min-metric": "metric_minimums",
    "max-critical": "max_critical",
    "max-major": "max_major",
    "max-minor": "max_minor",
    "max-category": "max_category",
    "min-segment": "min_segment",
    "max-failed": "max_failed",
}


def thresholds_from_mapping(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Threshold fields from a config table; unknown keys are the caller's to reject.

    Returns:
        :class:`Thresholds` keyword arguments for the keys present.
    """
    out: dict[str, Any] = {}
    for key, attr in THRESHOLD_KEYS.items():
        if key not in table:
            continue
        value = table[key]
        if attr in ("metric_minimums", "max_category"):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: {key} must be a table, e.g. {key} = {{ chrf = 50 }}")
            cast = _float if attr == "metric_minimums" else _int
            out[attr] = tuple((str(k), cast(v, f"{where}: {key}.{k}")) for k, v in value.items())
        elif attr in ("fail_under", "min_segment"):
            out[attr] = None if value is False else _float(value, f"{where}: {key}")
        else:
            out[attr] = None if value is False else _int(value, f"{where}: {key}")
    return out


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} must be an integer, got {value!r}")
    return value


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Violation:
    """One threshold the batch did not meet.

    Attributes:
        threshold: The threshold as the log shows it (``"max-major"``).
        limit: Its value.
        actual: What the batch had.
        segment_ids: Segments that caused it (worst first for score
            thresholds, else in input order); a streamed gate keeps only
            the first :data:`STREAM_KEEP_IDS`.
        segments: How many segments caused it (may exceed ``segment_ids``).
        kind: Which rule this is: ``fail-under``, ``min-metric``,
            ``max-severity``, ``max-category``, ``min-segment`` or ``max-failed``.
        key: The score, severity or category the rule concerns.
    """

    threshold: str
    limit: float
    actual: float
    segment_ids: tuple[str, ...] = ()
    segments: int | None = None
    kind: str = ""
    key: str = ""

    @property
    def segment_count(self) -> int:
        return len(self.segment_ids) if self.segments is None else self.segments

    def describe(self, max_ids: int = 10) -> str:
        ids = ""
        if self.segment_ids:
            shown = ", ".join(self.segment_ids[:max_ids])
            n = self.segment_count
            more = f" and {n - min(max_ids, len(self.segment_ids))} more" if n > max_ids else ""
            ids = f"; segments: {shown}{more}"
        return f"{self.threshold}: {_num(self.actual)} (limit {_num(self.limit)}){ids}"

    def blames(self, r: SegmentResult) -> bool:
        """Whether ``r`` is one of the segments that caused this violation."""
        if self.kind in ("fail-under", "min-segment"):
            value = r.scores.get(self.key)
            return r.ok and value is not None and value < self.limit
        if self.kind == "max-severity":
            return any(x.severity.value == self.key for x in r.spans)
        if self.kind == "max-category":
            return any(_category_matches(x.category, self.key) for x in r.spans)
        if self.kind == "max-failed":
            return not r.ok
        return False


@dataclass(frozen=True)
class GateResult:
    passed: bool
    violations: tuple[Violation, ...] = field(default_factory=tuple)

    @property
    def failing_segments(self) -> set[str]:
        """Ids of the failing segments the violations list (all of them for an in-memory gate)."""
        return {sid for v in self.violations for sid in v.segment_ids}

    def segment_fails(self, r: SegmentResult) -> bool:
        """Whether ``r`` caused a violation; decided from the segment alone, so it works on a stream."""
        return any(v.blames(r) for v in self.violations)


def _num(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.2f}"


def _category_matches(category: str, wanted: str) -> bool:
    return category == wanted or category.startswith(wanted + "/")


#: How many segment ids a streamed gate keeps per violation (the log shows ten; the count is exact).
STREAM_KEEP_IDS = 1000


class _Ids:
    """Segment ids in input order, at most ``keep`` of them (``None``: all), and their exact count."""

    def __init__(self, keep: int | None):
        self.keep = keep
        self.ids: list[str] = []
        self.count = 0

    def add(self, sid: str) -> None:
        self.count += 1
        if self.keep is None or len(self.ids) < self.keep:
            self.ids.append(sid)


class _Worst:
    """The ``keep`` lowest-scoring segments (``None``: all), worst first, and their exact count."""

    def __init__(self, keep: int | None):
        self.keep = keep
        self.heap: list[tuple[float, int, str]] = []  # (-score, -order, id): a max-heap of the kept
        self.count = 0
        self.lowest: float | None = None

    def add(self, score: float, sid: str) -> None:
        self.count += 1
        self.lowest = score if self.lowest is None else min(self.lowest, score)
        item = (-score, -self.count, sid)
        if self.keep is None or len(self.heap) < self.keep:
            heapq.heappush(self.heap, item)
        elif item > self.heap[0]:
            heapq.heapreplace(self.heap, item)

    def ids(self) -> tuple[str, ...]:
        # Worst first; equal scores in input order (as a stable sort of the batch gives).
        return tuple(sid for _, _, sid in sorted(self.heap, key=lambda t: (-t[0], -t[1])))


class GateTally:
    """A gate fed one segment result at a time, for batches that are never held in memory.

    :func:`evaluate_gate` uses it over a whole batch with every id kept; the
    streamed ``check --out`` feeds it the results read back from the output
    file with :data:`STREAM_KEEP_IDS` ids per violation.

    Args:
        thresholds: The limits.
        headline: The score key that ``fail-under`` and ``min-segment`` gate.
        keep: Most segment ids kept per violation; ``None`` keeps all.
    """

    def __init__(self, thresholds: Thresholds, headline: str, keep: int | None = None):
        self.t = thresholds
        self.headline = headline
        self.under_bar = _Worst(keep)
        self.under_segment = _Worst(keep)
        self.severity = {s.value: 0 for s in Severity}
        self.severity_ids = {s.value: _Ids(keep) for s in Severity}
        self.category = {cat: 0 for cat, _ in thresholds.max_category}
        self.category_ids = {cat: _Ids(keep) for cat, _ in thresholds.max_category}
        self.failed = _Ids(keep)
        self.segments = 0

    def add(self, r: SegmentResult) -> None:
        self.segments += 1
        if not r.ok:
            self.failed.add(r.segment.id)
        value = r.scores.get(self.headline) if r.ok else None
        if value is not None:
            if self.t.fail_under is not None and value < self.t.fail_under:
                self.under_bar.add(value, r.segment.id)
            if self.t.min_segment is not None and value < self.t.min_segment:
                self.under_segment.add(value, r.segment.id)
        seen_sev: set[str] = set()
        for x in r.spans:
            self.severity[x.severity.value] += 1
            seen_sev.add(x.severity.value)
        for sev in seen_sev:
            self.severity_ids[sev].add(r.segment.id)
        for cat in self.category:
            n = sum(1 for x in r.spans if _category_matches(x.category, cat))
            if n:
                self.category[cat] += n
                self.category_ids[cat].add(r.segment.id)

    def result(self, scores: Mapping[str, float | None]) -> GateResult:
        """The verdict, given the batch's corpus scores.

        Raises:
            ConfigError: a metric threshold names a score the batch does not
                have, or a metric where lower is better.
        """
        t = self.t
        out: list[Violation] = []
        head = scores.get(self.headline)
        if t.fail_under is not None and head is not None and head < t.fail_under:
            # The segments that pull the batch under the bar, worst first.
            out.append(Violation(f"fail-under ({self.headline})", t.fail_under, head, self.under_bar.ids(),
                                 self.under_bar.count, "fail-under", self.headline))
        for metric, minimum in t.metric_minimums:
            if metric not in scores:
                raise ConfigError(f"min-metric names {metric!r}, which this run did not compute "
                                  f"(computed: {', '.join(scores)})")
            if metric == "ter":
                raise ConfigError("min-metric cannot gate TER (lower is better); gate chrF or BLEU instead")
            value = scores[metric]
            if value is not None and value < minimum:
                out.append(Violation(f"min-metric {metric}", minimum, value, kind="min-metric", key=metric))
        for sev, limit in ((Severity.CRITICAL, t.max_critical), (Severity.MAJOR, t.max_major),
                           (Severity.MINOR, t.max_minor)):
            count = self.severity[sev.value]
            if limit is not None and count > limit:
                ids = self.severity_ids[sev.value]
                out.append(Violation(f"max-{sev.value}", limit, count, tuple(ids.ids), ids.count,
                                     "max-severity", sev.value))
        for cat, limit in t.max_category:
            if self.category[cat] > limit:
                ids = self.category_ids[cat]
                out.append(Violation(f"max-category {cat}", limit, self.category[cat], tuple(ids.ids), ids.count,
                                     "max-category", cat))
        if t.min_segment is not None and self.under_segment.count:
            low = self.under_segment
            ordered = _input_order(low)
            out.append(Violation(f"min-segment ({self.headline})", t.min_segment, low.lowest, ordered, low.count,
                                 "min-segment", self.headline))
        if t.max_failed is not None and self.failed.count > t.max_failed:
            out.append(Violation("max-failed (unreadable segments)", t.max_failed, self.failed.count,
                                 tuple(self.failed.ids), self.failed.count, "max-failed"))
        return GateResult(passed=not out, violations=tuple(out))


def _input_order(worst: _Worst) -> tuple[str, ...]:
    return tuple(sid for _, _, sid in sorted(worst.heap, key=lambda t: -t[1]))


def evaluate_gate(batch: BatchResult, thresholds: Thresholds) -> GateResult:
    """Check ``batch`` against ``thresholds``.

    Raises:
        ConfigError: a metric threshold names a score the batch does not have,
            or a metric where lower is better.
    """
    tally = GateTally(thresholds, batch.headline)
    for r in batch.segments:
        tally.add(r)
    return tally.result(batch.scores)
