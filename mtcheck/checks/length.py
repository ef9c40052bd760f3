"""MT length far from what the source length predicts: a likely omission or addition.

The expected number of non-space English characters for a Chinese source
with ``h`` Han characters and ``o`` other non-space characters (digits,
Latin, punctuation) is ``EN_PER_HAN*h + EN_PER_OTHER*o``. The log of
actual over expected is modelled as normal with mean 0 and variance
``S0**2 + K/n`` (``n = h + o``), so a
short source is allowed more spread than a long one. The check computes the
z-score of the MT under that model:

* ``|z| > Z_MAJOR`` (3.0) → major, ``|z| > Z_MINOR`` (2.5) → minor;
* too short → ``Accuracy/Omission``, span over the whole source (what is
  missing is somewhere in it); too long → ``Accuracy/Addition``, span over
  the whole MT;
* sources with fewer than :data:`MIN_SOURCE_CHARS` non-space characters are
  skipped: for a two-character headline any English length is plausible.
  Empty MTs are left to the ``empty`` check.

Parameters ``length.z_major``, ``length.z_minor`` and
``length.min_source_chars`` override the defaults.

The constants were fitted by maximum likelihood with
``scripts/fit_length_check.py`` on newstest2021 zh→en (source vs human
reference A, 1,948 line pairs). On that data the check flags the
human references at the rates recorded next to the thresholds below.
"""

from __future__ import annotations

import math

import regex

from mtcheck.checks.base import Check
from mtcheck.config import CheckOptions
from mtcheck.core import Segment, Severity, Side, Span
from mtcheck.errors import ConfigError

# Fitted with scripts/fit_length_check.py on newstest2021 zh-en src vs ref.A (see module docstring).
# Command: .venv/bin/python scripts/fit_length_check.py (maximum likelihood, 1,948 pairs).
EN_PER_HAN = 3.8239
EN_PER_OTHER = 0.6710
LOG_RESIDUAL_S0 = 0.1632
LOG_RESIDUAL_K = 0.4043

# Share of the 1,948 human references beyond each threshold with these
# constants (2-fold cross-fitted in brackets): |z| > 2.5: 1.08% (1.13%),
# |z| > 3.0: 0.41% (0.36%); i.e. well under the 5% false-flag budget.
Z_MAJOR = 3.0
Z_MINOR = 2.5
# Fewer non-space source characters than this: skipped (8 of 1,948 news
# segments, mostly datelines and two-word headlines).
MIN_SOURCE_CHARS = 6

_HAN = regex.compile(r"\p{Han}")


def char_counts(source: str) -> tuple[int, int]:
    """``(Han characters, other non-space characters)`` of a source text."""
    han = len(_HAN.findall(source))
    other = sum(1 for ch in source if not ch.isspace()) - han
    return han, other


def length_z(source: str, mt: str) -> float | None:
    """z-score of the MT's length given the source; ``None`` if either side is empty."""
    han, other = char_counts(source)
    en = sum(1 for ch in mt if not ch.isspace())
    expected = EN_PER_HAN * han + EN_PER_OTHER * other
    if en == 0 or expected <= 0:
        return None
    sd = math.sqrt(LOG_RESIDUAL_S0**2 + LOG_RESIDUAL_K / (han + other))
    return math.log(en / expected) / sd


class LengthCheck(Check):
    name = "length"
    description = "MT much shorter or longer than the source length predicts (likely omission or addition)"

    def check_segment(self, segment: Segment, options: CheckOptions) -> list[Span]:
        z_major = _float_param(options, "z_major", Z_MAJOR)
        z_minor = _float_param(options, "z_minor", Z_MINOR)
        min_chars = _float_param(options, "min_source_chars", MIN_SOURCE_CHARS)
        han, other = char_counts(segment.source)
        if han + other < min_chars:
            return []
        z = length_z(segment.source, segment.mt)
        if z is None or abs(z) <= z_minor:
            return []
        severity = Severity.MAJOR if abs(z) > z_major else Severity.MINOR
        en = sum(1 for ch in segment.mt if not ch.isspace())
        expected = EN_PER_HAN * han + EN_PER_OTHER * other
        evidence = (f"MT has {en} non-space characters; about {expected:.0f} expected "
                    f"for {han} Han + {other} other source characters (z = {z:+.2f})")
        # Two-sided normal tail: how unusual this length is for a human translation.
        confidence = round(1.0 - math.erfc(abs(z) / math.sqrt(2.0)), 4)
        if z < 0:
            src = segment.source
            start, end = len(src) - len(src.lstrip()), len(src.rstrip())
            return [Span(start, end, Side.SOURCE, "Accuracy/Omission", severity,
                         "the MT is much shorter than the source: part of it may be untranslated",
                         evidence=evidence, confidence=confidence)]
        mt = segment.mt
        start, end = len(mt) - len(mt.lstrip()), len(mt.rstrip())
        return [Span(start, end, Side.MT, "Accuracy/Addition", severity,
                     "the MT is much longer than the source: it may add content",
                     evidence=evidence, confidence=confidence)]


def _float_param(options: CheckOptions, key: str, default: float) -> float:
    raw = options.get("length", key)
    if raw is None:
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"length.{key} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"length.{key} must be a non-negative number, got {raw!r}")
    return value
