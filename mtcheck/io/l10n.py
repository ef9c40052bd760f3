"""Localisation files — XLIFF 1.2 and 2.x, gettext PO, TMX — read as segments.

Translation teams hand over MT as bilingual files rather than tables. This
module reads them through `translate-toolkit <https://docs.translatehouse.org/>`_
(one segment per translation unit: Chinese source, English target as the MT)
and records where each unit sits in the file so findings can point at it.

Ids (``Segment.id``, unique within a file)
    XLIFF 1.2: the ``<trans-unit id>``. XLIFF 2: the ``<unit id>``, or
    ``unit::segment`` for a unit of several segments (translate-toolkit's
    convention; ``unit::segment-N`` for a segment without an id). When the
    document has several ``<file>`` elements the id is prefixed with the
    file's ``original`` (1.2) or ``id`` (2.x) and ``/``. TMX: the ``tuid``.
    A missing or repeated id falls back to the unit's position
    (``unit3``, ``tu3``). PO entries have no id: they are numbered ``1``,
    ``2``… in file order (header and obsolete ``#~`` entries not counted);
    the gettext key is in ``metadata["msgid"]``/``metadata["context"]``.

Plural forms (PO ``msgid_plural``)
    One segment per ``msgstr[n]``, id ``<n>[<form>]`` (``4[0]``, ``4[1]``);
    form 0 has ``msgid`` as its source, the others ``msgid_plural``.

Inline markup
    Inline codes are kept in the text as tags, so that the placeholder check
    (:mod:`mtcheck.checks.placeholders`, kind ``tag``) compares them between
    source and MT and checks their nesting. Each code is written as its
    element name with only the attribute that pairs it across languages:
    XLIFF 1.2 ``<g id="1">…</g>``, ``<x id="2"/>``, ``<bx id="3"/>``,
    ``<ex id="3"/>``, ``<ph id="4"/>``, ``<bpt id="5"/>``, ``<ept id="5"/>``,
    ``<it id="6"/>``; XLIFF 2 ``<pc id="1">…</pc>``, ``<ph id="2"/>``,
    ``<sc id="3"/>``, ``<ec startRef="3"/>`` (``<ec id=…/>`` when isolated);
    TMX ``<bpt i="1"/>``, ``<ept i="1"/>``, ``<ph x="2"/>``, ``<it x="3"/>``,
    ``<ut/>``, ``<hi x="4">…</hi>``. The native code inside ``<ph>``,
    ``<bpt>``… is dropped (it is the same on both sides by construction);
    other attributes (``ctype``, ``equiv``…) may legitimately differ and are
    dropped too. Annotation markers (``<mrk>``, XLIFF 2 ``<sm>/<em>``) are
    transparent: their text is kept, the marker is not. XLIFF 2 ``<cp hex>``
    becomes its character. Text outside ``xml:space="preserve"`` has runs of
    white space collapsed, as translate-toolkit does.

States (``metadata["state"]``)
    One of ``untranslated`` (no or empty target), ``fuzzy`` (a draft:
    PO ``#, fuzzy``, XLIFF 2 ``initial`` — the spec default when ``state`` is
    absent —, XLIFF 1.2 ``new``/``needs-translation``/``needs-adaptation``/
    ``needs-l10n`` with text), ``needs-review`` (XLIFF 1.2 ``needs-review-*``,
    XLIFF 2 ``subState="mtcheck:needs-review"``), ``translated``,
    ``reviewed`` (XLIFF 1.2 ``signed-off`` or ``approved="yes"``, XLIFF 2
    ``reviewed``) or ``final``. The raw value is kept as ``raw_state``.
    An untranslated unit is yielded with ``mt == ""``, never skipped: the
    ``empty`` check reports it as a critical ``Accuracy/Omission`` ("MT is
    empty"), which fails the default gate (``max-critical = 0``) and points
    at the unit's line. That is deliberate: in an MT delivery a unit without
    a target is a unit the MT did not deliver, and a critical omission says
    so precisely, whereas a failed segment would claim the file could not be
    read. Units marked ``translate="no"`` are skipped (they are not for
    translation), as are the PO header and obsolete entries. An XLIFF 1.2
    unit segmented with ``<seg-source>``/``<mrk mtype="seg">`` (Trados
    ``.sdlxliff`` style) is read as one segment, from ``<source>``.

Other metadata: ``format`` (``xliff-1.2``, ``xliff-2.0``, ``po``, ``tmx``),
``unit_id`` (the id as written), ``notes`` (list of note texts), ``context``
(PO ``msgctxt``), ``msgid``, ``locations`` (PO ``#:``), ``plural_form``,
``source_lang``/``target_lang`` where the file declares them.

Origin
    ``line`` is the line of the ``<trans-unit>``/``<segment>``/``<tu>`` start
    tag or of the PO ``msgid``; ``source_pos``/``mt_pos`` are the first
    character of the source and target content (``escape="opaque"``: XML
    entities and PO escapes are not mapped character by character).

``doc`` is the XLIFF ``<file original>`` when present, else the file name.

Safety: every XML file is first scanned with the standard library's expat
parser, which refuses any ``<!ENTITY>`` declaration (billion laughs,
external entities) and reports malformed XML with its line and column;
only then does translate-toolkit (lxml, entities unresolved, no network)
parse it. The same scan gives the byte offsets :mod:`mtcheck.report.annotate`
edits.
"""

