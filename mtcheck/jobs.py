"""Streaming, resumable and parallel scoring of batches too large for memory.

:func:`mtcheck.pipeline.score_batch` holds a whole batch. :func:`run_job`
instead consumes segments lazily and scores them in bounded *chunks*:

* **Chunking.** Segments are grouped into chunks of at most ``chunk_size``
  segments without splitting a document (document-level checks such as term
  consistency need the whole document). A document larger than a chunk is
  split into parts of ``chunk_size`` with a note; its document record is
  merged from the parts. Documents are expected to be contiguous in the
  input; a document that reappears later is noted, and where its parts fall
  into different chunks they are checked and summarised separately.
* **Scoring.** Each chunk goes through ``score_batch`` unchanged, so the
  segment results are those of the in-memory pipeline. Batch (corpus)
  scores are rebuilt exactly from per-chunk aggregates: sacrebleu's chrF,
  BLEU and TER from summed sufficient statistics (not from chunk scores),
  mean-aggregated metrics from exact sums of the segment scores (every
  finite double is an integer multiple of 2**-1074, so sums are kept as
  integers at that scale and rounded once, which is what ``math.fsum``
  returns). The result equals ``score_batch`` on the whole batch; the one
  exception is multi-reference TER, whose averaged reference lengths
  sacrebleu itself sums with float rounding.
* **Output.** Results are appended to a JSON Lines file as each chunk
  finishes: the chunk's segment records (exactly as
  :func:`mtcheck.report.files.write_jsonl` writes them), the records of the
  documents it completes, then one ``{"record": "chunk", ...}`` marker
  holding what is needed to resume (the chunk's key digest and aggregates).
  The file is flushed and fsynced after every chunk, and the final
  ``summary`` record comes last. A CSV file may be streamed alongside.
* **Resume.** With ``resume=True`` the existing output is read back: a
  truncated last line (a kill mid-write) and anything after the last chunk
  marker are dropped, and each new chunk whose key digest matches the
  stored chunk at the same position is reused without scoring. A key is the
  segment id plus a hash of its content (source, MT, references, document,
  metadata, file and line) and of the scoring configuration and signatures, so an edited
  segment or a changed setting is rescored. Reuse is per chunk, not per
  segment, because one edited segment can change the findings of the rest
  of its document; from the first chunk that differs everything is
  rescored.
* **Workers.** With ``workers > 1`` chunks go to a pool of spawned
  processes that load their models once (an initializer runs a warm-up
  segment); at most ``2 * workers`` chunks are in flight and results are
  written in input order.
* **Engines.** ``engine="ray"`` scores the same chunks as a Ray Data job
  instead (:mod:`mtcheck.engines.ray_engine`): ``workers`` actors, each with
  its own models, on a local Ray instance or the cluster at ``address``.
  Chunking, keys, resume and writing stay here, so the output is the same.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import mtcheck
from mtcheck.config import ScoreConfig
from mtcheck.core import SCHEMA_VERSION, Segment, SegmentResult, Severity
from mtcheck.errors import MtcheckError, UsageError
from mtcheck.pipeline import HEADLINE, NO_DOC, headline_signature, score_batch

#: Record type of the per-chunk resume marker in the JSON Lines output.
CHUNK_RECORD = "chunk"
DEFAULT_CHUNK_SIZE = 1000
ENGINES = ("local", "ray")
#: Test hook: seconds to sleep after each chunk is written, so a test can kill a run mid-way.
TEST_DELAY_ENV = "MTCHECK_JOBS_TEST_DELAY"
#: Version of the chunk marker layout; a marker of another version is never reused.
MARKER_VERSION = 1

# A shuffled input would otherwise add one note per document part to the summary.
_MAX_REAPPEAR_NOTES = 10

# Every finite double is an integer multiple of 2**-1074 (the smallest subnormal), so a float
# shifted left by this many bits is an exact integer and sums of them are exact.
_SCALE = 1074


class JobError(MtcheckError):
    """A streaming job could not run or resume (e.g. a worker process died)."""


@dataclass(frozen=True)
class JobOptions:
    """How a job runs (what it computes is the :class:`~mtcheck.config.ScoreConfig`).

    Attributes:
        chunk_size: Most segments per chunk (a longer document is split).
        workers: Worker processes; 1 scores in this process.
        resume: Continue an existing output instead of overwriting it.
        csv_path: Also stream one CSV row per segment to this file.
        engine: ``"local"`` (this machine's processes) or ``"ray"`` (a Ray
            Data job with ``workers`` actors; needs ``mtcheck[ray]``).
        fsync: fsync the outputs after every chunk (crash safety); tests
            may turn it off for speed.
        address: With ``engine="ray"``: the Ray cluster to join (e.g.
            ``"auto"`` or ``"ray://head:10001"``); ``None`` starts a local one.
        gpus_per_worker: With ``engine="ray"``: GPUs Ray reserves per actor.
    """

    chunk_size: int = DEFAULT_CHUNK_SIZE
    workers: int = 1
    resume: bool = False
    csv_path: str | None = None
    engine: str = "local"
    fsync: bool = True
    address: str | None = None
    gpus_per_worker: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise UsageError(f"chunk size must be a positive number of segments, got {self.chunk_size!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise UsageError(f"workers must be a positive number of processes, got {self.workers!r}")
        if self.engine not in ENGINES:
            raise UsageError(f"unknown engine {self.engine!r}; expected one of {', '.join(ENGINES)}")
        if self.engine != "ray" and (self.address is not None or self.gpus_per_worker):
            raise UsageError("a Ray address and GPUs per worker go with engine 'ray'")


@dataclass(frozen=True)
class Chunk:
    """A bounded group of whole documents (or one part of an oversized document).

    Attributes:
        index: 0-based position of the chunk in the job.
        segments: The chunk's segments, in input order.
        continues_from: Document continued from the previous chunk, if any.
        continues_into: Document continued in the next chunk, if any.
        notes: What the chunker had to do here (a split or non-contiguous document).
    """

    index: int
    segments: tuple[Segment, ...]
    continues_from: str | None = None
    continues_into: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobResult:
    """What a finished job wrote.

    Attributes:
        path: The JSON Lines output.
        csv_path: The CSV output, if any.
        chunks: Chunks in the job.
        reused_chunks: Chunks taken over from a previous run by ``resume``.
        summary: The final summary record as written (``scores``,
            ``signatures``, ``failed_ids``… as in ``write_jsonl``).
        resume_notes: What resuming did (not part of the written summary,
            so a resumed output equals an uninterrupted one).
    """

    path: str
    csv_path: str | None
    chunks: int
    reused_chunks: int
    summary: dict[str, Any] = field(default_factory=dict)
    resume_notes: tuple[str, ...] = ()

    @property
    def failed(self) -> int:
        return int(self.summary.get("failed", 0))

    @property
    def segments(self) -> int:
        return int(self.summary.get("segments", 0))


# --------------------------------------------------------------------------- chunking


def chunk_segments(segments: Iterable[Segment], chunk_size: int) -> Iterator[Chunk]:
    """Group a lazy stream of segments into chunks of whole documents.

    Only one document (at most ``chunk_size + 1`` segments of it) and one
    chunk are held at a time. Segments without a document id form the
    document ``"-"``, as in :func:`~mtcheck.pipeline.score_batch`.

    Args:
        segments: The batch, in input order.
        chunk_size: Most segments per chunk.

    Returns:
        An iterator of :class:`Chunk`, in input order.
    """
    if chunk_size < 1:
        raise UsageError(f"chunk size must be a positive number of segments, got {chunk_size!r}")
    index = 0
    cur: list[Segment] = []
    cur_from: str | None = None
    cur_notes: list[str] = []
    run: list[Segment] = []
    run_doc: str | None = None
    run_split = False
    closed: set[str] = set()
    reappeared = 0

    def emit(segs, cont_from, cont_into, notes):
        nonlocal index
        chunk = Chunk(index, tuple(segs), cont_from, cont_into, tuple(notes))
        index += 1
        return chunk

    def place():
        # The current document is complete: add it to the chunk, or start a new chunk if it does not fit.
        nonlocal cur, cur_from, cur_notes, run, run_split
        out = []
        if cur and len(cur) + len(run) > chunk_size:
            out.append(emit(cur, cur_from, None, cur_notes))
            cur, cur_from, cur_notes = [], None, []
        if not cur:
            cur_from = run_doc if run_split else None
        cur.extend(run)
        closed.add(run_doc)
        run, run_split = [], False
        return out

    for seg in segments:
        doc = seg.doc or NO_DOC
        if run and doc != run_doc:
            yield from place()
        if not run:
            run_doc = doc
            if doc in closed:
                reappeared += 1
                if reappeared <= _MAX_REAPPEAR_NOTES:
                    cur_notes.append(
                        f"document {doc} is not contiguous (it reappears at segment {seg.id}); where its parts "
                        "fall in different chunks they are checked and summarised separately")
        run.append(seg)
        if len(run) > chunk_size:
            if cur:
                yield emit(cur, cur_from, None, cur_notes)
                cur, cur_from, cur_notes = [], None, []
            notes = []
            if not run_split:
                what = ("segments without a document id" if run_doc == NO_DOC
                        else f"document {run_doc} has more than {chunk_size} segments: it")
                notes.append(f"{what} {'are' if run_doc == NO_DOC else 'is'} checked in parts of {chunk_size} "
                             "segments (document-level checks such as term consistency see one part at a time)")
            yield emit(run[:chunk_size], run_doc if run_split else None, run_doc, notes)
            run, run_split = run[chunk_size:], True
    if run:
        yield from place()
    if reappeared > _MAX_REAPPEAR_NOTES:
        cur_notes.append(f"{reappeared - _MAX_REAPPEAR_NOTES} more non-contiguous document part(s) not listed")
    if cur:
        yield emit(cur, cur_from, None, cur_notes)


def unique_ids(segments: Iterable[Segment]) -> Iterator[Segment]:
    """Rename duplicate ids ``id#2``, ``id#3``… across the whole stream, as the pipeline does per batch.

    To keep memory small, ids seen once are remembered as 64-bit hashes
    (about 60 bytes each); only ids that do repeat are kept as strings. Two
    distinct ids sharing a hash (odds about n²/2⁶⁵) would be renamed as if
    duplicate, which the ``duplicate_of_id`` metadata shows.
    """
    from dataclasses import replace

    seen: set[int] = set()
    repeats: dict[str, int] = {}
    for seg in segments:
        h = int.from_bytes(hashlib.blake2b(seg.id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
        if h in seen:
            n = repeats.get(seg.id, 1) + 1
            repeats[seg.id] = n
            seg = replace(seg, id=f"{seg.id}#{n}", metadata={**seg.metadata, "duplicate_of_id": seg.id})
        else:
            seen.add(h)
        yield seg


# --------------------------------------------------------------------------- exact aggregates


def _fixed(x: float) -> int:
    """``x`` as an exact integer multiple of 2**-1074."""
    p, q = x.as_integer_ratio()
    return p << (_SCALE - (q.bit_length() - 1))


def _unfixed(total: int) -> float:
    # Python's int / int is correctly rounded, so this is the exactly rounded sum (as math.fsum gives).
    return total / (1 << _SCALE)


class _StatsAcc:
    """Summed sacrebleu sufficient statistics of one metric."""

    kind = "stats"

    def __init__(self):
        self.sums: list[int] = []
        self.floats: list[bool] = []
        self.n = 0
        self.nrefs: set[int] = set()

    def add(self, stats: Sequence[float], nrefs: int) -> None:
        if not self.sums:
            self.sums = [0] * len(stats)
            self.floats = [False] * len(stats)
        for i, v in enumerate(stats):
            if isinstance(v, int):
                self.sums[i] += v << _SCALE
            else:
                self.sums[i] += _fixed(float(v))
                self.floats[i] = True
        self.n += 1
        self.nrefs.add(nrefs)

    def merge(self, other: "_StatsAcc") -> None:
        if not other.n:
            return
        if not self.sums:
            self.sums, self.floats = [0] * len(other.sums), [False] * len(other.sums)
        self.sums = [a + b for a, b in zip(self.sums, other.sums)]
        self.floats = [a or b for a, b in zip(self.floats, other.floats)]
        self.n += other.n
        self.nrefs |= other.nrefs

    def totals(self) -> list[float]:
        return [_unfixed(s) if f else s >> _SCALE for s, f in zip(self.sums, self.floats)]

    def to_json(self) -> dict[str, Any]:
        # Sums are thousand-bit integers: written as hex strings so any JSON reader keeps them.
        return {"kind": self.kind, "sums": [format(s, "x") for s in self.sums], "floats": self.floats,
                "n": self.n, "nrefs": sorted(self.nrefs)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "_StatsAcc":
        acc = cls()
        acc.sums = [int(s, 16) for s in data["sums"]]
        acc.floats = [bool(f) for f in data["floats"]]
        acc.n = int(data["n"])
        acc.nrefs = set(data["nrefs"])
        return acc


class _MeanAcc:
    """Exact (optionally weighted) sum of segment scores of one output."""

    kind = "mean"

    def __init__(self):
        self.total = 0        # sum of score * weight, at scale 2**-1074
        self.weight = 0       # sum of weights, at the same scale
        self.weight_float = False
        self.n = 0
        self.special = 0.0    # inf / nan scores, which have no exact form
        self.max_nrefs = 0

    def add(self, value: float | None, weight: float | None, nrefs: int) -> None:
        self.max_nrefs = max(self.max_nrefs, nrefs)
        if value is None:
            return
        w = 1 if weight is None else weight
        product = value * w if weight is not None else value
        if math.isfinite(product):
            self.total += _fixed(float(product))
        else:
            self.special += product
        if isinstance(w, int):
            self.weight += w << _SCALE
        else:
            self.weight += _fixed(float(w))
            self.weight_float = True
        self.n += 1

    def merge(self, other: "_MeanAcc") -> None:
        self.total += other.total
        self.weight += other.weight
        self.weight_float = self.weight_float or other.weight_float
        self.n += other.n
        self.special += other.special
        self.max_nrefs = max(self.max_nrefs, other.max_nrefs)

    def value(self) -> float | None:
        if not self.n:
            return None
        total = self.special if (self.special != 0.0 or math.isnan(self.special)) else _unfixed(self.total)
        weight = _unfixed(self.weight) if self.weight_float else self.weight >> _SCALE
        return total / weight

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "total": format(self.total, "x"), "weight": format(self.weight, "x"),
                "weight_float": self.weight_float, "n": self.n, "special": repr(self.special),
                "max_nrefs": self.max_nrefs}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "_MeanAcc":
        acc = cls()
        acc.total, acc.weight = int(data["total"], 16), int(data["weight"], 16)
        acc.weight_float, acc.n = bool(data["weight_float"]), int(data["n"])
        acc.special, acc.max_nrefs = float(data["special"]), int(data["max_nrefs"])
        return acc


def _acc_from_json(data: dict[str, Any]):
    return (_StatsAcc if data["kind"] == "stats" else _MeanAcc).from_json(data)


class _Aggregate:
    """Per score key, the exact aggregate over a group of segments (a chunk, a document, the batch)."""

    def __init__(self, accs: dict[str, Any] | None = None):
        self.accs: dict[str, Any] = accs or {}

    def merge(self, other: "_Aggregate") -> None:
        for key, acc in other.accs.items():
            if key in self.accs:
                self.accs[key].merge(acc)
            else:
                self.accs[key] = _acc_from_json(acc.to_json())

    def to_json(self) -> dict[str, Any]:
        return {k: a.to_json() for k, a in self.accs.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "_Aggregate":
        return cls({k: _acc_from_json(v) for k, v in data.items()})


@dataclass(frozen=True)
class _Plan:
    """How each score key of a run is aggregated: sacrebleu statistics, or a (weighted) mean."""

    stats: dict[str, Any]                        # key -> SacreMetric instance
    means: dict[str, Callable[[str], float] | None]  # key -> weight of a segment from its MT (None: 1)


def _plan(keys: Sequence[str], config: ScoreConfig) -> _Plan:
    """Aggregation of every key in a chunk's ``scores`` (HEADLINE, then each metric's outputs in order)."""
    from mtcheck.metrics import METRICS, Metric
    from mtcheck.metrics.reference import SacreMetric

    stats: dict[str, Any] = {}
    means: dict[str, Callable[[str], float] | None] = {}
    owner = None
    for key in keys:
        if key == HEADLINE:
            means[key] = None
            continue
        if key in METRICS and key in config.metrics:
            owner = METRICS[key]
        if owner is None:
            raise JobError(f"score {key!r} belongs to no configured metric; cannot aggregate it across chunks")
        if issubclass(owner, SacreMetric) and key == owner.name and not owner.corpus_is_mean:
            stats[key] = owner(lowercase=config.lowercase, tokenize=config.bleu_tokenize)
        elif owner.corpus_from_segments is Metric.corpus_from_segments:
            means[key] = None
        elif hasattr(owner, "segment_weight"):
            means[key] = owner.segment_weight
        elif owner.name == "qe":
            # QE's corpus score is a mean weighted by MT words (mtcheck.metrics.qe.mt_weight).
            from mtcheck.metrics.qe import mt_weight

            means[key] = mt_weight
        else:
            raise JobError(
                f"metric {owner.name} aggregates its corpus score in its own way, which cannot be rebuilt "
                "from chunks; score it without --out, or give the metric a segment_weight(mt) method")
    return _Plan(stats, means)


def _aggregate(results: Sequence[SegmentResult], plan: _Plan) -> _Aggregate:
    """Exact aggregates of ``results`` (failed ones are left out, as in the pipeline)."""
    ok = [r for r in results if r.ok]
    accs: dict[str, Any] = {}
    for key, metric in plan.stats.items():
        acc = _StatsAcc()
        keep = [r for r in ok if r.segment.references]
        # The pipeline keeps each segment's statistics; extract them only where it did not
        # (results read back from elsewhere).
        missing = [r for r in keep if key not in r.statistics]
        extracted = dict(zip(map(id, missing), metric.segment_statistics(
            [r.segment.mt for r in missing], [list(r.segment.references) for r in missing])))
        for r in keep:
            acc.add(r.statistics[key] if key in r.statistics else extracted[id(r)], len(r.segment.references))
        accs[key] = acc
    for key, weight in plan.means.items():
        acc = _MeanAcc()
        for r in ok:
            acc.add(r.scores.get(key), weight(r.segment.mt) if weight else None, len(r.segment.references))
        accs[key] = acc
    return _Aggregate(accs)


def _scores(agg: _Aggregate, plan_keys: Sequence[str], config: ScoreConfig,
            mean_signatures: dict[str, tuple[str, int]]) -> tuple[dict[str, float | None], dict[str, str]]:
    """Batch scores and signatures from the exact aggregates."""
    from mtcheck.metrics import METRICS
    from mtcheck.metrics.base import with_mtcheck

    scores: dict[str, float | None] = {}
    signatures: dict[str, str] = {}
    for key in plan_keys:
        acc = agg.accs.get(key)
        if isinstance(acc, _StatsAcc):
            metric = METRICS[key](lowercase=config.lowercase, tokenize=config.bleu_tokenize)
            if not acc.n:
                scores[key], signatures[key] = None, metric.signature("0")
                continue
            scorer = metric._scorer(sentence_level=False)
            # As sacrebleu sets it when caching references: one count, or -1 ("var") when they vary.
            scorer.num_refs = next(iter(acc.nrefs)) if len(acc.nrefs) == 1 else -1
            scores[key] = scorer._compute_score_from_stats(acc.totals()).score
            signatures[key] = with_mtcheck(metric.label, str(scorer.get_signature()))
        else:
            scores[key] = acc.value() if acc is not None else None
            signatures[key] = headline_signature() if key == HEADLINE else mean_signatures.get(key, ("", 0))[0]
    return scores, signatures


# --------------------------------------------------------------------------- keys


def config_fingerprint(config: ScoreConfig) -> str:
    """A hash of everything besides the segment that can change its result.

    The configuration itself, the versions of mtcheck and sacrebleu, the
    contents of the glossaries, and which model serves each neural metric.
    """
    import sacrebleu

    from mtcheck.metrics import METRICS

    h = hashlib.sha256()
    h.update(repr(config).encode())
    h.update(f"|mtcheck:{mtcheck.__version__}|sacrebleu:{sacrebleu.__version__}|{headline_signature()}".encode())
    for path in config.check_options.glossaries:
        try:
            h.update(b"|glossary:" + hashlib.sha256(Path(path).read_bytes()).digest())
        except OSError:
            h.update(f"|glossary-unreadable:{path}".encode())
    for name in config.metrics:
        role = METRICS[name].model_role
        if role is not None:
            from mtcheck.models.registry import resolve

            spec = resolve(role)
            h.update(f"|{name}:{spec.name}:{spec.source}".encode())
    return h.hexdigest()[:32]


def segment_key(segment: Segment, fingerprint: str) -> str:
    """The resume key of a segment: its id and a hash of its content and the scoring configuration.

    The content includes the origin (file and line), which the output
    records carry: a moved file or shifted lines are rescored rather than
    reported under their old place.
    """
    content = json.dumps(
        [fingerprint, segment.id, segment.doc, segment.source, segment.mt, list(segment.references),
         segment.problem, dict(segment.metadata), segment.origin.to_dict() if segment.origin else None],
        ensure_ascii=False, sort_keys=True, default=str)
    digest = hashlib.blake2b(content.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    return f"{segment.id}\t{digest}"


def _chunk_digest(chunk: Chunk, fingerprint: str, chunk_size: int, with_csv: bool) -> str:
    h = hashlib.sha256(f"v{MARKER_VERSION}|{chunk_size}|{with_csv}|{chunk.continues_from}|"
                       f"{chunk.continues_into}|".encode("utf-8", "surrogatepass"))
    for seg in chunk.segments:
        h.update(segment_key(seg, fingerprint).encode("utf-8", "surrogatepass") + b"\n")
    return h.hexdigest()


# --------------------------------------------------------------------------- scoring one chunk


@dataclass(frozen=True)
class ChunkOutcome:
    """A scored chunk, ready to be written (plain data, so it crosses process boundaries cheaply)."""

    index: int
    segment_lines: tuple[str, ...]
    document_lines: tuple[str, ...]
    csv_header: str
    csv_rows: str
    score_keys: tuple[str, ...]
    aggregate: dict[str, Any]
    open_docs: dict[str, dict[str, Any]]
    mean_signatures: dict[str, tuple[str, int]]
    continues_from: str | None
    continues_into: str | None
    failed_ids: tuple[str, ...]
    severity_counts: dict[str, int]
    category_counts: dict[str, int]
    documents: int
    notes: tuple[str, ...]
    headline: str


def _json_line(record: dict[str, Any]) -> str:
    from mtcheck.report.files import _jsonable

    return json.dumps(record, ensure_ascii=False, default=_jsonable) + "\n"


def _csv_text(rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


def _csv_row(r: SegmentResult, names: Sequence[str]) -> list[Any]:
    # Same row as mtcheck.report.files.write_csv.
    from mtcheck.report.files import finding_codes

    counts = r.severity_counts()
    scores = ["" if r.scores.get(m) is None else f"{r.scores[m]:.4f}" for m in names]
    return [r.segment.id, r.segment.doc or "", r.status, r.error or "", *scores,
            counts["minor"], counts["major"], counts["critical"], finding_codes(r), r.segment.source, r.segment.mt]


def _doc_state(doc: str, results: Sequence[SegmentResult], plan: _Plan) -> dict[str, Any]:
    counts = {s.value: 0 for s in Severity}
    for r in results:
        for k, v in r.severity_counts().items():
            counts[k] += v
    return {"doc": doc, "segment_ids": [r.segment.id for r in results], "severity_counts": counts,
            "failed": sum(not r.ok for r in results), "aggregate": _aggregate(results, plan).to_json()}


def score_chunk(chunk: Chunk, config: ScoreConfig) -> ChunkOutcome:
    """Score one chunk with :func:`~mtcheck.pipeline.score_batch` and prepare its output.

    Args:
        chunk: Segments with globally unique ids (see :func:`unique_ids`).
        config: What to compute.

    Returns:
        The chunk's output lines, its exact aggregates, and the partial
        state of a document it shares with a neighbouring chunk.
    """
    batch = score_batch(chunk.segments, config)
    keys = tuple(batch.scores)
    plan = _plan(keys, config)
    open_names = {d for d in (chunk.continues_from, chunk.continues_into) if d is not None}
    by_doc: dict[str, list[SegmentResult]] = {}
    for r in batch.segments:
        by_doc.setdefault(r.segment.doc or NO_DOC, []).append(r)
    header = ["id", "doc", "status", "error", *keys, "minor", "major", "critical", "findings", "source", "mt"]
    categories: dict[str, int] = {}
    for r in batch.segments:
        for span in r.spans:
            categories[span.category] = categories.get(span.category, 0) + 1
    mean_sigs = {}
    for key in plan.means:
        if key != HEADLINE:
            nrefs = max((len(r.segment.references) for r in batch.segments if r.ok), default=0)
            mean_sigs[key] = (batch.signatures.get(key, ""), nrefs)
    return ChunkOutcome(
        index=chunk.index,
        segment_lines=tuple(_json_line({"record": "segment", **r.to_dict()}) for r in batch.segments),
        document_lines=tuple(_json_line({"record": "document", **d.to_dict()})
                             for d in batch.documents if d.doc not in open_names),
        csv_header=_csv_text([header]),
        csv_rows=_csv_text(_csv_row(r, keys) for r in batch.segments),
        score_keys=keys,
        aggregate=_aggregate(batch.segments, plan).to_json(),
        open_docs={d: _doc_state(d, by_doc.get(d, []), plan) for d in open_names},
        mean_signatures=mean_sigs,
        continues_from=chunk.continues_from,
        continues_into=chunk.continues_into,
        failed_ids=tuple(r.segment.id for r in batch.failed),
        severity_counts=batch.severity_counts(),
        category_counts=categories,
        documents=sum(1 for d in batch.documents if d.doc not in open_names),
        notes=tuple(batch.notes) + chunk.notes,
        headline=batch.headline,
    )


# --------------------------------------------------------------------------- workers

_WORKER_CONFIG: ScoreConfig | None = None


def _worker_init(config: ScoreConfig, overrides: tuple[dict[str, str], dict[str, str]]) -> None:
    """Per worker process: the parent's model overrides, then every model loaded once."""
    global _WORKER_CONFIG
    from mtcheck.models.registry import set_overrides

    _WORKER_CONFIG = config
    set_overrides(overrides[0], config=overrides[1])
    # One throwaway segment loads each metric's model into this process's model cache.
    score_batch([Segment(id="warm-up", source="你好。", mt="Hello.", references=("Hello.",))], config)


