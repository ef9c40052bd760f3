"""The ``mtcheck`` command line.

This is the only module that prints or exits. Library errors
(:class:`~mtcheck.errors.MtcheckError`) become a one-line message on stderr
and exit code 2; everything heavy is imported inside the commands so that
``mtcheck --help`` stays instant.

Exit codes: 0 success; 1 the ``check`` gate failed; 2 usage or input error
(for ``score``, also a batch in which some segments could not be read: every
other segment is still scored and written, and the bad ones are named; for
``check``, unreadable segments count against ``--max-failed``).
"""

from __future__ import annotations

import contextlib
import functools
import re
from pathlib import Path
from typing import List, Optional

import typer

from mtcheck import __version__
from mtcheck.errors import ConfigError, MtcheckError, UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Quality checks and scores for Chinese→English machine translation.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

EXIT_OK = 0
EXIT_GATE = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130

# scheme:// — object storage (s3://, gs://…) or another filesystem Ray reads itself.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


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
        except KeyboardInterrupt:
            # Ctrl-C: one line and the conventional exit status, no traceback.
            typer.echo("mtcheck: interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None

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


class _ProgressLine:
    """Generation progress on stderr: at most one line every ``every`` seconds, and the last one."""

    def __init__(self, every: float = 5.0):
        self.every = every
        self.last = float("-inf")

    def __call__(self, p) -> None:
        import time

        now = time.monotonic()
        if p.done < p.total and now - self.last < self.every:
            return
        self.last = now
        left = p.remaining_seconds
        eta = "done" if p.done >= p.total else (f"about {left / 60:.0f} min left" if left >= 90
                                                  else f"about {left:.0f} s left")
        typer.echo(f"mtcheck: translating with {p.what}: {p.done}/{p.total}, "
                   f"{p.seconds / max(1, p.done):.1f} s each, {eta}", err=True)


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Quality checks and scores for Chinese→English machine translation."""
    from mtcheck.progress import set_progress

    # Generation (back-translation) takes seconds a sentence on a CPU: say how far it is.
    set_progress(_ProgressLine())


# Options shared by the commands that read a batch (typer reuses OptionInfo objects safely).
ARG_INPUTS = typer.Argument(
    None, help="Input files (TSV, CSV, JSONL, JSON, Parquet/Arrow, dataset dir); with --engine ray also "
               "object-storage URLs (s3://, gs://, abfs://…) of JSONL or Parquet.")
OPT_SOURCE = typer.Option(None, "-s", "--source", help="Chinese source, one segment per line.")
OPT_MT = typer.Option(None, "-t", "--mt", help="English MT, line-aligned with the source.")
OPT_REF = typer.Option([], "-r", "--ref", help="Reference file(s), line-aligned; repeat for several.")
OPT_FORMAT = typer.Option(None, "-f", "--format",
                          help="text|tsv|csv|jsonl|json|dataset|docpair (default: from the extension).")
OPT_ALIGNER = typer.Option(
    "auto", "--aligner",
    help="Document pairs: auto (embeddings when the encoder is installed, else length), length, or embedding.")
OPT_ENCODING = typer.Option("utf-8", "--encoding", help="Input encoding (e.g. gb18030 for legacy files).")
OPT_METRICS = typer.Option(
    None, "--metrics",
    help="Comma-separated metrics (default: chrf,bleu,ter and every neural signal whose model is installed).")
OPT_CHECKS = typer.Option(None, "--checks", help="Comma-separated checks (default: all); '' for none.")
OPT_GLOSSARY = typer.Option([], "--glossary", help="Project glossary TSV (zh, en); repeatable.")
OPT_LOWER = typer.Option(False, "-l", "--lowercase", help="Case-insensitive chrF and BLEU.")
OPT_CONFIG = typer.Option(None, "--config",
                          help="Settings file (default: mtcheck.toml or [tool.mtcheck] in pyproject.toml, searched upwards).")
OPT_SET = typer.Option([], "--set", help="A check's setting, CHECK.KEY=VALUE (e.g. length.z_major=3.5); repeatable.")
OPT_MODEL = typer.Option([], "--model", help="Use another model: ROLE_OR_NAME=PATH_OR_HUB_ID (e.g. encoder=/models/labse); repeatable.")
OPT_WORST = typer.Option(5, "--worst", min=0, help="How many worst segments the summary shows.")
OPT_QUIET = typer.Option(False, "-q", "--quiet", help="No terminal summary.")
OPT_BACKTRANSLATE = typer.Option(
    False, "--backtranslate",
    help="Also score with a translation model (opt-in, slow on a CPU): bt_chrf (back-translation vs source) and "
         "tm_logprob (log P(MT | source)); the model is --model translator=PATH_OR_ID or openai:URL#MODEL.")
OPT_MODEL_SPANS = typer.Option(
    False, "--model-spans",
    help="Also flag the QE model's error spans (off by default: on news about a quarter of what they flag is "
         "a rated error; see models/qe-e5-small/README.md). They join the findings, so the gate counts them. "
         "Needs the qe metric.")
OPT_MAX_MEMORY = typer.Option(
    None, "--max-memory", min=0,
    help="Stop cleanly, keeping partial results, once this process holds this many MiB "
         "(default: $MTCHECK_MAX_MEMORY_MB, max-memory-mb in the config, else 90% of RAM; 0 = none).")
OPT_RESUME = typer.Option(False, "--resume", help="With --out: continue after the last completed chunk.")
OPT_WORKERS = typer.Option(1, "--workers", min=1, help="With --out: worker processes scoring chunks.")
OPT_CHUNK = typer.Option(1000, "--chunk-size", min=1, help="With --out: most segments per chunk (documents are kept whole).")
OPT_ENGINE = typer.Option(
    "local", "--engine",
    help="With --out: local (this machine's processes) or ray (a Ray Data job, --workers actors; "
         "needs pip install 'mtcheck[ray]'; see docs/scale.md).")
OPT_ADDRESS = typer.Option(
    None, "--address",
    help="With --engine ray: the Ray cluster to join (auto, ray://head:10001); default: a local Ray instance.")


def _apply_models(model: List[str], project) -> None:
    from mtcheck.models.registry import parse_model_options, set_overrides

    table = project.get("models") or {}
    if not isinstance(table, dict):
        raise ConfigError(f"{project.path}: [models] must be a table of ROLE_OR_NAME = PATH_OR_ID")
    set_overrides(parse_model_options(list(model)), config=table)


def _run_batch(inputs, source, mt, ref, fmt, encoding, metrics, checks, glossary, lowercase, project, model=(),
               check_set=(), aligner="auto", backtranslate=False, model_spans=False):
    """Read and score a batch with settings from the command line over the project config."""
    from mtcheck.pipeline import score_batch

    segments, config = _batch_inputs(inputs, source, mt, ref, fmt, encoding, metrics, checks, glossary, lowercase,
                                     project, model, check_set, aligner, backtranslate=backtranslate,
                                     model_spans=model_spans)
    return score_batch(segments, config)


def _batch_inputs(inputs, source, mt, ref, fmt, encoding, metrics, checks, glossary, lowercase, project, model=(),
                  check_set=(), aligner="auto", engine="local", address=None, backtranslate=False, model_spans=False):
    """The segments (read lazily where the format allows) and the scoring settings of a batch."""
    from mtcheck.config import (
        DEFAULT_METRICS, CheckOptions, ScoreConfig, default_checks, neural_metrics, parse_check_params,
    )
    from mtcheck.io import read_inputs

    _apply_models(list(model), project)

    def listed(cli_value, key, default):
        if cli_value is not None:
            return _names(cli_value, default)
        value = project.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{project.path}: {key} must be a list of names")
        return tuple(v.lower() for v in value)

    glossaries = tuple(str(g) for g in glossary) or tuple(project.get("glossaries", ()) or ())
    # By default the neural signals run too, but only where their model is installed (a note says
    # which were skipped); a metric named explicitly must run or fail with the install hint.
    chosen = listed(metrics, "metrics", None)
    optional = () if chosen is not None else neural_metrics()
    names = chosen if chosen is not None else DEFAULT_METRICS + neural_metrics()
    if backtranslate:
        from mtcheck.metrics.translation import BACKTRANSLATE_METRICS

        names = tuple(dict.fromkeys(names + BACKTRANSLATE_METRICS))
    spans_setting = project.get("model-spans", False)
    if not isinstance(spans_setting, bool):
        raise ConfigError(f"{project.path}: model-spans must be true or false, got {spans_setting!r}")
    if model_spans or spans_setting:
        from mtcheck.metrics import METRICS

        if not any(METRICS[n].optional_spans for n in names):
            able = ", ".join(n for n, cls in METRICS.items() if cls.optional_spans)
            where = "--model-spans" if model_spans else f"model-spans in {project.path}"
            raise UsageError(f"{where} flags the spans of a model metric ({able}), but the metrics chosen "
                             f"are: {', '.join(names) or 'none'}")
    config = ScoreConfig(
        metrics=names,
        model_spans=model_spans or spans_setting,
        optional_metrics=optional,
        checks=listed(checks, "checks", default_checks()),
        lowercase=lowercase or bool(project.get("lowercase", False)),
        check_options=CheckOptions(
            glossaries=glossaries,
            params=parse_check_params(list(check_set), project.get("check-options"), project.path or "config"),
        ),
    )
    if aligner not in ("auto", "length", "embedding"):
        raise UsageError(f"--aligner must be auto, length or embedding, got {aligner!r}")
    urls = [p for p in inputs or () if _URL.match(str(p))]
    if urls:
        # Object storage is read by Ray's filesystems, on the cluster that scores it.
        if engine != "ray":
            raise UsageError(f"{urls[0]} is a URL: URLs are read through Ray, so add --out FILE --engine ray "
                             "(or copy the file here first)")
        if len(urls) != len(inputs) or source is not None or mt is not None or ref:
            raise UsageError("give either URLs or local files as input, not both")
        from mtcheck.engines.ray_engine import read_segments

        return read_segments([str(u) for u in urls], fmt=fmt, address=address), config
    segments = read_inputs(inputs or (), fmt=fmt, source=source, mt=mt, refs=ref, encoding=encoding,
                           aligner=aligner)
    return segments, config


def _write_outputs(batch, outputs) -> tuple[list[str], bool]:
    """Write each (path, writer) pair; return the files written and whether stdout was used."""
    written = []
    stdout_taken = False
    for path, writer in outputs:
        if path is None:
            continue
        writer(batch, path)
        if str(path) == "-":
            stdout_taken = True
        else:
            written.append(str(path))
    return written, stdout_taken


@contextlib.contextmanager
def _guarded(project, max_memory, outputs=(), streamed=False):
    """Run the scoring under the memory ceiling; on Ctrl-C or the ceiling, keep what was done.

    ``outputs`` are (path, writer) pairs as for :func:`_write_outputs`: when
    the in-memory pipeline is interrupted they get the partial batch, with
    every segment (those not checked marked as such). A streamed job keeps
    its committed chunks by itself. Past the ceiling the run ends as an
    error (exit 2) naming it; on Ctrl-C as interrupted (exit 130).
    """
    from mtcheck.pipeline import ScoringInterrupted
    from mtcheck.resources import MemoryCeiling, resolve_limit

    ceiling = MemoryCeiling(resolve_limit(max_memory, project.get("max-memory-mb"), project.path or "config"))
    try:
        with ceiling:
            yield
    except ScoringInterrupted as exc:
        written, _ = _write_outputs(exc.partial, [(p, w) for p, w in outputs if p is not None and str(p) != "-"])
        checked = sum(r.ok for r in exc.partial.segments)
        for path in written:
            typer.echo(f"mtcheck: wrote partial results to {path}: {checked} of {len(exc.partial.segments)} "
                       "segment(s) checked, the others marked 'not checked'", err=True)
        if ceiling.tripped is not None:
            raise ceiling.error(streamed) from None
        raise
    except KeyboardInterrupt:
        if ceiling.tripped is not None:
            raise ceiling.error(streamed) from None
        raise


def _failed_message(batch) -> str:
    ids = ", ".join(r.segment.id for r in batch.failed[:10])
    more = f" and {len(batch.failed) - 10} more" if len(batch.failed) > 10 else ""
    return (f"{len(batch.failed)} of {len(batch.segments)} segment(s) could not be read ({ids}{more}); "
            "all other segments were scored and written")


@app.command()
@handle_errors
def score(
    inputs: List[str] = ARG_INPUTS,
    source: Optional[Path] = OPT_SOURCE,
    mt: Optional[Path] = OPT_MT,
    ref: List[Path] = OPT_REF,
    fmt: Optional[str] = OPT_FORMAT,
    encoding: str = OPT_ENCODING,
    aligner: str = OPT_ALIGNER,
    metrics: Optional[str] = OPT_METRICS,
    checks: Optional[str] = OPT_CHECKS,
    glossary: List[Path] = OPT_GLOSSARY,
    lowercase: bool = OPT_LOWER,
    config: Optional[Path] = OPT_CONFIG,
    model: List[str] = OPT_MODEL,
    check_set: List[str] = OPT_SET,
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write results as one JSON document ('-' = stdout)."),
    jsonl_out: Optional[Path] = typer.Option(None, "--jsonl", help="Write results as JSON Lines ('-' = stdout)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Write one CSV row per segment ('-' = stdout)."),
    out: Optional[Path] = typer.Option(
        None, "--out",
        help="Stream results to this JSON Lines file chunk by chunk (bounded memory; see docs/scale.md)."),
    resume: bool = OPT_RESUME,
    workers: int = OPT_WORKERS,
    chunk_size: int = OPT_CHUNK,
    engine: str = OPT_ENGINE,
    address: Optional[str] = OPT_ADDRESS,
    max_memory: Optional[float] = OPT_MAX_MEMORY,
    backtranslate: bool = OPT_BACKTRANSLATE,
    model_spans: bool = OPT_MODEL_SPANS,
    worst: int = OPT_WORST,
    quiet: bool = OPT_QUIET,
) -> None:
    """Score a batch and flag problems: reference metrics and source-anchored checks."""
    from mtcheck.config import load_project_config
    from mtcheck.report import render_summary, write_csv, write_json, write_jsonl

    project = load_project_config(explicit=str(config) if config else None)
    options = _stream_options(out, csv_out, resume, workers, chunk_size, engine, address,
                              (("--json", json_out), ("--jsonl", jsonl_out)))
    if options is not None:
        from mtcheck.jobs import run_job

        segments, score_config = _batch_inputs(inputs, source, mt, ref, fmt, encoding, metrics, checks, glossary,
                                               lowercase, project, model, check_set, aligner, engine, address,
                                               backtranslate, model_spans=model_spans)
        with _guarded(project, max_memory, streamed=True):
            result = run_job(segments, out, score_config, options)
        _echo_stream_summary(result, out, csv_out, quiet)
        if result.summary["failed"]:
            _fail(_failed_stream_message(result.summary))
        return
    outputs = ((json_out, write_json), (jsonl_out, write_jsonl), (csv_out, write_csv))
    with _guarded(project, max_memory, outputs):
        batch = _run_batch(inputs, source, mt, ref, fmt, encoding, metrics, checks, glossary, lowercase, project,
                           model, check_set, aligner, backtranslate, model_spans=model_spans)
    written, stdout_taken = _write_outputs(batch, outputs)
    if not quiet and not stdout_taken:
        typer.echo(render_summary(batch, worst=worst))
    for path in written:
        typer.echo(f"wrote {path}", err=stdout_taken)
    if batch.failed:
        _fail(_failed_message(batch))


def _stream_options(out, csv_out, resume, workers, chunk_size, engine, address, other_outputs) -> "JobOptions":
    """Validate the streamed-run options of ``score``/``check`` (``other_outputs``: --json and the like)."""
    from mtcheck.jobs import JobOptions

    if out is None:
        if resume or workers != 1 or chunk_size != 1000 or engine != "local" or address is not None:
            raise UsageError("--resume, --workers, --chunk-size, --engine and --address go with --out "
                             "(streamed scoring)")
        return None
    for option, value in other_outputs:
        if value is not None:
            raise UsageError(f"--out streams JSON Lines itself; {option} holds the whole batch in memory, "
                             f"so give either --out or {option}")
    if str(out) == "-" or (csv_out is not None and str(csv_out) == "-"):
        raise UsageError("--out and --csv with --out must be files (they are appended to and resumed)")
    return JobOptions(chunk_size=chunk_size, workers=workers, resume=resume,
                      csv_path=str(csv_out) if csv_out is not None else None, engine=engine, address=address)


def _echo_stream_summary(result, out, csv_out, quiet: bool) -> None:
    summary = result.summary
    if not quiet:
        typer.echo(f"{summary['segments']} segments ({summary['segments'] - summary['failed']} scored, "
                   f"{summary['failed']} failed) in {summary['documents']} document(s), {result.chunks} chunk(s)")
        for key, value in summary["scores"].items():
            shown = "n/a" if value is None else f"{value:.2f}"
            mark = "  (headline)" if key == summary["headline"] else ""
            typer.echo(f"  {key:<8} {shown:>8}{mark}  {summary['signatures'].get(key, '')}")
        counts = summary["severity_counts"]
        typer.echo(f"  findings: {counts.get('critical', 0)} critical, {counts.get('major', 0)} major, "
                   f"{counts.get('minor', 0)} minor")
        for note in summary["notes"]:
            typer.echo(f"  note: {note}")
    for note in result.resume_notes:
        typer.echo(f"mtcheck: {note}", err=True)
    typer.echo(f"wrote {out}" + (f" and {csv_out}" if csv_out is not None else ""))


def _failed_stream_message(summary) -> str:
    ids = ", ".join(summary["failed_ids"][:10])
    more = f" and {summary['failed'] - 10} more" if summary["failed"] > 10 else ""
    return (f"{summary['failed']} of {summary['segments']} segment(s) could not be read ({ids}{more}); "
            "all other segments were scored and written")


@app.command()
@handle_errors
def report(
    inputs: List[str] = ARG_INPUTS,
    source: Optional[Path] = OPT_SOURCE,
    mt: Optional[Path] = OPT_MT,
    ref: List[Path] = OPT_REF,
    fmt: Optional[str] = OPT_FORMAT,
    encoding: str = OPT_ENCODING,
    aligner: str = OPT_ALIGNER,
    metrics: Optional[str] = OPT_METRICS,
    checks: Optional[str] = OPT_CHECKS,
    glossary: List[Path] = OPT_GLOSSARY,
    lowercase: bool = OPT_LOWER,
    config: Optional[Path] = OPT_CONFIG,
    model: List[str] = OPT_MODEL,
    check_set: List[str] = OPT_SET,
    output: Path = typer.Option(..., "-o", "--output", help="Report file to write."),
    out_format: Optional[str] = typer.Option(
        None, "--out-format", "--report-format",
        help="html (self-contained review page) or md (pull-request summary); default from the -o extension."),
    max_memory: Optional[float] = OPT_MAX_MEMORY,
    backtranslate: bool = OPT_BACKTRANSLATE,
    model_spans: bool = OPT_MODEL_SPANS,
) -> None:
    """Write the editor's review report: HTML with highlighted spans, or a Markdown summary."""
    from mtcheck.config import load_project_config
    from mtcheck.report.html import write_report

    if out_format is None:
        out_format = "md" if output.suffix.lower() in (".md", ".markdown") else "html"
    if out_format not in ("html", "md"):
        raise UsageError(f"--out-format must be html or md, got {out_format!r}")
    project = load_project_config(explicit=str(config) if config else None)
    with _guarded(project, max_memory, ((output, lambda b, p: write_report(b, p, out_format)),)):
        batch = _run_batch(inputs, source, mt, ref, fmt, encoding, metrics, checks, glossary, lowercase, project,
                           model, check_set, aligner, backtranslate, model_spans=model_spans)
    write_report(batch, output, out_format)
    typer.echo(f"wrote {output} ({len(batch.segments)} segments, {len(batch.failed)} unreadable)")


models_app = typer.Typer(help="The neural models: what is available here, and a smoke test.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
@handle_errors
def models_list(model: List[str] = OPT_MODEL, config: Optional[Path] = OPT_CONFIG) -> None:
    """Each model: role, whether it is available here, where from, licence and size."""
    from mtcheck.config import load_project_config
    from mtcheck.models.registry import MODELS, availability, resolve

    _apply_models(list(model), load_project_config(explicit=str(config) if config else None))
    rows = [("model", "role", "default", "available", "licence", "size", "from")]
    for spec in MODELS.values():
        used = resolve(spec.name)
        ok, where = availability(used)
        size = f"{used.size_mb:g} MB" if used.size_mb else "?"
        rows.append((used.name, used.role, "yes" if spec.default else "", "yes" if ok else "NO",
                     used.licence, size, where))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]) - 1)]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])


