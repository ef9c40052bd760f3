"""Signals from a second translation model: back-translation and forced decoding.

Without references, a translation model gives two kinds of evidence:

* **Generation.** ``bt_chrf`` back-translates the English MT into Chinese and
  scores it against the source with chrF (character n-grams, so no Chinese
  word segmentation is needed): content the MT dropped or changed does not
  come back. ``bt_xsim`` compares the same back-translation with the source
  by the encoder's sentence vectors, which credits a paraphrase. ``fwd_ref`` translates the source into English and scores the
  MT against that pseudo-reference with chrF.
* **Scoring** (forced decoding, as Prism does; no generation, much cheaper):
  ``tm_logprob`` is the mean per-token log P(MT | source); ``tm_pmi`` the
  same minus the mean log P(MT) without the source (how much the source
  explains the MT beyond its fluency); ``tm_reverse`` the mean per-token
  log P(source | MT).

Two of them also give span candidates: ``bt_chrf`` marks source words that do
not come back in the back-translation (:func:`divergent_stretches`), and
``tm_logprob`` marks MT words the model finds very unlikely given the source
(:func:`unlikely_stretches`); both as minor findings, with the evidence.

They use the model serving the ``translator`` role (``--model
translator=…``: a local seq2seq or instruct model, a hub id, or
``openai:URL#MODEL`` for an OpenAI-compatible server). They are **opt-in**:
none runs by default (``mtcheck score --backtranslate`` adds ``bt_chrf`` and
``tm_logprob``; ``--metrics`` names any of them), because generation with an
offline CPU model takes seconds per sentence. Generations are cached per
(model, direction, text) in memory and under ``$MTCHECK_CACHE_DIR/translations``
(``~/.cache/mtcheck/translations``), so a rerun or a second metric on the
same texts does not translate again. Corpus scores: corpus chrF for the two
chrF signals, the mean of the segment scores for the others.
"""

from __future__ import annotations

import bisect
import threading
from typing import Any, Sequence

from mtcheck.metrics.base import CorpusScore, Metric, with_mtcheck

_CACHED: dict[str, Any] = {}
_LOCK = threading.Lock()


def cached_translator(model: Any = None) -> Any:
    """The process's :class:`~mtcheck.models.translation.CachedTranslator` around ``model``.

    Args:
        model: A translator; ``None`` loads the one serving the ``translator`` role.
    """
    from mtcheck.models.translation import CachedTranslator

    if model is None:
        from mtcheck.models.registry import get_model

        model = get_model("translator")
    if isinstance(model, CachedTranslator):
        return model
    with _LOCK:
        if model.name not in _CACHED:
            from mtcheck.models.lm import cache_root

            _CACHED[model.name] = CachedTranslator(model, cache_root() / "translations")
        return _CACHED[model.name]


class _TranslationMetric(Metric):
    """Shared plumbing: the lazily loaded translator and the signature.

    Args:
        translator: A :class:`~mtcheck.models.translation.Translator` (tests
            inject a fake); ``None`` loads the ``translator`` role at first use.
    """

    label = ""
    model_role = "translator"
    needs_reference = False
    default = False
    corpus_is_mean = True

    def __init__(self, translator: Any = None, **_ignored: Any):
        self._translator = cached_translator(translator) if translator is not None else None

    @property
    def translator(self) -> Any:
        if self._translator is None:
            self._translator = cached_translator()
        return self._translator

    def _model_name(self) -> str:
        if self._translator is not None:
            return self._translator.name
        from mtcheck.models.registry import resolve

        return resolve("translator").name

    def signature(self, nrefs: str = "1") -> str:
        return with_mtcheck(self.label, f"{self._extra()}model:{self._model_name()}")

    def _extra(self) -> str:
        return ""

    def corpus_score(self, hyps, refs, sources=None) -> CorpusScore:
        return self.corpus_from_segments(self.segment_scores(hyps, refs, sources), refs)

    def _forced_means(self, hyps, sources, reverse: bool) -> list[float | None]:
        """Mean per-token log P(MT | source), or log P(source | MT) with ``reverse``; ``None`` for empty sides."""
        return [None if ts is None else ts.mean for ts in self._forced(hyps, sources, reverse)]

    def _forced(self, hyps, sources, reverse: bool) -> list[Any]:
        """The forced-decoding :class:`~mtcheck.models.translation.TokenScores` of each segment (``None``: empty)."""
        srcs = _sources(hyps, sources)
        idx = [i for i, (h, s) in enumerate(zip(hyps, srcs)) if h.strip() and s.strip()]
        out: list[Any] = [None] * len(hyps)
        given, scored = ([hyps[i] for i in idx], [srcs[i] for i in idx]) if reverse else \
            ([srcs[i] for i in idx], [hyps[i] for i in idx])
        langs = ("en", "zh") if reverse else ("zh", "en")
        for i, ts in zip(idx, self.translator.score(given, scored, *langs)):
            out[i] = ts
        return out


