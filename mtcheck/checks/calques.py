"""Calques: Chinese set phrases that the MT rendered word by word.

Corporate, e-commerce and policy Chinese is full of fixed expressions whose
parts mean something else than the whole: 落幕 is "the curtain drops" but
means "ended", 开门红 is "red when the door opens" but means "a strong
start", 抓手 is "something to grab" but means "a lever". Machine
translation often keeps the parts ("Double 11 after the curtain"). No
metric sees this (the words are all "translated"), but a reader does.

The check is lexicon-driven. Each lexicon row pairs a Chinese expression
with the literal renderings MT typically produces for it and idiomatic
alternatives (see the header of ``mtcheck/checks/data/calques.tsv`` for the
file format). A segment is flagged when its *source* contains the
expression and its *MT* contains one of the literal renderings; the
finding is a ``Style/Literal translation`` span on the MT over the
rendering, with the lexicon's severity, and the idiomatic alternatives as
suggestion. An idiomatic rendering is never flagged, since only the listed
literal ones are looked for: requiring the source expression is what
keeps "the curtain fell on the season" in a theatre review quiet.

Source side: one alternation over all expressions, leftmost-longest (as
the glossary does), so a longer expression wins over a shorter one inside
it, and *blocker* rows (calque ``-``) can keep a literal use quiet:
现金流量 "cash flow" stops the 流量 entry, 寒潮来袭 stops 来袭. An
expression may contain one or more ``…`` slots of up to 8 characters
that are not spaces or punctuation (交出…成绩单). ASCII in an expression
also matches its full-width form, case-insensitively (打call, 打ＣＡＬＬ).

MT side: the MT is cut into words (letters and digits, apostrophes inside
words; ``+`` is a word of its own, for 互联网+); a hyphen or punctuation
is a word break, so "one-stop" is "one stop". Words are compared through
:func:`mtcheck.models.lexicon.english_key` (lowercase, light suffix
stripping, irregular verbs), so "the curtain fell" also finds "the
curtains fall". Derivational matching (``keys_match``: "explode" ~
"explosion") is deliberately not used: it would let "butt" match
"butter"; a lexicon row lists derived forms it wants. Because keys are
crude, a function word in the MT ("but") only matches itself, never a
rendering word whose key merely collides with it ("butting" → "but").
Articles (a/an/the) in a rendering are optional and match any article;
articles in the MT that the rendering lacks are not skipped. ``…`` in a
rendering is a gap of up to 4 words.

Overlapping findings (two rows, or two renderings, on the same MT words)
are resolved longest first, then leftmost, then most severe: one span per
piece of MT text.

Extra lexicons: ``--set calques.lexicon=PATH`` (several paths joined by
the platform's path separator, ``:`` on POSIX), or ``lexicon = "PATH"`` in
``[check-options.calques]`` of the project configuration. A project file
uses the same format; its rows for an expression replace all default rows
for that expression (a ``-`` row switches a default entry off). Later
files override earlier ones. ``calques.default_lexicon=off`` drops the
packaged lexicon. Every malformed row raises an
:class:`~mtcheck.errors.InputError` subclass naming file and line.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import regex

from mtcheck.checks import tsvdata
from mtcheck.checks.base import Check
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side, Span
from mtcheck.errors import InputError

CATEGORY = "Style/Literal translation"
DEFAULT_LEXICON_NAME = "calques.tsv"
#: Maximum number of characters a ``…`` slot in a Chinese expression spans.
SOURCE_SLOT_MAX = 8
#: Maximum number of words a ``…`` gap in an English rendering spans.
TARGET_GAP_MAX = 4

SLOT = "…"
BLOCKER = "-"
_REQUIRED_COLUMNS = ("zh", "calque", "suggestion", "severity")
_SEVERITIES = {"minor": Severity.MINOR, "major": Severity.MAJOR}

_HAN = regex.compile(r"\p{Han}")
# A word of the MT: letters/digits (with marks), inner apostrophes, or a plus sign.
_MT_WORD = regex.compile(r"[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*|[+＋]")
# The same for a rendering, where "…" (or "...") is a gap.
_RENDERING_TOKEN = regex.compile(r"…|\.\.\.|[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*|[+＋]")
_ARTICLES = frozenset({"a", "an", "the"})
# MT words that only ever match themselves: crude keys of content words can
# collide with them ("butting" -> "but"), and a calque is never made of
# function words alone.
_FUNCTION_WORDS = frozenset(
    """a an the and or but nor so of to in on at by for from with as into onto
    is are was were be been being am it its this that these those not no""".split()
)


class CalqueLexiconError(InputError):
    """A calque lexicon row cannot be read (empty field, bad slot, unknown severity)."""


# ---------------------------------------------------------------------------
# Lexicon data


@dataclass(frozen=True)
class Rendering:
    """One literal English rendering, compiled for matching.

    Attributes:
        text: The rendering as written in the lexicon.
        pattern: One item per rendering token: ``("word", key, lower)`` for
            a word, ``("article",)`` for an optional article, ``("gap",)``
            for a ``…`` gap.
    """

    text: str
    pattern: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class CalqueEntry:
    """One lexicon row: a Chinese expression and its literal renderings.

    Attributes:
        zh: The Chinese expression (may contain ``…`` slots).
        calques: Literal renderings; empty for a blocker row.
        suggestions: Idiomatic alternatives, preferred first.
        severity: MQM severity of a finding (``None`` for a blocker).
        note: The literal meaning, for the editor.
        origin: ``file:line`` the row was read from.
    """

    zh: str
    calques: tuple[Rendering, ...]
    suggestions: tuple[str, ...]
    severity: Severity | None
    note: str = ""
    origin: str = ""

    @property
    def is_blocker(self) -> bool:
        return not self.calques


@dataclass(frozen=True)
class CalqueLexicon:
    """Merged calque entries, grouped by expression, with the source matcher.

    Attributes:
        entries: All rows, in file order; several rows may share ``zh``.
    """

    entries: tuple[CalqueEntry, ...] = ()

    def __len__(self) -> int:
        return len(self.entries)

    @functools.cached_property
    def by_zh(self) -> dict[str, tuple[CalqueEntry, ...]]:
        grouped: dict[str, list[CalqueEntry]] = {}
        for entry in self.entries:
            grouped.setdefault(entry.zh, []).append(entry)
        return {zh: tuple(rows) for zh, rows in grouped.items()}

    @functools.cached_property
    def _index(self) -> dict[str, tuple[tuple[str, str, regex.Pattern | None], ...]]:
        # First (folded) character -> candidate expressions starting with it,
        # longest fixed part first: a dict lookup per source character instead
        # of a 500-way regex alternation (several times faster on the many
        # segments that contain no expression at all). Entries are
        # (zh, folded zh, compiled regex for expressions with a slot or an
        # ASCII edge, else None).
        index: dict[str, list[tuple[str, str, regex.Pattern | None]]] = {}
        for zh in sorted(self.by_zh, key=lambda z: (-len(z.replace(SLOT, "")), z)):
            folded = _fold(zh)
            needs_regex = SLOT in zh or _ascii_alnum(zh[:1]) or _ascii_alnum(zh[-1:])
            compiled = regex.compile(_expression_regex(folded), regex.V1) if needs_regex else None
            index.setdefault(folded[0], []).append((zh, folded, compiled))
        return {ch: tuple(c) for ch, c in index.items()}

    def find_in_source(self, source: str) -> list[tuple[int, int, str]]:
        """Expressions in ``source`` as ``(start, end, zh)``, blockers included.

        Leftmost-longest and non-overlapping, like the glossary; then, inside
        each match of an expression that is not a blocker, the shorter
        expressions it contains (圆满落幕 also brings 落幕's renderings), found
        the same way. A blocker match hides everything inside it.
        """
        if not self.by_zh or not source:
            return []
        folded = _fold(source)
        out: list[tuple[int, int, str]] = []
        for start, end, zh in self._scan(folded, 0, len(folded)):
            out.append((start, end, zh))
            if self.by_zh[zh][0].is_blocker or end - start < 2:
                continue
            # Contained expressions: those starting inside, and those starting
            # at the same place but shorter (the end is excluded for them).
            inner = self._scan(folded, start + 1, end) + self._scan(folded, start, end - 1)
            out.extend(sorted(set(hit for hit in inner if hit[2] != zh)))
        return out

    def _scan(self, folded: str, pos: int, stop: int) -> list[tuple[int, int, str]]:
        index = self._index
        found: list[tuple[int, int, str]] = []
        i = pos
        while i < stop:
            candidates = index.get(folded[i])
            hit = None
            if candidates:
                for zh, fz, compiled in candidates:
                    if compiled is None:
                        if folded.startswith(fz, i, stop):
                            hit = (i, i + len(fz), zh)
                            break
                    else:
                        m = compiled.match(folded, i, stop)
                        if m:
                            hit = (i, m.end(), zh)
                            break
            if hit is None:
                i += 1
            else:
                found.append(hit)
                i = hit[1]
        return found


# Full-width ASCII folds to ASCII and A-Z to a-z, one character for one, so
# offsets into the folded text are offsets into the original.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD.update({cp: cp + 0x20 for cp in range(ord("A"), ord("Z") + 1)})
_FOLD.update({cp: cp - 0xFEE0 + 0x20 for cp in range(0xFF21, 0xFF3B)})


def _fold(text: str) -> str:
    return text.translate(_FOLD)


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _expression_regex(folded: str) -> str:
    out: list[str] = []
    for n, piece in enumerate(folded.split(SLOT)):
        if n:
            out.append(rf"[^\s\p{{P}}\p{{S}}]{{0,{SOURCE_SLOT_MAX}}}?")
        out.append(regex.escape(piece))
    body = "".join(out)
    # 双11 must not match inside 双110, nor 打call inside 打callback (text is folded: ASCII only).
    if _ascii_alnum(folded[:1]):
        body = r"(?<![a-z0-9])" + body
    if _ascii_alnum(folded[-1:]):
        body += r"(?![a-z0-9])"
    return body


# ---------------------------------------------------------------------------
# Reading lexicon files


def load_lexicon(path: str | Path) -> CalqueLexicon:
    """Read one calque lexicon TSV file.

    Args:
        path: The file.

    Returns:
        Its entries.

    Raises:
        InputError: The file cannot be read.
        EncodingError: It is not UTF-8 (names line and byte).
        MissingColumnsError: The header is absent or lacks a required column.
        CalqueLexiconError: A row is malformed.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read calque lexicon: {exc.strerror or exc}", path) from None
    return parse_lexicon(raw, str(path))


def parse_lexicon(data: bytes | str, name: str) -> CalqueLexicon:
    """Parse calque lexicon TSV content.

    Args:
        data: File content (bytes are decoded as UTF-8).
        name: Used in error messages as the file name.

    Returns:
        The entries, in file order.

    Raises:
        EncodingError, MissingColumnsError, CalqueLexiconError: as
            :func:`load_lexicon`.
    """
    text = tsvdata.decode(data, name, "calque lexicon")
    entries: list[CalqueEntry] = []
    seen: dict[tuple[str, str], str] = {}
    blockers: dict[str, str] = {}
    with_calques: dict[str, str] = {}
    for lineno, fields, header in tsvdata.rows(
            text, name, "calque lexicon", _REQUIRED_COLUMNS,
            "a tab-separated header with zh, calque, suggestion, severity and optionally note",
            "zh, calque, suggestion and severity"):
        entry = _parse_row(fields, header, name, lineno)
        where = f"{name}:{lineno}"
        if entry.is_blocker:
            if entry.zh in with_calques:
                raise CalqueLexiconError(
                    f"{entry.zh!r} is a blocker row ('-') but also has calque rows (first at {with_calques[entry.zh]})",
                    name, lineno,
                )
            if entry.zh in blockers:
                raise CalqueLexiconError(f"blocker {entry.zh!r} is given twice (first at {blockers[entry.zh]})",
                                         name, lineno)
            blockers[entry.zh] = where
        else:
            if entry.zh in blockers:
                raise CalqueLexiconError(
                    f"{entry.zh!r} has calque rows but is also a blocker row ('-') at {blockers[entry.zh]}",
                    name, lineno,
                )
            with_calques.setdefault(entry.zh, where)
            for rendering in entry.calques:
                # Forms that match the same words ("curtain fell" / "curtains fall")
                # are harmless; the very same text twice is a slip worth reporting.
                key = (entry.zh, " ".join(rendering.text.lower().split()))
                if key in seen:
                    raise CalqueLexiconError(
                        f"rendering {rendering.text!r} of {entry.zh!r} is listed twice (first at {seen[key]})",
                        name, lineno,
                    )
                seen[key] = where
        entries.append(entry)
    return CalqueLexicon(tuple(entries))


def _parse_row(fields: list[str], header: list[str], name: str, lineno: int) -> CalqueEntry:
    if len(fields) > len(header):
        raise CalqueLexiconError(
            f"row has {len(fields)} tab-separated fields but the header has {len(header)}", name, lineno
        )
    row = dict(zip(header, fields + [""] * (len(header) - len(fields))))
    zh, calque = row["zh"], row["calque"]
    if not zh:
        raise CalqueLexiconError("empty zh: every row needs a Chinese expression", name, lineno)
    if not _HAN.search(zh):
        raise CalqueLexiconError(f"zh {zh!r} has no Chinese character; expected a Chinese expression", name, lineno)
    if zh.startswith(SLOT) or zh.endswith(SLOT) or SLOT + SLOT in zh:
        raise CalqueLexiconError(
            f"zh {zh!r}: a slot '…' must stand between fixed characters, not at either end or doubled", name, lineno
        )
    if not calque:
        raise CalqueLexiconError(
            f"{zh!r} has an empty calque column; expected literal renderings separated by '|', or '-' for a blocker",
            name, lineno,
        )
    origin = f"{name}:{lineno}"
    if calque == BLOCKER:
        return CalqueEntry(zh, (), (), None, row.get("note", ""), origin)
    compiled = [_compile_rendering(r.strip(), zh, name, lineno) for r in calque.split("|")]
    # Literal repeats are reported by the caller; variants that match the same
    # words are redundant (inflection is tolerated) and scanned once.
    unique: dict[tuple, Rendering] = {}
    for rendering in compiled:
        unique.setdefault(_pattern_signature(rendering), rendering)
    renderings = tuple(unique.values())
    suggestions = tuple(s.strip() for s in row["suggestion"].split("|")) if row["suggestion"] else ()
    texts = [" ".join(r.text.lower().split()) for r in compiled]
    repeated = sorted({t for t in texts if texts.count(t) > 1})
    if repeated:
        raise CalqueLexiconError(f"{zh!r} lists the rendering {repeated[0]!r} twice in one row", name, lineno)
    if not suggestions or any(not s for s in suggestions):
        raise CalqueLexiconError(
            f"{zh!r} needs idiomatic suggestions separated by a single '|' in the suggestion column, "
            f"got {row['suggestion']!r}", name, lineno,
        )
    severity = _SEVERITIES.get(row["severity"].lower())
    if severity is None:
        raise CalqueLexiconError(
            f"{zh!r}: severity must be 'minor' or 'major', got {row['severity']!r}", name, lineno
        )
    return CalqueEntry(zh, renderings, suggestions, severity, row.get("note", ""), origin)


def _compile_rendering(text: str, zh: str, name: str, lineno: int) -> Rendering:
    from mtcheck.models.lexicon import english_key  # cheap; imported late to keep `import mtcheck.checks` light

    if not text:
        raise CalqueLexiconError(
            f"{zh!r} has an empty rendering in its calque column; separate renderings with a single '|'", name, lineno
        )
    if _HAN.search(text):
        raise CalqueLexiconError(
            f"rendering {text!r} of {zh!r} contains Chinese characters; expected English words", name, lineno
        )
    pattern: list[tuple[str, ...]] = []
    for token in _RENDERING_TOKEN.findall(text):
        if token in (SLOT, "..."):
            pattern.append(("gap",))
        elif token.lower() in _ARTICLES:
            pattern.append(("article",))
        else:
            low = token.lower().replace("’", "'")
            pattern.append(("word", english_key(low), low))
    words = [p for p in pattern if p[0] == "word"]
    if not words:
        raise CalqueLexiconError(
            f"rendering {text!r} of {zh!r} has no word to match (only articles, gaps or punctuation)", name, lineno
        )
    if pattern[0][0] == "gap" or pattern[-1][0] == "gap" or any(
        a[0] == "gap" and b[0] == "gap" for a, b in zip(pattern, pattern[1:])
    ):
        raise CalqueLexiconError(
            f"rendering {text!r} of {zh!r}: a gap '…' must stand between words, not at either end or doubled",
            name, lineno,
        )
    return Rendering(text, tuple(pattern))


def _pattern_signature(rendering: Rendering) -> tuple[tuple[str, ...], ...]:
    # Two renderings that match the same MT words are duplicates ("curtain fell" / "curtains fall").
    return tuple(p[:2] for p in rendering.pattern)


def merge_lexicons(lexicons: Sequence[CalqueLexicon]) -> CalqueLexicon:
    """Combine lexicons; a later lexicon's rows for an expression replace all earlier rows for it.

    Args:
        lexicons: In increasing precedence.

    Returns:
        The merged lexicon.
    """
    merged: dict[str, tuple[CalqueEntry, ...]] = {}
    for lexicon in lexicons:
        for zh, rows in lexicon.by_zh.items():
            merged.pop(zh, None)
            merged[zh] = rows
    return CalqueLexicon(tuple(e for rows in merged.values() for e in rows))


def default_lexicon_text() -> str:
    """Content of the packaged lexicon ``mtcheck/checks/data/calques.tsv``."""
    return resources.files("mtcheck.checks").joinpath("data").joinpath(DEFAULT_LEXICON_NAME).read_text("utf-8")


@functools.lru_cache(maxsize=1)
def default_lexicon() -> CalqueLexicon:
    """The packaged lexicon, parsed once per process."""
    return parse_lexicon(default_lexicon_text(), f"<mtcheck>/checks/data/{DEFAULT_LEXICON_NAME}")


def lexicon_paths(options: CheckOptions) -> tuple[str, ...]:
    """The project lexicon files named by ``calques.lexicon`` (path-separator separated)."""
    value = options.get("calques", "lexicon", "") or ""
    return tuple(p.strip() for p in value.split(os.pathsep) if p.strip())


def use_default_lexicon(options: CheckOptions) -> bool:
    """Whether ``calques.default_lexicon`` leaves the packaged lexicon on (default: on).

    Raises:
        ConfigError: The value is not on/off.
    """
    return tsvdata.switch(options, "calques", "default_lexicon")


def lexicon_for_options(options: CheckOptions) -> CalqueLexicon:
    """The merged lexicon a run uses: the default (unless off), then each project file in order."""
    paths = lexicon_paths(options)
    return _cached_lexicon(paths, tuple(tsvdata.stamp(p) for p in paths), use_default_lexicon(options))


@functools.lru_cache(maxsize=16)
def _cached_lexicon(paths: tuple[str, ...], stamps: tuple, with_default: bool) -> CalqueLexicon:
    parts = [default_lexicon()] if with_default else []
    parts.extend(load_lexicon(p) for p in paths)
    merged = merge_lexicons(parts)
    merged._index  # build the source index here, not on the first segment
    return merged


# ---------------------------------------------------------------------------
# Matching


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    lower: str
    key: str
    article: bool


def mt_words(mt: str) -> list[_Word]:
    """The MT's words with offsets, lowercase form and comparison key."""
    from mtcheck.models.lexicon import english_key

    out = []
    for m in _MT_WORD.finditer(mt):
        low = m.group().lower().replace("’", "'")
        if low == "＋":
            low = "+"
        out.append(_Word(m.start(), m.end(), low, english_key(low), low in _ARTICLES))
    return out


def _word_matches(item: tuple[str, ...], word: _Word) -> bool:
    _, key, lower = item
    if word.lower == lower:
        return True
    if word.lower in _FUNCTION_WORDS or lower in _FUNCTION_WORDS:
        return False
    return word.key == key


def _match_at(pattern: tuple[tuple[str, ...], ...], words: list[_Word], i: int, j: int = 0) -> int | None:
    """Index after the last word matched when ``pattern[j:]`` matches from ``words[i]``, else None."""
    if j == len(pattern):
        return i
    item = pattern[j]
    kind = item[0]
    if kind == "article":
        if i < len(words) and words[i].article:
            end = _match_at(pattern, words, i + 1, j + 1)
            if end is not None:
                return end
        return _match_at(pattern, words, i, j + 1)
    if kind == "gap":
        for skip in range(TARGET_GAP_MAX + 1):
            if i + skip > len(words):
                break
            end = _match_at(pattern, words, i + skip, j + 1)
            if end is not None:
                return end
        return None
    if i < len(words) and _word_matches(item, words[i]):
        return _match_at(pattern, words, i + 1, j + 1)
    return None



def find_rendering(rendering: Rendering, words: list[_Word]) -> list[tuple[int, int]]:
    """Non-overlapping occurrences of ``rendering`` as (first word index, index after last word)."""
    found = []
    i = 0
    first = next(p for p in rendering.pattern if p[0] == "word")
    leading_article = rendering.pattern[0][0] == "article"
    while i < len(words):
        # Cheap pre-check: the first word of the rendering (or the one after a leading article).
        here = words[i]
        starts = _word_matches(first, here) or (leading_article and here.article)
        end = _match_at(rendering.pattern, words, i) if starts else None
        if end is not None and end > i:
            found.append((i, end))
            i = end
        else:
            i += 1
    return found


@dataclass(frozen=True)
class CalqueHit:
    """A literal rendering found in the MT.

    Attributes:
        start, end: Offsets into the MT.
        entry: The lexicon row.
        rendering: Which of its renderings matched.
        source_start, source_end: Where the expression is in the source.
    """

    start: int
    end: int
    entry: CalqueEntry
    rendering: Rendering
    source_start: int
    source_end: int


def find_calques(source: str, mt: str, lexicon: CalqueLexicon) -> list[CalqueHit]:
    """Literal renderings in ``mt`` of expressions in ``source``, non-overlapping.

    Args:
        source: Chinese source text.
        mt: English MT.
        lexicon: The lexicon to use.

    Returns:
        Hits sorted by MT offset; of overlapping candidates the longest,
        then leftmost, then most severe is kept.
    """
    found = lexicon.find_in_source(source)
    if not found or not mt:
        return []
    candidates: list[CalqueHit] = []
    words: list[_Word] | None = None
    done: set[str] = set()
    for s_start, s_end, zh in found:
        if zh in done:
            continue
        done.add(zh)
        for entry in lexicon.by_zh[zh]:
            if entry.is_blocker:
                continue
            if words is None:
                words = mt_words(mt)
                if not words:
                    return []
            for rendering in entry.calques:
                for a, b in find_rendering(rendering, words):
                    candidates.append(CalqueHit(words[a].start, words[b - 1].end, entry, rendering, s_start, s_end))
    candidates.sort(key=lambda h: (-(h.end - h.start), h.start, -h.entry.severity.rank))
    kept: list[CalqueHit] = []
    for hit in candidates:
        if all(hit.end <= k.start or k.end <= hit.start for k in kept):
            kept.append(hit)
    kept.sort(key=lambda h: h.start)
    return kept


class CalquesCheck(Check):
    name = "calques"
    description = "set phrases of the source rendered word by word (落幕 as 'after the curtain')"

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        lexicon = lexicon_for_options(options)
        spans = []
        for hit in find_calques(segment.source, segment.mt, lexicon):
            entry = hit.entry
            text = segment.mt[hit.start:hit.end]
            evidence = f"literal rendering of {entry.zh} ({hit.rendering.text!r})"
            if entry.note:
                evidence += f"; {entry.note}"
            spans.append(Span(
                hit.start, hit.end, Side.MT, CATEGORY, entry.severity,
                f"{text!r} renders {entry.zh} word for word",
                evidence=evidence,
                suggestion=" / ".join(entry.suggestions),
            ))
        return spans


__all__ = [
    "CATEGORY",
    "CalqueEntry",
    "CalqueHit",
    "CalqueLexicon",
    "CalqueLexiconError",
    "CalquesCheck",
    "Rendering",
    "default_lexicon",
    "default_lexicon_text",
    "find_calques",
    "lexicon_for_options",
    "load_lexicon",
    "merge_lexicons",
    "parse_lexicon",
]
