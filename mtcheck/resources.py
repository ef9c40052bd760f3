"""A memory ceiling for a run: stop cleanly, keeping partial results, before the system kills it.

The in-memory commands hold the whole batch; on a batch too big for the
machine the kernel's out-of-memory killer would end the process with no
message and no output. :class:`MemoryCeiling` watches the process's resident
memory from a daemon thread and, once it passes the limit, interrupts the
main thread exactly as Ctrl-C does. Everything built for Ctrl-C then applies:
the in-memory pipeline raises :class:`~mtcheck.pipeline.ScoringInterrupted`
with the partial batch (written out by the CLI), and a streamed job keeps
every chunk it committed (``--resume`` continues). The CLI tells the two
apart by :attr:`MemoryCeiling.tripped`.

The ceiling is checked every ``interval`` seconds, so the process can pass
it by what it allocates in that time; it covers this process only, not
``--workers`` processes or Ray actors (each of those holds one chunk).
"""

from __future__ import annotations

import _thread
import os
import signal
import threading
from dataclasses import dataclass

from mtcheck.errors import ConfigError, MtcheckError

#: Without a setting, the ceiling is this share of the machine's physical memory.
DEFAULT_SHARE = 0.9
ENV = "MTCHECK_MAX_MEMORY_MB"


class MemoryLimitError(MtcheckError):
    """The run passed its memory ceiling and was stopped."""


def rss_mb() -> float | None:
    """Resident memory of this process in MiB, or ``None`` where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        pass
    return _ru_maxrss_mb()  # peak, not current: good enough to trip a ceiling


def _ru_maxrss_mb() -> float | None:
    """``getrusage``'s peak resident size in MiB (bytes on macOS, KiB elsewhere), or ``None``."""
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024
    except (ImportError, OSError):
        return None


def peak_rss_mb() -> float | None:
    """This process's peak resident memory in MiB, or ``None`` where it cannot be read.

    Read from ``VmHWM`` in ``/proc/self/status`` where there is one: the
    high-water mark of this program's own address space. ``getrusage``'s
    ``ru_maxrss``, the fallback, is the wrong figure for a benchmark run as a
    child process on Linux: it also keeps the parent's resident size at the
    moment of ``exec`` (a child of a 2 GB parent reports 2 GB from its first
    line), which is how a benchmark can report memory that the code measured
    never used.
    """
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) / 1024  # always kB
    except (OSError, ValueError, IndexError):
        pass
    return _ru_maxrss_mb()


def physical_mb() -> float | None:
    """The machine's physical memory in MiB, or ``None`` where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (OSError, ValueError, AttributeError):
        return None


def resolve_limit(cli_value: float | None, config_value: object, where: str) -> float | None:
    """The ceiling in MiB: the command line, else ``$MTCHECK_MAX_MEMORY_MB``, else the config, else 90% of RAM.

    ``0`` switches the ceiling off.

    Raises:
        ConfigError: a value is not a non-negative number.
    """
    for value, origin in ((cli_value, "--max-memory"), (os.environ.get(ENV), ENV),
                          (config_value, f"{where}: max-memory-mb")):
        if value is None or value == "":
            continue
        try:
            limit = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{origin} must be a number of MiB, got {value!r}") from None
        if isinstance(value, bool) or limit < 0 or limit != limit:
            raise ConfigError(f"{origin} must be a non-negative number of MiB (0 = no ceiling), got {value!r}")
        return limit or None
    total = physical_mb()
    return total * DEFAULT_SHARE if total else None


@dataclass
class MemoryCeiling:
    """Interrupt the main thread when this process's resident memory passes ``limit_mb``.

    Use as a context manager around the work; it must be entered from the
    main thread (that is the thread it interrupts).

    Attributes:
        limit_mb: The ceiling in MiB; ``None`` watches nothing.
        interval: Seconds between two readings.
        tripped: The resident memory (MiB) that passed the ceiling, once it has.
    """

    limit_mb: float | None
    interval: float = 0.1
    tripped: float | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "MemoryCeiling":
        try:
            self._start()
        except BaseException:
            # An interrupt that lands before the with-block starts still stops the watcher.
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        if self.limit_mb is not None and rss_mb() is not None:
            # interrupt_main() does nothing while SIGINT is ignored or left to the OS (as some
            # libraries leave it); Python's own handler turns it into KeyboardInterrupt.
            self._saved_handler = None
            if threading.current_thread() is threading.main_thread():
                current = signal.getsignal(signal.SIGINT)
                if current in (signal.SIG_IGN, signal.SIG_DFL, None):
                    self._saved_handler = current
                    signal.signal(signal.SIGINT, signal.default_int_handler)
            self._thread = threading.Thread(target=self._watch, name="mtcheck-memory-ceiling", daemon=True)
            self._thread.start()

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            if getattr(self, "_saved_handler", None) is not None:
                signal.signal(signal.SIGINT, self._saved_handler)

    def _watch(self) -> None:
        # The first reading waits one interval, so the interrupt lands inside the with-block.
        while not self._stop.wait(self.interval):
            rss = rss_mb()
            if rss is not None and rss > self.limit_mb:
                self.tripped = rss
                _thread.interrupt_main()
                return

    def error(self, streamed: bool = False) -> MemoryLimitError:
        """The error to report once :attr:`tripped` is set (``streamed``: a ``--out`` job was stopped)."""
        advice = ("The chunks already written are kept: lower --chunk-size and continue with --resume"
                  if streamed else "Score large batches with --out FILE, which streams them in bounded memory")
        return MemoryLimitError(
            f"stopped at {self.tripped:.0f} MiB resident memory, over the ceiling of {self.limit_mb:.0f} MiB "
            f"(--max-memory, ${ENV} or max-memory-mb in the config; 0 = none). {advice}")