def _sources(hyps: Sequence[str], sources: Sequence[str] | None) -> list[str]:
    if sources is None:
        return [""] * len(hyps)
    return list(sources)


class _ChrFAgainstGenerated(_TranslationMetric):
    """chrF of one side against a translation the model generates of the other."""

    corpus_is_mean = False
    #: (direction of the generation, whether the MT is the hypothesis)
    src_lang = tgt_lang = ""

    def _pairs(self, hyps, sources) -> tuple[list[str], list[str]]:
        raise NotImplementedError

    def _extra(self) -> str:
        import sacrebleu

        c = sacrebleu.CHRF()
        # sacrebleu's own signature object needs a scored corpus first; these are its fields.
        return (f"nrefs:1|case:mixed|nc:{c.char_order}|nw:{c.word_order}|space:{'yes' if c.whitespace else 'no'}|"
                f"version:{sacrebleu.__version__}|")

    def segment_scores(self, hyps, refs, sources=None):
        import sacrebleu

        hyp_side, ref_side = self._pairs(hyps, _sources(hyps, sources))
        chrf = sacrebleu.CHRF()
        return [None if not h.strip() or not r.strip() else chrf.sentence_score(h, [r]).score
                for h, r in zip(hyp_side, ref_side)]

    def corpus_score(self, hyps, refs, sources=None) -> CorpusScore:
        import sacrebleu

        hyp_side, ref_side = self._pairs(hyps, _sources(hyps, sources))
        kept = [(h, r) for h, r in zip(hyp_side, ref_side) if h.strip() and r.strip()]
        score = sacrebleu.CHRF().corpus_score([h for h, _ in kept], [[r for _, r in kept]]).score if kept else None
        return CorpusScore(self.name, score, self.signature(), len(kept))


class BackTranslationChrF(_ChrFAgainstGenerated):
    """``bt_chrf``: chrF of the MT's back-translation into Chinese against the source (0-100).

    It also keeps each back-translation (``texts["back_translation"]`` in the
    results) and marks, as minor source-side spans, stretches of two or more
    Han characters that do not come back (:func:`divergent_stretches`).
    """

    name = "bt_chrf"
    label = "BT-chrF"

    def __init__(self, translator: Any = None, **options: Any):
        super().__init__(translator, **options)
        self._texts: list[str | None] | None = None
        self._spans: list[list] | None = None

    def _pairs(self, hyps, sources):
        return _back_translations(self.translator, hyps, sources), sources

    def segment_outputs(self, hyps, refs, sources=None):
        srcs = _sources(hyps, sources)
        backs, _ = self._pairs(hyps, srcs)
        self._texts = [b or None for b in backs]
        self._spans = [divergent_stretches(s, b) if b else [] for s, b in zip(srcs, backs)]
        return {self.name: self.segment_scores(hyps, refs, sources)}

    def last_texts(self):
        return None if self._texts is None else {"back_translation": self._texts}

    def last_spans(self):
        return self._spans


def _back_translations(translator: Any, hyps: Sequence[str], sources: Sequence[str]) -> list[str]:
    """The en→zh translation of each MT that has a source; ``""`` where either side is empty."""
    todo = [h for h, s in zip(hyps, sources) if h.strip() and s.strip()]
    made = dict(zip(todo, translator.translate(todo, "en", "zh")))
    return [made.get(h, "") if s.strip() else "" for h, s in zip(hyps, sources)]