@models_app.command("check")
@handle_errors
def models_check(
    names: List[str] = typer.Argument(None, help="Models or roles to check (default: every available model)."),
    model: List[str] = OPT_MODEL,
    config: Optional[Path] = OPT_CONFIG,
) -> None:
    """Load each available model once and run one real inference, with timings."""
    import time

    from mtcheck.config import load_project_config
    from mtcheck.errors import ModelUnavailableError
    from mtcheck.models.registry import MODELS, availability, get_model, resolve, smoke_test

    _apply_models(list(model), load_project_config(explicit=str(config) if config else None))
    targets = list(names) if names else list(MODELS)
    failures = 0
    for name in targets:
        spec = resolve(name)
        ok, where = availability(spec)
        if not ok and not names:
            typer.echo(f"{spec.name}: skipped ({where})")
            continue
        t0 = time.perf_counter()
        try:
            loaded = get_model(name)
        except ModelUnavailableError as exc:
            failures += 1
            typer.echo(f"{spec.name}: FAILED: {exc}", err=True)
            continue
        t1 = time.perf_counter()
        what = smoke_test(spec, loaded)
        t2 = time.perf_counter()
        typer.echo(f"{spec.name} ({spec.role}): load {t1 - t0:.2f} s, inference {1000 * (t2 - t1):.0f} ms: {what}")
    if failures:
        raise typer.Exit(EXIT_INPUT)


