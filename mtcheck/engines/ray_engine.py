"""Score the chunks of a streaming job as a Ray Data job (``--engine ray``).

:func:`mtcheck.jobs.run_job` still reads, chunks, keys and writes the batch;
only the scoring of each chunk moves to Ray, so the chunks (documents kept
whole), the segment records, the aggregates and the summary are those of the
local engine, and resume works unchanged.

* **Feeding.** The job's chunks come from a lazy iterator in the driver. A
  feeder thread pickles them into a bounded :class:`ray.util.queue.Queue`;
  a custom datasource with a single read task takes them out one by one and
  emits one block per chunk, so a dataset of unknown length streams without
  first holding the input (the blocks wait in Ray's object store, under Ray
  Data's backpressure).
* **Scoring.** ``map_batches`` with a fixed pool of ``workers`` actors, one
  chunk per call. Each actor runs the local workers' initializer once (the
  driver's model overrides, then a warm-up segment), so models load once per
  actor, not per chunk. ``gpus_per_worker`` gives each actor that share of
  a GPU (the neural metrics then use the device Ray assigns).
* **Order.** Outcomes come back in input order (``preserve_order``), and the
  driver also reorders by chunk index so that writing never depends on it.

:func:`read_segments` reads JSONL/Parquet from local paths or object-storage
URLs that Ray understands (``s3://``, ``gs://``, ``abfs://``…) with
``ray.data.read_json``/``read_parquet`` and yields segments for ``run_job``.

Ray is imported inside functions only; without it a :class:`RayEngineError`
names ``pip install 'mtcheck[ray]'``.
"""

from __future__ import annotations

import pickle
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from mtcheck.config import ScoreConfig
from mtcheck.core import Origin, Segment
from mtcheck.errors import InputError, MissingColumnsError, UsageError
from mtcheck.jobs import Chunk, ChunkOutcome, JobError

INSTALL_HINT = "pip install 'mtcheck[ray]'"
#: URL schemes read through Ray's filesystems (pyarrow/fsspec) rather than mtcheck's own readers.
URL_SCHEMES = ("s3://", "gs://", "gcs://", "abfs://", "abfss://", "az://", "hdfs://", "http://", "https://",
               "local://")

# Chunks pickled ahead of the read task; Ray Data's own backpressure bounds what lies beyond it.
_QUEUE_PER_WORKER = 2
# How often a blocked feeder or read task checks whether the job was stopped.
_POLL_S = 0.5
_END = "end"


class RayEngineError(JobError):
    """The Ray engine cannot run: Ray is missing, the cluster is unreachable, or a Ray task failed."""


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide the Ray job runs.

    Attributes:
        address: Ray cluster to join (``"auto"``, ``"ray://head:10001"``,
            ``"head:6379"``); ``None`` joins the cluster this process is
            already connected to, or else starts a local one for the job.
        workers: Actors scoring chunks (each holds one set of models).
        cpus_per_worker: CPUs Ray reserves for each actor.
        gpus_per_worker: GPUs (or a fraction) Ray reserves for each actor.
    """

    address: str | None = None
    workers: int = 1
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.workers, int) or self.workers < 1:
            raise UsageError(f"workers must be a positive number of Ray actors, got {self.workers!r}")
        if self.cpus_per_worker < 0 or self.gpus_per_worker < 0:
            raise UsageError("CPUs and GPUs per Ray worker cannot be negative")
        if self.address is not None and not str(self.address).strip():
            raise UsageError("the Ray address is empty; omit --address to start a local Ray instance")


def require_ray():
    """The ``ray`` module, imported on first use.

    Returns:
        The imported module.

    Raises:
        RayEngineError: Ray (with Ray Data) is not installed.
    """
    try:
        import ray
        import ray.data  # noqa: F401 - the engine needs Ray Data, which `pip install ray` alone lacks
    except ImportError as exc:
        raise RayEngineError(f"the ray engine needs Ray Data, which is not installed ({exc}); "
                             f"install it with: {INSTALL_HINT}") from None
    return ray


def is_url(path: str) -> bool:
    """Whether ``path`` names object storage (or another filesystem) that Ray reads itself."""
    return str(path).lower().startswith(URL_SCHEMES)


class _Session:
    """Joins or starts Ray for one job and leaves it as it was found."""

    def __init__(self, address: str | None):
        self.address = address
        self.started = False

    def __enter__(self):
        import logging

        ray = require_ray()
        if ray.is_initialized():
            # A caller (a notebook, a test, a `ray job submit` entrypoint that called ray.init) owns it.
            return ray
        try:
            # Quiet: the library never prints; Ray's own INFO lines would go to the user's stderr.
            ray.init(address=self.address, include_dashboard=False, logging_level=logging.WARNING,
                     log_to_driver=False)
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError… depending on the address form
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
            raise RayEngineError(f"cannot start or join {where}: {' '.join(str(exc).split())}") from None
        self.started = True
        return ray

    def __exit__(self, *exc_info) -> None:
        if self.started:
            import ray

            ray.shutdown()


def _quiet_context(ray):
    """Ray Data's context for the job: ordered, one chunk per block, no progress output."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    saved = {k: getattr(ctx, k) for k in ("enable_progress_bars", "print_on_execution_start",
                                          "target_max_block_size")}
    saved["preserve_order"] = ctx.execution_options.preserve_order
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    # A read task's small blocks would otherwise be coalesced up to 128 MiB before anything is scored.
    ctx.target_max_block_size = 1
    ctx.execution_options.preserve_order = True
    return ctx, saved


