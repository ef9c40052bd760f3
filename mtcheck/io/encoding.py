"""Decoding input files line by line with errors that say where.

Files are read as bytes and decoded one line at a time, so an invalid byte is
reported with its file, line, and byte offset, and so huge files stream. A
UTF-8 byte-order mark is accepted; UTF-16 files (recognised by their BOM)
are decoded as such. Lines end at ``\\n`` only (``\\r\\n`` is accepted);
other Unicode line separators (U+2028, U+0085) stay inside the text, since
splitting on them would misalign parallel files.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Iterator

from mtcheck.errors import EncodingError, InputError

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}; expected a codec name such as utf-8 or gb18030") from None


def _open_binary(path: str | Path):
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot open file: {exc.strerror or exc}", path) from None


def iter_lines(path: str | Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line of ``path``, without its line ending.

    Args:
        path: File to read.
        encoding: Codec name; ``utf-8`` also accepts (and drops) a BOM.

    Raises:
        InputError: the file cannot be opened.
        EncodingError: a line is not valid in ``encoding``; the message names
            the line, the byte offset within the line and in the file.
    """
    codec = _check_encoding(encoding)
    with _open_binary(path) as fh:
        head = fh.read(4)
        if head.startswith(_UTF16_BOMS) and codec.startswith("utf-8"):
            fh.seek(0)
            yield from _iter_utf16(path, fh.read())
            return
        fh.seek(0)
        offset = 0
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8) and codec.startswith("utf-8"):
                raw = raw[len(codecs.BOM_UTF8):]
                offset += len(codecs.BOM_UTF8)
            body = raw[:-1] if raw.endswith(b"\n") else raw
            if body.endswith(b"\r"):
                body = body[:-1]
            try:
                text = body.decode(codec)
            except UnicodeDecodeError as exc:
                bad = body[exc.start : exc.start + 4]
                raise EncodingError(
                    f"invalid {encoding} at byte {exc.start + 1} of the line "
                    f"(byte {offset + exc.start + 1} of the file): 0x{bad.hex()} ({exc.reason}); "
                    f"expected {encoding} text — for legacy Chinese files try --encoding gb18030",
                    path,
                    lineno,
                ) from None
            offset += len(raw)
            yield lineno, text


def _iter_utf16(path: str | Path, data: bytes) -> Iterator[tuple[int, str]]:
    try:
        text = data.decode("utf-16")
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"file starts with a UTF-16 byte-order mark but is not valid UTF-16 at byte {exc.start}", path
        ) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, start=1):
        yield lineno, line[:-1] if line.endswith("\r") else line


def count_lines(path: str | Path) -> int:
    """Number of lines as :func:`iter_lines` would yield them (no decoding)."""
    with _open_binary(path) as fh:
        head = fh.read(4)
        if head.startswith(_UTF16_BOMS):
            return sum(1 for _ in _iter_utf16(path, head + fh.read()))
        fh.seek(0)
        n = 0
        last = b""
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk
        if last and not last.endswith(b"\n"):
            n += 1
        return n
