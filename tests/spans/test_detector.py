"""Token probabilities of the QE model → word/phrase spans."""

from __future__ import annotations

import pytest

from mtcheck.core import Severity, Side
from mtcheck.spans.detector import DetectorOptions, token_spans

MT = "Double 11 after the curtain, sales rose."
#     0123456789012345678901234567890123456789
# words: Double(0,6) 11(7,9) after(10,15) the(16,19) curtain(20,27) sales(29,34) rose(35,39)


def toks(*probs):
    """One token per word of MT (sub-word offsets inside the word also work)."""
    words = [(0, 6), (7, 9), (10, 15), (16, 19), (20, 27), (29, 34), (35, 39)]
    return [(a, b, p) for (a, b), p in zip(words, probs)]


@pytest.mark.parametrize(
    "token_bad, expected",
    [
        (toks(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1), []),
        # one phrase "after the curtain" (the comma is not part of it), peak 0.9 -> major
        (toks(0.1, 0.2, 0.6, 0.55, 0.9, 0.1, 0.1), [(10, 27, Severity.MAJOR, 0.9)]),
        # the comma between "curtain" and "sales" does not break a phrase
        (toks(0.1, 0.1, 0.1, 0.1, 0.6, 0.7, 0.1), [(20, 34, Severity.MINOR, 0.7)]),
        # two phrases separated by an unflagged word
        (toks(0.8, 0.1, 0.6, 0.1, 0.1, 0.1, 0.1), [(0, 6, Severity.MAJOR, 0.8), (10, 15, Severity.MINOR, 0.6)]),
        # the last word loses its final full stop
        (toks(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.95), [(35, 39, Severity.MAJOR, 0.95)]),
    ],
)
def test_phrases(token_bad, expected):
    got = token_spans(MT, token_bad, DetectorOptions(threshold=0.5, major_threshold=0.75))
    assert [(s.start, s.end, s.severity, s.confidence) for s in got] == expected
    assert all(s.side is Side.MT and s.check == "qe-spans" for s in got)


def test_subword_tokens_give_their_word_the_highest_probability():
    # "curtain" as "cur" + "tain": one flagged piece flags the whole word
    got = token_spans(MT, [(20, 23, 0.2), (23, 27, 0.8)])
    assert [(s.start, s.end) for s in got] == [(20, 27)]
    assert MT[got[0].start:got[0].end] == "curtain"


def test_cap_keeps_the_most_probable():
    got = token_spans(MT, toks(0.6, 0.1, 0.7, 0.1, 0.9, 0.1, 0.65), DetectorOptions(0.5, 0.75, max_spans=2))
    assert [(s.start, s.end) for s in got] == [(10, 15), (20, 27)]


@pytest.mark.parametrize(
    "mt, token_bad, covered",
    [
        ("利润🎉 rose 𠀀 fast", [(0, 2, 0.9), (3, 4, 0.1), (5, 9, 0.1), (10, 11, 0.1), (12, 16, 0.9)],
         ["利润🎉", "fast"]),
        ("Ｎｅｔ profit（净利润）", [(0, 3, 0.1), (4, 10, 0.9), (10, 16, 0.9)], ["profit（净利润"]),
    ],
)
def test_offsets_on_mixed_scripts(mt, token_bad, covered):
    got = token_spans(mt, token_bad)
    assert [mt[s.start:s.end] for s in got] == covered


def test_empty_inputs():
    assert token_spans("", []) == []
    assert token_spans("Fine.", []) == []


def test_default_thresholds_are_the_calibrated_ones():
    # threshold 0.2 flags "after" (0.25); major from 0.3
    got = token_spans(MT, toks(0.1, 0.1, 0.25, 0.1, 0.1, 0.1, 0.35))
    assert [(s.start, s.end, s.severity) for s in got] == [(10, 15, Severity.MINOR), (35, 39, Severity.MAJOR)]


@pytest.mark.parametrize("text, expected", [
    ("Up 12%！", ["Up", "12%"]),
    ("(about 3‰).", ["about", "3‰"]),
    ("“Double 11” sales…", ["Double", "11", "sales"]),
    ("📈 rose", ["📈", "rose"]),
    ("--", ["--"]),  # a word of punctuation only stays whole
])
def test_words_keep_percent_signs(text, expected):
    from mtcheck.spans.detector import words

    assert [text[a:b] for a, b in words(text)] == expected


@pytest.mark.parametrize("how, expected", [("max", [0.5, 0.9, None]), ("sum", [0.5, 1.2, None])])
def test_per_word(how, expected):
    from mtcheck.spans.detector import per_word

    ws = [(0, 3), (4, 8), (9, 12)]
    # a token over the space between words counts for both; empty tokens are skipped; word 3 has none
    tokens = [(4, 6, 0.3), (0, 5, 0.5), (6, 8, 0.9), (10, 10, 5.0)]
    if how == "sum":
        tokens = tokens[:1] + [(0, 3, 0.5)] + tokens[2:]  # 0.3 + 0.9 = 1.2
    got = per_word(ws, tokens, how)
    assert [None if g != g else round(g, 6) for g in got] == expected
