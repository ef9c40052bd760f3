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
    """Shared plumbing for sacrebleu metrics; subclasses build the scorer."""

    label = ""

    def __init__(self, lowercase: bool = False, tokenize: str = "13a"):
        self.lowercase = lowercase
        self.tokenize = tokenize

    def _scorer(self, sentence_level: bool):
        raise NotImplementedError

    def segment_scores(self, hyps, refs, sources=None):
        _check_lengths(hyps, refs)
        scorer = self._scorer(sentence_level=True)
        out: list[float | None] = []
        for hyp, seg_refs in zip(hyps, refs):
            seg_refs = [r for r in seg_refs if r is not None]
            out.append(scorer.sentence_score(hyp, seg_refs).score if seg_refs else None)
        return out

    def corpus_score(self, hyps: Sequence[str], refs: Sequence[Sequence[str]], sources=None) -> CorpusScore:
        _check_lengths(hyps, refs)
        keep = [i for i, r in enumerate(refs) if any(x is not None for x in r)]
        if not keep:
            return CorpusScore(self.name, None, self.signature("0"), 0)
        width = max(len(refs[i]) for i in keep)
        # sacrebleu takes reference *streams*; None pads segments with fewer references.
        streams = [[_nth(refs[i], k) for i in keep] for k in range(width)]
        scorer = self._scorer(sentence_level=False)
        result = scorer.corpus_score([hyps[i] for i in keep], streams)
        return CorpusScore(self.name, result.score, with_mtcheck(self.label, str(scorer.get_signature())), len(keep))

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


def _nth(seq: Sequence[str], k: int) -> str | None:
    return seq[k] if k < len(seq) else None


def _check_lengths(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> None:
    if len(hyps) != len(refs):
        # Internal misuse, not user input: the readers guarantee one entry per segment.
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} reference lists")
