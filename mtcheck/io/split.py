"""Sentence splitting for Chinese source and English MT documents.

A "document pair" input gives a Chinese document and its English MT whose
paragraphs are not line-aligned, so both sides are cut into sentences here and
re-paired by :mod:`mtcheck.io.align`. The splitters are rule-based and
deliberately conservative: a missed boundary costs the aligner a 1-2 or 2-1
bead, which it handles, while a false boundary in the middle of "U.S." or
"350.19" would feed it nonsense units.

Both splitters share these conventions:

* **Paragraphs.** Every non-blank line is a paragraph (``\\n``, ``\\r\\n`` and
  ``\\r`` all end a line; blank lines are skipped and do not count). A
  sentence never spans two lines, so hard-wrapped text should be unwrapped
  before splitting. :attr:`Sentence.paragraph` numbers the non-blank lines
  from 0.
* **Offsets.** :attr:`Sentence.start` and :attr:`Sentence.end` index the input
  string (code points, end exclusive) and cover the sentence with surrounding
  whitespace removed, so ``text[s.start:s.end] == s.text`` always holds.
* **Closing punctuation.** Closing quotes and brackets right after a
  terminator stay with the sentence they close (``他说：“好。”`` and
  ``He said "yes."``).
* **Quotations.** A terminator inside a paired quotation does not end the
  sentence while the quotation goes on: ``“他说：“好。”然后离开。”`` is one
  sentence, and so is ``他说：“我们很满意。明年继续合作。”``, whose boundary
  comes after the closing quote. Pairs are matched per paragraph with a
  stack (“…” ‘…’ 「…」 『…』, plus straight ``"`` toggling in English); a
  quote that never closes in its paragraph is ignored, so a stray quote mark
  cannot swallow the rest of the paragraph.

Chinese (:func:`split_zh`) ends a sentence after runs of 。！？… (e.g.
``！？``, ``……``), after the halfwidth ｡, after ． unless it sits between
digits (a full-width decimal point such as ３．５), and after ASCII ``!`` or
``?`` when Han text follows. ``；`` (and ASCII ``;`` before Han text) ends a
sentence only with ``semicolons=True``; see :func:`split_zh` for why that is
not the default. ASCII ``.`` never ends a Chinese sentence, so decimals
(350.19亿元), versions and domain names are safe.

English (:func:`split_en`) ends a sentence after runs of ``.``, ``!``, ``?``
and ``…`` followed by whitespace and then an uppercase letter, a digit, an
opening quote or bracket, or Han text (untranslated source in the MT). A
single ``.`` does not end a sentence after an initial (``J. K. Rowling``) or
an abbreviation in :data:`ABBREVIATIONS`. Abbreviations that often end a
sentence ("Inc.", "U.S.", "etc.") still end one when the next word is a
common sentence opener from :data:`SENTENCE_STARTERS` ("... in the U.S. The
company ..."); titles, months and the like in
:data:`NON_FINAL_ABBREVIATIONS` never do. Decimals, URLs and e-mail addresses
need no special rule: the dots inside them are not followed by whitespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import regex


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document.

    Attributes:
        text: The sentence, surrounding whitespace removed.
        start: Offset of ``text`` in the input string.
        end: Offset just past ``text`` (exclusive).
        paragraph: 0-based number of the non-blank input line it is on.
    """

    text: str
    start: int
    end: int
    paragraph: int


#: Abbreviations after which a single "." does not end a sentence. Matched
#: case-sensitively against the word before the dot (with any opening
#: quote or bracket removed), so "No. 5" is protected but "I said no." is not.
#: Dotted acronyms not listed here ("U.A.E.") are treated like "U.S.".
ABBREVIATIONS: frozenset[str] = frozenset(
    {
        # titles and name parts
        "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Jr.", "Sr.", "St.", "Sen.",
        "Rep.", "Gov.", "Gen.", "Col.", "Capt.", "Lt.", "Hon.", "Rev.",
        # companies
        "Inc.", "Ltd.", "Co.", "Corp.", "Bros.", "Plc.",
        # Latin and general
        "vs.", "etc.", "e.g.", "i.e.", "cf.", "approx.", "No.", "Nos.",
        "Vol.", "vol.", "pp.", "p.", "Fig.", "fig.", "Sec.", "Dept.", "est.",
        "a.m.", "p.m.",
        # places
        "U.S.", "U.K.", "U.N.", "E.U.", "U.S.A.", "P.R.C.", "Mt.", "Ave.",
        "Rd.",
        # months (May is a full word and never abbreviated)
        "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.",
        "Sept.", "Oct.", "Nov.", "Dec.",
    }
)

