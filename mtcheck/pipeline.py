"""Scoring a batch: checks, sentence scores, document and corpus scores.

The pipeline is deliberately plain: read every segment, run the checks
document by document (some checks compare segments of one document), score
the readable segments with each metric, then aggregate per document and for
the batch. Segments that could not be read are carried through as failed
results, so the output always has one entry per input segment.

Ctrl-C during scoring raises :class:`ScoringInterrupted` (a
``KeyboardInterrupt``) holding the partial batch: the documents already
checked keep their findings, the metrics already finished keep their
scores, and every other segment is a failed result saying it was not
checked, so a caller can still write every segment out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

import mtcheck
from mtcheck.checks import get_checks, run_checks
from mtcheck.config import ScoreConfig
from mtcheck.core import BatchResult, DocumentResult, Segment, SegmentResult, Severity
from mtcheck.metrics import METRICS, Metric

NO_DOC = "-"
#: The error of a segment whose checks had not run when the batch was interrupted.
NOT_CHECKED = "not checked: the run was interrupted (Ctrl-C) before this segment's document was checked"


class ScoringInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`score_batch`; ``partial`` holds what was done (see the module docstring).

    It stays a ``KeyboardInterrupt`` so that code unaware of it stops as on any Ctrl-C.
    """

    def __init__(self, partial: BatchResult):
        super().__init__("scoring interrupted")
        self.partial = partial

#: Name of the rule-based score in ``scores``: the MQM formula over the checks'
#: findings, 0 = no error found, more negative = worse (the WMT MQM convention).
#: It is the headline when the trained QE model does not run.
HEADLINE = "mqm_est"
#: The headline when the trained QE model runs: its calibrated 0-100 score.
QE_HEADLINE = "qe"


def headline_signature() -> str:
    weights = ",".join(f"{s.value}={s.mqm_weight:g}" for s in Severity)
    return f"metric:MQM-est|source:rule-findings|weights:{weights}|mtcheck:{mtcheck.__version__}"


def build_metrics(config: ScoreConfig, notes: list[str] | None = None) -> list[Metric]:
    """Instantiate the configured metrics with the configured options.

    A metric whose model is not available is skipped with a note when it is
    in ``config.optional_metrics``; otherwise the missing model is an error.

    Raises:
        ModelUnavailableError: a required metric's model cannot be loaded here.
    """
    out = []
    for name in config.metrics:
        cls = METRICS[name]
        if cls.model_role is not None:
            from mtcheck.errors import ModelUnavailableError
            from mtcheck.models.registry import availability, resolve

            spec = resolve(cls.model_role)
            ok, where = availability(spec)
            if not ok:
                if name in config.optional_metrics:
                    if notes is not None:
                        notes.append(f"{name} skipped: model {spec.name} is not available ({where})")
                    continue
                raise ModelUnavailableError(f"metric {name} needs model {spec.name} ({spec.role}): {where}")
            out.append(cls(spans=True) if config.model_spans and cls.optional_spans else cls())
        else:
            out.append(cls(lowercase=config.lowercase, tokenize=config.bleu_tokenize))
    return out


def unique_ids(segments: Iterable[Segment]) -> list[Segment]:
    """Segments with duplicate ids renamed ``id#2``, ``id#3``… (and the original id kept in metadata)."""
    seen: dict[str, int] = {}
    out = []
    for seg in segments:
        n = seen.get(seg.id, 0) + 1
        seen[seg.id] = n
        if n > 1:
            seg = replace(seg, id=f"{seg.id}#{n}", metadata={**seg.metadata, "duplicate_of_id": seg.id})
        out.append(seg)
    return out


def score_batch(segments: Iterable[Segment], config: ScoreConfig | None = None) -> BatchResult:
    """Score every segment of a batch.

    Args:
        segments: The batch, e.g. from :func:`mtcheck.io.read_inputs`.
        config: What to compute; defaults to :class:`ScoreConfig()`.

    Returns:
        A :class:`BatchResult` with one result per input segment, in order.
    """
    config = config or ScoreConfig()
    segs = unique_ids(segments)
    results = [
        SegmentResult(s) if s.problem is None else SegmentResult(s, status="failed", error=s.problem)
        for s in segs
    ]
    by_doc: dict[str, list[SegmentResult]] = {}
    for r in results:
        by_doc.setdefault(r.segment.doc or NO_DOC, []).append(r)

    checks = get_checks(config.checks)
    notes: list[str] = []
    progress = {"checked_docs": 0, "metrics": [], "corpus": {}, "signatures": {}}
    try:
        return _score(results, by_doc, checks, config, notes, progress)
    except KeyboardInterrupt:
        raise ScoringInterrupted(_partial(results, by_doc, notes, progress)) from None


