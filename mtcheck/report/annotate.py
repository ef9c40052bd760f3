"""Write the gate's verdict back into the localisation files it read.

A translator works in a CAT tool, not in a CI log: the units that failed the
gate are marked in the file itself, with the review state the format has
and a note listing the findings and scores, so the tool filters them.

==========  ===================================================================
format      what a failing unit gets
==========  ===================================================================
XLIFF 1.2   ``<target state="needs-review-translation">`` (no target: none is
            invented) and ``<note from="mtcheck" annotates="target">`` after
            the target (or the source).
XLIFF 2.x   ``<segment state=… subState="mtcheck:needs-review">``. The spec's
            ``state`` is a fixed progression (initial → translated →
            reviewed → final) and a tool's own status goes in ``subState``
            as ``prefix:value``; ``state`` must be given explicitly whenever
            ``subState`` is. A reviewed or final segment is put back to
            ``translated`` (its review no longer holds); a segment that was
            ``initial`` (or had no ``state``, whose default is ``initial``)
            stays ``initial``. Segments carry no notes in XLIFF 2, so the note
            goes into the unit's ``<notes>`` (created before the first
            ``<originalData>``/``<segment>``/``<ignorable>`` when absent, as
            the unit's content model requires) as
            ``<note category="mtcheck" appliesTo="target">``, naming the
            segment when the unit has several.
PO          the ``fuzzy`` flag and translator comments ``# mtcheck: …`` at the
            top of the entry. Note that ``msgfmt`` leaves fuzzy entries out
            of the compiled catalogue, so until a reviewer clears the flag
            the software shows the source text — which is the point of
            holding back a failed translation.
TMX         not annotated (it has no review state): :class:`UsageError`.
==========  ===================================================================

Everything else is kept byte for byte: the file is edited as bytes at the
offsets found by the reader (:mod:`mtcheck.io.l10n`), never re-serialised,
so units that are not failing, the XML declaration, comments, indentation
and line endings (``\\n`` or ``\\r\\n``) are unchanged, and a run with no
failing unit writes an identical copy. Inserted lines copy the indentation
of their neighbours. Notes and comments from an earlier mtcheck run on a
failing unit are replaced, not repeated.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Collection, Mapping

from mtcheck.errors import InputError, UsageError
from mtcheck.io.l10n import (
    SUBSTATE,
    XmlNode,
    XmlScan,
    detect_l10n_format,
    po_entries,
    po_lines,
    require_toolkit,
    scan_xml,
    xliff_units,
)

_V1_REVIEW = "needs-review-translation"


def annotate(
    path: str | Path,
    out_path: str | Path,
    results: Mapping[str, Any],
    failing: Collection[str],
    *,
    id_prefix: str = "",
    fmt: str | None = None,
    encoding: str = "utf-8",
) -> list[str]:
    """Copy ``path`` to ``out_path`` with the failing units marked for review.

    Args:
        path: The XLIFF or PO file the segments were read from.
        out_path: Where to write (may be ``path`` itself).
        results: Segment id to its result (anything with ``scores``,
            ``spans``, ``status``, ``error`` and ``segment`` like
            :class:`~mtcheck.core.SegmentResult`); used for the note text.
        failing: Ids of the segments to mark (e.g. ``GateResult.failing_segments``).
        id_prefix: Prefix the batch put before this file's ids (``"a.xlf:"``
            when several files were read); ids without it are ignored and it
            is stripped from the others, in ``failing`` and in ``results``.
        fmt: ``xliff`` or ``po``; by default from the extension.
        encoding: Fallback charset of a PO file without one in its header.

    Returns:
        The ids (without prefix) of the segments marked, sorted.

    Raises:
        UsageError: a failing id is not a segment of this file, or the
            format cannot be annotated (TMX).
        InputError: the file cannot be read (see :func:`mtcheck.io.l10n.read_l10n`).
    """
    path, out_path = Path(path), Path(out_path)
    fmt = fmt or detect_l10n_format(path)
    if fmt == "tmx":
        raise UsageError(f"{path}: TMX has no review state to annotate; use XLIFF or PO")
    if fmt not in ("xliff", "po"):
        raise UsageError(f"{path}: cannot annotate this format; expected .xlf, .xliff, .po or .pot")
    require_toolkit()
    wanted = {sid[len(id_prefix):] for sid in failing if sid.startswith(id_prefix)}
    local_results = {k[len(id_prefix):]: v for k, v in results.items() if k.startswith(id_prefix)}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot open file: {exc.strerror}", path) from None
    if wanted:
        if fmt == "po":
            data = _annotate_po(path, data, wanted, local_results, encoding)
        else:
            data = _annotate_xliff(path, data, wanted, local_results)
    _write_atomic(out_path, data, path.stat().st_mode & 0o777)
    return sorted(wanted)


def _write_atomic(out_path: Path, data: bytes, mode: int) -> None:
    # Through a temporary file, so annotating in place never leaves half a file.
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)  # mkstemp makes it 0600; keep the input's permissions
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _unknown(path: Path, ids: set[str]) -> UsageError:
    shown = ", ".join(sorted(ids)[:10])
    return UsageError(f"{path}: no segment with id {shown}; ids must be the ones read from this file "
                      "(strip the batch prefix with id_prefix)")


# ---------------------------------------------------------------------------
# Note text


def note_lines(result: Any) -> list[str]:
    """Lines describing why a segment failed: a summary, then one line per finding."""
    if result is None:
        return ["needs review: flagged by the mtcheck quality gate"]
    head = "needs review"
    scores = {k: v for k, v in (getattr(result, "scores", None) or {}).items() if v is not None}
    if scores:
        head += " (" + ", ".join(f"{k}={v:.2f}" for k, v in scores.items()) + ")"
    lines = [head]
    if getattr(result, "status", "ok") != "ok":
        lines.append(f"not checked: {getattr(result, 'error', None) or 'the segment could not be read'}")
    segment = getattr(result, "segment", None)
    for span in getattr(result, "spans", None) or ():
        severity = getattr(span.severity, "value", span.severity)
        line = f"{severity} {span.category}: {span.message}"
        covered = span.text(segment) if segment is not None else ""
        if covered:
            line += f" [{getattr(span.side, 'value', span.side)}: {covered!r}]"
        lines.append(line)
    return [re.sub(r"\s+", " ", x).strip() for x in lines]


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------
# XLIFF


def _annotate_xliff(path: Path, data: bytes, wanted: set[str], results: Mapping[str, Any]) -> bytes:
    scan = scan_xml(path, data)
    units = xliff_units(path, scan)
    by_id = {u.segments[0].id: u for u in units}
    unknown = wanted - by_id.keys()
    if unknown:
        raise _unknown(path, unknown)
    nl = b"\r\n" if b"\r\n" in scan.data else b"\n"
    edits: list[tuple[int, int, bytes]] = []
    chosen = [by_id[sid] for sid in sorted(wanted, key=lambda s: by_id[s].node.start)]
    if chosen[0].version == 1:
        for unit in chosen:
            edits += _edit_v1(scan, unit.node, note_lines(results.get(unit.segments[0].id)), nl)
    else:
        per_unit: dict[int, list] = {}
        for unit in chosen:
            per_unit.setdefault(unit.unit_node.index, []).append(unit)
        for members in per_unit.values():
            edits += _edit_v2(scan, members, results, nl)
    out = _apply(scan.data, edits)
    if scan.encoding not in ("utf-8", "ascii"):
        out = scan.bom + out.decode("utf-8").encode(scan.encoding)
    return out


def _apply(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """``data`` with each ``(start, end, text)`` replacement made, assembled in one pass.

    At one offset an insertion (``start == end``) comes before a removal
    starting there, so a note replacing an old one lands where the old one was.
    """
    pieces = []
    pos = 0
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise ValueError(f"overlapping edits at byte {start}")  # a bug, not a user error
        pieces += [data[pos:start], text]
        pos = end
    pieces.append(data[pos:])
    return b"".join(pieces)


def _indent(data: bytes, offset: int) -> bytes | None:
    """White space before ``offset`` on its line, or ``None`` if other text precedes it there."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    prefix = data[line_start:offset]
    return prefix if not prefix.strip(b" \t") else None


