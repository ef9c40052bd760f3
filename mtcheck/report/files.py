"""Machine-readable outputs: JSON (one document), JSON Lines and CSV.

JSON follows ``docs/schema.md`` (``schema_version`` inside). JSON Lines has
one ``{"record": "segment", ...}`` object per segment, then one per document
and a final ``{"record": "summary", ...}``, so it can be read as it is
written. CSV has one row per segment with scores, counts and findings in a
compact ``severity:category@side[start:end]`` form.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO

from mtcheck.core import BatchResult, SegmentResult


def _open(path: str | Path) -> IO[str]:
    import sys

    if str(path) == "-":
        return _NoClose(sys.stdout)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # A lone surrogate (possible only from an API caller) is written as its \\udXXX escape, which in
    # JSON is the same string again, instead of failing the whole write.
    return open(path, "w", encoding="utf-8", errors="backslashreplace", newline="")


class _NoClose:
    def __init__(self, stream):
        self._s = stream

    def write(self, text):
        return self._s.write(text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._s.flush()


def _jsonable(value):
    """JSON form of metadata values JSON has no type for (dates, bytes, decimals from Parquet columns)."""
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return str(value)


def write_json(batch: BatchResult, path: str | Path) -> None:
    """Write the whole result as one JSON document (``-`` for stdout)."""
    with _open(path) as fh:
        json.dump(batch.to_dict(), fh, ensure_ascii=False, indent=2, default=_jsonable)
        fh.write("\n")


def write_jsonl(batch: BatchResult, path: str | Path) -> None:
    """Write one JSON object per line: segments, documents, then the summary."""
    with _open(path) as fh:
        for r in batch.segments:
            fh.write(json.dumps({"record": "segment", **r.to_dict()}, ensure_ascii=False, default=_jsonable) + "\n")
        for d in batch.documents:
            fh.write(json.dumps({"record": "document", **d.to_dict()}, ensure_ascii=False) + "\n")
        summary = {
            "record": "summary",
            "schema_version": batch.to_dict()["schema_version"],
            "mtcheck_version": batch.version,
            "signatures": batch.signatures,
            **batch.summary_dict(),
        }
        fh.write(json.dumps(summary, ensure_ascii=False) + "\n")


def finding_codes(result: SegmentResult) -> str:
    """Compact one-cell form of a segment's findings."""
    return "; ".join(
        f"{s.severity.value}:{s.category}@{s.side.value}[{s.start}:{s.end}]" for s in result.spans
    )


def write_csv(batch: BatchResult, path: str | Path) -> None:
    """Write one row per segment (``-`` for stdout)."""
    metric_names = list(batch.scores)
    header = ["id", "doc", "status", "error", *metric_names, "minor", "major", "critical",
              "findings", "source", "mt"]
    with _open(path) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in batch.segments:
            counts = r.severity_counts()
            scores = ["" if r.scores.get(m) is None else f"{r.scores[m]:.4f}" for m in metric_names]
            writer.writerow([r.segment.id, r.segment.doc or "", r.status, r.error or "", *scores,
                             counts["minor"], counts["major"], counts["critical"], finding_codes(r),
                             r.segment.source, r.segment.mt])