@app.command("eval")
@handle_errors
def eval_(
    human: Path = typer.Option(..., "--human", help="TSV of human judgements: system, item (or seg_id), score "
                                                    "(with --spans: JSON Lines of human error spans)."),
    metric: Path = typer.Option(..., "--metric", help="TSV of metric scores: system, item, one column per metric, "
                                                      "optionally a weight column for the system-level means "
                                                      "(with --spans: mtcheck's results)."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="Item-bootstrap resamples for 95% intervals (0 = none)."),
    seed: int = typer.Option(1, "--seed", help="Bootstrap seed."),
    human_ties: str = typer.Option("exclude", "--human-ties", help="exclude|include: human-tied system pairs in pairwise accuracy."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the reports as JSON ('-' = stdout)."),
    spans: bool = typer.Option(
        False, "--spans",
        help="Evaluate flagged spans instead: --human is a JSON Lines file of human error spans (id, mt, rater, "
             "spans), --metric mtcheck's results (score --json/--jsonl/--out); character, span and "
             "severity-weighted F1, and the human ceiling where segments have several raters."),
) -> None:
    """Agreement of metric scores with human judgements (WMT metrics-task statistics)."""
    import json

    from mtcheck.metaeval import evaluate_files
    from mtcheck.metaeval.stats import BootstrapConfig, format_table

    if spans:
        from mtcheck.metaeval.spanfiles import evaluate_spans, format_span_report, read_gold_spans, read_result_spans

        report = evaluate_spans(read_gold_spans(human), read_result_spans(metric), where=str(metric))
        if json_out is not None:
            text = json.dumps(report.to_dict(), indent=2)
            if str(json_out) == "-":
                typer.echo(text)
                return
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(text + "\n", encoding="utf-8")
        typer.echo(format_span_report(report))
        return
    if human_ties not in ("exclude", "include"):
        raise UsageError(f"--human-ties must be exclude or include, got {human_ties!r}")
    config = BootstrapConfig(n=bootstrap, seed=seed) if bootstrap else None
    reports = evaluate_files(human, metric, bootstrap=config, human_ties=human_ties)
    if json_out is not None:
        text = json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False)
        if str(json_out) == "-":
            typer.echo(text)
            return
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(text + "\n", encoding="utf-8")
    typer.echo(format_table(reports))