def _removal(data: bytes, node: XmlNode) -> tuple[int, int, bytes]:
    """An edit removing ``node`` together with the line break and indentation before it."""
    start = node.start
    if _indent(data, start) is not None:
        start = data.rfind(b"\n", 0, start)
        if start > 0 and data[start - 1:start] == b"\r":
            start -= 1
        start = max(start, 0)
    return start, node.end, b""


def _set_attrs(scan: XmlScan, node: XmlNode, values: dict[str, str]) -> tuple[int, int, bytes]:
    """An edit rewriting ``node``'s start tag with ``values`` set (replaced in place or appended)."""
    tag = scan.data[node.start:node.start_end]
    for name, value in values.items():
        pattern = re.compile(rb"(\s" + re.escape(name.encode()) + rb"\s*=\s*)([\"'])(.*?)\2", re.S)
        quoted = value.encode("utf-8")
        if pattern.search(tag):
            tag = pattern.sub(lambda m: m.group(1) + m.group(2) + quoted + m.group(2), tag, count=1)
        else:
            close = len(tag) - (2 if tag.endswith(b"/>") else 1)
            while close > 0 and tag[close - 1:close] in (b" ", b"\t", b"\n", b"\r"):
                close -= 1
            tag = tag[:close] + b" " + name.encode() + b'="' + quoted + b'"' + tag[close:]
    return node.start, node.start_end, tag


