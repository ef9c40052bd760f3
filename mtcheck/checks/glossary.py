"""Term glossaries: loading, merging and matching renderings in English MT.

A glossary is a UTF-8 TSV file with a header row. Columns:

``zh``
    The Chinese source term (required, non-empty, unique within a file).
``en``
    Allowed English renderings separated by ``|`` (required, none empty).
    A rendering that contains Chinese script (e.g. a brand kept in Chinese)
    also whitelists that text for the ``untranslated`` check.
``note``
    Free text shown to the editor (optional).
``case``
    ``insensitive`` (default) or ``sensitive``: whether the English
    renderings must match with their exact case (optional).

Blank lines and lines whose first non-blank character is ``#`` are ignored;
further columns are allowed and ignored, so a glossary exported from a
termbase with extra fields still loads. Every problem raises an
:class:`~mtcheck.errors.InputError` subclass naming the file and line.

Several glossaries can be combined: the packaged default
(``mtcheck/checks/data/corporate-zh-en.tsv``) comes first, then the files in
:attr:`CheckOptions.glossaries` in order; a later entry for the same ``zh``
term replaces the earlier one. The default can be switched off with the
check parameter ``terms.default_glossary=off``.

Matching on the English side is deliberately forgiving about surface form,
because the question is "was the agreed term used", not "is it spelled as in
the termbase": case-insensitive unless the entry says otherwise, whole words
only, hyphen/space/no-space variants (``e-commerce`` = ``e commerce``,
``ByteDance`` = ``Byte Dance``),
straight or curly apostrophes, and a trailing plural or possessive
(``Tmall's``, ``investors'``, ``companies`` for ``company``, ``chairmen``
for ``chairman``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable

import regex

from mtcheck.checks import tsvdata
from mtcheck.config import CheckOptions
from mtcheck.errors import InputError

#: Name of the packaged default glossary inside ``mtcheck/checks/data``.
DEFAULT_GLOSSARY_NAME = "corporate-zh-en.tsv"

_REQUIRED_COLUMNS = ("zh", "en")
_CASE_VALUES = {"": False, "insensitive": False, "sensitive": True}
_HAN = regex.compile(r"\p{Han}")


class GlossaryFormatError(InputError):
    """A glossary row cannot be read (empty term, wrong field count, bad value)."""


@dataclass(frozen=True)
class GlossaryEntry:
    """One source term and the English renderings allowed for it.

    Attributes:
        zh: Chinese source term.
        en: Allowed renderings, the preferred one first.
        note: Editor's note from the glossary, if any.
        case_sensitive: Whether renderings must match with their exact case.
        origin: ``file:line`` the entry was read from (for messages).
    """

    zh: str
    en: tuple[str, ...]
    note: str = ""
    case_sensitive: bool = False
    origin: str = ""

    @property
    def chinese_renderings(self) -> tuple[str, ...]:
        """Renderings written (partly) in Chinese script: allowed to stay in the MT."""
        return tuple(r for r in self.en if _HAN.search(r))


@dataclass(frozen=True)
class Glossary:
    """An ordered, merged set of entries, at most one per ``zh`` term."""

    entries: tuple[GlossaryEntry, ...] = ()

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, zh: str) -> GlossaryEntry | None:
        return self._by_zh.get(zh)

    @functools.cached_property
    def _by_zh(self) -> dict[str, GlossaryEntry]:
        return {e.zh: e for e in self.entries}

    @functools.cached_property
    def source_pattern(self) -> regex.Pattern | None:
        """One alternation over all ``zh`` terms, longest first.

        ``regex`` tries alternatives left to right, so sorting by length
        gives leftmost-longest matching: 阿里巴巴集团 wins over 阿里巴巴, and
        淘宝网 over 淘宝.
        """
        if not self.entries:
            return None
        terms = sorted((e.zh for e in self.entries), key=lambda t: (-len(t), t))
        return regex.compile("|".join(_source_term_regex(t) for t in terms))

    def find_in_source(self, source: str) -> list[tuple[int, int, GlossaryEntry]]:
        """Non-overlapping glossary terms in ``source`` as ``(start, end, entry)``."""
        pattern = self.source_pattern
        if pattern is None:
            return []
        return [(m.start(), m.end(), self._by_zh[m.group()]) for m in pattern.finditer(source)]

    @functools.cached_property
    def chinese_whitelist(self) -> tuple[str, ...]:
        """All Chinese-script renderings, longest first."""
        found = {r for e in self.entries for r in e.chinese_renderings}
        return tuple(sorted(found, key=lambda r: (-len(r), r)))


def _source_term_regex(term: str) -> str:
    # A term that starts or ends with an ASCII letter/digit (双11, GMV) must
    # not match inside a longer Latin token (双110, GMVs is fine in Chinese
    # text only if it really is the term).
    body = regex.escape(term)
    if term[:1].isascii() and term[:1].isalnum():
        body = r"(?<![A-Za-z0-9])" + body
    if term[-1:].isascii() and term[-1:].isalnum():
        body = body + r"(?![A-Za-z0-9])"
    return body


# --------------------------------------------------------------------------
# Loading


def load_glossary(path: str | Path) -> Glossary:
    """Read one glossary TSV file.

    Raises:
        InputError: The file cannot be read.
        EncodingError: The file is not UTF-8 (names line and byte).
        MissingColumnsError: The header lacks ``zh`` or ``en``, or is absent.
        GlossaryFormatError: A row is malformed.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read glossary: {exc.strerror or exc}", path) from None
    return parse_glossary(raw, str(path))


