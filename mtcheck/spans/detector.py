"""Error spans from the QE model's token head.

The QE cross-encoder (:mod:`mtcheck.models.qe`) gives every MT sub-token the
probability that a human rater would have marked it as part of an error. An
editor needs words and phrases, not sub-tokens, so:

1. each word (a run of non-space characters, trailing punctuation excluded
   where the word has letters) takes the highest probability of the tokens
   it overlaps;
2. words at or above ``threshold`` become spans, and neighbours separated
   only by spaces or punctuation merge into one phrase;
3. a phrase is ``major`` when its peak probability reaches
   ``major_threshold``, else ``minor``; at most ``max_spans`` per segment,
   the most probable first (an editor stops reading a tool that cries wolf).

The token head does not say *what* is wrong, so its spans carry the generic
category ``Accuracy/Mistranslation`` and evidence with the probability; the
rule-based checks (numbers, terms, calques, untranslated…) name the kind of
error where they apply, and :func:`mtcheck.spans.merge_spans` folds a model
span into a rule finding on the same words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import regex

from mtcheck.core import Severity, Side, Span

CHECK_NAME = "qe-spans"
_WORD = regex.compile(r"\S+")
# Unicode files % and ‰ under punctuation, but they belong to the number before them.
_EDGE_PUNCT = regex.compile(r"(?V1)^[\p{P}--[%‰‱]]+")
_TAIL_PUNCT = regex.compile(r"(?V1)[\p{P}--[%‰‱]]+$")


@dataclass(frozen=True)
class DetectorOptions:
    """Thresholds of :func:`token_spans`.

    The defaults are the values ``scripts/eval_qe_spans.py`` picked on the
    newstest2020 calibration split (best character F1; the token head's
    probabilities are low, a human marks 13% of characters).
    """

    threshold: float = 0.2
    major_threshold: float = 0.3
    max_spans: int = 5


def words(text: str) -> list[tuple[int, int]]:
    """Word offsets; punctuation (not symbols such as % or emoji) at a word's edges is left out."""
    out = []
    for m in _WORD.finditer(text):
        a, b = m.span()
        word = m.group()
        lead = _EDGE_PUNCT.match(word)
        if lead and lead.end() < len(word):
            a += lead.end()
        tail = _TAIL_PUNCT.search(text[a:b])
        if tail and tail.start() > 0:
            b = a + tail.start()
        out.append((a, b))
    return out


def per_word(ws: Sequence[tuple[int, int]], values: Sequence[tuple[int, int, float]], how: str = "max") -> list[float]:
    """Per word, the max (or ``how="sum"``) of the values of the tokens ``(start, end, value)`` it overlaps.

    A token across two words counts for both; a word no token touches gets NaN.
    """
    out = [math.nan] * len(ws)
    k = 0
    for a, b, v in sorted(values):
        if b <= a:
            continue
        while k < len(ws) and ws[k][1] <= a:
            k += 1
        j = k
        while j < len(ws) and ws[j][0] < b:
            v = float(v)
            out[j] = v if math.isnan(out[j]) else (max(out[j], v) if how == "max" else out[j] + v)
            j += 1
    return out


def token_spans(mt: str, token_bad: Sequence[tuple[int, int, float]],
                options: DetectorOptions = DetectorOptions()) -> list[Span]:
    """Spans over ``mt`` from per-token error probabilities ``(start, end, p)``.

    Args:
        mt: The MT text the offsets index.
        token_bad: Token offsets and probabilities (``QEPrediction.token_bad``).
        options: Thresholds and the per-segment cap.

    Returns:
        Spans sorted by offset.
    """
    ws = words(mt)
    probs = [0.0 if math.isnan(p) else p for p in per_word(ws, token_bad)]
    phrases: list[tuple[int, int, float, int]] = []  # start, end, peak, words
    for (a, b), p in zip(ws, probs):
        if p < options.threshold:
            continue
        if phrases and not regex.search(r"[\p{L}\p{N}]", mt[phrases[-1][1]:a]):
            s, _e, peak, n = phrases[-1]
            phrases[-1] = (s, b, max(peak, p), n + 1)
        else:
            phrases.append((a, b, p, 1))
    phrases = sorted(phrases, key=lambda t: -t[2])[: options.max_spans]
    spans = []
    for a, b, peak, n in sorted(phrases):
        major = peak >= options.major_threshold
        spans.append(Span(
            a, b, Side.MT, "Accuracy/Mistranslation", Severity.MAJOR if major else Severity.MINOR,
            "the QE model expects a human reviewer to mark this",
            evidence=f"QE token head: error probability {peak:.2f} (peak over {n} word{'s' if n > 1 else ''})",
            check=CHECK_NAME, confidence=round(peak, 3)))
    return spans