class BackTranslationXSim(_TranslationMetric):
    """``bt_xsim``: cosine between the sentence vectors of the back-translation and of the source.

    The back-translation is the one ``bt_chrf`` uses (made once, cached); the
    vectors come from the model serving the ``encoder`` role, as for
    ``xsim``. Unlike chrF it credits a back-translation that says the same
    in other words.

    Args:
        translator: As for every translation metric.
        encoder: An encoder for the vectors (tests inject a fake); ``None``
            loads the ``encoder`` role at first use.
    """

    name = "bt_xsim"
    label = "BT-xsim"

    def __init__(self, translator: Any = None, encoder: Any = None, **options: Any):
        super().__init__(translator, **options)
        from mtcheck.metrics.embedding import XSim

        self._sim = XSim(encoder)

    def segment_scores(self, hyps, refs, sources=None):
        srcs = _sources(hyps, sources)
        backs = _back_translations(self.translator, hyps, srcs)
        keep = [i for i, b in enumerate(backs) if b.strip()]
        out: list[float | None] = [None] * len(hyps)
        if keep:
            scores = self._sim.segment_scores([backs[i] for i in keep], [[] for _ in keep], [srcs[i] for i in keep])
            for i, score in zip(keep, scores):
                out[i] = score
        return out

    def signature(self, nrefs: str = "1") -> str:
        encoder = self._sim.encoder_fields().removeprefix("model:")
        return with_mtcheck(self.label, f"model:{self._model_name()}|encoder:{encoder}")


_HAN = None


def divergent_stretches(source: str, back: str, min_han: int = 2) -> list:
    """Source words the back-translation does not give back, as minor source-side spans.

    The two Chinese texts are aligned character by character (longest
    matching blocks, :class:`difflib.SequenceMatcher`). Source characters with
    no counterpart, or with other characters in their place, are widened to
    whole words (jieba), so 落 missing from 落幕 marks 落幕; a stretch becomes a
    span when it holds at least ``min_han`` Han characters. These are
    candidates: a back-translation paraphrases, so a word may come back in
    other words.
    """
    import difflib

    import regex

    from mtcheck.core import Severity, Side, Span

    global _HAN
    if _HAN is None:
        _HAN = regex.compile(r"\p{Han}")
    opcodes = difflib.SequenceMatcher(None, source, back, autojunk=False).get_opcodes()
    ops = [op for op in opcodes if op[0] in ("replace", "delete")]
    if not ops:
        return []
    words = _word_spans(source)
    regions: list[list[int]] = []
    for _tag, i1, i2, _j1, _j2 in ops:
        a = max([w0 for w0, w1 in words if w0 <= i1 < w1] or [i1])
        b = max([w1 for w0, w1 in words if w0 < i2 <= w1] or [i2])
        if regions and a <= regions[-1][1]:
            regions[-1][1] = max(regions[-1][1], b)
        else:
            regions.append([a, b])
    out = []
    for a, b in regions:
        while a < b and not (_HAN.match(source[a]) or source[a].isalnum()):
            a += 1
        while b > a and not (_HAN.match(source[b - 1]) or source[b - 1].isalnum()):
            b -= 1
        if len(_HAN.findall(source[a:b])) < min_han:
            continue
        # What stands in the back-translation where these words are: the changed parts, and any
        # matched characters inside the words.
        js = []
        for tag, i1, i2, j1, j2 in opcodes:
            if i2 <= a or i1 >= b or j2 <= j1:
                continue
            if tag == "equal":   # only the matched characters inside the words
                js += [j1 + max(i1, a) - i1, j1 + min(i2, b) - i1]
            else:
                js += [j1, j2]
        there = back[min(js):max(js)] if js else ""
        if there.strip():
            evidence = f"back-translation reads {there!r} where the source has {source[a:b]!r}"
            category = "Accuracy/Mistranslation"
        else:
            evidence = f"the back-translation has nothing for {source[a:b]!r}"
            category = "Accuracy/Omission"
        out.append(Span(a, b, Side.SOURCE, category, Severity.MINOR,
                        "source words that do not come back in the back-translation", evidence,
                        "backtranslation", confidence=DIVERGENT_CONFIDENCE))
    return out