def parse_glossary(data: bytes | str, name: str) -> Glossary:
    """Parse glossary TSV content; ``name`` is used in error messages."""
    text = tsvdata.decode(data, name, "glossary")
    entries: dict[str, GlossaryEntry] = {}
    for lineno, fields, header in tsvdata.rows(text, name, "glossary", _REQUIRED_COLUMNS,
                                               "a tab-separated header with zh, en and optionally note, case", "zh and en"):
        entry = _parse_row(fields, header, name, lineno)
        if entry.zh in entries:
            raise GlossaryFormatError(
                f"term {entry.zh!r} is defined twice in one glossary (first at {entries[entry.zh].origin})",
                name, lineno,
            )
        entries[entry.zh] = entry
    return Glossary(tuple(entries.values()))


def _parse_row(fields: list[str], header: list[str], name: str, lineno: int) -> GlossaryEntry:
    if len(fields) > len(header):
        raise GlossaryFormatError(
            f"row has {len(fields)} tab-separated fields but the header has {len(header)}", name, lineno
        )
    row = dict(zip(header, fields + [""] * (len(header) - len(fields))))
    zh, en = row["zh"], row["en"]
    if not zh:
        raise GlossaryFormatError("empty zh term: every row needs a Chinese source term", name, lineno)
    if not en:
        raise GlossaryFormatError(f"term {zh!r} has no English rendering in the en column", name, lineno)
    renderings = tuple(r.strip() for r in en.split("|"))
    if any(not r for r in renderings):
        raise GlossaryFormatError(
            f"term {zh!r} has an empty rendering in {en!r}; separate renderings with a single '|'",
            name, lineno,
        )
    case = row.get("case", "").lower()
    if case not in _CASE_VALUES:
        raise GlossaryFormatError(
            f"case must be 'sensitive' or 'insensitive' (or empty), got {row.get('case')!r}", name, lineno
        )
    return GlossaryEntry(zh, renderings, row.get("note", ""), _CASE_VALUES[case], f"{name}:{lineno}")


def merge_glossaries(glossaries: Iterable[Glossary]) -> Glossary:
    """Combine glossaries; a later entry for the same ``zh`` replaces an earlier one."""
    merged: dict[str, GlossaryEntry] = {}
    for glossary in glossaries:
        for entry in glossary.entries:
            merged.pop(entry.zh, None)  # re-insert so order follows the overriding file
            merged[entry.zh] = entry
    return Glossary(tuple(merged.values()))


def default_glossary_text() -> str:
    """Content of the packaged default glossary."""
    return resources.files("mtcheck.checks").joinpath("data").joinpath(DEFAULT_GLOSSARY_NAME).read_text("utf-8")


@functools.lru_cache(maxsize=1)
def default_glossary() -> Glossary:
    return parse_glossary(default_glossary_text(), f"<mtcheck>/checks/data/{DEFAULT_GLOSSARY_NAME}")


def use_default_glossary(options: CheckOptions) -> bool:
    """Whether ``terms.default_glossary`` leaves the packaged glossary on (default: on)."""
    return tsvdata.switch(options, "terms", "default_glossary")


def glossary_for_options(options: CheckOptions) -> Glossary:
    """The merged glossary a run uses: the default (unless off), then each file in order."""
    paths = tuple(options.glossaries)
    stamps = tuple(tsvdata.stamp(p) for p in paths)
    return _cached_glossary(paths, stamps, use_default_glossary(options))


