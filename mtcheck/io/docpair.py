"""Document pairs: a Chinese source document and its English MT, not line-aligned.

Both documents are read as plain text with one paragraph per line
(:mod:`mtcheck.io.documents`: ``.txt`` as is, ``.md`` with markup removed,
``.docx`` paragraph by paragraph), split into sentences
(:mod:`mtcheck.io.split`) and the sentences aligned, by length
(:mod:`mtcheck.io.align`, Gale–Church style) or by meaning and length with
the cross-lingual encoder (:mod:`mtcheck.io.embalign`).
Each alignment bead becomes one segment: a 1-1, 1-2 or 2-1 bead pairs the
sentences; a 1-0 bead (a source sentence with no English) or a 0-1 bead
(English with no source) becomes a segment with one side empty, which the
``alignment`` check reports as a possible omission or addition. No sentence
is ever dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from mtcheck.core import FieldPos, Origin, Segment
from mtcheck.errors import EmptyInputError, ModelUnavailableError, UsageError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from mtcheck.io.documents import DocumentText


ALIGNERS = ("auto", "length", "embedding")


def _field_pos(doc: DocumentText, sents: list) -> FieldPos | None:
    """Position of the first sentence; offsets map verbatim only within a single sentence of plain text."""
    if not sents:
        return None
    line, column = doc.position(sents[0].start)
    return FieldPos(doc.path, line, column, "none" if len(sents) == 1 and doc.verbatim else "opaque")


def _embedding_encoder(aligner: str, encoder: Any) -> Any:
    """The encoder to align with, or None for the length aligner."""
    if aligner == "length":
        return None
    if encoder is not None:
        return encoder
    from mtcheck.models.registry import get_model

    try:
        return get_model("encoder")
    except ModelUnavailableError:
        if aligner == "embedding":
            raise
        return None  # auto: no encoder here, so align by length


def read_docpair(
    source: str | Path,
    mt: str | Path,
    *,
    encoding: str = "utf-8",
    aligner: str = "length",
    encoder: Any = None,
) -> Iterator[Segment]:
    """Yield one segment per alignment bead of the two documents.

    Args:
        source: The Chinese document (``.txt``, ``.md`` or ``.docx``).
        mt: Its English MT (same choice of formats).
        encoding: Encoding of text and Markdown files.
        aligner: ``"length"`` (Gale–Church, no model needed), ``"embedding"``
            (:func:`~mtcheck.io.embalign.align_embeddings` with the
            ``encoder`` model; fails if it cannot load) or ``"auto"``
            (embedding when the encoder loads, length otherwise). The default
            stays ``"length"`` so that reading a document pair never loads a
            model unasked; the command line chooses.
        encoder: An encoder to use instead of ``get_model("encoder")``.

    Segment metadata records the bead (``alignment``: ``"1-1"``, ``"1-2"``…,
    ``aligner``: ``"length"`` or ``"embedding"``,
    ``source_sentences``/``mt_sentences``: indices, ``source_span``/
    ``mt_span``: character offsets in each document's plain text) so the
    alignment can be reported and checked.

    Raises:
        UsageError: ``aligner`` is not one of :data:`ALIGNERS`.
        ModelUnavailableError: ``aligner="embedding"`` and the encoder
            cannot be loaded.
    """
    from mtcheck.io.align import align_sentences
    from mtcheck.io.documents import read_document
    from mtcheck.io.split import split_en, split_zh

    if aligner not in ALIGNERS:
        raise UsageError(f"unknown aligner {aligner!r}; expected one of {', '.join(ALIGNERS)}")
    src_path, mt_path = Path(source), Path(mt)
    src_doc = read_document(src_path, encoding=encoding)
    mt_doc = read_document(mt_path, encoding=encoding)
    src_sents = split_zh(src_doc.text)
    mt_sents = split_en(mt_doc.text)
    if not src_sents:
        raise EmptyInputError("source document has no sentences", src_path)
    if not mt_sents:
        raise EmptyInputError("MT document has no sentences", mt_path)
    model = _embedding_encoder(aligner, encoder)
    if model is None:
        used, beads = "length", align_sentences(src_sents, mt_sents)
    else:
        from mtcheck.io.embalign import align_embeddings

        used, beads = "embedding", align_embeddings(src_sents, mt_sents, model)
    doc = src_path.stem
    for k, bead in enumerate(beads, start=1):
        s = [src_sents[i] for i in bead.src]
        t = [mt_sents[j] for j in bead.tgt]
        src_span = [s[0].start, s[-1].end] if s else None
        mt_span = [t[0].start, t[-1].end] if t else None
        src_pos = _field_pos(src_doc, s)
        mt_pos = _field_pos(mt_doc, t)
        anchor = mt_pos or src_pos
        origin = Origin(anchor.path, anchor.line, source_pos=src_pos, mt_pos=mt_pos)
        yield Segment(
            id=f"{doc}:{k}",
            source="".join(x.text for x in s),
            mt=" ".join(x.text for x in t),
            doc=doc,
            metadata={
                "alignment": bead.kind,
                "aligner": used,
                "alignment_cost": round(bead.cost, 4),
                "source_sentences": list(bead.src),
                "mt_sentences": list(bead.tgt),
                "source_span": src_span,
                "mt_span": mt_span,
            },
            origin=origin,
        )
