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

from collections import Counter
from dataclasses import dataclass

import regex

from mtcheck.checks.base import Check
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
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                        "param", "source", "track", "wbr"})
_FULLWIDTH_ASCII = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH_ASCII[0x3000] = 0x20
_LOOSE_CHAR = {
    "{": "[{｛]", "}": "[}｝]", "(": "[(（]", ")": "[)）]", "%": "[%％]", "<": "[<＜]", ">": "[>＞]",
    "$": "[$＄]", "&": "[&＆]", ";": "[;；]", ":": "[:：]", ".": "[.。．]", "/": "[/／]",
    "-": "[-‐‑–—]?", "_": "[_-]?",
}


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
        # Mask what this kind took so later kinds do not see inside it.
        for t in tokens:
            if t.kind == kind:
                work = work[: t.start] + " " * (t.end - t.start) + work[t.end :]
    return sorted(tokens, key=lambda t: t.start)


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
        free: dict[tuple[str, str], list[Token]] = {}
        for t in mt_tokens:
            if t.kind != "code":
                free.setdefault((t.kind, t.text), []).append(t)
        claimed: list[tuple[int, int]] = []
        unmatched: list[Token] = []
        for t in src_tokens:
            if t.kind == "code":
                continue
            partners = free.get((t.kind, t.text))
            if partners:
                p = partners.pop(0)
                claimed.append((p.start, p.end))
            else:
                unmatched.append(t)
        extras = sorted((t for group in free.values() for t in group), key=lambda t: t.start)

        for t in unmatched:
            partner = next((e for e in extras if e.kind == t.kind and _normal(e) == _normal(t)), None)
            if partner is not None:
                extras.remove(partner)
                claimed.append((partner.start, partner.end))
                # A URL that only lost its scheme or trailing slash still works.
                severity = Severity.MINOR if t.kind in _URL_LIKE else Severity.MAJOR
                spans.append(_altered(t, segment.mt, (partner.start, partner.end), severity))
                continue
            found = _find_loose(t.text, segment.mt, claimed, exact_case=False)
            if found is not None:
                claimed.append(found)
                extras = [e for e in extras if not (e.start < found[1] and found[0] < e.end)]
                spans.append(_altered(t, segment.mt, found, Severity.MAJOR))
                continue
            spans.append(Span(t.start, t.end, Side.SOURCE, _category(t.kind, "missing"), Severity.MAJOR,
                              f"{_label(t.kind)} {t.text!r} is missing from the MT",
                              evidence="must be copied exactly", suggestion=t.text))

        src_count = Counter((t.kind, t.text) for t in src_tokens)
        for t in extras:
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


def _normal(t: Token) -> str:
    """Form under which two tokens are the same thing written differently."""
    text = regex.sub(r"\s+", "", t.text).casefold()
    if t.kind == "url":
        text = regex.sub(r"^(?:https?|ftp)://", "", text).rstrip("/")
    elif t.kind == "variable":
        # The same name in another syntax (${balance} -> {balance}) is an alteration.
        text = regex.sub(r"[^a-z0-9_]", "", text)
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


def _codes(src_tokens: list[Token], mt: str, claimed: list[tuple[int, int]]) -> list[Span]:
    out = []
    seen: set[str] = set()
    for t in src_tokens:
        if t.kind != "code" or t.text in seen:
            continue
        seen.add(t.text)
        exact = regex.search(rf"(?<![A-Za-z0-9]){regex.escape(t.text)}(?![A-Za-z0-9])", mt)
        if exact:
            continue
        found = _find_loose(t.text, mt, claimed, exact_case=False, spaces_between_classes=True)
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


def _find_loose(token: str, mt: str, claimed: list[tuple[int, int]], exact_case: bool,
                spaces_between_classes: bool = False) -> tuple[int, int] | None:
    """First place in ``mt`` outside ``claimed`` where ``token`` occurs loosely."""
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
    flags = 0 if exact_case else regex.IGNORECASE
    for m in regex.finditer(body, mt, flags):
        s, e = m.span()
        if not any(s < ce and cs < e for cs, ce in claimed):
            return s, e
    return None


def _tag_errors(tokens: list[Token]) -> list[Span]:
    """Spans for tags that break nesting (checked on the MT side only)."""
    out = []
    stack: list[tuple[str, Token]] = []
    for t in tokens:
        if t.kind != "tag":
            continue
        name = regex.match(r"</?\s*([A-Za-z][\w:.-]*)", t.text).group(1).lower()
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
