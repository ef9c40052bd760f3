"""The data model every part of mtcheck shares.

A batch is a stream of :class:`Segment` objects (one Chinese source sentence,
its English MT, zero or more references). Scoring a segment gives a
:class:`SegmentResult` with metric scores and :class:`Span` findings; segments
sharing a ``doc`` are summarised in a :class:`DocumentResult`, and the whole
run in a :class:`BatchResult`. ``to_dict`` methods give the JSON form
documented in ``docs/schema.md`` (schema version :data:`SCHEMA_VERSION`).

A segment that could not be read (a malformed JSONL line, a short CSV row)
is still a :class:`Segment`, with ``problem`` set: it travels through the
pipeline and comes out as a failed result, so no input is ever lost.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Mapping

SCHEMA_VERSION = "1.1"


class Severity(str, enum.Enum):
    """MQM severities, ordered minor < major < critical."""

    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @property
    def mqm_weight(self) -> float:
        """Penalty weight as in MQM scoring (Freitag et al. 2021; critical as 25, like non-translation)."""
        return _SEVERITY_WEIGHT[self]


_SEVERITY_RANK = {Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}
_SEVERITY_WEIGHT = {Severity.MINOR: 1.0, Severity.MAJOR: 5.0, Severity.CRITICAL: 25.0}


class Side(str, enum.Enum):
    """Which text a span's character offsets index."""

    MT = "mt"
    SOURCE = "source"


@dataclass(frozen=True)
class FieldPos:
    """Where one text field starts in its file, so a span can be mapped to a line and column.

    Attributes:
        path: File holding the field.
        line: 1-based line where the field's raw text starts.
        column: 1-based column (code points) of the field's first raw character.
        escape: How the field is written in the file: ``"none"`` (verbatim),
            ``"csv"`` (inside CSV double quotes, ``""`` for a quote),
            ``"json"`` (a JSON string literal as ``json.dumps`` writes it
            with ``ensure_ascii=False``), ``"json-ascii"`` (the same with
            ``ensure_ascii=True``), or ``"opaque"`` (escaped some other way:
            only the field's start is known).
    """

    path: str
    line: int
    column: int
    escape: str = "none"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.column, "escape": self.escape}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FieldPos":
        return cls(data["path"], data["line"], data["column"], data.get("escape", "none"))


@dataclass(frozen=True)
class Origin:
    """Where a segment came from, so findings can point back at the input line.

    ``line`` is where the record starts; ``source_pos``/``mt_pos`` locate the
    two text fields when the reader knows them.
    """

    path: str
    line: int | None = None
    source_pos: FieldPos | None = None
    mt_pos: FieldPos | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "source_pos": self.source_pos.to_dict() if self.source_pos else None,
            "mt_pos": self.mt_pos.to_dict() if self.mt_pos else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Origin":
        return cls(data["path"], data.get("line"),
                   FieldPos.from_dict(data["source_pos"]) if data.get("source_pos") else None,
                   FieldPos.from_dict(data["mt_pos"]) if data.get("mt_pos") else None)


@dataclass(frozen=True)
class Segment:
    """One unit to check: a Chinese source, its English MT and optional references.

    Attributes:
        id: Unique id within the batch (given by the input or ``file:line``).
        source: Chinese source text.
        mt: English machine translation.
        references: Zero or more English reference translations.
        doc: Document id; segments sharing it are summarised together.
        metadata: Any further columns or keys of the input, kept verbatim.
        origin: File and line the segment was read from.
        problem: Why the segment could not be read, if it could not; such a
            segment is reported as failed, never dropped.
    """

    id: str
    source: str
    mt: str
    references: tuple[str, ...] = ()
    doc: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    origin: Origin | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "doc": self.doc,
            "source": self.source,
            "mt": self.mt,
            "references": list(self.references),
            "metadata": dict(self.metadata),
            "origin": self.origin.to_dict() if self.origin else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Segment":
        """The segment of a result record as :meth:`to_dict` wrote it (``problem`` is not stored)."""
        return cls(id=data["id"], source=data["source"], mt=data["mt"],
                   references=tuple(data.get("references") or ()), doc=data.get("doc"),
                   metadata=dict(data.get("metadata") or {}),
                   origin=Origin.from_dict(data["origin"]) if data.get("origin") else None)


