"""The CI gate: thresholds a batch must meet, and which segments broke them.

A localisation pipeline runs ``mtcheck check`` and reads its exit code. The
thresholds (:class:`Thresholds`) come from the command line, an
``mtcheck.toml`` or a ``[tool.mtcheck]`` table in ``pyproject.toml``
(see :func:`mtcheck.config.load_project_config`). :func:`evaluate_gate`
returns every violated threshold with the segments that caused it, so the
last lines of the CI log say exactly what to fix.
"""

from __future__ import annotations

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
    """One threshold the batch did not meet."""

    threshold: str
    limit: float
    actual: float
    segment_ids: tuple[str, ...] = ()

    def describe(self, max_ids: int = 10) -> str:
        ids = ""
        if self.segment_ids:
            shown = ", ".join(self.segment_ids[:max_ids])
            more = f" and {len(self.segment_ids) - max_ids} more" if len(self.segment_ids) > max_ids else ""
            ids = f"; segments: {shown}{more}"
        return f"{self.threshold}: {_num(self.actual)} (limit {_num(self.limit)}){ids}"


@dataclass(frozen=True)
class GateResult:
    passed: bool
    violations: tuple[Violation, ...] = field(default_factory=tuple)

    @property
    def failing_segments(self) -> set[str]:
        return {sid for v in self.violations for sid in v.segment_ids}


def _num(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.2f}"


def _with(results: list[SegmentResult], pred) -> tuple[str, ...]:
    return tuple(r.segment.id for r in results if pred(r))


def _category_matches(category: str, wanted: str) -> bool:
    return category == wanted or category.startswith(wanted + "/")


def evaluate_gate(batch: BatchResult, thresholds: Thresholds) -> GateResult:
    """Check ``batch`` against ``thresholds``.

    Raises:
        ConfigError: a metric threshold names a score the batch does not have,
            or a metric where lower is better.
    """
    t = thresholds
    segs = batch.segments
    out: list[Violation] = []
    head = batch.scores.get(batch.headline)
    if t.fail_under is not None and head is not None and head < t.fail_under:
        # The segments that pull the batch under the bar, worst first.
        worst = sorted((r for r in segs if r.ok and r.scores.get(batch.headline) is not None
                        and r.scores[batch.headline] < t.fail_under),
                       key=lambda r: r.scores[batch.headline])
        out.append(Violation(f"fail-under ({batch.headline})", t.fail_under, head,
                             tuple(r.segment.id for r in worst)))
    for metric, minimum in t.metric_minimums:
        if metric not in batch.scores:
            raise ConfigError(f"min-metric names {metric!r}, which this run did not compute "
                              f"(computed: {', '.join(batch.scores)})")
        if metric == "ter":
            raise ConfigError("min-metric cannot gate TER (lower is better); gate chrF or BLEU instead")
        value = batch.scores[metric]
        if value is not None and value < minimum:
            out.append(Violation(f"min-metric {metric}", minimum, value))
    for sev, limit in ((Severity.CRITICAL, t.max_critical), (Severity.MAJOR, t.max_major),
                       (Severity.MINOR, t.max_minor)):
        if limit is None:
            continue
        count = batch.severity_counts()[sev.value]
        if count > limit:
            out.append(Violation(f"max-{sev.value}", limit, count,
                                 _with(segs, lambda r, s=sev: any(x.severity is s for x in r.spans))))
    for cat, limit in t.max_category:
        hits = [r for r in segs if any(_category_matches(x.category, cat) for x in r.spans)]
        count = sum(1 for r in segs for x in r.spans if _category_matches(x.category, cat))
        if count > limit:
            out.append(Violation(f"max-category {cat}", limit, count, tuple(r.segment.id for r in hits)))
    if t.min_segment is not None:
        low = _with(segs, lambda r: r.ok and r.scores.get(batch.headline) is not None
                    and r.scores[batch.headline] < t.min_segment)
        if low:
            worst = min(r.scores[batch.headline] for r in segs if r.segment.id in set(low))
            out.append(Violation(f"min-segment ({batch.headline})", t.min_segment, worst, low))
    if t.max_failed is not None and len(batch.failed) > t.max_failed:
        out.append(Violation("max-failed (unreadable segments)", t.max_failed, len(batch.failed),
                             tuple(r.segment.id for r in batch.failed)))
    return GateResult(passed=not out, violations=tuple(out))
