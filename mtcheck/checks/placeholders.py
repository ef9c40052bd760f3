"""Placeholders, markup, URLs, e-mail addresses and model codes must survive translation.

Protected tokens are extracted from source and MT in a fixed order, each
kind masked before the next is looked for (so the ``abc1`` of
``abc1@x.cn`` is not also a model code):

=========  ==========================================================  ==============
kind       examples                                                    compared as
=========  ==========================================================  ==============
tag        ``<b>``, ``</b>``, ``<br/>``, ``<a href="…">``                multiset
entity     ``&nbsp;``, ``&amp;``, ``&#8212;``, ``&#x2014;``             multiset
url        ``https://…``, ``www.…`` (trailing punctuation excluded)     multiset
email      ``ir@example.com``                                         multiset
variable   ``${var}``, ``{{var}}``, ``{0}``, ``{name}``, ``{}``,        multiset
           ``%(name)s``, ``%s``, ``%d``, ``%1$s``, ``%.2f``
code       ASCII letter+digit tokens: ``P40``, ``X-200``, ``SKU-12345``  source→MT only
=========  ==========================================================  ==============

Multiset kinds must occur in the MT exactly as often as in the source.
A token missing from the MT is either *altered* — a loose form of it is
there (spaces inserted, case changed, full-width brackets: ``{ 0 }``,
``% s``, ``<B>``) → major span on the MT side with the exact token as
suggestion; a URL that only lost its scheme or trailing slash is a minor
alteration — or *missing* → major span on the source side. A token in the
MT beyond the source's count is *added* → major span on the MT side (minor
for URLs and e-mail addresses, which a translation may legitimately add
for a site the source names in Chinese, e.g. 经济观察网 → www.eeo.com.cn).
Tags in the MT must also be well-formed (every opened tag closed in order;
void elements and ``<x/>`` need no close) when they are in the source.

Model codes are only checked one way (present in the source → present in
the MT), because translations legitimately introduce codes (第二季度 → Q2,
新冠 → COVID-19); a code found only loosely (``P 40``, ``x-200``) is a
minor alteration. Full-width ASCII in the source (``Ｐ４０``) is read as
ASCII. Categories: ``Markup/Placeholder missing|added|altered`` and
``Markup/Tag nesting`` for tags, entities and variables;
``Accuracy/Omission``, ``Accuracy/Addition`` and ``Accuracy/Mistranslation``
for URLs, e-mail addresses and codes.
"""

from __future__ import annotations

import bisect
import functools
from collections import Counter, deque
from dataclasses import dataclass
from typing import Iterator

import regex

from mtcheck.checks.base import Check
from mtcheck.checks.quantities import Claims
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side, Span