def _prefix(scan: XmlScan, node: XmlNode) -> str:
    qname = scan.qname(node)
    return qname[: qname.index(":") + 1] if ":" in qname else ""


def _edit_v1(scan: XmlScan, unit: XmlNode, lines: list[str], nl: bytes) -> list[tuple[int, int, bytes]]:
    data = scan.data
    edits = []
    target = scan.child(unit, "target")
    if target is not None:
        edits.append(_set_attrs(scan, target, {"state": _V1_REVIEW}))
    for c in unit.children:
        child = scan.nodes[c]
        if child.local == "note" and child.attrs.get("from") == "mtcheck":
            edits.append(_removal(data, child))
    anchor = target or scan.child(unit, "seg-source") or scan.child(unit, "source")
    if anchor is None:  # no source either: put the note first in the unit
        anchor_end, indent = unit.start_end, None
    else:
        anchor_end, indent = anchor.end, _indent(data, anchor.start)
    tag = _prefix(scan, unit) + "note"
    body = nl.decode().join(_xml_text(x) for x in ["mtcheck: " + lines[0], *lines[1:]])
    note = f'<{tag} from="mtcheck" annotates="target">{body}</{tag}>'.encode("utf-8")
    edits.append((anchor_end, anchor_end, (nl + indent if indent is not None else b"") + note))
    return edits