def _worker_score(chunk: Chunk) -> ChunkOutcome:
    if _WORKER_CONFIG is None:
        raise JobError("worker process was not initialised")
    return score_chunk(chunk, _WORKER_CONFIG)


def _model_overrides() -> tuple[dict[str, str], dict[str, str]]:
    # Spawned workers start with an empty registry; they get the parent's --model and [models] choices.
    from mtcheck.models import registry

    return dict(registry._overrides), dict(registry._config_overrides)


def _scored(chunks: Iterable[Chunk], config: ScoreConfig, workers: int) -> Iterator[ChunkOutcome]:
    """Outcomes of ``chunks`` in input order, from this process or a pool of ``workers``."""
    if workers == 1:
        for chunk in chunks:
            yield score_chunk(chunk, config)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # spawn: a fresh interpreter per worker, safe with threads and models in the parent.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(config, _model_overrides()))
    pending: deque = deque()
    try:
        for chunk in chunks:
            # Bounded look-ahead: the pool would otherwise pull the whole input into memory.
            pending.append(pool.submit(_worker_score, chunk))
            while len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool as exc:
        raise JobError(f"a worker process died ({exc}); rerun with --resume to continue") from None
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _engine_outcomes(chunks: Iterable[Chunk], config: ScoreConfig, options: JobOptions) -> Iterator[ChunkOutcome]:
    """Outcomes of ``chunks`` in input order, from the engine ``options.engine`` names."""
    if options.engine == "ray":
        # Imported here: the engine imports Ray when it runs, and plain `import mtcheck.jobs` must not.
        from mtcheck.engines.ray_engine import RaySettings, scored_with_ray

        return scored_with_ray(chunks, config, RaySettings(address=options.address, workers=options.workers,
                                                           gpus_per_worker=options.gpus_per_worker))
    return _scored(chunks, config, options.workers)


