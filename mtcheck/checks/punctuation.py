"""Punctuation, spacing and simple typography in the English MT.

Rules (all minor; each finding suggests a fix where one is obvious):

* **Full-width / Chinese punctuation** (，。：；！？（）【】《》、 and the rest of
  the full-width and CJK punctuation blocks) → ``Fluency/Punctuation`` with
  the ASCII equivalent. This check owns punctuation; the ``untranslated``
  check owns Han characters, full-width letters/digits and U+3000. Curly
  quotes “ ” ‘ ’ and … are normal English typography and are not flagged
  (the doubled Chinese forms …… and —— are).
* **Unbalanced brackets** ``()[]{}`` and **double quotes** (“ opens, ”
  closes, a straight ``"`` closes an open quote or else opens one, so a
  mixed ``"…”`` pair passes) → ``Fluency/Punctuation``. Skipped for a
  bracket/quote kind that is unbalanced in the source too (the sentence is
  part of a longer quotation). A closing ``)`` right after a one- to
  three-character label (``a)``, ``2)``, ``iv)``) is a list marker, not an
  unbalanced bracket.
* **Single quotes**: only an *opening* ‘ or ' (after a space or bracket,
  before a letter) with no closing one later is flagged; a lone closing ’
  or ' is too often an apostrophe (Alibaba's, don't, '90s, investors').
* **Doubled spaces** between words, and **doubled punctuation** ``,,`` ``;;``
  ``::`` ``..`` (but not the ``...`` ellipsis), ``!!``/``??`` unless the
  source doubles them too.
* **Repeated words** ("the the", case-insensitive) → ``Fluency/Grammar``.
  Grammatical or idiomatic doubles (had had, that that, so so, bye bye...)
  are never flagged, nor Title-Case pairs that are likely names
  ("Walla Walla", "Bora Bora") unless the word is a function word.
* **Lost sentence-final punctuation**: the source ends with 。！？ (or ASCII
  . ! ?), possibly inside closing quotes or brackets, and the MT ends in a
  letter or digit.
* **Lowercase sentence start** → ``Fluency/Spelling``: the MT's first word
  starts with a lowercase letter. Exempt: words with an internal capital
  (iPhone, eBay, iOS), a single letter and a hyphen (e-commerce), words
  with a digit or ``@``/``.`` (URLs, handles, file names), and sources that
  themselves begin with a lowercase Latin word or continue a sentence
  (start with … 、 ， or a lowercase letter), and speech verbs that close
  a quotation split over segments (said, says, added...).
"""

from __future__ import annotations

import regex

from mtcheck.checks.base import Check
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side, Span

PUNCT = "Fluency/Punctuation"
GRAMMAR = "Fluency/Grammar"
SPELLING = "Fluency/Spelling"

#: Chinese/full-width punctuation and its ASCII (or English) equivalent.
FULLWIDTH_MAP: dict[str, str] = {
    "，": ",", "。": ".", "：": ":", "；": ";", "！": "!", "？": "?",
    "（": "(", "）": ")", "【": "[", "】": "]", "〔": "[", "〕": "]",
    "［": "[", "］": "]", "｛": "{", "｝": "}", "《": '"', "》": '"',
    "〈": '"', "〉": '"', "「": '"', "」": '"', "『": '"', "』": '"',
    "、": ",", "＂": '"', "＇": "'", "％": "%", "＆": "&", "＊": "*",
    "＋": "+", "－": "-", "．": ".", "／": "/", "＜": "<", "＝": "=",
    "＞": ">", "＠": "@", "＃": "#", "＄": "$", "＼": "\\", "＾": "^",
    "＿": "_", "｀": "`", "｜": "|", "～": "~", "〜": "~", "｡": ".",
    "､": ",", "￥": "¥", "￡": "£", "￠": "¢",
}
# Anything else that is punctuation or a symbol in the CJK punctuation or
# full-width blocks is still reported, without a suggestion.
_FULLWIDTH = regex.compile(
    r"……|——|(?=[\p{P}\p{S}])[\u3001-\u303F\uFE10-\uFE1F\uFE30-\uFE4F\uFF01-\uFF0F\uFF1A-\uFF20"
    r"\uFF3B-\uFF40\uFF5B-\uFF65\uFFE0-\uFFEE]"
)
_FULLWIDTH_MULTI = {"……": "...", "——": "—"}

_SOURCE_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "[", "】": "]", "［": "[", "］": "]",
                                  "〔": "[", "〕": "]", "｛": "{", "｝": "}"})
_PAIRS = {")": "(", "]": "[", "}": "{"}
_LIST_MARKER = regex.compile(r"(?:^|(?<=[\s,;:]))[\p{L}\p{N}]{1,3}\)")

