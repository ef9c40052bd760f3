"""The editor's review report: one self-contained HTML page, and a Markdown summary.

The page shows each document's Chinese source and English MT side by side,
segment by segment, with every flagged span highlighted in the text it is
anchored to (the MT, or the source for omissions), coloured by severity; its
category, message, evidence and suggestion appear on hover and on keyboard
focus. A summary at the top gives the headline score, counts by severity and
category and an inline SVG histogram of segment scores; controls sort the
segments (worst first) and filter them by severity and category.

Spans a model found (the QE token head's with ``--model-spans``, the
translation model's) are underlined dashed rather than shaded, and when
there are any, one switch hides them all, with the filters then counting
the rule findings alone: an editor can read the rules' findings first and
the model's suspicions after.

Everything is inline (CSS, JS, SVG): the file opens offline and can be
attached to a ticket. All user text passes through Jinja2 autoescaping as
data; nothing from the input is ever marked safe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from mtcheck.core import BatchResult, SegmentResult, Severity, Side, Span

_SEV_ORDER = {s.value: s.rank for s in Severity}


@dataclass(frozen=True)
class Piece:
    """A run of text with the findings covering it (none for plain text)."""

    text: str
    spans: tuple[int, ...]  # indices into the segment's span list
    severity: str | None
    model: bool = False  # every span covering it is a model's


def from_model(span: Span) -> bool:
    """Whether a model flagged the span: none of the checks it names (``a+b`` when merged) is a registered check."""
    from mtcheck.checks import CHECKS

    return not any(part in CHECKS for part in span.check.split("+"))


def pieces(text: str, spans: list[tuple[int, Span]]) -> list[Piece]:
    """Cut ``text`` at every span boundary; each piece knows which spans cover it.

    Args:
        text: The source or MT.
        spans: ``(index, span)`` pairs of the spans anchored in this text.

    Returns:
        Pieces whose texts concatenate to ``text``; an empty span becomes an
        empty piece (shown as an insertion mark) at its offset.
    """
    n = len(text)
    clamp = [(i, max(0, min(s.start, n)), max(0, min(s.end, n)), s) for i, s in spans]
    cuts = sorted({0, n, *(a for _, a, _, _ in clamp), *(b for _, _, b, _ in clamp)})
    out: list[Piece] = []
    for a, b in zip(cuts, cuts[1:] + [None]):
        for i, s0, s1, span in clamp:
            if s0 == s1 == a:
                out.append(Piece("", (i,), span.severity.value, from_model(span)))
        if b is None:
            break
        cover = [(i, span) for i, s0, s1, span in clamp if s0 <= a and b <= s1 and s0 < s1]
        sev = max((span.severity for _, span in cover), key=lambda s: s.rank).value if cover else None
        out.append(Piece(text[a:b], tuple(i for i, _ in cover), sev,
                         bool(cover) and all(from_model(span) for _, span in cover)))
    return [p for p in out if p.text or p.spans]


def histogram(values: list[float], bins: int = 10) -> dict:
    """Bins for the inline SVG histogram of segment scores."""
    if not values:
        return {"bars": [], "lo": 0.0, "hi": 0.0}
    lo, hi = min(values), max(values)
    if math.isclose(lo, hi):
        return {"bars": [{"count": len(values), "lo": lo, "hi": hi}], "lo": lo, "hi": hi}
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / width), bins - 1)] += 1
    return {"bars": [{"count": c, "lo": lo + k * width, "hi": lo + (k + 1) * width} for k, c in enumerate(counts)],
            "lo": lo, "hi": hi}


def _segment_view(r: SegmentResult, headline: str) -> dict:
    indexed = list(enumerate(r.spans))
    src = [(i, s) for i, s in indexed if s.side is Side.SOURCE]
    mt = [(i, s) for i, s in indexed if s.side is Side.MT]
    worst = max((s.severity.rank for s in r.spans), default=0)
    model = [from_model(s) for s in r.spans]
    rules = [s for s, m in zip(r.spans, model) if not m]
    return {
        "r": r,
        "source_pieces": pieces(r.segment.source, src),
        "mt_pieces": pieces(r.segment.mt, mt),
        "headline": r.scores.get(headline),
        "worst_rank": worst,
        "severities": sorted({s.severity.value for s in r.spans}, key=_SEV_ORDER.get),
        "categories": sorted({s.category for s in r.spans}),
        "model": model,
        "rule_severities": sorted({s.severity.value for s in rules}, key=_SEV_ORDER.get),
        "rule_categories": sorted({s.category for s in rules}),
        "other_scores": {k: v for k, v in r.scores.items() if k != headline},
    }


def render_html(batch: BatchResult, title: str = "mtcheck review report") -> str:
    """The report as one HTML string."""
    env = _env()
    docs: dict[str, list[dict]] = {}
    for r in batch.segments:
        docs.setdefault(r.segment.doc or "-", []).append(_segment_view(r, batch.headline))
    head_values = [r.scores[batch.headline] for r in batch.segments
                   if r.ok and r.scores.get(batch.headline) is not None]
    n_model = sum(m for views in docs.values() for v in views for m in v["model"])
    return env.get_template("report.html.j2").render(
        title=title,
        batch=batch,
        docs=docs,
        doc_scores={d.doc: d for d in batch.documents},
        hist=histogram(head_values),
        severity_counts=batch.severity_counts(),
        category_counts=batch.category_counts(),
        headline=batch.headline,
        n_model=n_model,
        headline_score=batch.scores.get(batch.headline),
        other_scores={k: v for k, v in batch.scores.items() if k != batch.headline},
    )


def render_markdown(batch: BatchResult, worst: int = 10) -> str:
    """A Markdown summary for a pull-request comment."""
    from mtcheck.report.terminal import worst_segments

    def cell(text: str) -> str:
        # Escape what would break a table or start markup; keep it on one line.
        text = " ".join(str(text).split())
        for ch in "\\|`*_[]<>#":
            text = text.replace(ch, "\\" + ch)
        return text

    def num(v):
        return "n/a" if v is None else f"{v:.2f}"

    sev = batch.severity_counts()
    lines = [
        "## mtcheck review",
        "",
        f"**{batch.headline}**: {num(batch.scores.get(batch.headline))} over {len(batch.segments)} segments "
        f"({len(batch.failed)} unreadable) · findings: {sev['critical']} critical, {sev['major']} major, "
        f"{sev['minor']} minor",
        "",
        "| score | value | signature |",
        "|---|---:|---|",
    ]
    for name, value in batch.scores.items():
        sig = batch.signatures.get(name, "").replace("`", "").replace("|", "\\|")  # GFM: \| inside a table cell
        lines.append(f"| {cell(name)} | {num(value)} | `{sig}` |")
    if batch.category_counts():
        lines += ["", "| category | findings |", "|---|---:|"]
        lines += [f"| {cell(c)} | {n} |" for c, n in batch.category_counts().items()]
    top = [r for r in worst_segments(batch, worst) if r.spans]
    if top:
        lines += ["", "### Segments to review", "", "| segment | severity | category | flagged | message |",
                  "|---|---|---|---|---|"]
        for r in top:
            for s in r.spans:
                lines.append(f"| {cell(r.segment.id)} | {s.severity.value} | {cell(s.category)} | "
                             f"{cell(s.text(r.segment))} | {cell(s.message)} |")
    if batch.notes:
        lines += [""] + [f"> Note: {cell(n)}" for n in batch.notes]
    if batch.failed:
        lines += ["", "### Unreadable segments", ""]
        lines += [f"- {cell(r.segment.id)}: {cell(r.error or '')}" for r in batch.failed]
    return "\n".join(lines) + "\n"


def write_report(batch: BatchResult, path: str | Path, fmt: str = "html") -> None:
    """Write the HTML report or the Markdown summary to ``path``."""
    text = render_html(batch) if fmt == "html" else render_markdown(batch)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # A lone surrogate (API callers only; readers replace them) becomes a character reference, not an error.
    Path(path).write_text(text, encoding="utf-8", errors="xmlcharrefreplace")


def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("mtcheck.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, d=2: "n/a" if v is None else f"{v:.{d}f}"
    return env
