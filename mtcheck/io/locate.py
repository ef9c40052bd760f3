"""Mapping character offsets in a field's text back to line and column in its file.

Code-review platforms annotate the exact line and column of a finding (SARIF
regions). A span's offsets index the *decoded* text, while the file holds it
escaped: doubled quotes in CSV, backslash escapes in JSON. Readers record where
each field's raw text starts (:class:`~mtcheck.core.FieldPos`); this module
finds those starts and maps an offset in the decoded text to the raw line and
column (1-based, in code points).
"""

from __future__ import annotations

import json

from mtcheck.core import FieldPos


def csv_field_starts(raw: str, delimiter: str) -> list[tuple[int, bool]]:
    """Offsets in ``raw`` where each CSV field's content starts, and whether it is quoted.

    For a quoted field the offset is just after the opening quote.
    """
    starts: list[tuple[int, bool]] = []
    i, n = 0, len(raw)
    while True:
        quoted = i < n and raw[i] == '"'
        starts.append((i + 1 if quoted else i, quoted))
        if quoted:
            i += 1
            while i < n:
                if raw[i] == '"':
                    if i + 1 < n and raw[i + 1] == '"':
                        i += 2
                        continue
                    i += 1
                    break
                i += 1
        nxt = raw.find(delimiter, i)
        if nxt < 0:
            return starts
        i = nxt + 1


def json_string_value_starts(raw: str) -> dict[str, tuple[int, str]]:
    """For a one-line JSON object, where each top-level string value's literal starts.

    Returns:
        Key to ``(offset just after the opening quote, escape kind)``, where the
        escape kind is ``"json"``, ``"json-ascii"`` or ``"opaque"`` depending
        on which way of writing the decoded value reproduces the literal.
    """
    decoder = json.JSONDecoder()
    out: dict[str, tuple[int, str]] = {}
    i = raw.find("{")
    if i < 0:
        return out
    i += 1
    n = len(raw)
    try:
        while i < n:
            while i < n and raw[i] in " \t\r\n,":
                i += 1
            if i >= n or raw[i] == "}":
                break
            key, i = decoder.raw_decode(raw, i)
            while raw[i] in " \t\r\n":
                i += 1
            i += 1  # the colon
            while raw[i] in " \t\r\n":
                i += 1
            start = i
            value, i = decoder.raw_decode(raw, i)
            if isinstance(key, str) and isinstance(value, str):
                literal = raw[start + 1 : i - 1]
                if literal == json.dumps(value, ensure_ascii=False)[1:-1]:
                    kind = "json"
                elif literal == json.dumps(value, ensure_ascii=True)[1:-1]:
                    kind = "json-ascii"
                else:
                    kind = "opaque"
                out[key] = (start + 1, kind)
    except (ValueError, IndexError):
        pass  # positions are a convenience: an odd line simply gets none
    return out


def offset_to_position(raw_before: str, line: int, column: int) -> tuple[int, int]:
    """Line and column reached after ``raw_before`` starting at (``line``, ``column``)."""
    newlines = raw_before.count("\n")
    if not newlines:
        return line, column + len(raw_before)
    return line + newlines, len(raw_before) - raw_before.rfind("\n")


def locate(pos: FieldPos, text: str, offset: int) -> tuple[int, int]:
    """Line and column in ``pos.path`` of character ``offset`` of the field's decoded ``text``."""
    prefix = text[: max(0, min(offset, len(text)))]
    if pos.escape == "none":
        raw = prefix
    elif pos.escape == "csv":
        raw = prefix.replace('"', '""')
    elif pos.escape == "json":
        raw = json.dumps(prefix, ensure_ascii=False)[1:-1]
    elif pos.escape == "json-ascii":
        raw = json.dumps(prefix, ensure_ascii=True)[1:-1]
    else:
        return pos.line, pos.column
    return offset_to_position(raw, pos.line, pos.column)