# --------------------------------------------------------------------------- output


class _Output:
    """Append-only JSONL (and CSV) output, made durable chunk by chunk."""

    def __init__(self, path: Path, csv_path: Path | None, fsync: bool):
        self.path, self.csv_path, self.fsync = path, csv_path, fsync
        path.parent.mkdir(parents=True, exist_ok=True)
        if csv_path is not None:
            csv_path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = None
        self.csv_fh = None

    def open(self, jsonl_offset: int, csv_offset: int) -> None:
        """Open both files for appending after cutting them to the given sizes."""
        self.fh = _open_at(self.path, jsonl_offset)
        if self.csv_path is not None:
            self.csv_fh = _open_at(self.csv_path, csv_offset)

    def cut(self, jsonl_offset: int, csv_offset: int) -> None:
        for fh, offset in ((self.fh, jsonl_offset), (self.csv_fh, csv_offset)):
            if fh is not None:
                fh.flush()
                fh.truncate(offset)
                fh.seek(offset)

    def write(self, text: str, csv_text: str = "") -> None:
        if self.csv_fh is not None and csv_text:
            self.csv_fh.write(csv_text.encode("utf-8", "backslashreplace"))
        self.fh.write(text.encode("utf-8", "backslashreplace"))

    def commit(self) -> tuple[int, int]:
        """Flush (and fsync) both files; CSV first, so a marker never points past CSV data on disk."""
        for fh in (self.csv_fh, self.fh):
            if fh is not None:
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
        return self.fh.tell(), (self.csv_fh.tell() if self.csv_fh is not None else 0)

    def close(self) -> None:
        for fh in (self.fh, self.csv_fh):
            if fh is not None and not fh.closed:
                fh.close()


