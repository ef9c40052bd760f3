"""The ``mtcheck`` command line.

This is the only module that prints or exits. Library errors
(:class:`~mtcheck.errors.MtcheckError`) become a one-line message on stderr
and exit code 2; everything heavy is imported inside the commands so that
``mtcheck --help`` stays instant.

Exit codes: 0 success; 2 usage or input error (including a batch in which
some segments could not be read: every other segment is still scored and
written, and the bad ones are named).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import List, Optional

import typer

from mtcheck import __version__
from mtcheck.errors import MtcheckError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Quality checks and scores for Chinese→English machine translation.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

EXIT_OK = 0
EXIT_INPUT = 2


def _fail(message: str) -> None:
    typer.echo(f"mtcheck: error: {message}", err=True)
    raise typer.Exit(EXIT_INPUT)


def handle_errors(func):
    """Turn library errors into a one-line message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except MtcheckError as exc:
            _fail(str(exc))

    return wrapper


def _names(value: Optional[str], default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    names = tuple(n.strip().lower() for n in value.split(",") if n.strip())
    return names


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mtcheck {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Quality checks and scores for Chinese→English machine translation."""


@app.command()
@handle_errors
def score(
    inputs: List[Path] = typer.Argument(None, help="Input files (TSV, CSV, JSONL, JSON, Parquet/Arrow, dataset dir)."),
    source: Optional[Path] = typer.Option(None, "-s", "--source", help="Chinese source, one segment per line."),
    mt: Optional[Path] = typer.Option(None, "-t", "--mt", help="English MT, line-aligned with the source."),
    ref: List[Path] = typer.Option([], "-r", "--ref", help="Reference file(s), line-aligned; repeat for several."),
    fmt: Optional[str] = typer.Option(None, "-f", "--format", help="text|tsv|csv|jsonl|json|dataset|docpair (default: from the extension)."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Input encoding (e.g. gb18030 for legacy files)."),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="Comma-separated metrics (default: chrf,bleu,ter)."),
    checks: Optional[str] = typer.Option(None, "--checks", help="Comma-separated checks (default: all); '' for none."),
    glossary: List[Path] = typer.Option([], "--glossary", help="Project glossary TSV (zh, en); repeatable."),
    lowercase: bool = typer.Option(False, "-l", "--lowercase", help="Case-insensitive reference metrics."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write results as one JSON document ('-' = stdout)."),
    jsonl_out: Optional[Path] = typer.Option(None, "--jsonl", help="Write results as JSON Lines ('-' = stdout)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Write one CSV row per segment ('-' = stdout)."),
    worst: int = typer.Option(5, "--worst", min=0, help="How many worst segments the summary shows."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No terminal summary."),
) -> None:
    """Score a batch and flag problems: reference metrics and source-anchored checks."""
    from mtcheck.config import DEFAULT_METRICS, CheckOptions, ScoreConfig, default_checks
    from mtcheck.io import read_inputs
    from mtcheck.pipeline import score_batch
    from mtcheck.report import render_summary, write_csv, write_json, write_jsonl

    config = ScoreConfig(
        metrics=_names(metrics, DEFAULT_METRICS),
        checks=_names(checks, default_checks()),
        lowercase=lowercase,
        check_options=CheckOptions(glossaries=tuple(str(g) for g in glossary)),
    )
    segments = read_inputs(inputs or (), fmt=fmt, source=source, mt=mt, refs=ref, encoding=encoding)
    batch = score_batch(segments, config)
    stdout_taken = "-" in {str(p) for p in (json_out, jsonl_out, csv_out) if p is not None}
    written = []
    for path, writer in ((json_out, write_json), (jsonl_out, write_jsonl), (csv_out, write_csv)):
        if path is not None:
            writer(batch, path)
            if str(path) != "-":
                written.append(str(path))
    if not quiet and not stdout_taken:
        typer.echo(render_summary(batch, worst=worst))
    for path in written:
        typer.echo(f"wrote {path}", err=stdout_taken)
    if batch.failed:
        ids = ", ".join(r.segment.id for r in batch.failed[:10])
        more = f" and {len(batch.failed) - 10} more" if len(batch.failed) > 10 else ""
        _fail(
            f"{len(batch.failed)} of {len(batch.segments)} segment(s) could not be read ({ids}{more}); "
            "all other segments were scored and written"
        )


if __name__ == "__main__":  # pragma: no cover
    app()