_DOUBLE_SPACE = regex.compile(r"(?<=\S)[ \t]{2,}(?=\S)")
_DOUBLE_PUNCT = regex.compile(r"(?<!\.)\.\.(?!\.)|,,+|;;+|::+|!!+|\?\?+")
_WORD_PAIR = regex.compile(r"(?<![\p{L}\p{N}'’-])(\p{L}+)\s+(\p{L}+)(?![\p{L}\p{N}'’-])", regex.IGNORECASE)
#: Doubles that are grammatical or idiomatic in English.
ALLOWED_DOUBLES = frozenset({
    "had", "that", "so", "bye", "no", "ha", "haha", "knock", "tut", "chop",
    "hush", "pom", "tom", "yo", "boo", "cha", "dum", "la", "na", "ooh",
})
_FUNCTION_WORDS = frozenset({"the", "a", "an", "of", "to", "and", "in", "on", "for", "is", "was", "with"})

#: A sentence may start with these in lowercase when it ends a quotation
#: split over segments (“…,” / said Professor Feng).
SPEECH_VERBS = frozenset({"said", "says", "added", "adds", "asked", "explained", "noted", "stated", "told", "wrote"})

_SOURCE_FINAL = regex.compile(r"(?:[。！？!?]|[.](?<![0-9][.]))[\s\"'”’」』)）\]】》]*$")
_MT_TRAILER = regex.compile(r"[\s\"'”’)\]}»]*$")
_MT_LEAD = regex.compile(r"^[\s\"'“‘(\[{«*•·\-–—]*")
_FIRST_WORD = regex.compile(r"[^\s]+")


class PunctuationCheck(Check):
    name = "punctuation"
    description = ("full-width punctuation, unbalanced brackets/quotes, doubled spaces/punctuation/words, "
                   "lost final stop, lowercase start")

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        mt, src = segment.mt, segment.source
        if not mt.strip():
            return []
        spans: list[Span] = []
        spans += _fullwidth(mt)
        spans += _brackets(mt, src)
        spans += _double_quotes(mt, src)
        spans += _single_quotes(mt, src)
        spans += _doubles(mt, src)
        spans += _repeated_words(mt)
        spans += _final_punctuation(mt, src)
        spans += _lowercase_start(mt, src)
        return spans


def _fullwidth(mt: str) -> list[Span]:
    out = []
    for m in _FULLWIDTH.finditer(mt):
        ch = m.group()
        suggestion = _FULLWIDTH_MULTI.get(ch) or FULLWIDTH_MAP.get(ch)
        out.append(Span(m.start(), m.end(), Side.MT, PUNCT, Severity.MINOR,
                        f"Chinese/full-width punctuation {ch!r} in English text",
                        evidence=f"U+{ord(ch[0]):04X}", suggestion=suggestion))
    return out


def _unbalanced_brackets(text: str) -> list[int]:
    """Positions of brackets without a partner (ASCII brackets only)."""
    stack: list[int] = []
    bad: list[int] = []
    list_markers = {m.end() - 1 for m in _LIST_MARKER.finditer(text)}
    for i, ch in enumerate(text):
        if ch in "([{":
            stack.append(i)
        elif ch in _PAIRS:
            if stack and text[stack[-1]] == _PAIRS[ch]:
                stack.pop()
            elif i in list_markers and ch == ")":
                continue
            elif any(text[j] == _PAIRS[ch] for j in stack):
                # A different kind is open inside: it is the unbalanced one.
                while text[stack[-1]] != _PAIRS[ch]:
                    bad.append(stack.pop())
                stack.pop()
            else:
                bad.append(i)
    return sorted(bad + stack)


def _brackets(mt: str, src: str) -> list[Span]:
    normalised_mt = mt.translate(_SOURCE_BRACKETS)
    bad = _unbalanced_brackets(normalised_mt)
    if not bad:
        return []
    normalised_src = src.translate(_SOURCE_BRACKETS)
    # Bracket kinds the source leaves open or closes without opening: the MT may inherit that.
    src_bad = {_kind(normalised_src[i]) for i in _unbalanced_brackets(normalised_src)}
    out = []
    for i in bad:
        if _kind(normalised_mt[i]) in src_bad:
            continue
        out.append(Span(i, i + 1, Side.MT, PUNCT, Severity.MINOR,
                        f"unbalanced bracket {mt[i]!r}",
                        evidence="no matching opening bracket" if normalised_mt[i] in _PAIRS else "never closed"))
    return out


def _kind(ch: str) -> str:
    return _PAIRS.get(ch, ch)


def _curly_unbalanced(text: str, open_: str, close: str) -> list[int]:
    stack: list[int] = []
    bad: list[int] = []
    for i, ch in enumerate(text):
        if ch == open_:
            stack.append(i)
        elif ch == close:
            if stack:
                stack.pop()
            else:
                bad.append(i)
    return sorted(bad + stack)


def _double_unbalanced(text: str) -> list[int]:
    """Unpaired double quotes; a straight quote closes whatever is open, else opens.

    Mixed pairs ("…” or “…") are accepted: inconsistent typography, but
    the reader sees where the quotation ends.
    """
    stack: list[int] = []
    bad: list[int] = []
    for i, ch in enumerate(text):
        if ch in "“「":
            stack.append(i)
        elif ch in "”」":
            if stack:
                stack.pop()
            else:
                bad.append(i)
        elif ch in '"＂':
            if stack:
                stack.pop()
            else:
                stack.append(i)
    return sorted(bad + stack)


