"""Error spans from a learned combination of word-level signals (an experiment; see below).

The QE token head alone finds rated error characters at precision 0.22
(newstest2021). The lexicon's account of which MT words the source explains,
the rule checks' findings, the token head's neighbours and the shape of a
word may carry more. Rather than weigh them by hand, a small network reads,
for every MT word, a fixed vector of these signals (:data:`FEATURES`) and
gives two probabilities: that a rater marks the word at all, and that a
rater marks it as a major error. The English LM's surprisal can be added
(:data:`LM_FEATURES`, ``train_span_combiner.py --lm``); on the calibration
documents it moved the cross-fitted character F1 from 0.419 to 0.415 and
left the major-error F1 at 0.285. It is trained by
``train_span_combiner.py`` on the newstest2020 documents the QE model never
saw, so the token head's probabilities it stacks on are honest ones; the
thresholds are chosen on cross-fitted predictions.

It lives in ``scripts/`` and not in the package because it did not earn a
place there: on newstest2021 it raises the token head's character F1 from
0.270 to 0.281 and major-error F1 from 0.189 to 0.212, but it flags 98% of
segments, on TED it does no better than flagging everything, and its
precision does not carry over from the training documents to the dev sets
(the measurements are in models/README.md).

Words are the detector's words (:func:`mtcheck.spans.detector.words`); words
at or above the threshold become spans, neighbours separated only by spaces
or punctuation join into one phrase, and a phrase is major when its peak
major probability reaches ``major_threshold``.

The features of a word need not all be there: a missing input (no lexicon)
reads as the training mean, so it shifts nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import regex

from mtcheck.core import Severity, Side, Span
from mtcheck.errors import ModelUnavailableError
from mtcheck.spans.detector import per_word
from mtcheck.spans.detector import words as detector_words

CHECK_NAME = "span-combiner"

#: The word-level inputs, in the order the weights expect them.
FEATURES: tuple[str, ...] = (
    # the QE token head (max over the word's sub-tokens), its neighbours and its segment
    "qe_p", "qe_prev", "qe_next", "qe_seg_max", "qe_seg_mean", "qe_rel", "qe_penalty",
    # CC-CEDICT: a content word no source word glosses; a content word at all
    "lex_uncovered", "lex_content",
    # the rule checks: the most severe MT-side finding on the word (0–3), source-side findings in the segment
    "rule_severity", "rule_source",
    # the word itself and where it stands
    "capitalised", "has_digit", "log_chars", "position", "first_word", "log_words", "length_ratio",
)
#: With ``lm_features``: the English LM's surprisal (nats) of the word, its worst token, its neighbours',
#: the segment mean and the word's difference from it.
LM_FEATURES: tuple[str, ...] = ("lm_surprisal", "lm_max_token", "lm_prev", "lm_next", "lm_seg_mean", "lm_rel")

_HAS_LETTER_OR_DIGIT = regex.compile(r"[\p{L}\p{N}]")


@dataclass(frozen=True)
class WordInputs:
    """What one segment's words are computed from; any model output may be missing.

    Attributes:
        mt: The MT text.
        source: The source text (for the length ratio).
        qe_tokens: The QE token head's ``(start, end, probability)`` per MT sub-token.
        qe_penalty: The QE model's predicted MQM penalty for the segment.
        rule_spans: The rule checks' findings on the segment (both sides).
        uncovered: Offsets of MT content words no source word glosses.
        content: Offsets of MT content words (``None``: no lexicon).
    """

    mt: str
    source: str
    qe_tokens: Sequence[tuple[int, int, float]] = ()
    qe_penalty: float = 0.0
    rule_spans: Sequence[Span] = ()
    uncovered: Sequence[tuple[int, int]] = ()
    content: Sequence[tuple[int, int]] | None = None


def _per_word(ws: list[tuple[int, int]], tokens: Sequence[tuple[int, int, float]], how: str) -> np.ndarray:
    return np.asarray(per_word(ws, tokens, how), dtype=np.float64)


def _overlaps(ws: list[tuple[int, int]], marks: Sequence[tuple[int, int]]) -> np.ndarray:
    return np.array([any(s < b and a < e for s, e in marks) for a, b in ws], dtype=float)


def word_features(inputs: WordInputs) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The MT's words and one row of :data:`FEATURES` per word (NaN where an input is missing).

    Returns:
        ``(words, X)``: word offsets into ``inputs.mt`` and an array of shape
        ``(len(words), len(FEATURES))``.
    """
    mt = inputs.mt
    ws = detector_words(mt)
    n = len(ws)
    cols: dict[str, np.ndarray] = {}
    if n == 0:
        return ws, np.zeros((0, len(FEATURES)))

    qe = _per_word(ws, inputs.qe_tokens, "max")
    qe = np.where(np.isnan(qe), 0.0, qe) if inputs.qe_tokens else qe
    cols["qe_p"] = qe
    cols["qe_prev"] = np.concatenate([[0.0], qe[:-1]])
    cols["qe_next"] = np.concatenate([qe[1:], [0.0]])
    cols["qe_seg_max"] = np.full(n, np.nanmax(qe) if inputs.qe_tokens else np.nan)
    cols["qe_seg_mean"] = np.full(n, np.nanmean(qe) if inputs.qe_tokens else np.nan)
    cols["qe_rel"] = qe - cols["qe_seg_mean"]
    cols["qe_penalty"] = np.full(n, math.log1p(max(0.0, inputs.qe_penalty)))

    cols["lex_uncovered"] = _overlaps(ws, inputs.uncovered)
    cols["lex_content"] = (_overlaps(ws, inputs.content) if inputs.content is not None else np.full(n, np.nan))
    if inputs.content is None:
        cols["lex_uncovered"] = np.full(n, np.nan)

    sev = np.zeros(n)
    n_source = 0
    for s in inputs.rule_spans:
        if s.side is Side.SOURCE:
            n_source += 1
            continue
        for j, (a, b) in enumerate(ws):
            if s.start < b and a < s.end:
                sev[j] = max(sev[j], s.severity.rank)
    cols["rule_severity"] = sev
    cols["rule_source"] = np.full(n, math.log1p(n_source))

    texts = [mt[a:b] for a, b in ws]
    cols["capitalised"] = np.array([float(j > 0 and t[:1].isupper()) for j, t in enumerate(texts)])
    cols["has_digit"] = np.array([float(any(c.isdigit() for c in t)) for t in texts])
    cols["log_chars"] = np.log1p([len(t) for t in texts])
    cols["position"] = np.arange(n) / max(1, n - 1)
    cols["first_word"] = (np.arange(n) == 0).astype(float)
    cols["log_words"] = np.full(n, math.log(n))
    cols["length_ratio"] = np.full(n, math.log((len(mt) + 1) / (len(inputs.source) + 1)))
    return ws, np.column_stack([cols[f] for f in FEATURES])


