"""Mapping of a tabular/JSON record (column name → value) to a Segment.

TSV, CSV, JSONL and ``datasets`` rows share one schema: ``source`` and
``mt`` are required; references come from ``ref``, ``ref2``, ``ref3``…
(or ``refs``/``references`` holding a list); ``id`` and ``doc`` are
optional; every other key is kept as metadata.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from mtcheck.core import Origin, Segment

REQUIRED = ("source", "mt")
_REF_KEY = re.compile(r"^ref(\d*)$")
_REF_LIST_KEYS = ("refs", "references")
_RESERVED = {"source", "mt", "id", "doc", *_REF_LIST_KEYS}


def missing_keys(keys: Sequence[str]) -> list[str]:
    """Required keys absent from ``keys``."""
    present = set(keys)
    return [k for k in REQUIRED if k not in present]


def reference_keys(keys: Sequence[str]) -> list[str]:
    """``ref``, ``ref2``… in numeric order (``ref`` counts as 1)."""
    found = [(int(m.group(1) or 1), k) for k in keys if (m := _REF_KEY.match(k))]
    return [k for _, k in sorted(found)]


def record_to_segment(record: Mapping[str, Any], default_id: str, origin: Origin, default_doc: str | None) -> Segment:
    """Build a segment from one record, or a failed segment naming what is wrong.

    Args:
        record: Column name to value.
        default_id: Id to use when the record has no ``id``.
        origin: File and line of the record.
        default_doc: Document id when the record has no ``doc``.
    """
    problems: list[str] = []
    absent = missing_keys(list(record))
    if absent:
        problems.append(f"missing {', '.join(repr(k) for k in absent)}")
    fields: dict[str, str] = {}
    for key in ("source", "mt"):
        value = record.get(key)
        if value is None:
            if key not in absent:
                problems.append(f"{key!r} is null")
            fields[key] = ""
        elif isinstance(value, str):
            fields[key] = value
        else:
            problems.append(f"{key!r} must be a string, got {type(value).__name__}")
            fields[key] = str(value)
    refs: list[str] = []
    for key in reference_keys(list(record)):
        value = record[key]
        if value is None or value == "":
            continue  # a blank ref column means "no reference for this segment"
        if isinstance(value, str):
            refs.append(value)
        else:
            problems.append(f"{key!r} must be a string, got {type(value).__name__}")
    for key in _REF_LIST_KEYS:
        value = record.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            refs.append(value)
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            refs.extend(v for v in value if v)
        else:
            problems.append(f"{key!r} must be a string or a list of strings")
    seg_id = record.get("id")
    seg_id = default_id if seg_id is None or seg_id == "" else str(seg_id)
    doc = record.get("doc")
    doc = default_doc if doc is None or doc == "" else str(doc)
    metadata = {
        k: v for k, v in record.items()
        if k not in _RESERVED and not _REF_KEY.match(k)
    }
    return Segment(
        id=seg_id,
        source=fields["source"],
        mt=fields["mt"],
        references=tuple(refs),
        doc=doc,
        metadata=metadata,
        origin=origin,
        problem="; ".join(problems) or None,
    )