@dataclass(frozen=True)
class Span:
    """A finding an editor must look at, anchored at character offsets.

    Offsets are Python string indices (code points) into ``Segment.mt`` or
    ``Segment.source`` depending on ``side``; ``end`` is exclusive. A finding
    about the whole segment uses ``start == end == 0`` only when no text
    exists to anchor it (e.g. an empty MT).
    """

    start: int
    end: int
    side: Side
    category: str
    severity: Severity
    message: str
    evidence: str = ""
    check: str = ""
    suggestion: str | None = None
    confidence: float | None = None

    def text(self, segment: Segment) -> str:
        """The text this span covers in ``segment``."""
        base = segment.mt if self.side is Side.MT else segment.source
        return base[self.start : self.end]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "side": self.side.value,
            "category": self.category,
            "severity": self.severity.value,
            "message": self.message,
            "evidence": self.evidence,
            "check": self.check,
            "suggestion": self.suggestion,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Span":
        return cls(start=data["start"], end=data["end"], side=Side(data["side"]), category=data["category"],
                   severity=Severity(data["severity"]), message=data["message"],
                   evidence=data.get("evidence", ""), check=data.get("check", ""),
                   suggestion=data.get("suggestion"), confidence=data.get("confidence"))


@dataclass
class SegmentResult:
    """Scores and findings for one segment.

    ``scores`` maps a metric name to its sentence-level value, or ``None``
    where the metric does not apply (e.g. chrF without a reference).
    ``status`` is ``"ok"`` or ``"failed"``; a failed result carries ``error``.
    """

    segment: Segment
    scores: dict[str, float | None] = field(default_factory=dict)
    spans: list[Span] = field(default_factory=list)
    status: str = "ok"
    error: str | None = None
    #: Texts a model made for the segment, by kind (``back_translation``, ``pseudo_reference``).
    texts: dict[str, str] = field(default_factory=dict)
    #: By metric, the sufficient statistics its corpus score sums (sacrebleu's), kept so
    #: that document and batch scores need no second pass; not written to any output.
    statistics: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def severity_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for span in self.spans:
            counts[span.severity.value] += 1
        return counts

    def penalty(self) -> float:
        """Summed MQM-style weight of the findings (0 = nothing flagged)."""
        return sum(span.severity.mqm_weight for span in self.spans)

    def to_dict(self) -> dict[str, Any]:
        out = self.segment.to_dict()
        out.update(
            {
                "status": self.status,
                "error": self.error,
                "scores": dict(self.scores),
                "spans": [s.to_dict() for s in self.spans],
                "severity_counts": self.severity_counts(),
            }
        )
        if self.texts:
            # Only when a model made some (schema 1.1), so outputs without them are as in 1.0.
            out["texts"] = dict(self.texts)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SegmentResult":
        """A result back from its JSON form (a ``segment`` record of the JSON Lines output)."""
        return cls(segment=Segment.from_dict(data), scores=dict(data.get("scores") or {}),
                   spans=[Span.from_dict(s) for s in data.get("spans") or ()],
                   status=data.get("status", "ok"), error=data.get("error"), texts=dict(data.get("texts") or {}))


@dataclass
class DocumentResult:
    """Corpus-level scores and finding counts over the segments of one document."""

    doc: str
    segment_ids: list[str]
    scores: dict[str, float | None] = field(default_factory=dict)
    severity_counts: dict[str, int] = field(default_factory=dict)
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "segments": len(self.segment_ids),
            "segment_ids": list(self.segment_ids),
            "scores": dict(self.scores),
            "severity_counts": dict(self.severity_counts),
            "failed": self.failed,
        }


@dataclass
class BatchResult:
    """Everything one run produced.

    Attributes:
        segments: One result per input segment, in input order.
        documents: One result per document, in order of first appearance.
        scores: Corpus-level metric scores over the whole batch.
        signatures: Metric name to its reproducibility signature.
        version: mtcheck version that produced the result.
        headline: Key in ``scores`` of the one headline score.
        notes: What the run skipped or adjusted (e.g. a metric whose model is
            not installed), for the summary.
    """

    segments: list[SegmentResult]
    documents: list[DocumentResult]
    scores: dict[str, float | None]
    signatures: dict[str, str]
    version: str
    headline: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[SegmentResult]:
        return [r for r in self.segments if not r.ok]

    def severity_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for r in self.segments:
            for k, v in r.severity_counts().items():
                counts[k] += v
        return counts

    def category_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.segments:
            for span in r.spans:
                counts[span.category] = counts.get(span.category, 0) + 1
        return dict(sorted(counts.items()))

    def summary_dict(self) -> dict[str, Any]:
        return {
            "segments": len(self.segments),
            "headline": self.headline,
            "headline_score": self.scores.get(self.headline),
            "failed": len(self.failed),
            "failed_ids": [r.segment.id for r in self.failed],
            "documents": len(self.documents),
            "scores": dict(self.scores),
            "severity_counts": self.severity_counts(),
            "category_counts": self.category_counts(),
            "notes": list(self.notes),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "mtcheck_version": self.version,
            "signatures": dict(self.signatures),
            "summary": self.summary_dict(),
            "documents": [d.to_dict() for d in self.documents],
            "segments": [r.to_dict() for r in self.segments],
        }
