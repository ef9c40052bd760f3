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
        optional_metrics: Metrics that are skipped, with a note, when the
            model they need is not available here (the CLI's defaults); a
            metric asked for explicitly is never skipped silently.
        model_spans: Also flag the error spans of metrics whose model can
            (``optional_spans``: the QE token head), which are off by default
            for their low precision.
    """

    metrics: tuple[str, ...] = DEFAULT_METRICS
    checks: tuple[str, ...] = field(default_factory=lambda: default_checks())
    lowercase: bool = False
    bleu_tokenize: str = "13a"
    check_options: CheckOptions = field(default_factory=CheckOptions)
    optional_metrics: tuple[str, ...] = ()
    model_spans: bool = False

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


def parse_check_params(cli: list[str], table: object, where: str) -> tuple[tuple[str, str, str], ...]:
    """Per-check settings from ``--set CHECK.KEY=VALUE`` and a ``[check-options.CHECK]`` config table.

    The command line wins. Values stay strings; each check validates its own.

    Raises:
        ConfigError: a malformed ``--set`` or table.
    """
    params: dict[tuple[str, str], str] = {}
    if table:
        if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
            raise ConfigError(f"{where}: check-options must hold one table per check, e.g. [check-options.length]")
        for check, opts in table.items():
            for key, value in opts.items():
                params[(check, key)] = str(value).lower() if isinstance(value, bool) else str(value)
    for item in cli:
        name, sep, value = item.partition("=")
        check, dot, key = name.strip().partition(".")
        if not sep or not dot or not check or not key:
            raise ConfigError(f"--set takes CHECK.KEY=VALUE (e.g. length.z_major=3.5), got {item!r}")
        params[(check, key.strip())] = value.strip()
    known = _check_names()
    unknown = sorted({c for c, _ in params if c not in known})
    if unknown:
        raise ConfigError(f"check options name unknown check(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return tuple((c, k, v) for (c, k), v in params.items())


def neural_metrics() -> tuple[str, ...]:
    """Registered metrics that need a model and run by default when it is available (not the opt-in ones)."""
    from mtcheck.metrics import METRICS

    return tuple(name for name, cls in METRICS.items() if cls.model_role is not None and cls.default)


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


#: Keys a project configuration may hold besides the gate thresholds.
SETTING_KEYS = ("checks", "metrics", "glossaries", "lowercase", "models", "check-options", "max-memory-mb",
                "model-spans")


@dataclass(frozen=True)
class ProjectConfig:
    """Settings read from ``mtcheck.toml`` or ``[tool.mtcheck]`` in ``pyproject.toml``.

    Attributes:
        path: The file they came from, or ``None`` when none was found.
        table: The raw table (kebab-case keys).
    """

    path: str | None = None
    table: tuple[tuple[str, object], ...] = ()

    def get(self, key: str, default=None):
        return dict(self.table).get(key, default)

    def as_dict(self) -> dict:
        return dict(self.table)


def load_project_config(start: str | None = None, explicit: str | None = None) -> ProjectConfig:
    """Find and read the project configuration.

    Looks in ``start`` (default: the working directory) and its parents, up
    to the repository root (a directory holding ``.git``), for
    ``mtcheck.toml`` — its top level, or its ``[tool.mtcheck]`` table if it
    has one — and then for a ``pyproject.toml`` with ``[tool.mtcheck]``. In
    one directory ``mtcheck.toml`` wins. ``explicit`` names a file to read
    instead of searching.

    Raises:
        ConfigError: unreadable TOML or an unknown key (named with the file).
    """
    import tomllib
    from pathlib import Path

    from mtcheck.gate import THRESHOLD_KEYS

    def read(path: Path, section_required: bool):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        table = data.get("tool", {}).get("mtcheck")
        if table is None:
            if section_required:
                return None
            table = data
        known = set(THRESHOLD_KEYS) | set(SETTING_KEYS)
        unknown = sorted(k for k in table if k not in known)
        if unknown:
            raise ConfigError(
                f"{path}: unknown mtcheck setting(s) {', '.join(unknown)}; expected any of {', '.join(sorted(known))}"
            )
        return ProjectConfig(str(path), tuple(table.items()))

    if explicit is not None:
        found = read(Path(explicit), section_required=False)
        return found
    here = Path(start or ".").resolve()
    for directory in (here, *here.parents):
        for name, required in (("mtcheck.toml", False), ("pyproject.toml", True)):
            candidate = directory / name
            if candidate.is_file():
                found = read(candidate, required)
                if found is not None:
                    return found
        if (directory / ".git").exists():
            break
    return ProjectConfig()
