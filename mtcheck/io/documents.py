"""Reading whole documents (.txt, .md, .docx) as plain text with paragraph boundaries.

The document-pair reader (:mod:`mtcheck.io.docpair`) splits each side into
sentences with :mod:`mtcheck.io.split`, whose convention is one paragraph per
line: a sentence never spans two lines. This module turns each supported
file type into such text and remembers where every character came from, so
that findings can still be reported at a line and column of the file.

Formats (chosen by extension, see :func:`detect_document_format`):

* **text** (any other extension): the file's lines as they are, joined with
  ``\\n`` (blank lines kept; the splitters skip them). Offsets map to
  line and column directly. This is exactly what the document-pair reader
  did before this module existed.
* **markdown** (``.md``, ``.markdown``): markup that would otherwise end up
  inside sentences is removed, text is kept:

  - Paragraphs are runs of non-blank lines; their lines (hard wrapping) are
    joined into one line, with no space where either side of the break is
    Chinese (Han or full-width punctuation, so ``公司\\n宣布`` gives
    ``公司宣布``) and one space otherwise.
  - An ATX heading (``# Title``, closing ``#`` run too), each list item
    (``-``, ``*``, ``+``, ``1.``, ``1)``, with an optional ``[ ]``/``[x]``
    task box) and each table cell is a paragraph of its own. Blockquote
    markers (``>``) are removed.
  - Removed entirely: fenced code blocks (```` ``` ```` or ``~~~``), which are
    not prose; thematic breaks and setext underlines (``---``, ``***``,
    ``===``); table delimiter rows (``|---|:--:|``).
  - Inline: emphasis and strikethrough delimiters (``**``, ``__``, ``*``,
    ``_``, ``~~``; an ``_`` inside a word such as ``snake_case`` is kept),
    code-span backticks (the code is kept, and nothing inside it is
    stripped), links and images (``[text](url)`` and ``![alt](url)`` keep
    ``text`` / ``alt``; ``[text][ref]`` keeps ``text``), autolinks
    (``<https://…>`` keeps the address), HTML tags (``<br>``, ``<span …>``)
    and the backslash of escapes (``\\*``). Emphasis is matched within one
    source line.

  Indented code blocks, reference definitions and HTML blocks are not
  recognised and are read as text.
* **docx** (``.docx``, needs the ``python-docx`` package): the body's
  paragraphs in reading order, table cells included (row by row, each
  paragraph of a cell on its own). A manual line break inside a Word
  paragraph also starts a new line. Headers, footers, footnotes, comments
  and text boxes are not read. Positions are reported as (paragraph
  number, column): the paragraph counts every body paragraph, empty ones
  and those in table cells included, from 1.

Positions. :meth:`DocumentText.position` maps an offset in
:attr:`DocumentText.text` back to a 1-based (line, column) of the file
(``docx``: paragraph, column); a character that markup removal brought
together keeps its own position, so a sentence's first character is always
reported where it is in the file.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import regex

from mtcheck.errors import InputError, UsageError
from mtcheck.io.encoding import iter_lines

DOCUMENT_FORMATS = ("text", "markdown", "docx")

_MD_SUFFIXES = frozenset({".md", ".markdown"})
_DOCX_SUFFIXES = frozenset({".docx"})


@dataclass(frozen=True)
class DocumentText:
    """A document as plain text, one paragraph per line.

    Attributes:
        path: The file it was read from.
        format: ``"text"``, ``"markdown"`` or ``"docx"``.
        text: The text; paragraphs separated by ``\\n``.
        verbatim: Whether every sentence of ``text`` appears in the file
            character for character (true for plain text only), i.e. whether
            an offset inside a sentence can be mapped by adding a column.
    """

    path: str
    format: str
    text: str
    verbatim: bool
    # Per character of ``text`` (and one past the end): (line, column) in the
    # file, 1-based. Empty for plain text, where ``_line_starts`` suffices.
    _positions: tuple[tuple[int, int], ...] = ()
    _line_starts: tuple[int, ...] = ()

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) in the file of ``text[offset]`` (docx: paragraph, column).

        Raises:
            UsageError: ``offset`` is outside ``0..len(text)``.
        """
        if not 0 <= offset <= len(self.text):
            raise UsageError(f"{self.path}: offset {offset} is outside the document (0..{len(self.text)})")
        if self._positions:
            return self._positions[offset]
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1