_TOKENIZER = None


def _word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the jieba words of ``text`` (the lexicon's private tokenizer settings)."""
    global _TOKENIZER
    if _TOKENIZER is None:
        from mtcheck.models.lexicon import _make_tokenizer

        _TOKENIZER = _make_tokenizer()
    out, pos = [], 0
    for word in _TOKENIZER.cut(text, HMM=False):
        out.append((pos, pos + len(word)))
        pos += len(word)
    return out


class ForwardReferenceChrF(_ChrFAgainstGenerated):
    """``fwd_ref``: chrF of the MT against the model's own translation of the source (0-100).

    The pseudo-reference is kept as ``texts["pseudo_reference"]``.
    """

    name = "fwd_ref"
    label = "FwdRef-chrF"

    def __init__(self, translator: Any = None, **options: Any):
        super().__init__(translator, **options)
        self._texts: list[str | None] | None = None

    def _pairs(self, hyps, sources):
        todo = [s for s in sources if s.strip()]
        made = dict(zip(todo, self.translator.translate(todo, "zh", "en")))
        return list(hyps), [made.get(s, "") for s in sources]

    def segment_outputs(self, hyps, refs, sources=None):
        _, refs_made = self._pairs(hyps, _sources(hyps, sources))
        self._texts = [r or None for r in refs_made]
        return {self.name: self.segment_scores(hyps, refs, sources)}

    def last_texts(self):
        return None if self._texts is None else {"pseudo_reference": self._texts}


class TMLogProb(_TranslationMetric):
    """``tm_logprob``: mean per-token log P(MT | source) under the translation model (≤ 0).

    It also marks, as minor MT-side spans, words the model finds very
    unlikely given the source (:func:`unlikely_stretches`).
    """

    name = "tm_logprob"
    label = "TM-logprob"

    def __init__(self, translator: Any = None, **options: Any):
        super().__init__(translator, **options)
        self._spans: list[list] | None = None

    def segment_scores(self, hyps, refs, sources=None):
        return self._forced_means(hyps, sources, reverse=False)

    def segment_outputs(self, hyps, refs, sources=None):
        readings = self._forced(hyps, sources, reverse=False)
        self._spans = [[] if ts is None or not ts.logprobs else unlikely_stretches(ts) for ts in readings]
        return {self.name: [None if ts is None else ts.mean for ts in readings]}

    def last_spans(self):
        return self._spans


class TMReverse(_TranslationMetric):
    """``tm_reverse``: mean per-token log P(source | MT), the translation model read backwards (≤ 0)."""

    name = "tm_reverse"
    label = "TM-reverse"

    def segment_scores(self, hyps, refs, sources=None):
        return self._forced_means(hyps, sources, reverse=True)


class TMPMI(_TranslationMetric):
    """``tm_pmi``: mean log P(MT | source) − mean log P(MT), per token.

    Needs a backend that can score without a source (``score_unconditional``,
    the causal backends); with another, every segment gets ``None``.
    """

    name = "tm_pmi"
    label = "TM-PMI"

    def segment_scores(self, hyps, refs, sources=None):
        srcs = _sources(hyps, sources)
        inner = getattr(self.translator, "inner", self.translator)
        out: list[float | None] = [None] * len(hyps)
        if not hasattr(inner, "score_unconditional"):
            return out
        idx = [i for i, (h, s) in enumerate(zip(hyps, srcs)) if h.strip() and s.strip()]
        cond = self.translator.score([srcs[i] for i in idx], [hyps[i] for i in idx], "zh", "en")
        free = inner.score_unconditional([hyps[i] for i in idx], "en")
        for i, c, f in zip(idx, cond, free):
            if c.logprobs and f.logprobs:
                # Per token of each reading: the tokenisations of the two prompts may differ at the edges.
                out[i] = c.mean - f.mean
        return out


#: Word-level thresholds of :func:`unlikely_stretches`, in nats: log P(word | source) at most
#: ``UNLIKELY_LOGPROB`` and, when an unconditional reading is given, at most ``UNLIKELY_PMI`` above
#: log P(word) without the source. Chosen on 140 newstest2020 MQM items by
#: ``scripts/eval_translation_spans.py`` (models/README.md has the grid): the PMI condition lowered
#: F1 at every threshold, so the metric flags on the conditional reading alone.
UNLIKELY_LOGPROB = -7.0
UNLIKELY_PMI = float("inf")
#: Confidence given to each span kind: the share of its flagged characters that raters marked as
#: errors on held-out newstest2021 MQM (``scripts/eval_translation_spans.py``, default translator;
#: MT side: 210 items; source side: 84 items, against the raters' source-side marks, which are
#: omissions only, so a lower bound).
UNLIKELY_CONFIDENCE = 0.32
DIVERGENT_CONFIDENCE = 0.01

_WORD = None


def unlikely_stretches(cond: Any, free: Any = None, max_logprob: float = UNLIKELY_LOGPROB,
                       max_pmi: float = UNLIKELY_PMI) -> list:
    """MT words the translation model finds unlikely for this source, as minor MT-side spans.

    Each token's log-probability goes to the word holding its last
    character (a token that starts with a space belongs to the word after
    it), so a word's score is the log-probability of all its pieces. A word
    is flagged when log P(word | source) ≤ ``max_logprob`` and, when the
    unconditional reading ``free`` is given, log P(word | source) −
    log P(word) ≤ ``max_pmi``: the source does not make the word more likely
    than it is anyway — a rare name the source explains is left alone.
    Flagged words separated only by spaces merge into one span (punctuation
    keeps clauses apart).

    Args:
        cond: :class:`~mtcheck.models.translation.TokenScores` of the MT given the source.
        free: The same MT scored without the source, or ``None``.
        max_logprob: Threshold on the word's conditional log-probability (nats).
        max_pmi: Threshold on conditional minus unconditional log-probability (nats).

    Returns:
        :class:`~mtcheck.core.Span` objects over ``cond.text``.
    """
    import regex

    from mtcheck.core import Severity, Side, Span

    global _WORD
    if _WORD is None:
        _WORD = regex.compile(r"[\p{L}\p{N}\p{M}]+(?:['’.\-][\p{L}\p{N}\p{M}]+)*")
    text = cond.text
    if free is not None and free.text != text:
        raise ValueError("the conditional and unconditional scores are of different texts")
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not words:
        return []
    starts = [w[0] for w in words]

    def per_word(scores: Any) -> list[float | None]:
        sums: list[float | None] = [None] * len(words)
        for (a, b), lp in zip(scores.offsets, scores.logprobs):
            if b <= a:
                continue
            k = bisect.bisect_right(starts, b - 1) - 1
            if k < 0 or words[k][1] <= a:
                continue   # a token of spaces or punctuation between words
            sums[k] = (sums[k] or 0.0) + lp
        return sums

    c_words = per_word(cond)
    f_words = per_word(free) if free is not None else [None] * len(words)
    flagged = []
    for (a, b), c, f in zip(words, c_words, f_words):
        if c is None or c > max_logprob:
            continue
        if f is not None and c - f > max_pmi:
            continue
        flagged.append([a, b, c, f])
    merged: list[list] = []
    for a, b, c, f in flagged:
        if merged and not text[merged[-1][1]:a].strip():
            last = merged[-1]
            last[1], last[2] = b, last[2] + c
            last[3] = None if last[3] is None or f is None else last[3] + f
        else:
            merged.append([a, b, c, f])
    out = []
    for a, b, c, f in merged:
        evidence = f"log P({text[a:b]!r} | source) = {c:.1f} nats under the translation model"
        if f is not None:
            evidence += f" ({f:.1f} without the source)"
        out.append(Span(a, b, Side.MT, "Accuracy/Mistranslation", Severity.MINOR,
                        "words a translation model finds unlikely for this source", evidence, "tm_logprob",
                        confidence=UNLIKELY_CONFIDENCE))
    return out


TRANSLATION_METRICS = (BackTranslationChrF, BackTranslationXSim, ForwardReferenceChrF, TMLogProb, TMReverse, TMPMI)
#: What ``--backtranslate`` adds: the back-translation and the cheap forced-decoding score.
BACKTRANSLATE_METRICS = (BackTranslationChrF.name, TMLogProb.name)