def _partial(results: list[SegmentResult], by_doc: dict[str, list[SegmentResult]], notes: list[str],
             progress: dict) -> BatchResult:
    """The batch as far as it got: unchecked segments failed with :data:`NOT_CHECKED`, unfinished metrics dropped."""
    done = set(progress["metrics"])
    checked = 0
    for i, doc_results in enumerate(by_doc.values()):
        for r in doc_results:
            if i >= progress["checked_docs"] and r.ok:
                r.status, r.error, r.spans = "failed", NOT_CHECKED, []
            # A metric cut short leaves some segments scored and others not: keep none of it.
            r.scores = {k: v for k, v in r.scores.items() if k == HEADLINE or k in done}
            if r.ok:
                r.scores.setdefault(HEADLINE, -r.penalty())
                checked += 1
            else:
                r.scores = {k: None for k in r.scores}
    ok = [r for r in results if r.ok]
    scores = {HEADLINE: _mean([r.scores[HEADLINE] for r in ok])}
    signatures = {HEADLINE: headline_signature()}
    for key in progress["metrics"]:
        scores[key], signatures[key] = progress["corpus"][key], progress["signatures"][key]
    note = (f"interrupted (Ctrl-C): {checked} of {len(results)} segment(s) checked"
            + (f"; metrics finished: {', '.join(sorted(done))}" if done else "; no metric finished")
            + "; corpus scores cover the checked segments only")
    documents = [DocumentResult(doc=doc, segment_ids=[r.segment.id for r in rs],
                                scores={HEADLINE: _mean([r.scores[HEADLINE] for r in rs if r.ok])},
                                severity_counts=_counts(rs), failed=sum(not r.ok for r in rs))
                 for doc, rs in by_doc.items()]
    return BatchResult(segments=results, documents=documents, scores=scores, signatures=signatures,
                       version=mtcheck.__version__, headline=HEADLINE, notes=[*notes, note])


def _counts(results: list[SegmentResult]) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity}
    for r in results:
        for k, v in r.severity_counts().items():
            counts[k] += v
    return counts


def _score(results: list[SegmentResult], by_doc: dict[str, list[SegmentResult]], checks, config: ScoreConfig,
           notes: list[str], progress: dict) -> BatchResult:
    for doc, doc_results in by_doc.items():
        errors: dict[str | None, list[str]] = {}
        found = run_checks(checks, [r.segment for r in doc_results], config.check_options, errors)
        for r in doc_results:
            r.spans = found.get(r.segment.id, [])
            if r.segment.id in errors:
                # One segment that breaks a check fails alone; the batch goes on.
                r.status, r.error = "failed", "; ".join(errors[r.segment.id])
        notes.extend(f"document {doc}: {msg}" for msg in errors.get(None, []))
        progress["checked_docs"] += 1

    # The MQM formula applied to the checks' findings: -(sum of severity weights) per
    # segment, averaged over the batch. Always reported; the headline unless QE runs.
    for r in results:
        r.scores[HEADLINE] = -r.penalty() if r.ok else None

    metrics = build_metrics(config, notes)
    ok = [r for r in results if r.ok]
    hyps = [r.segment.mt for r in ok]
    refs = [list(r.segment.references) for r in ok]
    srcs = [r.segment.source for r in ok]
    signatures: dict[str, str] = {HEADLINE: headline_signature()}
    corpus: dict[str, float | None] = {HEADLINE: _mean([r.scores[HEADLINE] for r in ok])}
    outputs: dict[str, list[str]] = {}
    progress["corpus"], progress["signatures"] = corpus, signatures
    for metric in metrics:
        named = metric.with_findings(metric.segment_outputs(hyps, refs, srcs), [r.penalty() for r in ok])
        outputs[metric.name] = list(named)
        stats = metric.last_statistics()
        if stats is not None:
            for r, st in zip(ok, stats):
                r.statistics[metric.name] = st
        found_by_model = metric.last_spans()
        if found_by_model is not None:
            from mtcheck.spans import merge_spans

            for r, spans in zip(ok, found_by_model):
                # A rule finding on the same words already says what is wrong; the
                # model's generic span would only repeat it.
                spans = [m for m in spans if not any(x.side is m.side and x.start < m.end and m.start < x.end
                                                     for x in r.spans)]
                if spans:
                    joined = sorted(r.spans + spans, key=lambda s: (s.side.value, s.start, s.end, -s.severity.rank))
                    r.spans = merge_spans(joined)
        for kind, texts in (metric.last_texts() or {}).items():
            for r, text in zip(ok, texts):
                if text:
                    r.texts[kind] = text
        for key, values in named.items():
            for r, value in zip(ok, values):
                r.scores[key] = value
            for r in results:
                if not r.ok:
                    r.scores[key] = None
        for key in named:
            cs = _corpus(metric, ok, key)
            corpus[key] = cs.score
            signatures[key] = cs.signature
        progress["metrics"].extend(named)

    documents = []
    for doc, doc_results in by_doc.items():
        doc_ok = [r for r in doc_results if r.ok]
        scores = {HEADLINE: _mean([r.scores[HEADLINE] for r in doc_ok])}
        for metric in metrics:
            for key in outputs[metric.name]:
                scores[key] = _corpus(metric, doc_ok, key).score
        documents.append(
            DocumentResult(doc=doc, segment_ids=[r.segment.id for r in doc_results], scores=scores,
                           severity_counts=_counts(doc_results), failed=len(doc_results) - len(doc_ok))
        )
    headline = QE_HEADLINE if QE_HEADLINE in outputs else HEADLINE
    return BatchResult(segments=results, documents=documents, scores=corpus,
                       signatures=signatures, version=mtcheck.__version__, headline=headline,
                       notes=notes)


def _corpus(metric: Metric, results: list[SegmentResult], key: str | None = None):
    """Corpus score of output ``key`` (default: the metric's own) over ``results``.

    Mean-aggregated metrics reuse the segment scores already computed, and
    metrics with sufficient statistics (sacrebleu's) sum those kept on the
    results; a companion output is aggregated the same way as its metric's score.
    """
    key = key or metric.name
    refs = [list(r.segment.references) for r in results]
    if key == metric.name and results and all(metric.name in r.statistics for r in results):
        return metric.corpus_from_statistics([r.statistics[metric.name] for r in results], refs)
    if metric.corpus_is_mean or key != metric.name:
        return metric.corpus_from_segments([r.scores.get(key) for r in results], refs,
                                           [r.segment.mt for r in results])
    return metric.corpus_score([r.segment.mt for r in results], refs, [r.segment.source for r in results])


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None