@functools.lru_cache(maxsize=16)
def _cached_glossary(paths: tuple[str, ...], stamps: tuple, with_default: bool) -> Glossary:
    parts = [default_glossary()] if with_default else []
    parts.extend(load_glossary(p) for p in paths)
    return merge_glossaries(parts)


# --------------------------------------------------------------------------
# Matching renderings in English text

_APOSTROPHES = "'\u2019\u2018\u02bc"
_SEPARATORS = r"[\s\-\u2010\u2011\u2012\u2013]*"


def rendering_pattern(rendering: str, case_sensitive: bool = False) -> regex.Pattern:
    """A regex that finds ``rendering`` in English text with light normalisation.

    Words of the rendering (and the parts of a CamelCase name such as
    ByteDance) may be joined by spaces, hyphens or nothing;
    apostrophes may be straight, curly or missing; the whole may carry a
    plural ``s``/``es`` or a possessive ``'s``/``'``. Matches are whole words
    (no letter or digit on either side).
    """
    return _rendering_pattern(rendering, case_sensitive)


@functools.lru_cache(maxsize=4096)
def _rendering_pattern(rendering: str, case_sensitive: bool) -> regex.Pattern:
    parts: list[str] = []
    # Word boundaries inside a CamelCase name count too: ByteDance ~ Byte Dance.
    spaced = regex.sub(r"(?<=\p{Ll})(?=\p{Lu})", " ", rendering.strip())
    tokens = [t for t in regex.split(r"[\s\-\u2010\u2011]+", spaced) if t]
    for n, token in enumerate(tokens):
        stem, irregular = token, ""
        if n == len(tokens) - 1:
            # Irregular plurals of the head word: company -> companies, chairman -> chairmen.
            if regex.search(r"[^aeiouAEIOU]y$", token):
                stem, irregular = token[:-1], "(?:y|ies)"
            elif token.lower().endswith("man"):
                stem, irregular = token[:-2], "(?:an|en)"
        pieces = []
        for ch in stem:
            if ch in _APOSTROPHES:
                pieces.append(f"[{_APOSTROPHES}]?")
            else:
                pieces.append(regex.escape(ch))
        parts.append("".join(pieces) + irregular)
    body = _SEPARATORS.join(parts)
    ends_alnum = rendering.strip()[-1:].isalnum()
    suffix = f"(?:[{_APOSTROPHES}]s|[{_APOSTROPHES}]|e?s)?" if ends_alnum else ""
    flags = regex.V1 if case_sensitive else regex.V1 | regex.IGNORECASE
    return regex.compile(rf"(?<![\p{{L}}\p{{N}}]){body}{suffix}(?![\p{{L}}\p{{N}}])", flags)


def find_rendering(mt: str, rendering: str, case_sensitive: bool = False) -> list[tuple[int, int]]:
    """Offsets of every occurrence of ``rendering`` in ``mt``."""
    return [m.span() for m in rendering_pattern(rendering, case_sensitive).finditer(mt)]


def whitelisted_chinese_ranges(mt: str, glossary: Glossary) -> list[tuple[int, int]]:
    """Ranges of ``mt`` covered by a Chinese-script rendering the glossary allows.

    The ``untranslated`` check leaves these ranges alone. Exact (literal)
    matches only, longest rendering first, non-overlapping.
    """
    taken: list[tuple[int, int]] = []
    for rendering in glossary.chinese_whitelist:
        start = mt.find(rendering)
        while start != -1:
            end = start + len(rendering)
            if not any(s < end and start < e for s, e in taken):
                taken.append((start, end))
            start = mt.find(rendering, start + 1)
    return sorted(taken)


def whitelisted_chinese_for_options(mt: str, options: CheckOptions) -> list[tuple[int, int]]:
    """:func:`whitelisted_chinese_ranges` with the glossary ``options`` select."""
    return whitelisted_chinese_ranges(mt, glossary_for_options(options))


__all__ = [
    "DEFAULT_GLOSSARY_NAME",
    "Glossary",
    "GlossaryEntry",
    "GlossaryFormatError",
    "default_glossary",
    "default_glossary_text",
    "find_rendering",
    "glossary_for_options",
    "load_glossary",
    "merge_glossaries",
    "parse_glossary",
    "rendering_pattern",
    "use_default_glossary",
    "whitelisted_chinese_for_options",
    "whitelisted_chinese_ranges",
]