def lm_features(ws: Sequence[tuple[int, int]], offsets: Sequence[tuple[int, int]],
                logprobs: Sequence[float]) -> np.ndarray:
    """The :data:`LM_FEATURES` columns of the words ``ws`` from an LM's token offsets and log-probabilities."""
    n = len(ws)
    surprisal = [(a, b, -float(lp)) for (a, b), lp in zip(offsets, logprobs)]
    total = np.nan_to_num(_per_word(list(ws), surprisal, "sum"))
    worst = np.nan_to_num(_per_word(list(ws), surprisal, "max"))
    if n == 0:
        return np.zeros((0, len(LM_FEATURES)))
    mean = float(total.mean())
    return np.column_stack([total, worst, np.concatenate([[0.0], total[:-1]]), np.concatenate([total[1:], [0.0]]),
                            np.full(n, mean), total - mean])


@dataclass(frozen=True)
class CombinerOptions:
    """Thresholds of :meth:`Combiner.spans` (the shipped file carries the chosen ones)."""

    threshold: float = 0.5
    major_threshold: float = 0.5
    max_spans: int = 5


class Combiner:
    """A trained word classifier over :data:`FEATURES` (a one-hidden-layer network, numpy only).

    Args:
        params: As ``train_span_combiner.fit`` returns them: ``features``
            (:data:`FEATURES`, optionally followed by :data:`LM_FEATURES`),
            ``mean``/``scale`` per feature, ``w1``
            (features × hidden), ``b1``, ``w2`` (hidden × 2: bad, major),
            ``b2`` and the chosen ``threshold``/``major_threshold``/``max_spans``
            (read into :attr:`options`).
        name: Shown in error messages.
    """

    def __init__(self, params: dict[str, Any], name: str = "span-combiner"):
        self.features = tuple(params.get("features", ()))
        if self.features not in (FEATURES, FEATURES + LM_FEATURES):
            raise ModelUnavailableError(f"{name}: the weights were trained on features {params.get('features')!r}, "
                                        f"this code computes {list(FEATURES)!r}; retrain with train_span_combiner.py")
        self.name = name
        self.mean = np.asarray(params["mean"], dtype=np.float64)
        self.scale = np.asarray(params["scale"], dtype=np.float64)
        self.w1 = np.asarray(params["w1"], dtype=np.float64)
        self.b1 = np.asarray(params["b1"], dtype=np.float64)
        self.w2 = np.asarray(params["w2"], dtype=np.float64)
        self.b2 = np.asarray(params["b2"], dtype=np.float64)
        shapes = (self.mean.shape, self.scale.shape, self.w1.shape, self.b1.shape, self.w2.shape, self.b2.shape)
        k, h = len(self.features), self.b1.shape[0] if self.b1.ndim == 1 else -1
        if shapes != ((k,), (k,), (k, h), (h,), (h, 2), (2,)):
            raise ModelUnavailableError(f"{name}: weight shapes {shapes} do not fit {k} features and a hidden layer")
        self.options = CombinerOptions(float(params.get("threshold", 0.5)), float(params.get("major_threshold", 0.5)),
                                       int(params.get("max_spans", 5)))

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        """``(n, 2)`` probabilities (a rater marks the word; marks it major); NaN inputs read as the mean."""
        if X.ndim != 2 or X.shape[1] != len(self.features):
            raise ValueError(f"{self.name}: expected {len(self.features)} feature columns, got shape {X.shape}")
        if X.size == 0:
            return np.zeros((0, 2))
        Z = (np.where(np.isnan(X), self.mean, X) - self.mean) / self.scale
        hidden = np.tanh(Z @ self.w1 + self.b1)
        logits = hidden @ self.w2 + self.b2
        return 1.0 / (1.0 + np.exp(-logits))