def detect_document_format(path: str | Path) -> str:
    """``"markdown"`` for .md/.markdown, ``"docx"`` for .docx, else ``"text"`` (case-insensitive)."""
    suffix = Path(path).suffix.lower()
    if suffix in _MD_SUFFIXES:
        return "markdown"
    if suffix in _DOCX_SUFFIXES:
        return "docx"
    return "text"


def read_document(path: str | Path, *, encoding: str = "utf-8", fmt: str | None = None) -> DocumentText:
    """Read a document as plain text with one paragraph per line.

    Args:
        path: The file.
        encoding: Text encoding of .txt and .md files (ignored for .docx).
        fmt: ``"text"``, ``"markdown"`` or ``"docx"``; by default from the
            extension (:func:`detect_document_format`).

    Raises:
        UsageError: ``fmt`` is unknown, or python-docx is needed and missing.
        InputError: The file cannot be read (see
            :func:`mtcheck.io.encoding.iter_lines`) or is not a valid .docx.
    """
    fmt = fmt or detect_document_format(path)
    if fmt == "text":
        return _read_text(Path(path), encoding)
    if fmt == "markdown":
        lines = [line for _, line in iter_lines(path, encoding)]
        return markdown_to_text(lines, path=str(path))
    if fmt == "docx":
        return _read_docx(Path(path))
    raise UsageError(f"unknown document format {fmt!r}; expected one of {', '.join(DOCUMENT_FORMATS)}")


def _read_text(path: Path, encoding: str) -> DocumentText:
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for _, line in iter_lines(path, encoding):
        starts.append(pos)
        parts.append(line)
        pos += len(line) + 1
    return DocumentText(str(path), "text", "\n".join(parts), True, (), tuple(starts or [0]))


# ---------------------------------------------------------------------------
# Paragraph assembly shared by markdown and docx


class _Builder:
    """Collects paragraphs as characters with their file positions."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.positions: list[tuple[int, int]] = []
        self._open = False  # a paragraph is being built
        self._last_end: tuple[int, int] = (1, 1)

    def add_line(self, chars: list[tuple[str, tuple[int, int]]], end: tuple[int, int], *, join: bool) -> None:
        """Add a line's characters; ``join`` continues the open paragraph (soft wrap)."""
        chars = _strip_pairs(chars)
        if not chars:
            if not join:
                self.close()
            return
        if self._open and join:
            prev, nxt = self.chars[-1], chars[0][0]
            if not (_CJK.match(prev) or _CJK.match(nxt)):
                self.chars.append(" ")
                self.positions.append(self._last_end)
        else:
            if self.chars:
                self.chars.append("\n")
                self.positions.append(self._last_end)
        for ch, p in chars:
            self.chars.append(ch)
            self.positions.append(p)
        self._open = True
        self._last_end = end

    def close(self) -> None:
        """End the open paragraph: the next line starts a new one."""
        self._open = False

    def build(self, path: str, fmt: str) -> DocumentText:
        positions = tuple(self.positions) + (self._last_end,)
        return DocumentText(path, fmt, "".join(self.chars), False, positions, ())


def _strip_pairs(chars: list[tuple[str, tuple[int, int]]]) -> list[tuple[str, tuple[int, int]]]:
    start, end = 0, len(chars)
    while start < end and chars[start][0].isspace():
        start += 1
    while end > start and chars[end - 1][0].isspace():
        end -= 1
    return chars[start:end]


# Characters next to which a soft line break joins without a space.
_CJK = regex.compile(
    r"[\p{Han}\p{InCJK_Symbols_and_Punctuation}\p{InHalfwidth_and_Fullwidth_Forms}\p{Hiragana}\p{Katakana}]"
)