#: The part of :data:`ABBREVIATIONS` that is practically never the last word
#: of a sentence: titles precede a name, months a day, "No." a number.
NON_FINAL_ABBREVIATIONS: frozenset[str] = frozenset(
    {
        "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Sen.", "Rep.", "Gov.", "Gen.",
        "Col.", "Capt.", "Lt.", "Hon.", "Rev.", "vs.", "e.g.", "i.e.", "cf.",
        "approx.", "No.", "Nos.", "Vol.", "vol.", "pp.", "p.", "Fig.", "fig.",
        "Sec.", "Mt.",
        "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.",
        "Sept.", "Oct.", "Nov.", "Dec.",
    }
)

#: Words that, capitalised after an abbreviation such as "Inc." or "U.S.",
#: signal that the abbreviation ended the sentence. Kept to function words
#: that rarely begin a proper name.
SENTENCE_STARTERS: frozenset[str] = frozenset(
    {
        "The", "This", "That", "These", "Those", "It", "Its", "He", "She",
        "We", "They", "I", "You", "Our", "His", "Her", "Their", "There",
        "In", "On", "At", "By", "For", "From", "With", "As", "If", "When",
        "While", "After", "Before", "Since", "But", "And", "Yet", "So",
        "However", "Meanwhile", "Moreover", "Also", "According", "A", "An",
        "Some", "Many", "Most", "All", "Such",
    }
)

# Closing punctuation that belongs to the sentence it follows.
_CLOSERS = "”’」』）》】〕〉］｝＂＇\"')]}»"
# Paired quotation marks: opener -> closer.
_QUOTE_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』"}

_LINE = regex.compile(r"[^\r\n]+")
_HAN = regex.compile(r"\p{Han}")
# Something worth a sentence of its own: a letter, digit or Han character.
_CONTENT = regex.compile(r"[\p{L}\p{N}]")

# A Chinese terminator run, then any closing punctuation. ASCII !?; count only
# when Han text follows and "．" only outside numbers (both checked in code).
_ZH_BOUNDARY = regex.compile(rf"[。！？…｡．!?]+[{regex.escape(_CLOSERS)}]*")
_ZH_BOUNDARY_SEMICOLON = regex.compile(rf"[。！？；…｡．!?;]+[{regex.escape(_CLOSERS)}]*")
_ZH_STRONG = frozenset("。！？；…｡")

_EN_BOUNDARY = regex.compile(
    rf"(?:[.!?…]+)[{regex.escape(_CLOSERS)}]*(?=\s)"
)
# What may begin the next English sentence.
_EN_NEXT = regex.compile(r"\s+([\p{Lu}\p{N}\p{Han}“‘\"'(\[「『]|$)")
_WORD_AFTER = regex.compile(r"\s+([\p{L}]+)")
_OPENERS = "“‘\"'([{「『《〈"
_INITIAL = regex.compile(r"\p{Lu}")
_DOTTED_ACRONYM = regex.compile(r"(?:\p{L}\.)+\p{L}")


def split_zh(text: str, *, semicolons: bool = False) -> list[Sentence]:
    """Split Chinese text into sentences (see the module docstring for the rules).

    Args:
        text: The whole document.
        semicolons: Also end sentences at ``；`` (and at ASCII ``;`` before
            Han text). Off by default because English keeps the clauses of a
            Chinese ``；`` list in one sentence: on the 1,948 line pairs of
            newstest2021 zh-en (source vs reference A) the two splitters give
            equal sentence counts on 99.4% of lines without this option and
            on 96.5% with it, and every mismatch costs the aligner a bead.

    Returns:
        Its sentences in order; empty for empty or whitespace-only text.
    """
    return list(_split(text, _zh_boundaries_semicolon if semicolons else _zh_boundaries))


def split_en(text: str) -> list[Sentence]:
    """Split English text into sentences (see the module docstring for the rules).

    Args:
        text: The whole document.

    Returns:
        Its sentences in order; empty for empty or whitespace-only text.
    """
    return list(_split(text, _en_boundaries))