def _annotate(inputs, out, results, failing, encoding) -> list[str]:
    """Write each XLIFF/PO input back with its failing units marked; return the files written.

    ``results`` maps segment ids to results (those of the failing segments suffice).
    """
    from mtcheck.io.l10n import detect_l10n_format, expand_l10n_paths
    from mtcheck.io.readers import id_prefixes
    from mtcheck.report.annotate import annotate

    paths = expand_l10n_paths(inputs)
    pairs = [(Path(p), prefix) for p, prefix in zip(paths, id_prefixes(paths))
             if detect_l10n_format(p) in ("xliff", "po")]
    if not pairs:
        raise UsageError("--annotate needs XLIFF or PO input files")
    if len(pairs) > 1 and out.exists() and not out.is_dir():
        raise UsageError(f"--annotate {out}: several files to annotate, so give a directory")
    written = []
    for path, prefix in pairs:
        target = out / path.name if (len(pairs) > 1 or out.is_dir()) else out
        if len(pairs) > 1 and len({p.name for p, _ in pairs}) < len(pairs):
            target = out / path.as_posix().lstrip("/").replace("/", "__")
        target.parent.mkdir(parents=True, exist_ok=True)
        annotate(path, target, results, failing, id_prefix=prefix, encoding=encoding)
        written.append(str(target))
    return written