def _restore_context(ctx, saved: dict[str, Any]) -> None:
    ctx.execution_options.preserve_order = saved.pop("preserve_order")
    for k, v in saved.items():
        setattr(ctx, k, v)


def _chunk_source(queue):
    """A datasource of one read task that emits the chunks put in ``queue`` until the end marker."""
    import pyarrow as pa
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    schema = pa.schema([("index", pa.int64()), ("chunk", pa.binary())])

    def read():
        while True:
            item = queue.get(block=True)
            if item == _END:
                return
            index, payload = item
            yield pa.table({"index": [index], "chunk": [payload]}, schema=schema)

    class _QueuedChunks(Datasource):
        def estimate_inmemory_data_size(self):
            return None

        def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):
            # One task, so chunks leave the queue in input order.
            return [ReadTask(read, BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None,
                                                 input_files=None), schema=schema)]

    return _QueuedChunks()


class ChunkScorer:
    """A Ray actor's scorer: loads the models once, then scores one pickled chunk per call.

    Args:
        config: What to compute.
        overrides: The driver's model choices (``--model`` and ``[models]``).
    """

    def __init__(self, config: ScoreConfig, overrides: tuple[dict[str, str], dict[str, str]]):
        from mtcheck.jobs import _worker_init

        # The same initializer as a local worker process: overrides, then a warm-up segment.
        _worker_init(config, overrides)
        self.config = config

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        from mtcheck.jobs import score_chunk

        outcomes = [pickle.dumps(score_chunk(pickle.loads(bytes(p)), self.config), protocol=pickle.HIGHEST_PROTOCOL)
                    for p in batch["chunk"]]
        out = np.empty(len(outcomes), dtype=object)
        out[:] = outcomes
        return {"index": np.asarray(batch["index"], dtype=np.int64), "outcome": out}


def scored_with_ray(chunks: Iterable[Chunk], config: ScoreConfig, settings: RaySettings) -> Iterator[ChunkOutcome]:
    """Score ``chunks`` on Ray and yield their outcomes in input order.

    Args:
        chunks: The job's chunks, read lazily (consumed by a feeder thread).
        config: What to compute.
        settings: Cluster address and actor pool.

    Returns:
        An iterator of :class:`~mtcheck.jobs.ChunkOutcome`, one per chunk, in
        the order of ``chunks``.

    Raises:
        RayEngineError: Ray is missing or unreachable, or scoring failed on Ray.
        Whatever ``chunks`` raises (e.g. an :class:`~mtcheck.errors.InputError`).
    """
    from mtcheck.jobs import _model_overrides

    with _Session(settings.address) as ray:
        from ray.util.queue import Full, Queue

        queue = Queue(maxsize=_QUEUE_PER_WORKER * settings.workers + 1)
        order: list[int] = []            # chunk indices in input order, as the feeder sent them
        failure: list[BaseException] = []
        stop = threading.Event()

        def feed() -> None:
            try:
                for chunk in chunks:
                    item = (chunk.index, pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
                    order.append(chunk.index)
                    while not _put(queue, item, Full):
                        if stop.is_set():
                            return
            except BaseException as exc:  # re-raised in the driver's thread, with its own type
                failure.append(exc)
            while not stop.is_set() and not _put(queue, _END, Full):
                pass

        ctx, saved = _quiet_context(ray)
        feeder = threading.Thread(target=feed, name="mtcheck-ray-feeder", daemon=True)
        try:
            # The read task only waits on the queue: it must not take a CPU the actors need.
            ds = ray.data.read_datasource(_chunk_source(queue), override_num_blocks=1, num_cpus=0)
            ds = ds.map_batches(
                ChunkScorer, batch_size=1, batch_format="numpy",
                fn_constructor_args=(config, _model_overrides()),
                compute=ray.data.ActorPoolStrategy(size=settings.workers),
                num_cpus=settings.cpus_per_worker, num_gpus=settings.gpus_per_worker or None)
            feeder.start()
            waiting: dict[int, ChunkOutcome] = {}
            sent = 0
            try:
                for row in ds.iter_rows():
                    outcome = pickle.loads(bytes(row["outcome"]))
                    waiting[outcome.index] = outcome
                    while sent < len(order) and order[sent] in waiting:
                        yield waiting.pop(order[sent])
                        sent += 1
            except (ray.exceptions.RayError, ray.exceptions.RaySystemError) as exc:
                if failure:
                    raise failure[0] from None
                raise RayEngineError(f"scoring on Ray failed: {_first_line(exc)}; "
                                     "rerun with --resume to continue") from None
            feeder.join()
            if failure:
                raise failure[0]
            if waiting or sent != len(order):
                raise RayEngineError(f"Ray returned {sent + len(waiting)} of {len(order)} chunk(s)")
        finally:
            stop.set()
            _restore_context(ctx, saved)
            if feeder.is_alive():
                feeder.join(timeout=5 * _POLL_S)
            ray.kill(queue.actor)


def _put(queue, item, full) -> bool:
    try:
        queue.put(item, block=True, timeout=_POLL_S)
    except full:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()]
    # Ray wraps the task's own error; its last line is the one that names the cause.
    return lines[-1] if lines else type(exc).__name__


