"""Rule-based checks that flag spans an editor must look at.

A check is a small object with a ``name``, a one-line ``description`` and
``check_segment(segment, options) -> list[Span]``. Checks that need the
whole document (e.g. term consistency) also implement ``check_document``.
A finding is a normal return value: a check never raises for it. Checks are
registered by name in :data:`CHECKS`; ``--checks`` selects among them.
"""

from __future__ import annotations

from typing import Sequence

from mtcheck.checks.alignment import AlignmentCheck
from mtcheck.checks.base import Check, run_checks
from mtcheck.checks.calques import CalquesCheck
from mtcheck.checks.dates import DatesCheck
from mtcheck.checks.empty import EmptyCheck
from mtcheck.checks.length import LengthCheck
from mtcheck.checks.numbers import NumbersCheck
from mtcheck.checks.placeholders import PlaceholdersCheck
from mtcheck.checks.punctuation import PunctuationCheck
from mtcheck.checks.terms import TermsCheck
from mtcheck.checks.untranslated import UntranslatedCheck

CHECKS: dict[str, Check] = {
    check.name: check
    for check in (
        EmptyCheck(),
        AlignmentCheck(),
        NumbersCheck(),
        DatesCheck(),
        TermsCheck(),
        CalquesCheck(),
        UntranslatedCheck(),
        PunctuationCheck(),
        PlaceholdersCheck(),
        LengthCheck(),
    )
}

__all__ = ["CHECKS", "Check", "run_checks", "get_checks"]


def get_checks(names: Sequence[str]) -> list[Check]:
    """The registered checks named in ``names``, in that order."""
    return [CHECKS[n] for n in names]