_TRAILING = ".,;:!?)]}'\"”’"
_PATTERNS: tuple[tuple[str, regex.Pattern], ...] = (
    ("tag", regex.compile(r"</?[A-Za-z][\w:.-]*(?:\s+[^<>]*?)?\s*/?>")),
    ("entity", regex.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")),
    ("url", regex.compile(r"(?:(?:https?|ftp)://|www\.)[^\s<>\"“”‘’'，。；！？（）【】《》、\p{Han}]+", regex.IGNORECASE)),
    ("email", regex.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("variable", regex.compile(
        r"\$\{[^{}\s]+\}"
        r"|\{\{[^{}]+\}\}"
        r"|\{[A-Za-z0-9_.\[\]]*(?:![rsa])?(?::[^{}\s]*)?\}"
        # ASCII-only boundaries: in Chinese text a placeholder is glued to Han (金额%s元).
        r"|(?<![A-Za-z0-9%])%(?:\([A-Za-z_]\w*\))?(?:[1-9][0-9]*\$)?[-+0#]*[0-9]*(?:\.[0-9]+)?[sdifuxXeEgGc]"
        r"(?![A-Za-z0-9])"
    )),
    # Candidates only: a code must also mix letters and digits (see _is_code).
    ("code", regex.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*(?![A-Za-z0-9])")),
)
_URL_LIKE = {"url", "email", "code"}
_HAN = regex.compile(r"\p{Han}")
# Compiled once: the check runs these per token, and regex's own cache lookup cost more than the match.
_SPACES_RE = regex.compile(r"\s+")
_SCHEME_RE = regex.compile(r"^(?:https?|ftp)://")
_NOT_NAME_RE = regex.compile(r"[^a-z0-9_]")
_TAG_NAME_RE = regex.compile(r"</?\s*([A-Za-z][\w:.-]*)")
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                        "param", "source", "track", "wbr"})
_FULLWIDTH_ASCII = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH_ASCII[0x3000] = 0x20
_LOOSE_CHAR = {
    "{": "[{｛]", "}": "[}｝]", "(": "[(（]", ")": "[)）]", "%": "[%％]", "<": "[<＜]", ">": "[>＞]",
    "$": "[$＄]", "&": "[&＆]", ";": "[;；]", ":": "[:：]", ".": "[.。．]", "/": "[/／]",
    "-": "[-‐‑–—]?", "_": "[_-]?",
}
_DASHES = "-‐‑–—"


@dataclass(frozen=True)
class Token:
    """A protected token: its kind, exact text and offsets in the text it came from."""

    kind: str
    text: str
    start: int
    end: int


def extract_tokens(text: str) -> list[Token]:
    """All protected tokens in ``text``, in order of position.

    Full-width ASCII is read as ASCII (offsets are unchanged because the
    mapping is one character to one character).
    """
    work = text.translate(_FULLWIDTH_ASCII)
    tokens: list[Token] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(work):
            start, end = m.span()
            if kind == "url":
                while end > start and work[end - 1] in _TRAILING:
                    end -= 1
            elif kind == "code":
                # "08H00-7月": a trailing "-7" glued to Chinese text is a date or range,
                # not part of the code, when what precedes it is a code on its own.
                if end < len(work) and _HAN.match(work, end):
                    cut = regex.search(r"[-_][0-9]+$", work[start:end])
                    if cut and _is_code(work[start : start + cut.start()]):
                        end = start + cut.start()
                if not _is_code(work[start:end]):
                    continue
            tokens.append(Token(kind, work[start:end], start, end))
        # Mask what this kind took so later kinds do not see inside it: in one pass, since
        # rebuilding the text once per token was quadratic (minutes for 100 KB of placeholders).
        work = _blank(work, [(t.start, t.end) for t in tokens if t.kind == kind])
    return sorted(tokens, key=lambda t: t.start)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each of ``spans`` (in order, disjoint) replaced by as many spaces."""
    if not spans:
        return text
    pieces = []
    pos = 0
    for start, end in spans:
        pieces.append(text[pos:start])
        pieces.append(" " * (end - start))
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def _is_code(token: str) -> bool:
    return any(c.isalpha() for c in token) and any(c.isdigit() for c in token)


class PlaceholdersCheck(Check):
    name = "placeholders"
    description = "placeholders, tags, entities, URLs, e-mails and model codes not preserved exactly"

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        src_tokens = extract_tokens(segment.source)
        # The MT is read exactly: full-width variants there count as altered, not as equal.
        mt_tokens = _extract_exact(segment.mt)
        if not src_tokens and not mt_tokens:
            return []
        spans: list[Span] = []
        # Pair source tokens with identical MT tokens, in order.
        free: dict[tuple[str, str], deque[Token]] = {}
        for t in mt_tokens:
            if t.kind != "code":
                free.setdefault((t.kind, t.text), deque()).append(t)
        claimed = Claims(len(segment.mt))
        unmatched: list[Token] = []
        for t in src_tokens:
            if t.kind == "code":
                continue
            partners = free.get((t.kind, t.text))
            if partners:
                p = partners.popleft()
                claimed.append((p.start, p.end))
            else:
                unmatched.append(t)
        extras = _Extras(sorted((t for group in free.values() for t in group), key=lambda t: t.start))
        cursors: dict[str, Iterator] = {}

        for t in unmatched:
            partner = extras.first_like(t)
            if partner is not None:
                extras.remove(partner)
                claimed.append((partner.start, partner.end))
                # A URL that only lost its scheme or trailing slash still works.
                severity = Severity.MINOR if t.kind in _URL_LIKE else Severity.MAJOR
                spans.append(_altered(t, segment.mt, (partner.start, partner.end), severity))
                continue
            found = _find_loose(t.text, segment.mt, claimed, exact_case=False, cursors=cursors)
            if found is not None:
                claimed.append(found)
                extras.remove_overlapping(*found)
                spans.append(_altered(t, segment.mt, found, Severity.MAJOR))
                continue
            spans.append(Span(t.start, t.end, Side.SOURCE, _category(t.kind, "missing"), Severity.MAJOR,
                              f"{_label(t.kind)} {t.text!r} is missing from the MT",
                              evidence="must be copied exactly", suggestion=t.text))

        src_count = Counter((t.kind, t.text) for t in src_tokens)
        for t in extras.left():
            # An added URL or e-mail is usually the site a Chinese name stands for
            # (经济观察网 -> www.eeo.com.cn): minor; added markup is major.
            severity = Severity.MINOR if t.kind in _URL_LIKE else Severity.MAJOR
            spans.append(Span(t.start, t.end, Side.MT, _category(t.kind, "added"), severity,
                              f"{_label(t.kind)} {t.text!r} is in the MT but not in the source",
                              evidence=f"the source has it {src_count[(t.kind, t.text)]} time(s), the MT more often"))

        spans += _codes(src_tokens, segment.mt, claimed)
        if any(t.kind == "tag" for t in src_tokens) and not _tag_errors(src_tokens):
            spans += _tag_errors(mt_tokens)
        return spans


class _Extras:
    """MT tokens not yet paired, by position, with the lookups the check needs in O(1) amortised.

    Replaces a list searched and rebuilt once per unmatched source token,
    which was quadratic in the number of placeholders.
    """

    def __init__(self, tokens: list[Token]):
        self._tokens = tokens  # sorted by start; tokens never overlap (each kind masks the next)
        self._ends = [t.end for t in tokens]
        self._gone: set[int] = set()  # indices removed
        self._index = {id(t): i for i, t in enumerate(tokens)}
        self._like: dict[tuple[str, str], deque[int]] = {}
        for i, t in enumerate(tokens):
            self._like.setdefault((t.kind, _normal(t)), deque()).append(i)

    def first_like(self, t: Token) -> Token | None:
        """The first remaining token of ``t``'s kind with the same normal form."""
        queue = self._like.get((t.kind, _normal(t)))
        while queue and queue[0] in self._gone:
            queue.popleft()
        return self._tokens[queue[0]] if queue else None

    def remove(self, t: Token) -> None:
        self._gone.add(self._index[id(t)])

    def remove_overlapping(self, start: int, end: int) -> None:
        i = bisect.bisect_right(self._ends, start)
        while i < len(self._tokens) and self._tokens[i].start < end:
            if start < self._tokens[i].end:
                self._gone.add(i)
            i += 1

    def left(self) -> list[Token]:
        return [t for i, t in enumerate(self._tokens) if i not in self._gone]


def _normal(t: Token) -> str:
    """Form under which two tokens are the same thing written differently."""
    return _normal_text(t.kind, t.text)


@functools.lru_cache(maxsize=4096)
def _normal_text(kind: str, token: str) -> str:
    text = _SPACES_RE.sub("", token).casefold()
    if kind == "url":
        text = _SCHEME_RE.sub("", text).rstrip("/")
    elif kind == "variable":
        # The same name in another syntax (${balance} -> {balance}) is an alteration.
        text = _NOT_NAME_RE.sub("", text)
    return text


def _altered(t: Token, mt: str, where: tuple[int, int], severity: Severity) -> Span:
    s, e = where
    return Span(s, e, Side.MT, _category(t.kind, "altered"), severity,
                f"{_label(t.kind)} {t.text!r} is altered in the MT as {mt[s:e]!r}",
                evidence=f"the source has {t.text!r}", suggestion=t.text)


def _extract_exact(text: str) -> list[Token]:
    # Like extract_tokens but without reading full-width as ASCII.
    tokens = extract_tokens(text)
    return [t for t in tokens if text[t.start:t.end] == t.text]


def _codes(src_tokens: list[Token], mt: str, claimed: "Claims | list[tuple[int, int]]") -> list[Span]:
    out = []
    seen: set[str] = set()
    index: _CodeIndex | None = None
    for t in src_tokens:
        if t.kind != "code" or t.text in seen:
            continue
        seen.add(t.text)
        if index is None:
            index = _CodeIndex(mt)
        # Only the places the index names can hold the code; each is confirmed by the pattern
        # itself. Searching the whole MT once per distinct code was quadratic for a table of codes.
        if any(_exact_at(mt, t.text, p) for p, _ in index.candidates(t.text)):
            continue
        found = _find_loose(t.text, mt, claimed, exact_case=False, spaces_between_classes=True, index=index)
        if found is not None:
            s, e = found
            out.append(Span(s, e, Side.MT, _category("code", "altered"), Severity.MINOR,
                            f"model code {t.text!r} is written {mt[s:e]!r} in the MT",
                            evidence="product and model codes are normally copied exactly",
                            suggestion=t.text))
        else:
            out.append(Span(t.start, t.end, Side.SOURCE, _category("code", "missing"), Severity.MAJOR,
                            f"model code {t.text!r} is missing from the MT",
                            evidence="product and model codes are normally copied exactly",
                            suggestion=t.text))
    return out


def _find_loose(token: str, mt: str, claimed: "Claims | list[tuple[int, int]]", exact_case: bool,
                spaces_between_classes: bool = False, cursors: dict[str, Iterator] | None = None,
                index: "_CodeIndex | None" = None) -> tuple[int, int] | None:
    """First place in ``mt`` outside ``claimed`` where ``token`` occurs loosely.

    Args:
        cursors: Where earlier searches for the same pattern stopped, for a
            caller that claims every place returned and only ever adds claims:
            every earlier match of the pattern is then claimed, so the search
            resumes after the last one instead of rescanning the MT (which was
            quadratic in the number of altered placeholders).
        index: For a model code (``token`` starts and ends with a letter or
            digit), the MT's :class:`_CodeIndex`: the same matches, in the
            same order, found without scanning the whole MT.
    """
    key = f"{exact_case}:{spaces_between_classes}:{token}"
    matches = cursors.get(key) if cursors is not None else None
    if matches is None:
        if index is not None and spaces_between_classes and not exact_case:
            matches = _indexed_finditer(mt, index, token)
        else:
            matches = (m.span() for m in _loose_pattern(token, exact_case, spaces_between_classes).finditer(mt))
        if cursors is not None:
            cursors[key] = matches
    for s, e in matches:
        if isinstance(claimed, Claims):
            if not claimed.overlaps(s, e):
                return s, e
        elif not any(s < ce and cs < e for cs, ce in claimed):
            return s, e
    return None


@functools.lru_cache(maxsize=4096)
def _loose_pattern(token: str, exact_case: bool, spaces_between_classes: bool) -> regex.Pattern:
    """The compiled loose form of ``token`` (see :func:`_find_loose`); cached, as tokens repeat."""
    parts = []
    prev = ""
    for ch in token:
        if ch.isascii() and ch.isalnum():
            piece = f"[{ch}{chr(ord(ch) + 0xFEE0)}]"  # also its full-width form
        else:
            piece = _LOOSE_CHAR.get(ch, regex.escape(ch))
        if parts:
            if spaces_between_classes:
                # "P40" ~ "P 40" but not "P4 0": only a letter/digit switch may gain a space.
                joiner = r"\s?" if (prev.isalpha() and ch.isdigit()) or (prev.isdigit() and ch.isalpha()) else ""
            else:
                joiner = r"\s*"
            parts.append(joiner)
        parts.append(piece)
        prev = ch
    body = "".join(parts)
    if token[:1].isalnum():
        body = r"(?<![A-Za-z0-9])" + body
    if token[-1:].isalnum():
        body += r"(?![A-Za-z0-9])"
    return regex.compile(body, 0 if exact_case else regex.IGNORECASE)


def _fold(ch: str) -> str:
    """The ASCII letter or digit ``ch`` stands for in a loose match (``Ｐ``, ``p``, the Kelvin sign), or ``""``."""
    folded = ch.translate(_FULLWIDTH_ASCII).casefold()
    return folded if len(folded) == 1 and folded.isascii() and folded.isalnum() else ""


class _CodeIndex:
    """Where in the MT a model code can start, looked up by the code's letters and digits.

    A match of a code's exact or loose pattern (:func:`_loose_pattern`) begins
    with a letter or digit that no ASCII letter or digit precedes, and the
    letters and digits it covers, read as :func:`_fold` reads them, are the
    code's own, in order, with only optional dashes and spaces between. So
    the places where the MT's folded letters and digits, from a word start
    on, spell the code's are the only candidates; each is confirmed with the
    pattern, so nothing is guessed.
    """

    def __init__(self, mt: str):
        folded = [_fold(c) for c in mt]
        self._mt = mt
        self._key = "".join(folded)
        self._offset = [i for i, f in enumerate(folded) if f]  # MT offset of each key character
        self._starts = [j for j, i in enumerate(self._offset)
                        if i == 0 or not (mt[i - 1].isascii() and mt[i - 1].isalnum())]
        self._by_length: dict[int, dict[str, list[int]]] = {}

    def candidates(self, code: str) -> list[tuple[int, int]]:
        """Spans of the MT, by start, where ``code`` may occur exactly or loosely.

        Besides the letters and digits, what stands between them must be what
        the loose pattern allows there, and no ASCII letter or digit may follow:
        cheap tests that keep the pattern (compiled per code) for the few
        places that pass them.
        """
        key = "".join(_fold(c) for c in code)
        table = self._by_length.get(len(key))
        if table is None:
            # One table per code length, built once: codes in one segment have few lengths.
            table = {}
            for j in self._starts:
                table.setdefault(self._key[j:j + len(key)], []).append(j)
            self._by_length[len(key)] = table
        gaps = _code_gaps(code)
        return [(self._offset[j], self._offset[j + len(gaps)] + 1) for j in table.get(key, []) if self._fits(j, gaps)]

    def _fits(self, j: int, gaps: list[str]) -> bool:
        mt, offset = self._mt, self._offset
        for i, allowed in enumerate(gaps):
            a, b = offset[j + i], offset[j + i + 1]
            if b - a == 1:
                continue
            gap = mt[a + 1:b]
            if len(gap) != 1 or not (allowed == "space" and _SPACES_RE.match(gap)
                                     or allowed == "-" and gap in _DASHES or allowed == "_" and gap in "_-"):
                return False
        end = offset[j + len(gaps)] + 1
        return not (end < len(mt) and _ascii_alnum(mt[end]))


def _indexed_finditer(mt: str, index: _CodeIndex, token: str) -> Iterator[tuple[int, int]]:
    """The spans of ``_loose_pattern(token, False, True).finditer(mt)``, from the index's candidates.

    finditer resumes after each match and takes the leftmost match from there:
    the first candidate at or after that point where the pattern matches. In
    plain ASCII the candidate tests are the pattern (letters compared without
    case, the allowed gaps, no ASCII letter or digit on either side), so the
    candidate is the match; where a non-ASCII character is involved (a
    full-width letter, or a Kelvin sign that the pattern's case-insensitive
    classes may treat as a K) the compiled pattern decides. Compiling a
    pattern for every code cost a millisecond each.
    """
    pos = 0
    pattern: regex.Pattern | None = None
    for p, e in index.candidates(token):
        if p < pos:
            continue
        if not mt[max(0, p - 1):e + 1].isascii():
            if pattern is None:
                pattern = _loose_pattern(token, False, True)
            m = pattern.match(mt, p)
            if not m:
                continue
            p, e = m.span()
        yield p, e
        pos = e


def _exact_at(mt: str, code: str, p: int) -> bool:
    """Whether ``(?<![A-Za-z0-9])CODE(?![A-Za-z0-9])`` matches ``mt`` at ``p`` (no pattern compiled per code)."""
    e = p + len(code)
    return (mt.startswith(code, p) and not (p > 0 and _ascii_alnum(mt[p - 1]))
            and not (e < len(mt) and _ascii_alnum(mt[e])))


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _code_gaps(code: str) -> list[str]:
    """What the loose pattern of ``code`` lets stand between each pair of its letters and digits.

    ``""`` nothing, ``"space"`` one optional space (a letter/digit switch: P40 ~ P 40),
    ``"-"`` one optional dash, ``"_"`` one optional ``_`` or ``-`` (see :func:`_loose_pattern`).
    """
    gaps: list[str] = []
    prev = ""
    between = ""
    for ch in code:
        if _ascii_alnum(ch):
            if prev:
                switch = (prev.isalpha() and ch.isdigit()) or (prev.isdigit() and ch.isalpha())
                gaps.append(between or ("space" if switch else ""))
            prev, between = ch, ""
        else:
            between = ch
    return gaps


def _tag_errors(tokens: list[Token]) -> list[Span]:
    """Spans for tags that break nesting (checked on the MT side only)."""
    out = []
    stack: list[tuple[str, Token]] = []
    for t in tokens:
        if t.kind != "tag":
            continue
        name = _TAG_NAME_RE.match(t.text).group(1).lower()
        if t.text.startswith("</"):
            if stack and stack[-1][0] == name:
                stack.pop()
            elif any(n == name for n, _ in stack):
                while stack[-1][0] != name:
                    n, opened = stack.pop()
                    out.append(_nesting_span(opened, f"<{n}> is closed out of order"))
                stack.pop()
            else:
                out.append(_nesting_span(t, f"{t.text} closes a tag that is not open"))
        elif not t.text.endswith("/>") and name not in _VOID_TAGS:
            stack.append((name, t))
    for n, opened in stack:
        out.append(_nesting_span(opened, f"<{n}> is never closed"))
    return out


def _nesting_span(t: Token, message: str) -> Span:
    return Span(t.start, t.end, Side.MT, "Markup/Tag nesting", Severity.MAJOR, message,
                evidence="tags must nest as in the source")


def _category(kind: str, what: str) -> str:
    if kind in _URL_LIKE:
        return {"missing": "Accuracy/Omission", "added": "Accuracy/Addition",
                "altered": "Accuracy/Mistranslation"}[what]
    return f"Markup/Placeholder {what}"


def _label(kind: str) -> str:
    return {"tag": "tag", "entity": "entity", "url": "URL", "email": "e-mail address",
            "variable": "placeholder", "code": "model code"}[kind]