def _edit_v2(scan: XmlScan, members: list, results: Mapping[str, Any], nl: bytes) -> list[tuple[int, int, bytes]]:
    data = scan.data
    unit = members[0].unit_node
    edits = []
    segments = [scan.nodes[c] for c in unit.children if scan.nodes[c].local == "segment"]
    notes_text = []
    for member in members:
        seg = member.node
        current = seg.attrs.get("state") or "initial"
        state = "translated" if current in ("translated", "reviewed", "final") else "initial"
        edits.append(_set_attrs(scan, seg, {"state": state, "subState": SUBSTATE}))
        lines = note_lines(results.get(member.segments[0].id))
        label = "mtcheck"
        if len(segments) > 1:
            label += f" (segment {seg.attrs.get('id') or segments.index(seg) + 1})"
        notes_text.append(nl.decode().join(_xml_text(x) for x in [f"{label}: {lines[0]}", *lines[1:]]))
    prefix = _prefix(scan, unit)
    note_xml = [f'<{prefix}note category="mtcheck" appliesTo="target">{t}</{prefix}note>'.encode("utf-8")
                for t in notes_text]
    unit_indent = _indent(data, unit.start)
    notes = scan.child(unit, "notes")
    first_child = next((scan.nodes[c] for c in unit.children), None)
    child_indent = _indent(data, first_child.start) if first_child is not None else None
    step = b"  "
    if unit_indent is not None and child_indent is not None and len(child_indent) > len(unit_indent):
        step = child_indent[len(unit_indent):]
    if notes is not None and not notes.empty:
        kids = [scan.nodes[c] for c in notes.children]
        for kid in kids:
            if kid.local == "note" and kid.attrs.get("category") == "mtcheck":
                edits.append(_removal(data, kid))
        if kids:
            at = kids[-1].end
            indent = _indent(data, kids[-1].start)
        else:
            at = notes.start_end
            base = _indent(data, notes.start)
            indent = base + step if base is not None else None
        text = b"".join((nl + indent if indent is not None else b"") + x for x in note_xml)
        edits.append((at, at, text))
        return edits
    anchor = notes or next(scan.nodes[c] for c in unit.children
                           if scan.nodes[c].local in ("originalData", "segment", "ignorable"))
    base = _indent(data, anchor.start)
    inner = (base + step) if base is not None else None
    block = f"<{prefix}notes>".encode()
    for x in note_xml:
        block += (nl + inner if inner is not None else b"") + x
    block += (nl + base if base is not None else b"") + f"</{prefix}notes>".encode()
    if notes is not None:  # an empty <notes/>: replace it
        edits.append((notes.start, notes.end, block))
        return edits
    edits.append((anchor.start, anchor.start, block + (nl + base if base is not None else b"")))
    return edits


# ---------------------------------------------------------------------------
# PO


def _annotate_po(path: Path, data: bytes, wanted: set[str], results: Mapping[str, Any], encoding: str) -> bytes:
    entries = po_entries(path, encoding=encoding)
    owner = {seg.id: entry for entry in entries for seg in entry.segments}
    unknown = wanted - owner.keys()
    if unknown:
        raise _unknown(path, unknown)
    lines = po_lines(data)
    chosen = {owner[sid].key: owner[sid] for sid in wanted}
    out: list[bytes] = []
    pos = 0
    for entry in sorted(chosen.values(), key=lambda e: e.start):
        if entry.start < 0:
            raise InputError(f"cannot locate entry {entry.key} in the file to annotate it", path)
        nl = b"\r\n" if lines[entry.msgid].endswith(b"\r\n") else b"\n"
        comments = [x for x in lines[entry.start:entry.keyword] if not x.startswith(b"# mtcheck:")]
        failed = [s for s in entry.segments if s.id in wanted]
        added = []
        for seg in failed:
            tag = f" (plural form {seg.metadata.get('plural_form')})" if "plural_form" in seg.metadata else ""
            for i, text in enumerate(note_lines(results.get(seg.id))):
                lead = f"# mtcheck{tag if i == 0 else ''}: "
                added.append((lead + text).encode(entry.charset, "backslashreplace") + nl)
        flags = next((i for i, x in enumerate(comments) if x.startswith(b"#,")), None)
        if flags is None:
            at = next((i for i, x in enumerate(comments) if x.startswith(b"#|")), len(comments))
            comments.insert(at, b"#, fuzzy" + nl)
        elif not re.search(rb"(?:^#,|,)\s*fuzzy\s*(?:,|$)", comments[flags].rstrip(b"\r\n")):
            body = comments[flags].rstrip(b"\r\n")
            comments[flags] = body + b", fuzzy" + comments[flags][len(body):]
        out += lines[pos:entry.start] + added + comments
        pos = entry.keyword
    out += lines[pos:]
    return b"".join(out)