def phrases(mt: str, ws: Sequence[tuple[int, int]], probs: np.ndarray, options: CombinerOptions,
            name: str = CHECK_NAME) -> list[Span]:
    """Words at or above the threshold, joined into phrases, the most probable ``max_spans`` kept."""
    found: list[list[Any]] = []  # start, end, peak bad, peak major, words
    for (a, b), (p, pm) in zip(ws, probs):
        if p < options.threshold:
            continue
        if found and not _HAS_LETTER_OR_DIGIT.search(mt[found[-1][1]:a]):
            last = found[-1]
            last[1], last[2], last[3], last[4] = b, max(last[2], p), max(last[3], pm), last[4] + 1
        else:
            found.append([a, b, float(p), float(pm), 1])
    found = sorted(found, key=lambda t: -t[2])[: options.max_spans]
    out = []
    for a, b, p, pm, nw in sorted(found):
        major = pm >= options.major_threshold
        out.append(Span(
            a, b, Side.MT, "Accuracy/Mistranslation", Severity.MAJOR if major else Severity.MINOR,
            "likely to be marked by a human reviewer",
            evidence=(f"{name} (QE token head, lexicon, rule checks): error probability {p:.2f}, major {pm:.2f} "
                      f"(peak over {nw} word{'s' if nw > 1 else ''})"),
            check=CHECK_NAME, confidence=round(p, 3)))
    return out