def _pairs(values: List[str], option: str, cast) -> tuple:
    out = []
    for v in values:
        name, sep, num = v.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{option} takes NAME=VALUE, got {v!r}")
        try:
            out.append((name.strip(), cast(num)))
        except ValueError:
            raise UsageError(f"{option} {v!r}: {num!r} is not a valid {cast.__name__}") from None
    return tuple(out)


@app.command()
@handle_errors
def check(
    inputs: List[str] = ARG_INPUTS,
    source: Optional[Path] = OPT_SOURCE,
    mt: Optional[Path] = OPT_MT,
    ref: List[Path] = OPT_REF,
    fmt: Optional[str] = OPT_FORMAT,
    encoding: str = OPT_ENCODING,
    aligner: str = OPT_ALIGNER,
    metrics: Optional[str] = OPT_METRICS,
    checks: Optional[str] = OPT_CHECKS,
    glossary: List[Path] = OPT_GLOSSARY,
    lowercase: bool = OPT_LOWER,
    config: Optional[Path] = OPT_CONFIG,
    model: List[str] = OPT_MODEL,
    check_set: List[str] = OPT_SET,
    fail_under: Optional[float] = typer.Option(None, "--fail-under", help="Minimum batch headline score: qe (0-100) when the QE model runs, else mqm_est (0 = best, negative = worse)."),
    min_metric: List[str] = typer.Option([], "--min-metric", help="Minimum corpus score, METRIC=VALUE (e.g. chrf=50); repeatable."),
    max_critical: Optional[int] = typer.Option(None, "--max-critical", min=0, help="Most critical findings allowed (default 0)."),
    max_major: Optional[int] = typer.Option(None, "--max-major", min=0, help="Most major findings allowed."),
    max_minor: Optional[int] = typer.Option(None, "--max-minor", min=0, help="Most minor findings allowed."),
    max_category: List[str] = typer.Option([], "--max-category", help="Most findings of a category, CATEGORY=N; repeatable."),
    min_segment: Optional[float] = typer.Option(None, "--min-segment", help="Minimum headline score of every segment."),
    max_failed: Optional[int] = typer.Option(None, "--max-failed", min=0, help="Most unreadable segments allowed (default 0)."),
    annotate_out: Optional[Path] = typer.Option(
        None, "--annotate",
        help="Write XLIFF/PO inputs back with failing units marked for review (a file, or a directory for several)."),
    junit: Optional[Path] = typer.Option(None, "--junit", help="Write a JUnit XML report."),
    sarif: Optional[Path] = typer.Option(None, "--sarif", help="Write a SARIF 2.1.0 log."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write results as JSON."),
    out: Optional[Path] = typer.Option(
        None, "--out",
        help="Stream results to this JSON Lines file chunk by chunk (bounded memory); the gate, --sarif, --junit "
             "and --annotate are then made by reading it back (see docs/scale.md)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="With --out: also stream one CSV row per segment."),
    resume: bool = OPT_RESUME,
    workers: int = OPT_WORKERS,
    chunk_size: int = OPT_CHUNK,
    engine: str = OPT_ENGINE,
    address: Optional[str] = OPT_ADDRESS,
    max_memory: Optional[float] = OPT_MAX_MEMORY,
    backtranslate: bool = OPT_BACKTRANSLATE,
    model_spans: bool = OPT_MODEL_SPANS,
    worst: int = OPT_WORST,
    quiet: bool = OPT_QUIET,
) -> None:
    """Gate a batch for CI: exit 0 if it meets the thresholds, 1 if not, 2 on input errors."""
    from mtcheck.config import load_project_config
    from mtcheck.gate import Thresholds, evaluate_gate, thresholds_from_mapping
    from mtcheck.report import render_summary, write_json
    from mtcheck.report.ci import write_junit, write_sarif

    project = load_project_config(explicit=str(config) if config else None)
    settings = thresholds_from_mapping(project.as_dict(), project.path or "config")
    cli = {
        "fail_under": fail_under, "max_critical": max_critical, "max_major": max_major,
        "max_minor": max_minor, "min_segment": min_segment, "max_failed": max_failed,
        "metric_minimums": _pairs(min_metric, "--min-metric", float) or None,
        "max_category": _pairs(max_category, "--max-category", int) or None,
    }
    settings.update({k: v for k, v in cli.items() if v is not None})
    thresholds = Thresholds(**settings)
    options = _stream_options(out, csv_out, resume, workers, chunk_size, engine, address, (("--json", json_out),))
    if options is None:
        if csv_out is not None:
            raise UsageError("check writes --csv only with --out (use `mtcheck score --csv` for a CSV of a batch)")
        # On Ctrl-C the partial results go to --json only: a gate verdict on part of a batch would mislead.
        with _guarded(project, max_memory, ((json_out, write_json),)):
            batch = _run_batch(inputs, source, mt, ref, fmt, encoding, metrics, checks, glossary, lowercase,
                               project, model, check_set, aligner, backtranslate, model_spans=model_spans)
        gate = evaluate_gate(batch, thresholds)
        written, _ = _write_outputs(batch, ((json_out, write_json), (sarif, write_sarif)))
        if junit is not None:
            write_junit(batch, gate, junit)
            written.append(str(junit))
        if annotate_out is not None:
            results = {r.segment.id: r for r in batch.segments}
            written.extend(_annotate(inputs or [], annotate_out, results, gate.failing_segments, encoding))
        if not quiet:
            typer.echo(render_summary(batch, worst=worst))
            typer.echo("")
        n_segments = len(batch.segments)
    else:
        gate, written, n_segments = _check_streamed(
            inputs, source, mt, ref, fmt, encoding, aligner, metrics, checks, glossary, lowercase, project, model,
            check_set, thresholds, options, out, csv_out, junit, sarif, annotate_out, quiet, max_memory,
            backtranslate, model_spans)
    for path in written:
        typer.echo(f"wrote {path}")
    if project.path:
        typer.echo(f"thresholds from {project.path} and the command line")
    if gate.passed:
        typer.echo(f"mtcheck gate PASSED ({n_segments} segments)")
        return
    typer.echo(f"mtcheck gate FAILED: {len(gate.violations)} threshold(s) not met")
    for v in gate.violations:
        typer.echo(f"  - {v.describe()}")
    raise typer.Exit(EXIT_GATE)


def _check_streamed(inputs, source, mt, ref, fmt, encoding, aligner, metrics, checks, glossary, lowercase, project,
                    model, check_set, thresholds, options, out, csv_out, junit, sarif, annotate_out, quiet,
                    max_memory=None, backtranslate=False, model_spans=False):
    """``check --out``: score as a streamed job, then gate and write the CI files by reading the output back.

    Returns:
        The gate, the files written besides ``out``, and the number of segments.
    """
    from mtcheck.io.results import iter_segment_results
    from mtcheck.jobs import run_job
    from mtcheck.report.ci import gate_results_file

    segments, config = _batch_inputs(inputs, source, mt, ref, fmt, encoding, metrics, checks, glossary, lowercase,
                                     project, model, check_set, aligner, options.engine, options.address,
                                     backtranslate, model_spans=model_spans)
    with _guarded(project, max_memory, streamed=True):
        result = run_job(segments, out, config, options)
    _echo_stream_summary(result, out, csv_out, quiet)
    gate, summary = gate_results_file(out, thresholds, sarif=sarif, junit=junit)
    written = [str(p) for p in (sarif, junit) if p is not None]
    if annotate_out is not None:
        failing = {r.segment.id: r for r in iter_segment_results(out) if gate.segment_fails(r)}
        written.extend(_annotate(inputs or [], annotate_out, failing, set(failing), encoding))
    if not quiet:
        typer.echo("")
    return gate, written, summary["segments"]


if __name__ == "__main__":  # pragma: no cover
    app()
