"""Shared plumbing of the checks' hand-written TSV data (glossaries, the calque lexicon).

Both files are UTF-8, tab-separated, with ``#`` comment lines, blank lines
allowed, one header row naming the columns, and project copies that users
edit while a long-lived process keeps running. This module decodes them with
errors that name the file and line, walks their rows with the header checked
once, reads on/off switches, and stamps files so caches notice an edit.
"""

from __future__ import annotations

import os
from typing import Iterator, Sequence

from mtcheck.config import CheckOptions
from mtcheck.errors import ConfigError, EncodingError, MissingColumnsError

_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}


def decode(data: bytes | str, name: str, what: str) -> str:
    """UTF-8 text of ``data`` without a leading BOM; ``what`` names the kind of file in errors."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise EncodingError(f"{what} is not valid UTF-8 (byte {exc.start}: {exc.reason})", name, line) from None
    return data[1:] if data.startswith("\ufeff") else data


def rows(text: str, name: str, what: str, required: Sequence[str], expected: str, columns: str
         ) -> Iterator[tuple[int, list[str], list[str]]]:
    """``(line number, fields, header)`` for every data row after a valid header.

    Args:
        text: Decoded file content.
        name: File name for errors.
        what: Kind of file for errors ("glossary").
        required: Columns the header must have.
        expected: How to describe a good header in an error message.
        columns: The required columns in words, for the error about an empty file.

    Raises:
        MissingColumnsError: no header, or it lacks a required column or repeats one.
    """
    header: list[str] | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if header is None:
            header = [f.lower() for f in fields]
            missing = [c for c in required if c not in header]
            if missing:
                raise MissingColumnsError(
                    f"{what} header lacks column(s) {', '.join(missing)}; expected {expected}; got {fields!r}",
                    name, lineno)
            dupes = sorted({c for c in header if c and header.count(c) > 1})
            if dupes:
                raise MissingColumnsError(f"{what} header repeats column(s) {', '.join(dupes)}", name, lineno)
            continue
        yield lineno, fields, header
    if header is None:
        raise MissingColumnsError(f"{what} is empty: expected a header row with {columns} columns", name)


def switch(options: CheckOptions, check: str, key: str, default: str = "on") -> bool:
    """An on/off check parameter such as ``terms.default_glossary``.

    Raises:
        ConfigError: the value is neither on nor off.
    """
    value = (options.get(check, key, default) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{check}.{key} must be on or off, got {value!r}")


def stamp(path: str) -> tuple[int, int]:
    """Modification time and size, for cache keys (an edited file is re-read); ``(-1, -1)`` if unreadable."""
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)
