"""Reference-based metrics through sacrebleu: chrF, BLEU and TER.

sacrebleu is the reference implementation, so mtcheck calls it rather than
re-implementing n-gram statistics; our numbers equal ``sacrebleu``'s own on
the same inputs (tested). Segments with several references use all of them;
segments with none are left out of the corpus score and get ``None``.
The English side is tokenised with sacrebleu's tokenisers only: none of
them is used on Chinese text.
"""

from __future__ import annotations

from typing import Sequence

from mtcheck.metrics.base import CorpusScore, Metric, with_mtcheck


class SacreMetric(Metric):
    """Shared plumbing for sacrebleu metrics; subclasses build the scorer.

    Every score comes from sacrebleu's per-segment sufficient statistics
    (n-gram matches, edits and lengths), extracted once per segment: a
    sentence score is computed from its segment's statistics, a corpus
    score from their sum, exactly as sacrebleu's ``sentence_score`` and
    ``corpus_score`` do. :meth:`segment_outputs` keeps the statistics of
    its call (:meth:`last_statistics`), so the pipeline's batch and
    document scores are sums, not new passes over the text: TER's
    statistics cost about 30 ms a segment here.
    """

    label = ""

    def __init__(self, lowercase: bool = False, tokenize: str = "13a"):
        self.lowercase = lowercase
        self.tokenize = tokenize
        self._last_stats: list | None = None

    def _scorer(self, sentence_level: bool):
        raise NotImplementedError

    def segment_statistics(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list:
        """Per segment, sacrebleu's statistics against its references (``None`` without one)."""
        _check_lengths(hyps, refs)
        # The statistics do not depend on the sentence/corpus settings (BLEU's effective
        # order only changes how they are turned into a score), so one scorer serves both.
        scorer = self._scorer(sentence_level=False)
        out: list = []
        for hyp, seg_refs in zip(hyps, refs):
            seg_refs = [r for r in seg_refs if r is not None]
            out.append(scorer._extract_corpus_statistics([hyp], [[r] for r in seg_refs])[0] if seg_refs else None)
        return out

    def scores_from_statistics(self, stats: Sequence) -> list[float | None]:
        """Sentence scores from :meth:`segment_statistics` (as sacrebleu's ``sentence_score``)."""
        scorer = self._scorer(sentence_level=True)
        return [None if s is None else scorer._aggregate_and_compute([s]).score for s in stats]

    def segment_scores(self, hyps, refs, sources=None):
        return self.scores_from_statistics(self.segment_statistics(hyps, refs))

    def segment_outputs(self, hyps, refs, sources=None):
        stats = self.segment_statistics(hyps, refs)
        self._last_stats = stats
        return {self.name: self.scores_from_statistics(stats)}

    def last_statistics(self) -> list | None:
        return self._last_stats

    def corpus_from_statistics(self, stats: Sequence, refs: Sequence[Sequence[str]]) -> CorpusScore:
        """The corpus score of the segments whose statistics are ``stats`` (``None``: no reference).

        The signature's reference count is the segments' count, or ``var``
        when it differs between them, as sacrebleu sets it.
        """
        if len(stats) != len(refs):
            raise ValueError(f"{len(stats)} statistics but {len(refs)} reference lists")
        keep = [(s, sum(r is not None for r in rs)) for s, rs in zip(stats, refs) if s is not None]
        if not keep:
            return CorpusScore(self.name, None, self.signature("0"), 0)
        scorer = self._scorer(sentence_level=False)
        counts = {n for _, n in keep}
        scorer.num_refs = next(iter(counts)) if len(counts) == 1 else -1
        result = scorer._aggregate_and_compute([s for s, _ in keep])
        return CorpusScore(self.name, result.score, with_mtcheck(self.label, str(scorer.get_signature())), len(keep))

    def corpus_score(self, hyps: Sequence[str], refs: Sequence[Sequence[str]], sources=None) -> CorpusScore:
        return self.corpus_from_statistics(self.segment_statistics(hyps, refs), refs)

    def signature(self, nrefs: str = "1") -> str:
        scorer = self._scorer(sentence_level=False)
        sig = scorer._SIGNATURE_TYPE({**scorer.__dict__, "num_refs": nrefs})
        return with_mtcheck(self.label, str(sig))


class ChrF(SacreMetric):
    name = "chrf"
    label = "chrF"

    def _scorer(self, sentence_level):
        from sacrebleu.metrics import CHRF

        # eps_smoothing=False is sacrebleu's default (chrF++ reference behaviour).
        return CHRF(lowercase=self.lowercase)


class BLEU(SacreMetric):
    name = "bleu"
    label = "BLEU"

    def _scorer(self, sentence_level):
        from sacrebleu.metrics import BLEU as _BLEU

        # effective_order is what sacrebleu's own sentence_bleu uses for single sentences.
        return _BLEU(lowercase=self.lowercase, tokenize=self.tokenize, effective_order=sentence_level)


class TER(SacreMetric):
    name = "ter"
    label = "TER"
    higher_is_better = False

    def _scorer(self, sentence_level):
        from sacrebleu.metrics import TER as _TER

        # sacrebleu's TER is case-insensitive by default (signature case:lc); keep its default
        # so our TER equals `sacrebleu -m ter`, whatever the chrF/BLEU case setting.
        return _TER()


def _check_lengths(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> None:
    if len(hyps) != len(refs):
        # Internal misuse, not user input: the readers guarantee one entry per segment.
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} reference lists")
