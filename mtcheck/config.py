"""Run configuration as frozen dataclasses.

Everything that changes a number is in here, so a result can be reproduced
from its configuration and signatures. Values are validated on construction
(never with ``assert``) and raise :class:`~mtcheck.errors.ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mtcheck.errors import ConfigError

DEFAULT_METRICS: tuple[str, ...] = ("chrf", "bleu", "ter")


@dataclass(frozen=True)
class CheckOptions:
    """Options the checks read.

    Attributes:
        glossaries: Paths of project glossaries (TSV) used by term checks.
        params: Per-check settings as ``(check, key, value)`` triples, kept as
            a tuple so the dataclass stays hashable and immutable.
    """

    glossaries: tuple[str, ...] = ()
    params: tuple[tuple[str, str, str], ...] = ()

    def get(self, check: str, key: str, default: str | None = None) -> str | None:
        for c, k, v in self.params:
            if c == check and k == key:
                return v
        return default


@dataclass(frozen=True)
class ScoreConfig:
    """What to compute for a batch.

    Attributes:
        metrics: Names from :data:`mtcheck.metrics.METRICS`.
        checks: Names from :data:`mtcheck.checks.CHECKS`.
        lowercase: Case-insensitive reference metrics (sacrebleu's ``-lc``).
        bleu_tokenize: sacrebleu tokenizer for BLEU on the English side.
        check_options: Options passed to every check.
    """

    metrics: tuple[str, ...] = DEFAULT_METRICS
    checks: tuple[str, ...] = field(default_factory=lambda: default_checks())
    lowercase: bool = False
    bleu_tokenize: str = "13a"
    check_options: CheckOptions = field(default_factory=CheckOptions)

    def __post_init__(self) -> None:
        if not isinstance(self.metrics, tuple) or not isinstance(self.checks, tuple):
            raise ConfigError("metrics and checks must be tuples of names")
        for name, known in (("metric", _metric_names()), ("check", _check_names())):
            chosen = self.metrics if name == "metric" else self.checks
            unknown = [m for m in chosen if m not in known]
            if unknown:
                raise ConfigError(
                    f"unknown {name}(s): {', '.join(unknown)}; expected any of: {', '.join(sorted(known))}"
                )


def default_checks() -> tuple[str, ...]:
    """Every registered check, in registry order."""
    from mtcheck.checks import CHECKS

    return tuple(CHECKS)


def _metric_names() -> set[str]:
    from mtcheck.metrics import METRICS

    return set(METRICS)


def _check_names() -> set[str]:
    from mtcheck.checks import CHECKS

    return set(CHECKS)