# --------------------------------------------------------------------------- reading through Ray


def read_segments(paths: Sequence[str], *, fmt: str | None = None, address: str | None = None) -> Iterator[Segment]:
    """Yield segments from JSONL or Parquet files read by Ray Data, in file and row order.

    Rows follow the TSV/JSONL schema (:mod:`mtcheck.io.records`): ``source``,
    ``mt``, optional ``id``, ``doc``, ``ref``, ``ref2``… Rows are numbered
    per file, so a segment's origin is ``(file, row)``.

    Args:
        paths: Files, directories or object-storage URLs (``s3://bucket/prefix``).
        fmt: ``"jsonl"`` or ``"parquet"``; by default from the first path's extension.
        address: Ray cluster, as for :class:`RaySettings`.

    Returns:
        An iterator of segments; Ray stays joined until it is exhausted or closed.

    Raises:
        UsageError: the format cannot be told or is not one of the two.
        InputError: Ray cannot read the data, or a required column is missing.
        RayEngineError: Ray is missing or unreachable.
    """
    if not paths:
        raise UsageError("no input given")
    fmt = fmt or _format_of(paths[0])
    if fmt not in ("jsonl", "parquet"):
        raise UsageError(f"Ray reads JSONL or Parquet; cannot read {fmt!r} from {paths[0]}")
    with _Session(address) as ray:
        from ray.data import DataContext

        ctx = DataContext.get_current()
        saved = (ctx.execution_options.preserve_order, ctx.enable_progress_bars, ctx.print_on_execution_start)
        ctx.execution_options.preserve_order = True   # documents must stay contiguous, as in the files
        ctx.enable_progress_bars = ctx.print_on_execution_start = False
        where = ", ".join(map(str, paths))
        try:
            reader = ray.data.read_json if fmt == "jsonl" else ray.data.read_parquet
            try:
                ds = reader(list(map(str, paths)), include_paths=True)
            except Exception as exc:  # FileNotFoundError, OSError, ArrowInvalid… from the filesystem layer
                raise InputError(f"Ray cannot read it: {_first_line(exc)}", where) from None
            yield from _segments(iter(ds.iter_rows()), where, ray)
        finally:
            (ctx.execution_options.preserve_order, ctx.enable_progress_bars,
             ctx.print_on_execution_start) = saved


def _segments(rows: Iterator[Any], where: str, ray) -> Iterator[Segment]:
    from mtcheck.io.records import missing_keys, record_to_segment

    numbers: dict[str, int] = {}
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except (ray.exceptions.RayError, OSError, ValueError) as exc:
            raise InputError(f"Ray cannot read it: {_first_line(exc)}", where) from None
        record = {k: _plain(v) for k, v in dict(row).items()}
        path = str(record.pop("path", where))
        n = numbers[path] = numbers.get(path, 0) + 1
        if n == 1:
            absent = missing_keys(list(record))
            if absent:
                raise MissingColumnsError(f"missing column(s) {', '.join(absent)}; it has "
                                          f"{', '.join(repr(k) for k in record)}", path)
        yield record_to_segment(record, str(n), Origin(path, n), None)


def _plain(value: Any) -> Any:
    """Arrow/NumPy values as the Python values the record schema expects (lists, None, str)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _format_of(path: str) -> str:
    name = str(path).lower().rstrip("/")
    if name.endswith((".jsonl", ".json", ".jsonl.gz", ".json.gz", ".ndjson")):
        return "jsonl"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise UsageError(f"cannot tell the format of {path}: give a .jsonl or .parquet path, or the format")