def _open_at(path: Path, offset: int):
    fh = open(path, "r+b" if path.exists() else "w+b")
    fh.truncate(offset)
    fh.seek(offset)
    return fh


def read_markers(path: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The chunk markers of an existing output, up to the last complete one.

    Each marker gets ``_end``, the byte offset just after it. A last line
    without its newline (the run was killed while writing it) is dropped;
    so is anything after the last marker (a chunk whose marker was never
    written, or the final summary, which a resumed run writes again).

    Returns:
        The markers in order, and notes on what was dropped.

    Raises:
        JobError: the file is not the output of a job.
    """
    path = Path(path)
    markers: list[dict[str, Any]] = []
    notes: list[str] = []
    offset = 0
    lineno = 0
    with open(path, "rb") as fh:
        for raw in fh:
            lineno += 1
            if not raw.endswith(b"\n"):
                notes.append(f"{path}:{lineno}: dropped an incomplete last line (the previous run stopped while writing it)")
                break
            offset += len(raw)
            try:
                record = json.loads(raw)
            except ValueError:
                notes.append(f"{path}:{lineno}: unreadable line; resuming after the last complete chunk before it")
                break
            if not isinstance(record, dict) or "record" not in record:
                raise JobError(f"{path}:{lineno}: expected a JSON object with a 'record' key, as `mtcheck score "
                               "--out` writes; not resuming into a file of another kind")
            if record["record"] == CHUNK_RECORD:
                if record.get("version") != MARKER_VERSION:
                    notes.append(f"{path}:{lineno}: chunk marker of another version; rescoring from there")
                    break
                record["_end"] = offset
                markers.append(record)
    return markers, notes


# --------------------------------------------------------------------------- the job


class _Totals:
    """Everything the final summary needs, folded in chunk by chunk (from new or reused chunks)."""

    def __init__(self):
        self.segments = 0
        self.failed_ids: list[str] = []
        self.documents = 0
        self.severity = {s.value: 0 for s in Severity}
        self.categories: dict[str, int] = {}
        self.notes: dict[str, None] = {}  # ordered set: every chunk repeats e.g. "model X skipped"
        self.aggregate = _Aggregate()
        self.keys: tuple[str, ...] = ()
        self.mean_signatures: dict[str, tuple[str, int]] = {}
        self.headline = HEADLINE

    def fold(self, m: dict[str, Any]) -> None:
        self.segments += m["segments"]
        self.failed_ids.extend(m["failed_ids"])
        self.documents += m["documents"]
        for k, v in m["severity_counts"].items():
            self.severity[k] = self.severity.get(k, 0) + v
        for k, v in m["category_counts"].items():
            self.categories[k] = self.categories.get(k, 0) + v
        for note in m["notes"]:
            self.notes[note] = None
        self.aggregate.merge(_Aggregate.from_json(m["aggregate"]))
        self.keys = tuple(m["score_keys"])
        self.headline = m["headline"]
        for key, (sig, nrefs) in m["mean_signatures"].items():
            # The whole batch's signature is the one made with its largest reference count.
            if key not in self.mean_signatures or nrefs > self.mean_signatures[key][1]:
                self.mean_signatures[key] = (sig, nrefs)

    def summary(self, config: ScoreConfig) -> dict[str, Any]:
        scores, signatures = _scores(self.aggregate, self.keys, config, self.mean_signatures)
        return {
            "record": "summary",
            "schema_version": SCHEMA_VERSION,
            "mtcheck_version": mtcheck.__version__,
            "signatures": signatures,
            "segments": self.segments,
            "headline": self.headline,
            "headline_score": scores.get(self.headline),
            "failed": len(self.failed_ids),
            "failed_ids": list(self.failed_ids),
            "documents": self.documents,
            "scores": scores,
            "severity_counts": dict(self.severity),
            "category_counts": dict(sorted(self.categories.items())),
            "notes": list(self.notes),
        }


def run_job(
    segments: Iterable[Segment],
    out: str | Path,
    config: ScoreConfig | None = None,
    options: JobOptions | None = None,
) -> JobResult:
    """Score a batch of any size chunk by chunk, writing results as they are done.

    Args:
        segments: The batch, read lazily (e.g. :func:`mtcheck.io.read_inputs`).
        out: JSON Lines output; with ``options.resume`` an earlier run's
            output to continue.
        config: What to compute; defaults to :class:`ScoreConfig()`.
        options: Chunk size, workers, resume, CSV output.

    Returns:
        A :class:`JobResult` with the summary record as written.

    Raises:
        UsageError: invalid options.
        JobError: the output cannot be resumed, or a worker died.
        InputError: the input cannot be read (from the readers).
    """
    config = config or ScoreConfig()
    options = options or JobOptions()
    path = Path(out)
    csv_path = Path(options.csv_path) if options.csv_path else None
    fingerprint = config_fingerprint(config)
    delay = float(os.environ.get(TEST_DELAY_ENV, "0") or 0)

    markers: list[dict[str, Any]] = []
    resume_notes: list[str] = []
    if options.resume and path.exists():
        markers, resume_notes = read_markers(path)
        if csv_path is not None and markers and (
                not csv_path.exists() or csv_path.stat().st_size < markers[-1]["csv_end"]):
            resume_notes.append(f"{csv_path} is missing or shorter than the earlier run wrote; rescoring from the start")
            markers = []
    output = _Output(path, csv_path, options.fsync)
    last = markers[-1] if markers else None
    output.open(last["_end"] if last else 0, last["csv_end"] if last else 0)

    totals = _Totals()
    open_doc: dict[str, Any] | None = None
    reusing = bool(markers)
    reused = 0
    n_chunks = 0

    identity: dict[int, dict[str, Any]] = {}  # digest and ids of the chunks in flight

    def fresh_chunks() -> Iterator[Chunk]:
        nonlocal reusing, reused, open_doc, n_chunks
        for chunk in chunk_segments(unique_ids(segments), options.chunk_size):
            n_chunks += 1
            digest = _chunk_digest(chunk, fingerprint, options.chunk_size, csv_path is not None)
            if reusing:
                stored = markers[chunk.index] if chunk.index < len(markers) else None
                if stored is not None and stored["digest"] == digest:
                    totals.fold(stored)
                    open_doc = stored["open_doc"]
                    reused += 1
                    continue
                # From here on the input (or the configuration) differs from the earlier run.
                reusing = False
                prev = markers[chunk.index - 1] if chunk.index > 0 else None
                output.cut(prev["_end"] if prev else 0, prev["csv_end"] if prev else 0)
                if chunk.index < len(markers):
                    resume_notes.append(
                        f"chunk {chunk.index + 1} (segments {chunk.segments[0].id}…{chunk.segments[-1].id}) "
                        "differs from the earlier run (edited input or settings): rescoring from there")
            identity[chunk.index] = {"digest": digest, "first_id": chunk.segments[0].id,
                                     "last_id": chunk.segments[-1].id}
            yield chunk

    try:
        for outcome in _engine_outcomes(fresh_chunks(), config, options):
            closing = None
            if outcome.continues_from is not None:
                open_doc = _merge_doc(open_doc, outcome.open_docs[outcome.continues_from])
                if outcome.continues_into != outcome.continues_from:
                    closing, open_doc = open_doc, None
            if outcome.continues_into is not None and outcome.continues_into != outcome.continues_from:
                open_doc = outcome.open_docs[outcome.continues_into]
            doc_lines = list(outcome.document_lines)
            if closing is not None:
                # The split document's continuation opens this chunk, so its record comes first.
                doc_lines.insert(0, _document_line(closing, config, outcome.score_keys))
            marker = {
                "record": CHUNK_RECORD, "version": MARKER_VERSION, "index": outcome.index,
                **identity.pop(outcome.index),
                "segments": len(outcome.segment_lines), "failed_ids": list(outcome.failed_ids),
                "documents": outcome.documents + (closing is not None),
                "severity_counts": outcome.severity_counts, "category_counts": outcome.category_counts,
                "notes": list(outcome.notes), "aggregate": outcome.aggregate, "score_keys": list(outcome.score_keys),
                "mean_signatures": {k: list(v) for k, v in outcome.mean_signatures.items()},
                "headline": outcome.headline, "open_doc": open_doc, "csv_end": 0,
            }
            csv_header = outcome.csv_header if output.csv_fh is not None and output.csv_fh.tell() == 0 else ""
            output.write("".join(outcome.segment_lines) + "".join(doc_lines), csv_header + outcome.csv_rows)
            if output.csv_fh is not None:
                output.csv_fh.flush()
                marker["csv_end"] = output.csv_fh.tell()
            output.write(json.dumps(marker, ensure_ascii=False) + "\n")
            output.commit()
            totals.fold(marker)
            if delay:
                time.sleep(delay)

        if reusing:
            # Every chunk matched the earlier run; drop stored chunks beyond the (shorter) input, and its summary.
            prev = markers[n_chunks - 1] if n_chunks else None
            output.cut(prev["_end"] if prev else 0, prev["csv_end"] if prev else 0)
            if n_chunks < len(markers):
                resume_notes.append(f"the input ends after chunk {n_chunks}; dropped {len(markers) - n_chunks} "
                                    "stored chunk(s) beyond it")
        summary = totals.summary(config)
        output.write(_json_line(summary))
        output.commit()
    finally:
        # Whatever was committed stays valid for --resume, even when scoring fails part-way.
        output.close()
    if options.resume:
        resume_notes.append(f"resumed {path}: {reused} of {n_chunks} chunk(s) reused, {n_chunks - reused} scored")
    return JobResult(path=str(path), csv_path=str(csv_path) if csv_path else None, chunks=n_chunks,
                     reused_chunks=reused, summary=summary, resume_notes=tuple(resume_notes))


def _document_line(state: dict[str, Any], config: ScoreConfig, keys: Sequence[str]) -> str:
    """The document record of a document merged from several chunks."""
    scores, _ = _scores(_Aggregate.from_json(state["aggregate"]), keys, config, {})
    return _json_line({"record": "document", "doc": state["doc"], "segments": len(state["segment_ids"]),
                       "segment_ids": state["segment_ids"], "scores": scores,
                       "severity_counts": state["severity_counts"], "failed": state["failed"]})


def _merge_doc(into: dict[str, Any] | None, part: dict[str, Any]) -> dict[str, Any]:
    if into is None:
        return part
    agg = _Aggregate.from_json(into["aggregate"])
    agg.merge(_Aggregate.from_json(part["aggregate"]))
    return {"doc": into["doc"], "segment_ids": into["segment_ids"] + part["segment_ids"],
            "severity_counts": {k: into["severity_counts"].get(k, 0) + v for k, v in part["severity_counts"].items()},
            "failed": into["failed"] + part["failed"], "aggregate": agg.to_json()}
