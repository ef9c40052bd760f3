"""Document pairs: a Chinese source document and its English MT, not line-aligned.

Both documents are split into sentences (:mod:`mtcheck.io.split`) and the
sentences aligned by length (:mod:`mtcheck.io.align`, Gale–Church style).
Each alignment bead becomes one segment: a 1-1, 1-2 or 2-1 bead pairs the
sentences; a 1-0 bead (a source sentence with no English) or a 0-1 bead
(English with no source) becomes a segment with one side empty, which the
``alignment`` check reports as a possible omission or addition. No sentence
is ever dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from mtcheck.core import FieldPos, Origin, Segment
from mtcheck.errors import EmptyInputError
from mtcheck.io.encoding import iter_lines


def _read_whole(path: Path, encoding: str) -> tuple[str, list[int]]:
    """Text of ``path`` with ``\\n`` line ends, and the offset where each line starts."""
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for _, line in iter_lines(path, encoding):
        starts.append(pos)
        parts.append(line)
        pos += len(line) + 1
    return "\n".join(parts), starts


def _line_of(offset: int, starts: list[int]) -> int:
    import bisect

    return bisect.bisect_right(starts, offset)


def _field_pos(path: Path, sents: list, starts: list[int]) -> FieldPos | None:
    """Position of the first sentence; offsets map verbatim only within a single sentence."""
    if not sents:
        return None
    line = _line_of(sents[0].start, starts)
    column = sents[0].start - starts[line - 1] + 1
    return FieldPos(str(path), line, column, "none" if len(sents) == 1 else "opaque")


def read_docpair(source: str | Path, mt: str | Path, *, encoding: str = "utf-8") -> Iterator[Segment]:
    """Yield one segment per alignment bead of the two documents.

    Segment metadata records the bead (``alignment``: ``"1-1"``, ``"1-2"``…,
    ``source_sentences``/``mt_sentences``: indices, ``source_span``/
    ``mt_span``: character offsets in each document) so the alignment can be
    reported and checked.
    """
    from mtcheck.io.align import align_sentences
    from mtcheck.io.split import split_en, split_zh

    src_path, mt_path = Path(source), Path(mt)
    src_text, src_starts = _read_whole(src_path, encoding)
    mt_text, mt_starts = _read_whole(mt_path, encoding)
    src_sents = split_zh(src_text)
    mt_sents = split_en(mt_text)
    if not src_sents:
        raise EmptyInputError("source document has no sentences", src_path)
    if not mt_sents:
        raise EmptyInputError("MT document has no sentences", mt_path)
    doc = src_path.stem
    for k, bead in enumerate(align_sentences(src_sents, mt_sents), start=1):
        s = [src_sents[i] for i in bead.src]
        t = [mt_sents[j] for j in bead.tgt]
        src_span = [s[0].start, s[-1].end] if s else None
        mt_span = [t[0].start, t[-1].end] if t else None
        src_pos = _field_pos(src_path, s, src_starts)
        mt_pos = _field_pos(mt_path, t, mt_starts)
        anchor = mt_pos or src_pos
        origin = Origin(anchor.path, anchor.line, source_pos=src_pos, mt_pos=mt_pos)
        yield Segment(
            id=f"{doc}:{k}",
            source="".join(x.text for x in s),
            mt=" ".join(x.text for x in t),
            doc=doc,
            metadata={
                "alignment": bead.kind,
                "alignment_cost": round(bead.cost, 4),
                "source_sentences": list(bead.src),
                "mt_sentences": list(bead.tgt),
                "source_span": src_span,
                "mt_span": mt_span,
            },
            origin=origin,
        )
