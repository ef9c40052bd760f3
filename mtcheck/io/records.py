"""Mapping of a tabular/JSON record (column name → value) to a Segment.

TSV, CSV, JSONL and ``datasets`` rows share one schema: ``source`` and
``mt`` are required; references come from ``ref``, ``ref2``, ``ref3``…
(or ``refs``/``references`` holding a list); ``id`` and ``doc`` are
optional; every other key is kept as metadata.

JSON can escape half a surrogate pair (``"\\ud800"``), which decodes to a
string no output can encode. Such a record is read with the surrogates
replaced by U+FFFD and marked failed with the reason, so it is reported
rather than scored on mangled text or crashing a writer. Metadata nested
more than :data:`MAX_METADATA_DEPTH` levels is kept as its JSON text.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from mtcheck.core import Origin, Segment

REQUIRED = ("source", "mt")
_REF_KEY = re.compile(r"^ref(\d*)$")
_REF_LIST_KEYS = ("refs", "references")
_RESERVED = {"source", "mt", "id", "doc", *_REF_LIST_KEYS}
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Deeper metadata is stored as JSON text, so writers never recurse without bound.
MAX_METADATA_DEPTH = 32


def has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate code point (not encodable as UTF-8)."""
    return _SURROGATE.search(text) is not None


def _replace_surrogates(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def _scan(value: Any) -> tuple[bool, int]:
    """Whether ``value`` holds a lone surrogate anywhere, and how deeply it nests (iteratively)."""
    found = False
    depth = 0
    stack = [(value, 0)]
    while stack:
        item, d = stack.pop()
        depth = max(depth, d)
        if isinstance(item, str):
            found = found or has_surrogate(item)
        elif isinstance(item, Mapping):
            for k, v in item.items():
                stack.append((k, d))
                stack.append((v, d + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, d + 1) for v in item)
    return found, depth


def _to_text(value: Any) -> str:
    """``str(value)`` for a non-string field, bounded: a deeply nested value has no usable text."""
    try:
        text = str(value)
    except (RecursionError, ValueError):  # nesting past the stack; an int of more than 4300 digits
        return f"<{type(value).__name__}>"
    return text if len(text) <= 10000 else text[:10000] + "…"


def _clean_metadata(metadata: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Metadata safe to write, and whether it held lone surrogates."""
    found, depth = _scan(metadata)
    if not found and depth <= MAX_METADATA_DEPTH:
        return metadata, False
    import json

    try:
        text = json.dumps(metadata, ensure_ascii=True, default=str)  # ASCII escapes keep every surrogate
    except (RecursionError, ValueError):
        text = repr(metadata)[:10000]
    return {"metadata_json": text}, found


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
            fields[key] = _to_text(value)
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
    seg_id = default_id if seg_id is None or seg_id == "" else _to_text(seg_id)
    doc = record.get("doc")
    doc = default_doc if doc is None or doc == "" else _to_text(doc)
    metadata, bad_metadata = _clean_metadata({
        k: v for k, v in record.items()
        if k not in _RESERVED and not _REF_KEY.match(k)
    })
    texts = {"source": fields["source"], "mt": fields["mt"], "id": seg_id, "doc": doc or ""}
    bad = [k for k, v in texts.items() if has_surrogate(v)]
    if any(has_surrogate(r) for r in refs):
        bad.append("references")
    if bad_metadata:
        bad.append("metadata")
    if bad:
        problems.append(f"lone surrogate escape (e.g. \\ud800 without its pair) in {', '.join(bad)}; "
                        "expected valid Unicode text (replaced by U+FFFD here)")
        fields = {k: _replace_surrogates(v) for k, v in fields.items()}
        refs = [_replace_surrogates(r) for r in refs]
        seg_id = _replace_surrogates(seg_id)
        doc = _replace_surrogates(doc) if doc is not None else None
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
