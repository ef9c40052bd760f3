"""Progress of long-running model work, reported to whoever wants it (the CLI prints it).

Generation with an offline translation model takes seconds a sentence on a
CPU. The library never prints; it calls :func:`report`, and the command line
installs a callback with :func:`set_progress`. This module imports nothing
heavy, so the CLI can install its callback without loading any model code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Progress:
    """How far a run is: ``done`` of ``total`` texts in ``seconds``."""

    what: str
    done: int
    total: int
    seconds: float

    @property
    def remaining_seconds(self) -> float:
        return self.seconds / self.done * (self.total - self.done) if self.done else float("nan")


_progress: Callable[[Progress], None] | None = None


def set_progress(callback: Callable[[Progress], None] | None) -> None:
    """Send progress reports to ``callback`` (``None``: nowhere)."""
    global _progress
    _progress = callback


def report(p: Progress) -> None:
    """Pass ``p`` to the installed callback, if any."""
    if _progress is not None:
        _progress(p)