# ---------------------------------------------------------------------------
# Markdown

_FENCE = regex.compile(r"^ {0,3}(`{3,}|~{3,})")
_THEMATIC = regex.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|=+[ \t]*)$")
_TABLE_DELIM = regex.compile(r"^ *\|?(?: *:?-+:? *\|)+ *(?::?-+:?)? *$|^ *:?-+:? *\| *:?-+:?.*$")
_QUOTE = regex.compile(r"^ {0,3}> ?")
_HEADING = regex.compile(r"^ {0,3}#{1,6}(?:[ \t]+|$)")
_HEADING_CLOSE = regex.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_LIST = regex.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?")
_TABLE_ROW = regex.compile(r"^ {0,3}\|")

# Inline patterns, applied in this order. Each keeps the named group "keep"
# (if any) and deletes the rest of the match.
_CODE_SPAN = regex.compile(r"(`+)(?P<keep>.+?)(?<!`)\1(?!`)")
_ESCAPE = regex.compile(r"\\(?P<keep>[!-/:-@\[-`{-~])")
_INLINE = (
    regex.compile(r"!\[(?P<keep>[^\]]*)\]\([^)]*\)"),                   # image
    regex.compile(r"\[(?P<keep>[^\]]+)\]\([^)]*\)"),                    # inline link
    regex.compile(r"\[(?P<keep>[^\]]+)\]\[[^\]]*\]"),                   # reference link
    regex.compile(r"<(?P<keep>(?:https?|ftp)://[^\s>]+|[^\s@<>]+@[^\s@<>]+)>"),  # autolink
    regex.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"),          # HTML tag
    regex.compile(r"(\*\*|__|~~)(?=\S)(?P<keep>.+?)(?<=\S)\1"),          # strong, strikethrough
    regex.compile(r"(?<!\*)\*(?=[^\s*])(?P<keep>.+?)(?<=[^\s*])\*(?!\*)"),  # *emphasis*
    regex.compile(r"(?<![\p{L}\p{N}_])_(?=[^\s_])(?P<keep>.+?)(?<=[^\s_])_(?![\p{L}\p{N}_])"),  # _emphasis_
)

_Chars = list[tuple[str, tuple[int, int]]]


def markdown_to_text(lines: list[str], *, path: str = "<markdown>") -> DocumentText:
    """Plain text of Markdown given as lines (see the module docstring for what is removed).

    Args:
        lines: The file's lines without line endings.
        path: Name used in positions and messages.
    """
    out = _Builder()
    in_fence: str | None = None
    for lineno, line in enumerate(lines, start=1):
        end = (lineno, len(line) + 1)
        fence = _FENCE.match(line)
        if in_fence is not None:
            if fence and fence.group(1)[0] == in_fence[0] and len(fence.group(1)) >= len(in_fence) \
                    and not line[fence.end():].strip():
                in_fence = None
            continue
        if fence:
            in_fence = fence.group(1)
            out.close()
            continue
        chars: _Chars = [(ch, (lineno, col)) for col, ch in enumerate(line, start=1)]
        if not line.strip() or _THEMATIC.match(line) or ("|" in line and _TABLE_DELIM.match(line)):
            out.close()
            continue
        text = line
        own_paragraph = False
        # Blockquote markers, possibly nested ("> > text").
        while (m := _QUOTE.match(text)):
            text, chars = text[m.end():], chars[m.end():]
        if (m := _HEADING.match(text)):
            text, chars = text[m.end():], chars[m.end():]
            close = _HEADING_CLOSE.search(text)
            if close:
                text, chars = text[:close.start()], chars[:close.start()]
            out.add_line(_inline(chars), end, join=False)
            out.close()
            continue
        if (m := _LIST.match(text)):
            text, chars = text[m.end():], chars[m.end():]
            own_paragraph = True
        if _TABLE_ROW.match(text):
            for cell in _table_cells(text, chars):
                out.add_line(_inline(cell), end, join=False)
            out.close()
            continue
        # A trailing backslash or two spaces is a hard break; it reads as a soft one here.
        if text.endswith("\\"):
            text, chars = text[:-1], chars[:-1]
        out.add_line(_inline(chars), end, join=not own_paragraph)
    return out.build(path, "markdown")


