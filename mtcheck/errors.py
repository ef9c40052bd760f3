"""Errors raised by mtcheck.

Every error a user can cause is an :class:`MtcheckError`. Messages name the
file, the line (and byte, for encoding errors) and what was expected, so that
the CLI can print them as one line without a traceback. The library never
prints or exits; only :mod:`mtcheck.cli` turns these into exit codes.
"""

from __future__ import annotations

from pathlib import Path


class MtcheckError(Exception):
    """Base class of every error mtcheck raises on purpose."""


class UsageError(MtcheckError):
    """The command line or API call was inconsistent (e.g. no input given)."""


class ConfigError(MtcheckError):
    """A configuration file or value is invalid."""


class InputError(MtcheckError):
    """An input file cannot be read as asked.

    Args:
        message: What is wrong and what was expected.
        path: The file concerned, if any.
        line: 1-based line number in that file, if known.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.detail = message
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
            where += ": "
        super().__init__(where + message)


class EncodingError(InputError):
    """A file is not valid in the declared encoding."""


class MissingColumnsError(InputError):
    """A tabular or JSON input lacks required columns or keys."""


class LineCountMismatchError(InputError):
    """Line-aligned files do not have the same number of lines."""


class EmptyInputError(InputError):
    """An input file holds no segments at all."""


class NoOverlapError(InputError):
    """Human and metric score files share no (system, item) pair."""


class ModelUnavailableError(MtcheckError):
    """A model cannot be loaded here; the message names what to install or which path is missing."""


class DataUnavailableError(MtcheckError):
    """Optional external data (e.g. the shared WMT judgements) is not present."""
