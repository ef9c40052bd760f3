"""Meta-evaluation: how well do metric scores agree with human judgements?

:mod:`~mtcheck.metaeval.stats` computes the WMT metrics-task statistics
(segment- and system-level correlations, pairwise accuracy, item-bootstrap
intervals) on a ``(system, item)`` grid; :mod:`~mtcheck.metaeval.loaders`
reads the shared WMT zh→en human judgements into that form.
:func:`evaluate_files` is the file-based entry point used by the CLI: two TSV
files in, one report per metric column out.
"""

from __future__ import annotations

from pathlib import Path

from mtcheck.errors import EmptyInputError, InputError, MissingColumnsError, NoOverlapError, UsageError
from mtcheck.metaeval.stats import (
    BootstrapConfig,
    Estimate,
    Judgements,
    MetaEvalReport,
    evaluate,
    evaluate_judgements,
    format_table,
    weighted_system_scorer,
)

#: Columns of a metric file that are never metric scores.
_KEY_COLUMNS = ("system", "item", "seg_id", "doc")
#: The metric file's optional column of segment weights for the system level.
WEIGHT_COLUMN = "weight"
_MISSING = ("", "None", "NA", "NaN", "nan")


def evaluate_files(
    human_path: str | Path,
    metric_path: str | Path,
    *,
    bootstrap: BootstrapConfig | None = None,
    human_ties: str = "exclude",
) -> list[MetaEvalReport]:
    """Meta-evaluate the metric score column(s) of one TSV against the human scores of another.

    Both files are UTF-8, tab-separated, with a header. The human file needs
    ``system``, ``item`` (or ``seg_id``) and ``score``. The metric file needs
    ``system`` and ``item`` (or ``seg_id``); every other column except
    ``doc`` is a metric, named by its header (a column named ``score`` is
    named after the file's stem). Empty, ``None``, ``NA`` and ``NaN`` cells
    mean "no score". Items are matched as strings. An optional ``weight``
    column (> 0) makes each system's score the weighted mean of its segment
    scores, e.g. MT words for mtcheck's QE, whose batch score is weighted so.

    Args:
        human_path: Human judgements.
        metric_path: Metric scores.
        bootstrap: Item bootstrap for confidence intervals (``None``: none).
        human_ties: See :func:`mtcheck.metaeval.stats.pairwise_accuracy`.

    Returns:
        One report per metric column, in column order. System-level scores
        are means (weighted where the file has weights) of the segment
        scores over the complete items.

    Raises:
        MissingColumnsError: A required column is absent.
        InputError: A row has the wrong number of fields, a score is not a
            number (with file and line), a ``(system, item)`` repeats, or a
            cell the system level averages has no positive weight.
        EmptyInputError: A file has no data rows.
        NoOverlapError: No ``(system, item)`` has both a human and a metric score.
    """
    human_path, metric_path = Path(human_path), Path(metric_path)
    human_cols, human = _read_tsv(human_path, require_score=True)
    metric_cols, metric = _read_tsv(metric_path, require_score=False)
    weights = metric.pop(WEIGHT_COLUMN, None)
    metric_cols = [c for c in metric_cols if c != WEIGHT_COLUMN]
    if not metric_cols:
        raise MissingColumnsError("no metric score column besides 'weight'", metric_path, 1)
    human_scores = human[human_cols[0]]
    reports = []
    for column in metric_cols:
        j = Judgements.from_scores(human_scores, metric[column])
        if j.n_cells == 0:
            raise NoOverlapError(
                f"no (system, item) pair has both a human score here and a {column!r} score in {metric_path}",
                human_path,
            )
        scorer = None
        if weights is not None:
            try:
                scorer = weighted_system_scorer(j, {k: v for k, v in weights.items() if v is not None})
            except UsageError as exc:
                raise InputError(f"column 'weight': {exc}", metric_path) from None
        name = metric_path.stem if column == "score" else column
        reports.append(evaluate_judgements(j, metric_name=name, system_metric=scorer, bootstrap=bootstrap,
                                           human_ties=human_ties))
    return reports


def _read_tsv(
    path: Path, require_score: bool
) -> tuple[list[str], dict[str, dict[tuple[str, str], float | None]]]:
    """Score columns of a TSV, each as ``(system, item) -> score``."""
    from mtcheck.metaeval.loaders import _lines

    if not path.is_file():
        raise InputError("file not found", path)
    lines = _lines(path)
    first = next(lines, None)
    if first is None or not first[1].strip():
        raise EmptyInputError("file is empty; expected a header with system, item and score columns", path)
    header = [c.strip() for c in first[1].split("\t")]
    if len(set(header)) != len(header):
        raise InputError(f"repeated column name in the header: {header}", path, 1)
    item_col = "item" if "item" in header else "seg_id"
    missing = [c for c in ("system", item_col) if c not in header]
    if require_score:
        score_cols = ["score"]
        missing += [] if "score" in header else ["score"]
    else:
        score_cols = [c for c in header if c not in _KEY_COLUMNS]
        if not score_cols:
            missing.append("at least one metric score column")
    if missing:
        shown = ["item (or seg_id)" if m == "seg_id" else m for m in missing]
        raise MissingColumnsError(f"missing column(s): {', '.join(shown)}; header is {header}", path, 1)
    sys_pos, item_pos = header.index("system"), header.index(item_col)
    out: dict[str, dict[tuple[str, str], float | None]] = {c: {} for c in score_cols}
    positions = [(c, header.index(c)) for c in score_cols]
    rows = 0
    for number, text in lines:
        if not text.strip():
            continue
        fields = text.split("\t")
        if len(fields) != len(header):
            raise InputError(f"expected {len(header)} tab-separated fields, found {len(fields)}", path, number)
        key = (fields[sys_pos].strip(), fields[item_pos].strip())
        if not key[0] or not key[1]:
            raise InputError("empty system or item", path, number)
        for column, pos in positions:
            if key in out[column]:
                raise InputError(f"system {key[0]!r}, item {key[1]!r} appears twice", path, number)
            out[column][key] = _parse_score(fields[pos].strip(), column, path, number)
        rows += 1
    if rows == 0:
        raise EmptyInputError("no data rows after the header", path)
    return score_cols, out


def _parse_score(text: str, column: str, path: Path, line: int) -> float | None:
    if text in _MISSING:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"column {column!r}: {text!r} is not a number", path, line) from None
    if value != value:  # any spelling of NaN: not scored
        return None
    if value in (float("inf"), float("-inf")):
        raise InputError(f"column {column!r}: {text!r} is not a finite number", path, line)
    return value


__all__ = [
    "BootstrapConfig",
    "Estimate",
    "Judgements",
    "MetaEvalReport",
    "NoOverlapError",
    "evaluate",
    "evaluate_files",
    "evaluate_judgements",
    "format_table",
]
