"""The calibrated quality score: the trained QE model as a metric.

``qe`` is the 0–100 score of :mod:`mtcheck.models.qe` (100 = no errors;
``100 - 4 × predicted MQM penalty``). It needs no reference; where a segment
has one, the model's reference-aware part (a stacked model over the QE
penalty, chrF and e5 similarity to the reference) is used instead, and the
signature says so (``ref:stacked``, or ``ref:stacked+xenc`` when the stack
includes the reference cross-encoder; ``ref:none`` when no segment had
one). With the cross-encoder, the token probabilities behind the QE spans
of a segment with a reference are that model's too.

Besides the score, :meth:`QE.segment_outputs` gives per segment

* ``qe_mqm``: the predicted MQM score in WMT's convention (``-penalty``),
* ``qe_low`` / ``qe_high``: the 0–100 scores at the 90th and the 10th
  percentile of the predicted penalty — an 80% interval for the score.

The rule checks' findings are folded in: the penalty scored is the model's
plus ``rule_weight`` (from the model's config.json; 0.3 for qe-e5-small,
fitted on the calibration split) times the MQM penalty of the findings, so a
critical finding (a wrong number: 25 points) is never hidden behind a high
score. :meth:`QE.with_findings` does this once the checks have run.

Document and batch scores are aggregates weighted by the MT's length in
words, so a one-word headline does not count as much as a long paragraph.
Because the score is linear in the penalty (until it is clipped at 0), that
is also the score of the length-weighted mean penalty.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from mtcheck.metrics.base import CorpusScore, Metric, with_mtcheck

EXTRA_OUTPUTS = ("qe_mqm", "qe_low", "qe_high")


def _same_text(a: str, b: str) -> bool:
    """Equal once runs of whitespace are one space and the ends are trimmed."""
    return " ".join(a.split()) == " ".join(b.split())


def mt_weight(text: str | None) -> int:
    """Aggregation weight of one segment: its number of whitespace-separated words (at least 1)."""
    return max(1, len(text.split())) if text else 1


class QE(Metric):
    """Trained quality estimation (0–100), reference-aware where a reference is given.

    Args:
        model: A :class:`~mtcheck.models.qe.QEModel` (tests inject one built on
            a tiny encoder); ``None``: the model serving the ``qe`` role,
            loaded at first use.
        use_references: Use the reference-aware model where a segment has a
            reference (default); ``False`` scores every segment reference-free.
        batch_size: Pairs per forward pass.
        spans: Turn the token head's probabilities into error spans
            (:mod:`mtcheck.spans.detector`), returned by :meth:`last_spans`.
            Default :data:`SPANS_BY_DEFAULT`: off, because measured on
            newstest2021 and TED their precision (0.26 and 0.15 at the
            character level, 0.21/0.11 for major errors) is too low to show
            an editor by default (see models/qe-e5-small/README.md);
            ``mtcheck score --model-spans`` turns them on.
    """

    #: Whether scoring also flags the token head's spans when not told otherwise.
    SPANS_BY_DEFAULT = False

    name = "qe"
    needs_reference = False
    higher_is_better = True
    model_role = "qe"
    corpus_is_mean = True
    optional_spans = True

    def __init__(self, model: Any = None, use_references: bool = True, batch_size: int = 16,
                 spans: bool | None = None):
        self._model = model
        self.use_references = use_references
        self.batch_size = batch_size
        self.spans = self.SPANS_BY_DEFAULT if spans is None else spans
        self._ref_mode = "none"
        self._last: tuple[list[Any], list[Any], list[bool]] | None = None
        self._rules = 0.0

    @property
    def model(self) -> Any:
        if self._model is None:
            import mtcheck.models.qe  # noqa: F401  (registers the default QE model)
            from mtcheck.models.registry import get_model

            self._model = get_model("qe")
        return self._model

    def predictions(self, hyps: Sequence[str], refs: Sequence[Sequence[str]], sources: Sequence[str] | None):
        """One :class:`~mtcheck.models.qe.QEPrediction` per segment (``None`` where there is no text)."""
        from mtcheck.errors import UsageError

        if sources is None:
            raise UsageError("qe compares each translation with its source, but no sources were given")
        if len(sources) != len(hyps) or len(refs) != len(hyps):
            raise ValueError(f"{len(hyps)} hypotheses, {len(sources)} sources, {len(refs)} reference lists")
        keep = [i for i, (s, h) in enumerate(zip(sources, hyps)) if s is not None and h is not None]
        preds = self.model.predict([sources[i] for i in keep], [hyps[i] for i in keep], batch_size=self.batch_size)
        if self.use_references and self.model.reference_model is not None:
            first = [next((r for r in refs[i] if r), None) for i in keep]
            if any(first):
                preds = self.model.predict_with_reference([sources[i] for i in keep], [hyps[i] for i in keep],
                                                          first, base=preds)
                self._ref_mode = self.model.reference_mode
        out: list[Any] = [None] * len(hyps)
        for i, p in zip(keep, preds):
            out[i] = p
        matched = [bool(h) and any(r and _same_text(h, r) for r in rs) for h, rs in zip(hyps, refs)]
        self._last = (list(hyps), out, matched)
        return out

    def last_spans(self):
        """The token head's spans of the last batch (with ``spans`` on).

        An MT that is word for word one of its references (spacing aside),
        such as an exact translation-memory match, gets none: the human
        translation says those words are right, whatever the model suspects.
        """
        if not self.spans or self._last is None:
            return None
        from mtcheck.spans.detector import token_spans

        hyps, preds, matched = self._last
        return [token_spans(h, p.token_bad) if p is not None and h and not same else []
                for h, p, same in zip(hyps, preds, matched)]

    def segment_outputs(self, hyps, refs, sources=None) -> dict[str, list[float | None]]:
        from mtcheck.models.qe import penalty_to_score

        preds = self.predictions(hyps, refs, sources)
        return {
            "qe": [p.score if p else None for p in preds],
            "qe_mqm": [-p.penalty if p else None for p in preds],
            "qe_low": [penalty_to_score(p.high) if p else None for p in preds],
            "qe_high": [penalty_to_score(p.low) if p else None for p in preds],
        }

    def with_findings(self, outputs, penalties):
        """Add ``rule_weight`` × the findings' penalty to each segment's predicted penalty."""
        from mtcheck.models.qe import penalty_to_score

        weight = float(getattr(self.model, "config", {}).get("rule_weight", 0.0))
        if not weight:
            return outputs
        out = {k: list(v) for k, v in outputs.items()}
        for i, extra in enumerate(penalties):
            if out["qe"][i] is None or not extra:
                continue
            shift = weight * extra
            pen = -out["qe_mqm"][i] + shift
            out["qe_mqm"][i] = -pen
            out["qe"][i] = penalty_to_score(pen)
            # the interval moves with the estimate (scores: lower = more penalty)
            for key in ("qe_low", "qe_high"):
                out[key][i] = max(0.0, out[key][i] - 4.0 * shift)
        self._rules = weight
        return out

    def segment_scores(self, hyps, refs, sources=None) -> list[float | None]:
        return self.segment_outputs(hyps, refs, sources)["qe"]

    def corpus_score(self, hyps, refs, sources=None) -> CorpusScore:
        return self.corpus_from_segments(self.segment_scores(hyps, refs, sources), refs, hyps)

    def corpus_from_segments(self, scores, refs, hyps=None) -> CorpusScore:
        """Length-weighted mean of the segment scores (weights: MT words, see :func:`mt_weight`)."""
        pairs = [(s, mt_weight(hyps[i]) if hyps is not None else 1) for i, s in enumerate(scores) if s is not None]
        total = sum(w for _, w in pairs)
        value = math.fsum(s * w for s, w in pairs) / total if pairs else None
        return CorpusScore(self.name, value, self.signature(), len(pairs))

    def signature(self, nrefs: str = "1") -> str:
        if self._model is not None:
            fields = self._model.signature_fields
        else:
            from mtcheck.models.registry import resolve

            import mtcheck.models.qe  # noqa: F401

            fields = f"model:{resolve('qe').name}"
        rules = f"|rules:{self._rules:g}" if self._rules else ""
        return with_mtcheck("QE", f"{fields}|ref:{self._ref_mode}{rules}|agg:mt-words")


__all__ = ["QE", "EXTRA_OUTPUTS", "mt_weight"]