def _double_quotes(mt: str, src: str) -> list[Span]:
    if _double_unbalanced(src):
        return []
    out = []
    for i in _double_unbalanced(mt):
        out.append(Span(i, i + 1, Side.MT, PUNCT, Severity.MINOR, f"unbalanced quotation mark {mt[i]!r}",
                        evidence="double quotation marks do not pair up (an opening “ used to close?)"
                        if mt[i] == "“" else "double quotation marks do not pair up"))
    return out


_OPEN_SINGLE = regex.compile(r"(?:^|(?<=[\s(\[{“\"—–-]))['‘](?=\p{L})")
_CLOSE_SINGLE = regex.compile(r"(?<=[\p{L}\p{N}.,!?;:)\]])['’](?=$|[\s.,;:!?)\]}”\"—–-])")


def _single_quotes(mt: str, src: str) -> list[Span]:
    if _curly_unbalanced(src, "‘", "’") or _curly_unbalanced(src, "『", "』"):
        return []
    opens = [m.start() for m in _OPEN_SINGLE.finditer(mt)]
    closes = [m.start() for m in _CLOSE_SINGLE.finditer(mt)]
    out = []
    # Pair each opener with the first unused closer after it, innermost first.
    for o in reversed(opens):
        later = [c for c in closes if c > o]
        if later:
            closes.remove(later[0])
            continue
        out.append(Span(o, o + 1, Side.MT, PUNCT, Severity.MINOR, f"opening quotation mark {mt[o]!r} is never closed",
                        evidence="no closing single quote after it"))
    return sorted(out, key=lambda s: s.start)


def _doubles(mt: str, src: str) -> list[Span]:
    out = []
    for m in _DOUBLE_SPACE.finditer(mt):
        out.append(Span(m.start(), m.end(), Side.MT, PUNCT, Severity.MINOR, "more than one space between words",
                        evidence=f"{len(m.group())} whitespace characters", suggestion=" "))
    for m in _DOUBLE_PUNCT.finditer(mt):
        text = m.group()
        if text[0] in "!?" and (text[0] * 2 in src or {"!": "！！", "?": "？？"}[text[0]] in src):
            continue
        out.append(Span(m.start(), m.end(), Side.MT, PUNCT, Severity.MINOR, f"doubled punctuation {text!r}",
                        evidence="the same mark repeated", suggestion=text[0]))
    return out


def _repeated_words(mt: str) -> list[Span]:
    out = []
    pos = 0
    while True:
        m = _WORD_PAIR.search(mt, pos)
        if m is None:
            break
        first, second = m.group(1), m.group(2)
        # Advance by one word so "the the the" is seen as two overlapping pairs.
        pos = m.start(2)
        if first.casefold() != second.casefold():
            continue
        word = first.casefold()
        if word in ALLOWED_DOUBLES:
            continue
        if first[:1].isupper() and second[:1].isupper() and word not in _FUNCTION_WORDS:
            continue
        # The span takes the gap before the second word, so deleting it leaves clean text.
        out.append(Span(m.end(1), m.end(2), Side.MT, GRAMMAR, Severity.MINOR,
                        f"repeated word {second!r}", evidence=f"{m.group()!r}",
                        suggestion=""))
    return out


def _final_punctuation(mt: str, src: str) -> list[Span]:
    if not _SOURCE_FINAL.search(src.rstrip()):
        return []
    body = mt[: _MT_TRAILER.search(mt).start()]
    if not body:
        return []
    last = body[-1]
    if not (last.isalpha() or last.isdigit()) or not last.isascii():
        return []
    i = len(body) - 1
    return [Span(i, i + 1, Side.MT, PUNCT, Severity.MINOR,
                 "the source ends a sentence but the MT has no final punctuation",
                 evidence=f"source ends with {src.rstrip()[-1]!r}", suggestion=last + ".")]


def _lowercase_start(mt: str, src: str) -> list[Span]:
    src_stripped = src.lstrip(" \t\"'“‘「『（(【[《")
    if not src_stripped:
        return []
    head = src_stripped[0]
    if (head.isascii() and head.islower()) or src_stripped.startswith(("…", "、", "，", ",", "...")):
        return []
    lead = _MT_LEAD.match(mt).end()
    m = _FIRST_WORD.match(mt, lead)
    if m is None:
        return []
    word = m.group()
    if not word[0].islower() or not word[0].isalpha():
        return []
    if _exempt_word(word) or word.casefold().rstrip(",") in SPEECH_VERBS:
        return []
    return [Span(m.start(), m.start() + 1, Side.MT, SPELLING, Severity.MINOR,
                 "the MT starts a sentence with a lowercase letter",
                 evidence=f"first word {word!r}", suggestion=word[0].upper())]


def _exempt_word(word: str) -> bool:
    core = word.rstrip(".,;:!?)\"'”’")
    if any(ch.isupper() for ch in core[1:]):
        return True  # iPhone, eBay, iOS, mRNA
    if len(core) > 2 and core[1] == "-":
        return True  # e-commerce, x-ray
    return any(ch.isdigit() or ch in "@./_" for ch in core)