def _table_cells(text: str, chars: _Chars) -> Iterator[_Chars]:
    """Cells of a pipe-table row (escaped ``\\|`` does not separate cells)."""
    cell: _Chars = []
    k = 0
    while k < len(text):
        ch = text[k]
        if ch == "\\" and k + 1 < len(text) and text[k + 1] == "|":
            cell.append(chars[k + 1])
            k += 2
            continue
        if ch == "|":
            yield cell
            cell = []
        else:
            cell.append(chars[k])
        k += 1
    yield cell


def _inline(chars: _Chars) -> _Chars:
    """Remove inline markup from one line's characters, keeping each kept character's position."""
    # Code spans and escaped characters first: they are kept as they are, so
    # they are set aside as protected and no later pattern may remove them.
    protected = [False] * len(chars)
    chars, protected = _apply(_CODE_SPAN, chars, protected, protect_kept=True)
    chars, protected = _apply(_ESCAPE, chars, protected, protect_kept=True)
    for pattern in _INLINE:
        chars, protected = _apply(pattern, chars, protected)
    return chars


def _apply(pattern: regex.Pattern, chars: _Chars, protected: list[bool], *,
           protect_kept: bool = False) -> tuple[_Chars, list[bool]]:
    text = "".join(ch for ch, _ in chars)
    drop = [False] * len(chars)
    newly_protected = list(protected)
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        keep_start, keep_end = m.span("keep") if "keep" in pattern.groupindex else (m.end(), m.end())
        if any(protected[k] for k in range(m.start(), m.end()) if not keep_start <= k < keep_end):
            pos = m.start() + 1  # the markup would be cut out of a code span
            continue
        for k in range(m.start(), m.end()):
            if not keep_start <= k < keep_end:
                drop[k] = True
            elif protect_kept:
                newly_protected[k] = True
        pos = max(m.end(), m.start() + 1)
    kept = [(c, p) for c, p, d in zip(chars, newly_protected, drop) if not d]
    return [c for c, _ in kept], [p for _, p in kept]


# ---------------------------------------------------------------------------
# docx


def _read_docx(path: Path) -> DocumentText:
    try:
        import docx  # python-docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError:
        raise UsageError(f"{path}: reading .docx files needs python-docx (pip install python-docx)") from None
    if not path.is_file():
        raise InputError("file not found", path)
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise InputError(f"not a valid .docx file (expected a Word 2007+ document): {exc}", path) from None
    except Exception as exc:  # broken XML inside the zip: lxml and zipfile raise their own types
        raise InputError(f"not a valid .docx file: {type(exc).__name__}: {exc}", path) from None
    out = _Builder()
    for number, text in enumerate(_docx_paragraphs(document), start=1):
        col = 1
        for piece in text.split("\n"):
            chars = [(ch, (number, col + k)) for k, ch in enumerate(piece)]
            out.add_line(chars, (number, col + len(piece)), join=False)
            col += len(piece) + 1
        out.close()
    return out.build(str(path), "docx")


def _docx_paragraphs(document) -> Iterator[str]:
    """Text of every body paragraph in reading order, table cells row by row."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    def walk(container) -> Iterator[str]:
        for block in container.iter_inner_content():
            if isinstance(block, Paragraph):
                yield block.text
            elif isinstance(block, Table):
                for row in block.rows:
                    seen = set()
                    for cell in row.cells:
                        # A merged cell appears once per grid column it spans.
                        if id(cell._tc) in seen:
                            continue
                        seen.add(id(cell._tc))
                        yield from walk(cell)

    yield from walk(document)


__all__ = ["DOCUMENT_FORMATS", "DocumentText", "detect_document_format", "markdown_to_text", "read_document"]
