"""The terminal summary a translator reads after ``mtcheck score``.

Batch scores with their signatures, one line per document, the worst
segments with their findings, and every segment that failed to read. Plain
text (colour is added by the CLI only when writing to a terminal).
"""

from __future__ import annotations

from mtcheck.core import BatchResult, SegmentResult

_LABELS = {"chrf": "chrF", "bleu": "BLEU", "ter": "TER", "mqm_est": "MQM-est", "qe": "QE"}
_HEADLINE_NOTES = {
    "mqm_est": "(mean per segment; 0 = nothing flagged, minor -1, major -5, critical -25)",
    "qe": "(0-100, weighted by MT length; 100 = no errors predicted, a minor error costs 4, a major 20)",
}
#: Companion outputs shown with their metric, not as batch scores of their own.
_COMPANIONS = {"qe_low", "qe_high"}
_LOWER_IS_BETTER = {"ter"}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _printable(text: str) -> str:
    # Control characters from the input (ANSI escapes, NUL, bells) must not reach the terminal.
    return "".join(ch if ch.isprintable() or ch in " \t" else "\N{REPLACEMENT CHARACTER}" for ch in text)


def _clip(text: str, width: int) -> str:
    text = _printable(" ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def worst_segments(batch: BatchResult, n: int) -> list[SegmentResult]:
    """The ``n`` segments an editor should read first.

    Ranked by the QE score when the batch has one (lowest first, then
    findings); otherwise by findings (summed MQM-style weight), then by the
    first reference-based score (lowest chrF first, highest TER first).
    """
    if batch.headline == "qe":
        ranked = sorted((r for r in batch.segments if r.ok and r.scores.get("qe") is not None),
                        key=lambda r: (r.scores["qe"], -r.penalty()))
        return ranked[:n]
    metric = next((m for m in batch.scores if m != batch.headline), None)

    def key(r: SegmentResult):
        score = r.scores.get(metric) if metric else None
        if score is None:
            score_key = 0.0
        else:
            score_key = score if metric in _LOWER_IS_BETTER else -score
        return (-r.penalty(), -score_key)

    ranked = sorted((r for r in batch.segments if r.ok), key=key)
    return [r for r in ranked if r.spans or (metric and r.scores.get(metric) is not None)][:n]


def render_summary(batch: BatchResult, worst: int = 5, width: int = 100) -> str:
    """Human-readable summary of a batch."""
    lines: list[str] = []
    n_ok = len(batch.segments) - len(batch.failed)
    lines.append(
        f"mtcheck {batch.version}: {len(batch.segments)} segments "
        f"({n_ok} scored, {len(batch.failed)} failed) in {len(batch.documents)} document(s)"
    )
    if batch.headline:
        lines.append("")
        lines.append(
            f"Headline {_LABELS.get(batch.headline, batch.headline)}: {_fmt(batch.scores.get(batch.headline))} "
            + _HEADLINE_NOTES.get(batch.headline, "")
        )
    if batch.scores:
        lines.append("")
        lines.append("Batch scores")
        for name, value in batch.scores.items():
            if name in _COMPANIONS:
                continue
            label = _LABELS.get(name, name)
            lines.append(f"  {label:<6} {_fmt(value):>7}   {batch.signatures.get(name, '')}")
        if all(v is None for v in batch.scores.values()):
            lines.append("  (no references given: reference-based scores are n/a)")
    sev = batch.severity_counts()
    lines.append("")
    lines.append(f"Findings: {sev['critical']} critical, {sev['major']} major, {sev['minor']} minor")
    for cat, count in batch.category_counts().items():
        lines.append(f"  {count:>5}  {cat}")
    if len(batch.documents) > 1 or (batch.documents and batch.documents[0].doc != "-"):
        lines.append("")
        lines.append("Documents")
        names = [m for m in batch.scores if m not in _COMPANIONS]
        lines.append("  " + f"{'doc':<24} {'segs':>5} " + " ".join(f"{_LABELS.get(m, m):>7}" for m in names)
                     + "   crit  major  minor")
        for d in batch.documents:
            c = d.severity_counts
            lines.append(
                "  " + f"{_clip(d.doc, 24):<24} {len(d.segment_ids):>5} "
                + " ".join(f"{_fmt(d.scores.get(m)):>7}" for m in names)
                + f"   {c.get('critical', 0):>4}  {c.get('major', 0):>5}  {c.get('minor', 0):>5}"
            )
    if batch.headline == "qe":
        lines.append("")
        lines.append("Segments: QE score [80% interval], findings")
        for r in batch.segments:
            if not r.ok:
                continue
            v = r.scores
            c = r.severity_counts()
            found = ", ".join(f"{c[k]} {k}" for k in ("critical", "major", "minor") if c.get(k)) or "none"
            lines.append(f"  [{_clip(r.segment.id, 20)}] {_fmt(v.get('qe')):>6} "
                         f"[{_fmt(v.get('qe_low'))}-{_fmt(v.get('qe_high'))}]  {found}  "
                         f"{_clip(r.segment.mt, max(20, width - 60))}")
    top = worst_segments(batch, worst)
    if top:
        lines.append("")
        lines.append(f"Worst {len(top)} segment(s)")
        for r in top:
            scores = ", ".join(f"{_LABELS.get(k, k)} {_fmt(v)}" for k, v in r.scores.items()
                               if v is not None and k not in _COMPANIONS)
            lines.append(f"  [{_printable(r.segment.id)}] {scores}")
            lines.append(f"    zh: {_clip(r.segment.source, width - 8)}")
            lines.append(f"    en: {_clip(r.segment.mt, width - 8)}")
            for s in r.spans:
                where = f"{s.side.value}[{s.start}:{s.end}] {_clip(s.text(r.segment), 40)!r}"
                lines.append(f"    - {s.severity.value.upper()} {s.category}: {s.message} ({where})")
                if s.evidence:
                    lines.append(f"      evidence: {_clip(s.evidence, width - 16)}")
    if batch.notes:
        lines.append("")
        lines.extend(f"Note: {_printable(n)}" for n in batch.notes)
    if batch.failed:
        lines.append("")
        lines.append(f"Failed segments ({len(batch.failed)}): not scored, reported here so nothing is lost")
        for r in batch.failed:
            lines.append(f"  [{_printable(r.segment.id)}] {_printable(r.error or '')}")
    # Last line of defence: messages, categories and signatures can carry input text too (a glossary
    # term, a model path), so no line leaves with a control character, whatever built it.
    return "\n".join(_printable(line) for line in lines)
