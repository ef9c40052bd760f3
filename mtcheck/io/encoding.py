"""Decoding input files line by line with errors that say where.

Files are read as bytes and decoded one line at a time, so an invalid byte is
reported with its file, line, and byte offset, and so huge files stream. A
UTF-8 byte-order mark is accepted; UTF-16 and UTF-32 files (recognised by
their BOM, or named with ``encoding``) are decoded whole, since their line
ends are not single bytes. A file that is plainly UTF-16 without a BOM (a
quarter or more of its first bytes NUL, nearly all at odd or nearly all at
even offsets, decoding to text with line ends) is refused with a message
naming ``--encoding utf-16-le``/``-be`` rather than read as UTF-8 text full
of NULs; when the evidence is weaker, an invalid-UTF-8 error names that
option as a possibility. A stray NUL byte in a UTF-8 file is kept as text.

Lines end at ``\\n`` (``\\r\\n`` is accepted). A file whose first MiB holds
a ``\\r`` but no ``\\n`` has old Mac (CR-only) line ends, as "CSV (Macintosh)"
exports do, and is split at ``\\r``; otherwise a lone ``\\r`` is text. Other
Unicode line separators (U+2028, U+0085) stay inside the text, since
splitting on them would misalign parallel files.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Iterator

from mtcheck.errors import EncodingError, InputError


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


#: How much of a file decides CR-only line ends and UTF-16 without a BOM.
_SNIFF = 1 << 20
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def _wide_codec(head: bytes, codec: str) -> str | None:
    """The codec to decode the whole file with, when its line ends are not single bytes."""
    if codec.startswith(("utf-16", "utf-32")):
        return codec
    if codec.startswith("utf-8"):
        for bom, name in _WIDE_BOMS:  # UTF-32-LE's BOM starts with UTF-16-LE's: test it first
            if head.startswith(bom):
                return name
    return None


def _utf16_without_bom(head: bytes) -> tuple[str, bool] | None:
    """``("utf-16-le" or "utf-16-be", certain)`` if ``head`` may be BOM-less UTF-16, else ``None``.

    ``certain`` needs a quarter of the bytes to be NUL: ASCII in UTF-16 is
    half NULs, while a UTF-8 file with a few NULs next to line ends or tabs
    (which decode as UTF-16 line ends too) must not be refused.
    """
    zeros = [i for i, b in enumerate(head) if b == 0]
    if len(zeros) < 2:
        return None
    odd = sum(i % 2 for i in zeros)
    for name, share in (("utf-16-le", odd), ("utf-16-be", len(zeros) - odd)):
        if share >= 0.9 * len(zeros):
            sample = head[: len(head) - len(head) % 2]
            text = sample.decode(name, "replace")
            if "\x00" not in text and ("\n" in text or "\r" in text):
                return name, len(zeros) >= len(head) / 4
    return None


def _cr_only(head: bytes) -> bool:
    return b"\n" not in head and b"\r" in head


def _split_cr(fh) -> Iterator[bytes]:
    """Raw lines of a CR-only file, each with its ``\\r`` kept (as iterating a file keeps ``\\n``)."""
    rest = b""
    while chunk := fh.read(1 << 16):
        parts = (rest + chunk).split(b"\r")
        rest = parts.pop()
        for part in parts:
            yield part + b"\r"
    if rest:
        yield rest


def iter_lines(path: str | Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line of ``path``, without its line ending.

    Args:
        path: File to read.
        encoding: Codec name; ``utf-8`` also accepts (and drops) a BOM.

    Raises:
        InputError: the file cannot be opened.
        EncodingError: a line is not valid in ``encoding``; the message names
            the line, the byte offset within the line and in the file. Also
            a file that looks like UTF-16 without a byte-order mark.
    """
    codec = _check_encoding(encoding)
    with _open_binary(path) as fh:
        head = fh.read(_SNIFF)
        wide = _wide_codec(head, codec)
        if wide is not None:
            yield from _iter_wide(path, head + fh.read(), wide)
            return
        guess = None
        if codec.startswith("utf-8") and b"\x00" in head:
            guess = _utf16_without_bom(head[: 1 << 16])
            if guess is not None and guess[1]:
                raise EncodingError(
                    f"looks like {guess[0].upper()} without a byte-order mark (NUL bytes between the characters); "
                    f"expected {encoding} text — pass --encoding {guess[0]} or save the file with a BOM",
                    path, 1,
                )
        hint = f", or --encoding {guess[0]} if it is UTF-16 without a byte-order mark" if guess else ""
        fh.seek(0)
        offset = 0
        raw_lines = _split_cr(fh) if _cr_only(head) else fh
        for lineno, raw in enumerate(raw_lines, start=1):
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
                    f"expected {encoding} text — for legacy Chinese files try --encoding gb18030{hint}",
                    path,
                    lineno,
                ) from None
            offset += len(raw)
            yield lineno, text


def _iter_wide(path: str | Path, data: bytes, codec: str) -> Iterator[tuple[int, str]]:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        what = f"{codec.upper()} (from its byte-order mark)" if codec in ("utf-16", "utf-32") else codec
        raise EncodingError(f"not valid {what} at byte {exc.start + 1}: {exc.reason}", path) from None
    if text.startswith("\ufeff"):
        text = text[1:]  # utf-16-le/-be keep a BOM as a character
    for lineno, line in enumerate(_text_lines(text), start=1):
        yield lineno, line


def _text_lines(text: str) -> list[str]:
    """Lines of decoded text by the same rules as the byte path (CR-only files split at CR)."""
    sep = "\r" if ("\n" not in text[:_SNIFF] and "\r" in text[:_SNIFF]) else "\n"
    lines = text.split(sep)
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if sep == "\n" and line.endswith("\r") else line for line in lines]


def count_lines(path: str | Path, encoding: str = "utf-8") -> int:
    """Number of lines as :func:`iter_lines` would yield them (decoding only UTF-16/32)."""
    codec = _check_encoding(encoding)
    with _open_binary(path) as fh:
        head = fh.read(_SNIFF)
        wide = _wide_codec(head, codec)
        if wide is not None:
            return sum(1 for _ in _iter_wide(path, head + fh.read(), wide))
        end = b"\r" if _cr_only(head) else b"\n"
        fh.seek(0)
        n = 0
        last = b""
        while chunk := fh.read(1 << 20):
            n += chunk.count(end)
            last = chunk
        if last and not last.endswith(end):
            n += 1
        return n