from __future__ import annotations

import codecs
import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence
from xml.parsers import expat

from mtcheck.core import FieldPos, Origin, Segment
from mtcheck.errors import EmptyInputError, EncodingError, InputError, UsageError

#: File extension to format name (``xliff`` covers 1.x and 2.x, told apart by content).
L10N_EXTENSIONS = {
    ".xlf": "xliff",
    ".xliff": "xliff",
    ".po": "po",
    ".pot": "po",
    ".tmx": "tmx",
}
L10N_FORMATS = ("xliff", "po", "tmx")

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_XML_LANG = f"{{{_XML_NS}}}lang"


def detect_l10n_format(path: str | Path) -> str | None:
    """The localisation format implied by ``path``'s extension, or ``None``."""
    return L10N_EXTENSIONS.get(Path(path).suffix.lower())


def expand_l10n_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories and glob patterns into localisation files.

    A directory becomes the files under it (recursively, sorted, hidden
    files and folders skipped) whose extension is in :data:`L10N_EXTENSIONS`;
    a directory holding none is returned unchanged, so other directory
    inputs (saved datasets) keep working. A path containing ``*``, ``?`` or
    ``[`` that does not exist as such is a glob pattern (``**`` recurses);
    anything else is returned as given.

    Raises:
        UsageError: a glob pattern matches no file.
    """
    out: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            found = sorted(
                f for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() in L10N_EXTENSIONS
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            out.extend(found if found else [p])
        elif not p.exists() and any(c in str(item) for c in "*?["):
            matches = sorted(Path(m) for m in glob.glob(str(item), recursive=True) if Path(m).is_file())
            if not matches:
                raise UsageError(f"{item}: the pattern matches no file")
            out.extend(matches)
        else:
            out.append(p)
    return out


def read_l10n(path: str | Path, *, encoding: str = "utf-8", fmt: str | None = None) -> Iterator[Segment]:
    """Yield one segment per translation unit (per plural form in PO).

    Args:
        path: An XLIFF, PO or TMX file.
        encoding: Ignored for XML (its declaration rules) and for PO files
            whose header names a charset; used to decode a PO file without one.
        fmt: ``xliff``, ``po`` or ``tmx``; by default from the extension.

    Raises:
        UsageError: the format cannot be told.
        InputError: the file is malformed (message with line), declares XML
            entities, or lacks the Chinese/English variants (TMX).
        EmptyInputError: the file holds no translation units.
    """
    path = Path(path)
    fmt = fmt or detect_l10n_format(path)
    if fmt not in L10N_FORMATS:
        raise UsageError(
            f"{path}: not a localisation file; expected one of {', '.join(sorted(L10N_EXTENSIONS))}"
        )
    require_toolkit()
    if fmt == "po":
        segments = [s for entry in po_entries(path, encoding=encoding) for s in entry.segments]
    elif fmt == "tmx":
        segments = list(_read_tmx(path))
    else:
        segments = [s for unit in xliff_units(path) for s in unit.segments]
    if not segments:
        raise EmptyInputError("file holds no translation units", path)
    return iter(segments)


def require_toolkit() -> None:
    """Raise :class:`UsageError` naming the package to install if translate-toolkit is absent."""
    import importlib.util

    if importlib.util.find_spec("translate") is None or importlib.util.find_spec("lxml") is None:
        raise UsageError("reading XLIFF, PO and TMX files needs translate-toolkit: "
                         "pip install 'translate-toolkit>=3.20'")


# ---------------------------------------------------------------------------
# Raw file access: bytes, safe XML scan with offsets


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot open file: {exc.strerror}", path) from None


@dataclass
class XmlNode:
    """One element as the expat scan saw it; offsets index :attr:`XmlScan.data`.

    ``start`` is the ``<`` of the start tag, ``start_end`` just after its
    ``>``; ``close`` is the ``<`` of the end tag (``start`` for an empty
    element) and ``end`` just after the element.
    """

    index: int
    name: str  # "{namespace}local" or "local"
    attrs: dict[str, str]
    start: int
    line: int
    parent: int | None
    depth: int
    start_end: int = 0
    close: int = 0
    end: int = 0
    empty: bool = False
    children: list[int] = field(default_factory=list)

    @property
    def local(self) -> str:
        return self.name.rsplit("}", 1)[-1]

    @property
    def ns(self) -> str:
        return self.name[1:].split("}", 1)[0] if self.name.startswith("{") else ""


@dataclass
class XmlScan:
    """The elements of an XML file with byte offsets into UTF-8 bytes of it.

    ``data`` is the file itself when it is UTF-8 (BOM or not), else the file
    transcoded to UTF-8 (``encoding`` then names the original encoding).
    """

    data: bytes
    encoding: str
    bom: bytes
    nodes: list[XmlNode]
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column (code points) of byte ``offset``."""
        import bisect

        if not self._line_starts:
            self._line_starts = [0] + [m.end() for m in re.finditer(rb"\n", self.data)]
        i = bisect.bisect_right(self._line_starts, offset) - 1
        col = len(self.data[self._line_starts[i]:offset].decode("utf-8", "replace")) + 1
        return i + 1, col

    def find(self, local: str, ns: str | None = None) -> list[XmlNode]:
        return [n for n in self.nodes if n.local == local and (ns is None or n.ns == ns)]

    def child(self, node: XmlNode, local: str) -> XmlNode | None:
        return next((self.nodes[c] for c in node.children
                     if self.nodes[c].local == local and self.nodes[c].ns == node.ns), None)

    def qname(self, node: XmlNode) -> str:
        """The element name as written in the file (with its prefix, if any)."""
        m = re.match(rb"<([^\s/>]+)", self.data[node.start:node.start_end])
        return m.group(1).decode("utf-8") if m else node.local


class _Refused(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


_DECL_ENCODING = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_UTF8_NAMES = {"utf-8", "ascii"}


def scan_xml(path: str | Path, data: bytes | None = None) -> XmlScan:
    """Scan an XML file safely and record every element's byte offsets.

    Raises:
        InputError: malformed XML (with line and column), or an entity
            declaration (``<!ENTITY``), which is refused outright so that
            neither entity expansion bombs nor external entities can act.
    """
    path = Path(path)
    if data is None:
        data = _read_bytes(path)
    bom = b""
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        bom = codecs.BOM_UTF8
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        bom = data[:2]
        encoding = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
    else:
        m = _DECL_ENCODING.match(data)
        if m:
            try:
                encoding = codecs.lookup(m.group(1).decode("ascii")).name
            except LookupError:
                raise InputError(f"unknown encoding {m.group(1).decode('ascii')!r} in the XML declaration",
                                 path, 1) from None
    utf8 = data
    if encoding not in _UTF8_NAMES:
        try:
            utf8 = data[len(bom):].decode(encoding).encode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1 if not bom else None
            raise EncodingError(f"not valid {encoding}: {exc.reason}", path, line) from None
        bom = b"" if encoding.startswith("utf-16") else bom
    parser = expat.ParserCreate(encoding="UTF-8" if utf8 is not data else None, namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    nodes: list[XmlNode] = []
    stack: list[int] = []

    def refuse_entity(name, *args):
        raise _Refused(f"the document declares the XML entity {name!r}; entity declarations are refused "
                       "(they allow entity-expansion bombs and external file access)", parser.CurrentLineNumber)

    def refuse_external(*args):
        raise _Refused("the document references an external entity, which is refused", parser.CurrentLineNumber)

    def start(name, attrs):
        parent = stack[-1] if stack else None
        node = XmlNode(len(nodes), "{" + name if "}" in name else name, attrs, parser.CurrentByteIndex,
                       parser.CurrentLineNumber, parent, len(stack))
        nodes.append(node)
        if parent is not None:
            nodes[parent].children.append(node.index)
        stack.append(node.index)

    def end(name):
        nodes[stack.pop()].close = parser.CurrentByteIndex

    parser.EntityDeclHandler = refuse_entity
    parser.UnparsedEntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_external
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(utf8, True)
    except _Refused as exc:
        raise InputError(str(exc), path, exc.line) from None
    except expat.ExpatError as exc:
        raise InputError(f"malformed XML: {expat.ErrorString(exc.code)} (column {exc.offset + 1})",
                         path, exc.lineno) from None
    except ValueError as exc:  # e.g. an encoding expat does not know
        raise InputError(f"cannot parse XML: {exc}", path) from None
    for node in nodes:
        node.start_end = _tag_end(utf8, node.start)
        node.empty = utf8[node.start_end - 2:node.start_end] == b"/>"
        if node.empty:
            node.close, node.end = node.start, node.start_end
        else:
            node.end = utf8.index(b">", node.close) + 1
    return XmlScan(utf8, encoding, bom, nodes)


def _tag_end(data: bytes, i: int) -> int:
    """Offset just after the ``>`` closing the tag that starts at ``i`` (quotes may hold ``>``)."""
    quote = None
    n = len(data)
    while i < n:
        c = data[i]
        if quote is not None:
            if c == quote:
                quote = None
        elif c in (0x22, 0x27):
            quote = c
        elif c == 0x3E:
            return i + 1
        i += 1
    return n


# ---------------------------------------------------------------------------
# Inline markup


_PAIRED = {"g", "pc", "hi"}
_STANDALONE = {"x", "bx", "ex", "ph", "bpt", "ept", "it", "sc", "ec", "ut"}
_TRANSPARENT = {"mrk"}
_DROPPED = {"sm", "em", "sub"}
_WS = re.compile(r"[\n\r\t ]+")


def _key_attr(local: str, elem, tmx: bool) -> tuple[str, str] | None:
    if tmx:
        name = "i" if local in ("bpt", "ept") else "x"
    elif local == "ec" and elem.get("startRef"):
        name = "startRef"
    else:
        name = "id"
    value = elem.get(name)
    return (name, value) if value is not None else None


def _attr(pair: tuple[str, str] | None) -> str:
    if pair is None:
        return ""
    value = pair[1].replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return f' {pair[0]}="{value}"'


def render_inline(elem, default_space: str, tmx: bool = False) -> str:
    """Text of a ``<source>``/``<target>``/``<seg>`` lxml element with inline codes as tags.

    See the module docstring for the rendering of each code. Outside
    ``xml:space="preserve"`` white space in the text is collapsed (but not a
    character written as ``<cp>``, which is there on purpose).
    """
    from translate.misc.xml_helpers import getXMLspaceInherited

    collapse = getXMLspaceInherited(elem, default_space) != "preserve"
    text = _render(elem, tmx, collapse)
    return text.strip(" ") if collapse else text


def _render(elem, tmx: bool, collapse: bool) -> str:
    from lxml import etree

    def plain(text: str | None) -> str:
        return _WS.sub(" ", text) if collapse and text else (text or "")

    parts = [plain(elem.text)]
    for child in elem:
        if isinstance(child.tag, str):
            local = etree.QName(child).localname
            if local in _PAIRED:
                attr = _attr(_key_attr(local, child, tmx))
                parts.append(f"<{local}{attr}>{_render(child, tmx, collapse)}</{local}>")
            elif local in _STANDALONE:
                parts.append(f"<{local}{_attr(_key_attr(local, child, tmx))}/>")
            elif local == "cp":
                try:
                    char = chr(int(child.get("hex", ""), 16))
                except (ValueError, OverflowError):  # not hex, beyond U+10FFFF, or too big for chr at all
                    pass
                else:
                    # half a surrogate pair is no character: it could not even be written out
                    parts.append("\ufffd" if "\ud800" <= char <= "\udfff" else char)
            elif local not in _DROPPED:
                parts.append(_render(child, tmx, collapse))  # annotations and unknown elements: text only
        parts.append(plain(child.tail))
    return "".join(parts)


# ---------------------------------------------------------------------------
# XLIFF


@dataclass
class XliffUnit:
    """A read XLIFF unit: its segments and the scan nodes annotate edits.

    ``node`` is the ``<trans-unit>`` (1.2) or ``<segment>`` (2.x);
    ``unit_node`` the enclosing ``<unit>`` in 2.x (``node`` itself in 1.2).
    """

    segments: list[Segment]
    node: XmlNode
    unit_node: XmlNode
    version: int


def xliff_units(path: str | Path, scan: XmlScan | None = None) -> list[XliffUnit]:
    """Every translatable XLIFF unit of ``path`` with its segment (shared with annotate)."""
    from lxml import etree

    path = Path(path)
    data = _read_bytes(path)
    scan = scan or scan_xml(path, data)
    if not scan.nodes or scan.nodes[0].local != "xliff":
        root = scan.nodes[0].local if scan.nodes else "nothing"
        raise InputError(f"expected an XLIFF document (root <xliff>), found <{root}>", path,
                         scan.nodes[0].line if scan.nodes else None)
    root = scan.nodes[0]
    version_attr = root.attrs.get("version", "")
    major = 2 if version_attr.startswith("2") or re.search(r":2\.\d+$", root.ns) else 1
    from translate.storage import xliff as tt_xliff
    from translate.storage import xliff2 as tt_xliff2

    store = tt_xliff2.Xliff2File() if major == 2 else tt_xliff.Xliff1File()
    store.filename = str(path)
    try:
        store.parse(data)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"malformed XML: {exc.msg}", path, exc.lineno) from None
    except (ValueError, AssertionError) as exc:
        raise InputError(f"cannot read as XLIFF {major}: {exc}", path) from None
    unit_tag = "segment" if major == 2 else "trans-unit"
    nodes = scan.find(unit_tag, root.ns)
    units = list(store.units)
    if len(nodes) != len(units):
        raise InputError(f"found {len(nodes)} <{unit_tag}> elements but translate-toolkit read {len(units)} units",
                         path)
    files = scan.find("file", root.ns)
    fmt = f"xliff-{version_attr or ('2.0' if major == 2 else '1.2')}"
    out: list[XliffUnit] = []
    seen: set[str] = set()
    default_space = "default"
    for n, (tt_unit, node) in enumerate(zip(units, nodes), start=1):
        elem = tt_unit.xmlelement
        unit_node = scan.nodes[node.parent] if major == 2 and node.parent is not None else node
        if not tt_unit.istranslatable():
            continue
        file_node = _ancestor(scan, node, "file")
        raw_id = (tt_unit.getid() if major == 2 else node.attrs.get("id")) or ""
        seg_id = raw_id
        if raw_id and len(files) > 1 and file_node is not None:
            key = file_node.attrs.get("original" if major == 1 else "id") or f"file{files.index(file_node) + 1}"
            seg_id = f"{key}/{raw_id}"
        if not raw_id or seg_id in seen:
            seg_id = f"unit{n}"
        seen.add(seg_id)
        meta: dict[str, Any] = {"format": fmt, "unit_id": raw_id}
        if file_node is not None:
            for attr, key in (("source-language", "source_lang"), ("target-language", "target_lang")):
                if file_node.attrs.get(attr):
                    meta[key] = file_node.attrs[attr]
        for attr, key in (("srcLang", "source_lang"), ("trgLang", "target_lang")):
            if root.attrs.get(attr):
                meta[key] = root.attrs[attr]
        source_el = tt_unit.source_dom
        target_el = tt_unit.get_target_dom()
        source = render_inline(source_el, default_space) if source_el is not None else None
        mt = render_inline(target_el, default_space) if target_el is not None else ""
        notes = _xliff_notes(elem, major)
        if notes:
            meta["notes"] = notes
        meta.update(_xliff_state(node, scan, mt, major))
        origin = _xml_origin(scan, path, node)
        doc = (file_node.attrs.get("original") if file_node is not None else None) or path.name
        problem = None
        if source is None:
            problem = f"{path}:{node.line}: <{unit_tag}> has no <source>"
        seg = Segment(id=seg_id, source=source or "", mt=mt, doc=doc, metadata=meta, origin=origin,
                      problem=problem)
        out.append(XliffUnit([seg], node, unit_node, major))
    return out


def _ancestor(scan: XmlScan, node: XmlNode, local: str) -> XmlNode | None:
    i = node.parent
    while i is not None:
        if scan.nodes[i].local == local:
            return scan.nodes[i]
        i = scan.nodes[i].parent
    return None


def _xliff_notes(elem, major: int) -> list[str]:
    """Note texts of a 1.2 ``<trans-unit>``, or of the ``<unit>`` around a 2.x ``<segment>``."""
    from lxml import etree

    if major == 1:
        holders = [elem]
    else:
        holders = [e for e in elem.getparent() if isinstance(e.tag, str) and etree.QName(e).localname == "notes"]
    notes = []
    for holder in holders:
        for note in holder:
            if isinstance(note.tag, str) and etree.QName(note).localname == "note":
                text = "".join(note.itertext()).strip()
                if text:
                    notes.append(text)
    return notes


_V1_DRAFT = {"new", "needs-translation", "needs-adaptation", "needs-l10n"}
_V1_STATES = {"translated": "translated", "signed-off": "reviewed", "final": "final"}
_V2_STATES = {"initial": "fuzzy", "translated": "translated", "reviewed": "reviewed", "final": "final"}
SUBSTATE = "mtcheck:needs-review"


def _xliff_state(node: XmlNode, scan: XmlScan, mt: str, major: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if major == 1:
        target = scan.child(node, "target")
        raw = target.attrs.get("state") if target is not None else None
        if raw:
            out["raw_state"] = raw
        if not mt.strip():
            state = "untranslated"
        elif raw in _V1_DRAFT:
            state = "fuzzy"
        elif raw and raw.startswith("needs-review"):
            state = "needs-review"
        elif raw in _V1_STATES:
            state = _V1_STATES[raw]
        elif node.attrs.get("approved") == "yes":
            state = "reviewed"
        else:
            state = "translated"
    else:
        raw = node.attrs.get("state")
        sub = node.attrs.get("subState")
        if raw:
            out["raw_state"] = raw
        if sub:
            out["substate"] = sub
        if not mt.strip():
            state = "untranslated"
        elif sub == SUBSTATE:
            state = "needs-review"
        else:
            state = _V2_STATES.get(raw or "initial", "translated")
    out["state"] = state
    return out


def _xml_origin(scan: XmlScan, path: Path, node: XmlNode) -> Origin:
    def content_pos(local: str) -> FieldPos | None:
        el = scan.child(node, local)
        if el is None:
            return None
        line, col = scan.position(el.start_end if not el.empty else el.start)
        return FieldPos(str(path), line, col, "opaque")

    return Origin(str(path), node.line, source_pos=content_pos("source"), mt_pos=content_pos("target"))


# ---------------------------------------------------------------------------
# TMX


_LANG_SPLIT = re.compile(r"[-_]")


def _primary(lang: str | None) -> str:
    return _LANG_SPLIT.split(lang or "", 1)[0].lower()


def _read_tmx(path: Path) -> Iterator[Segment]:
    from lxml import etree
    from translate.storage import tmx as tt_tmx

    data = _read_bytes(path)
    scan = scan_xml(path, data)
    if not scan.nodes or scan.nodes[0].local != "tmx":
        raise InputError("expected a TMX document (root <tmx>)", path, scan.nodes[0].line if scan.nodes else None)
    store = tt_tmx.tmxfile()
    store.filename = str(path)
    try:
        store.parse(data)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"malformed XML: {exc.msg}", path, exc.lineno) from None
    except (ValueError, AssertionError) as exc:
        raise InputError(f"cannot read as TMX: {exc}", path) from None
    nodes = scan.find("tu")
    units = list(store.units)
    if len(nodes) != len(units):
        raise InputError(f"found {len(nodes)} <tu> elements but translate-toolkit read {len(units)}", path)
    langs_seen: set[str] = set()
    rows = []
    for tt_unit in units:
        variants = []
        for tuv in tt_unit.getlanguageNodes():
            lang = tuv.get(_XML_LANG) or tuv.get("lang")
            seg = next((c for c in tuv if isinstance(c.tag, str) and etree.QName(c).localname == "seg"), None)
            variants.append((lang, seg))
            langs_seen.add(lang or "?")
        rows.append(variants)
    primaries = {_primary(lang) for lang in langs_seen}
    if "zh" not in primaries or "en" not in primaries:
        missing = " and ".join(x for x in ("zh", "en") if x not in primaries)
        raise InputError(f"no {missing} variant in any <tu>; found languages {', '.join(sorted(langs_seen)) or 'none'}"
                         "; expected Chinese (zh, zh-CN, zh-Hans…) sources and English (en, en-US…) targets", path)
    seen: set[str] = set()
    for n, (tt_unit, node, variants) in enumerate(zip(units, nodes, rows), start=1):
        zh = next(((lang, s) for lang, s in variants if _primary(lang) == "zh"), None)
        en = next(((lang, s) for lang, s in variants if _primary(lang) == "en"), None)
        raw_id = node.attrs.get("tuid") or ""
        seg_id = raw_id if raw_id and raw_id not in seen else f"tu{n}"
        seen.add(seg_id)
        meta: dict[str, Any] = {"format": "tmx", "unit_id": raw_id}
        notes = [t for t in (tt_unit.getnotes() or "").split("\n") if t.strip()]
        if notes:
            meta["notes"] = notes
        source = render_inline(zh[1], "preserve", tmx=True) if zh and zh[1] is not None else None
        mt = render_inline(en[1], "preserve", tmx=True) if en and en[1] is not None else ""
        if zh:
            meta["source_lang"] = zh[0]
        if en:
            meta["target_lang"] = en[0]
        meta["state"] = "translated" if mt.strip() else "untranslated"
        origin = Origin(str(path), node.line, source_pos=_tuv_pos(scan, path, node, zh),
                        mt_pos=_tuv_pos(scan, path, node, en))
        problem = None
        if source is None:
            langs = ", ".join(str(lang) for lang, _ in variants) or "none"
            problem = f"{path}:{node.line}: <tu> has no Chinese (zh*) variant; it has {langs}"
        yield Segment(id=seg_id, source=source or "", mt=mt, doc=path.name, metadata=meta, origin=origin,
                      problem=problem)


def _tuv_pos(scan: XmlScan, path: Path, tu: XmlNode, variant) -> FieldPos | None:
    if variant is None or variant[1] is None:
        return None
    want = variant[1].sourceline
    for c in tu.children:
        tuv = scan.nodes[c]
        if tuv.local != "tuv":
            continue
        seg = scan.child(tuv, "seg")
        if seg is not None and seg.line == want and (tuv.attrs.get(_XML_LANG.replace("{", "", 1))
                                                      or tuv.attrs.get("lang")) == variant[0]:
            line, col = scan.position(seg.start_end)
            return FieldPos(str(path), line, col, "opaque")
    return None


# ---------------------------------------------------------------------------
# PO


@dataclass
class PoEntry:
    """A read PO entry: its segments and its line layout (0-based line indexes).

    ``start`` is the entry's first line (its first comment), ``keyword`` its
    ``msgctxt`` or ``msgid`` line, ``msgid`` the ``msgid`` line.
    """

    key: str
    segments: list[Segment]
    start: int
    keyword: int
    msgid: int
    charset: str = "utf-8"


_PO_MSGID = re.compile(rb"^(?:#~\s*)?msgid\s")
_PO_LINE = re.compile(r"on line (\d+)")


def po_lines(data: bytes) -> list[bytes]:
    """The file's lines with their line endings kept."""
    return data.splitlines(keepends=True)


def po_entries(path: str | Path, *, encoding: str = "utf-8") -> list[PoEntry]:
    """Every active PO entry of ``path`` with its segments and layout (shared with annotate)."""
    from translate.storage import pypo
    from translate.storage.poparser import PoParseError

    path = Path(path)
    data = _read_bytes(path)
    charset = _po_charset(data, encoding, path)
    try:
        text = data.decode("utf-8-sig" if charset == "utf-8" else charset)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise EncodingError(f"not valid {charset} (the charset the header declares, else {encoding}): "
                            f"{exc.reason}", path, line) from None
    store = pypo.pofile()
    store.filename = str(path)
    utf8 = text.encode("utf-8")
    if charset != "utf-8":
        # translate-toolkit 3.20 does not switch to a non-UTF-8 header charset
        # reliably: hand it UTF-8 with the header saying so (lines unchanged).
        span = _header_charset_span(utf8)
        if span is not None:
            utf8 = utf8[:span[0]] + b"UTF-8" + utf8[span[1]:]
    try:
        store.parse(utf8)
    except PoParseError as exc:
        m = _PO_LINE.search(str(exc))
        raise InputError(f"malformed PO: {exc}", path, int(m.group(1)) if m else None) from None
    except (ValueError, LookupError) as exc:
        # translate-toolkit looks up the header's charset itself: a NUL or an unknown name in it
        # ("charset=\x00UTF-8") raises from codecs.lookup, not as a parse error.
        raise InputError(f"malformed PO header: {exc}; expected e.g. "
                         '"Content-Type: text/plain; charset=UTF-8\\n"', path) from None
    except Exception as exc:  # translate-toolkit's own bugs on broken input, e.g. a plural entry without msgstr
        raise InputError(f"malformed PO: cannot parse ({type(exc).__name__}: {exc}); expected msgid/msgstr "
                         "entries (msgstr[0], msgstr[1]… after msgid_plural)", path) from None
    lines = po_lines(data)
    msgid_lines = [i for i, raw in enumerate(lines) if _PO_MSGID.match(raw)]
    units = list(store.units)
    located = len(msgid_lines) == len(units)
    out: list[PoEntry] = []
    number = 0
    for k, unit in enumerate(units):
        if unit.isheader() or unit.isobsolete():
            continue
        number += 1
        key = str(number)
        msgid_i = msgid_lines[k] if located else None
        start, keyword = _po_entry_start(lines, msgid_i) if msgid_i is not None else (None, None)
        sources = [str(s) for s in unit.source.strings] if unit.hasplural() else [str(unit.source)]
        target = unit.target
        targets = [str(t) for t in target.strings] if unit.hasplural() else [str(target or "")]
        targets = targets or [""]
        meta: dict[str, Any] = {"format": "po", "msgid": sources[0]}
        if unit.getcontext():
            meta["context"] = unit.getcontext()
        notes = [t for t in (unit.getnotes() or "").split("\n") if t.strip()]
        if notes:
            meta["notes"] = notes
        if unit.getlocations():
            meta["locations"] = list(unit.getlocations())
        segments = []
        for form, mt in enumerate(targets):
            seg_meta = dict(meta)
            if unit.hasplural():
                seg_meta["plural_form"] = form
            if not mt.strip():
                seg_meta["state"] = "untranslated"
            elif unit.isfuzzy():
                seg_meta["state"] = "fuzzy"
                seg_meta["raw_state"] = "fuzzy"
            else:
                seg_meta["state"] = "translated"
            origin = Origin(str(path), None)
            if msgid_i is not None:
                src_i = msgid_i
                if form > 0:
                    src_i = _po_find(lines, msgid_i, b"msgid_plural") or msgid_i
                mt_kw = b"msgstr[%d]" % form if unit.hasplural() else b"msgstr"
                mt_i = _po_find(lines, msgid_i, mt_kw)
                origin = Origin(str(path), msgid_i + 1, source_pos=_po_pos(lines, src_i, path, charset),
                                mt_pos=_po_pos(lines, mt_i, path, charset) if mt_i is not None else None)
            seg_id = f"{key}[{form}]" if unit.hasplural() else key
            source = sources[0] if form == 0 else sources[min(1, len(sources) - 1)]
            segments.append(Segment(id=seg_id, source=source, mt=mt, doc=path.name, metadata=seg_meta,
                                    origin=origin))
        out.append(PoEntry(key, segments, start if start is not None else -1,
                           keyword if keyword is not None else -1, msgid_i if msgid_i is not None else -1,
                           charset))
    return out


_PO_CHARSET = re.compile(rb"charset=\s*([A-Za-z0-9._-]+)")


def _header_charset_span(data: bytes) -> tuple[int, int] | None:
    """Where the header entry (``msgid ""``) names its charset, if it does."""
    m = re.search(rb'^msgid\s+""\s*$', data, re.M)
    if not m:
        return None
    blank = re.compile(rb"\n\s*\n").search(data, m.end())
    found = _PO_CHARSET.search(data, m.end(), blank.start() if blank else len(data))
    if not found or found.group(1) == b"CHARSET":
        return None
    return found.span(1)


def _po_charset(data: bytes, fallback: str, path: Path) -> str:
    """The charset the header entry declares, else ``fallback``."""
    span = _header_charset_span(data)
    charset = data[span[0]:span[1]].decode("ascii") if span else fallback
    try:
        return codecs.lookup(charset).name
    except LookupError:
        raise InputError(f"unknown charset {charset!r}", path) from None


def _po_entry_start(lines: Sequence[bytes], msgid_i: int) -> tuple[int, int]:
    """First line of the entry whose ``msgid`` is at ``msgid_i``, and its first keyword line."""
    keyword = msgid_i
    k = msgid_i - 1
    while k >= 0 and lines[k].lstrip().startswith(b'"'):
        k -= 1
    if k >= 0 and re.match(rb"^(?:#~\s*)?msgctxt\s", lines[k]):
        keyword = k
    j = keyword - 1
    while j >= 0 and lines[j].startswith(b"#") and not lines[j].startswith(b"#~"):
        j -= 1
    return j + 1, keyword


def _po_find(lines: Sequence[bytes], msgid_i: int, keyword: bytes) -> int | None:
    """Line of ``keyword`` in the entry whose ``msgid`` is at ``msgid_i``."""
    obsolete = lines[msgid_i].startswith(b"#~")
    prefix = rb"^#~\s*" if obsolete else rb"^"
    pattern = re.compile(prefix + re.escape(keyword) + rb"\s")
    for i in range(msgid_i + 1, len(lines)):
        raw = lines[i]
        if pattern.match(raw):
            return i
        body = raw[2:].lstrip() if obsolete and raw.startswith(b"#~") else raw
        if not raw.strip() or (raw.startswith(b"#") and not obsolete) or re.match(rb"msg(?:id|ctxt)\s", body):
            return None
    return None


def _po_pos(lines: Sequence[bytes], i: int, path: Path, charset: str) -> FieldPos:
    """Position of the first character of the string that starts on line ``i``."""
    raw = lines[i]
    q = raw.find(b'"')
    # msgid "" followed by continuation lines: the text starts on the next line.
    if raw[q:].rstrip() == b'""' and i + 1 < len(lines) and lines[i + 1].lstrip().startswith(b'"'):
        i += 1
        raw = lines[i]
        q = raw.find(b'"')
    col = len(raw[:q + 1].decode(charset, "replace")) + 1
    return FieldPos(str(path), i + 1, col, "opaque")