def _split(
    text: str, boundaries: Callable[[str], Iterator[tuple[int, int]]]
) -> Iterator[Sentence]:
    paragraph = 0
    for line in _LINE.finditer(text):
        para = line.group()
        if not para.strip():
            continue
        spans = _quoted_spans(para)
        straight_openers = {o for o, _ in spans if para[o] == '"'}
        cuts = [0]
        for term_end, end in boundaries(para):
            # A straight quote right after the terminator may open the next
            # sentence rather than close this one.
            for p in range(term_end, end):
                if p in straight_openers:
                    end = p
                    break
            if any(o < end <= c for o, c in spans):
                continue  # the quotation goes on after this terminator
            if not _CONTENT.search(para, cuts[-1], end):
                continue  # nothing but punctuation since the last cut
            cuts.append(end)
        if len(cuts) > 1 and not _CONTENT.search(para, cuts[-1]):
            # A trailing piece of bare punctuation (a stray quote, an extra
            # "…") joins the sentence before it instead of standing alone.
            cuts.pop()
        cuts.append(len(para))
        for start, end in zip(cuts, cuts[1:]):
            sent = _make(para, start, end, line.start(), paragraph)
            if sent is not None:
                yield sent
        paragraph += 1


def _make(para: str, start: int, end: int, base: int, paragraph: int) -> Sentence | None:
    piece = para[start:end]
    stripped = piece.strip()
    if not stripped:
        return None
    lead = len(piece) - len(piece.lstrip())
    s = base + start + lead
    return Sentence(stripped, s, s + len(stripped), paragraph)


def _quoted_spans(para: str) -> list[tuple[int, int]]:
    """Matched quotation pairs as (opener index, closer index).

    A position p is inside a quotation that continues past it when
    ``opener < p <= closer``: a cut there would leave the closing mark (and
    possibly more quoted text) for the next sentence.
    """
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    closers = {v: k for k, v in _QUOTE_PAIRS.items()}
    for i, ch in enumerate(para):
        if ch in _QUOTE_PAIRS:
            stack.append((ch, i))
        elif ch in closers:
            # Pop back to the matching opener; unmatched closers (an
            # apostrophe in "China’s") are ignored.
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == closers[ch]:
                    spans.append((stack[k][1], i))
                    del stack[k:]
                    break
        elif ch == "\"":
            if stack and stack[-1][0] == '"':
                spans.append((stack.pop()[1], i))
            else:
                stack.append(('"', i))
    return spans


def _zh_boundaries(para: str) -> Iterator[tuple[int, int]]:
    return _zh_candidates(para, _ZH_BOUNDARY)


def _zh_boundaries_semicolon(para: str) -> Iterator[tuple[int, int]]:
    return _zh_candidates(para, _ZH_BOUNDARY_SEMICOLON)


def _zh_candidates(para: str, pattern: regex.Pattern) -> Iterator[tuple[int, int]]:
    """(end of the terminators, end of the closing punctuation) per candidate."""
    for m in pattern.finditer(para):
        terms = m.group().rstrip(_CLOSERS)
        term_end = m.start() + len(terms)
        if any(ch in _ZH_STRONG for ch in terms):
            yield term_end, m.end()
        elif "．" in terms:
            before = para[m.start() - 1] if m.start() > 0 else ""
            after = para[term_end:term_end + 1]
            if terms == "．" and before.isdigit() and after.isdigit():
                continue  # ３．５: a full-width decimal point
            yield term_end, m.end()
        elif _HAN.match(para[m.end():].lstrip()):
            yield term_end, m.end()  # ASCII !?; only before Han text


def _en_boundaries(para: str) -> Iterator[tuple[int, int]]:
    """(end of the terminators, end of the closing punctuation) per candidate."""
    for m in _EN_BOUNDARY.finditer(para):
        if _EN_NEXT.match(para, m.end()) is None:
            continue  # lowercase or punctuation follows: same sentence
        if m.group() == "." and not _ends_sentence_after(para, m.start(), m.end()):
            continue
        terms = m.group().rstrip(_CLOSERS)
        yield m.start() + len(terms), m.end()


def _ends_sentence_after(para: str, dot: int, end: int) -> bool:
    """Whether a lone "." at ``dot`` ends a sentence, judged by the word before it."""
    word_start = dot
    while word_start > 0 and not para[word_start - 1].isspace():
        word_start -= 1
    word = para[word_start:dot].lstrip(_OPENERS)
    if not word:
        return True
    token = word + "."
    if _INITIAL.fullmatch(word):
        return False  # "J. K. Rowling"
    if token in NON_FINAL_ABBREVIATIONS:
        return False
    if token in ABBREVIATIONS or _DOTTED_ACRONYM.fullmatch(word):
        nxt = _WORD_AFTER.match(para, end)
        return nxt is not None and nxt.group(1) in SENTENCE_STARTERS
    return True
