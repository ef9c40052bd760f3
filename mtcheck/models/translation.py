"""The translator interface: generate a translation, or score a given one token by token.

A second translation model gives a checker without references two things:

* **generation** — back-translate the English MT into Chinese and compare it
  with the source, or translate the source into a pseudo-reference;
* **scoring** — how likely the model finds this MT for this source
  (forced decoding, the Prism approach), which needs no generation and is
  much cheaper.

Every backend (Hugging Face seq2seq and causal models, an OpenAI-compatible
HTTP endpoint) implements :class:`Translator`. Languages are ISO 639-1 codes
(``"zh"``, ``"en"``). :class:`CachedTranslator` wraps any backend so that a
text is generated once per (model, direction) — in memory, and on disk when
given a directory — since generation is by far the slowest thing mtcheck does.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

from mtcheck import progress
from mtcheck.errors import MtcheckError
from mtcheck.progress import Progress

LANGUAGES = {"zh": "Chinese", "en": "English"}
#: Forced-decoding results a :class:`CachedTranslator` keeps in memory (then it starts afresh).
SCORE_MEMORY = 20000


#: Texts generated per call to the backend by :class:`CachedTranslator` (then saved, then progress).
GENERATION_SLICE = 8


class TranslatorError(MtcheckError):
    """A translator could not translate or score (unreachable endpoint, bad response, unknown language)."""


@dataclass(frozen=True)
class TokenScores:
    """Per-token log-probabilities of a target text under a model.

    Attributes:
        text: The scored text.
        tokens: The model's tokens, as text.
        logprobs: Natural-log probability of each token given what precedes it.
        offsets: ``(start, end)`` character offsets of each token in ``text``
            (``start == end`` for a token that covers no character of it,
            e.g. an end-of-sequence token).
        truncated: Whether the text was longer than the model reads and only
            its start was scored.
    """

    text: str
    tokens: tuple[str, ...]
    logprobs: tuple[float, ...]
    offsets: tuple[tuple[int, int], ...]
    truncated: bool = False

    @property
    def total(self) -> float:
        return math.fsum(self.logprobs)

    @property
    def mean(self) -> float | None:
        return self.total / len(self.logprobs) if self.logprobs else None

    @property
    def minimum(self) -> float | None:
        return min(self.logprobs) if self.logprobs else None


@runtime_checkable
class Translator(Protocol):
    """What every translation backend offers.

    Attributes:
        name: Identifies the model in signatures (``model:<name>``).
    """

    name: str

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        """Translate each text; one output per input, in order."""
        ...

    def score(self, sources: Sequence[str], targets: Sequence[str], src_lang: str,
              tgt_lang: str) -> list[TokenScores]:
        """Forced decoding: log P(target | source) token by token, one result per pair."""
        ...


def check_language(code: str) -> str:
    """``code`` if mtcheck knows it, else a :class:`TranslatorError` naming the known ones."""
    if code not in LANGUAGES:
        raise TranslatorError(f"unknown language {code!r}; expected one of {', '.join(LANGUAGES)}")
    return code


class CachedTranslator:
    """A translator whose generations are remembered per (model, direction, text).

    Forced-decoding scores are remembered in memory only, for the last
    :data:`SCORE_MEMORY` pairs, since several metrics score the same pairs.
    The disk cache is one JSON Lines file per model and direction, appended
    to every :data:`GENERATION_SLICE` translations, so an interrupted run
    keeps what it generated. A corrupt line (an interrupted write) is
    skipped. Progress goes to :func:`mtcheck.progress.report`.

    Args:
        inner: The backend.
        cache_dir: Directory for the disk cache; ``None`` keeps it in memory only.
    """

    def __init__(self, inner: Translator, cache_dir: str | os.PathLike | None = None):
        self.inner = inner
        self.name = inner.name
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._memory: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()
        self._scores: dict[tuple[str, str, str, str], TokenScores] = {}
        self.hits = 0
        self.misses = 0

    def _file(self, src_lang: str, tgt_lang: str) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(self.name.encode("utf-8")).hexdigest()[:16]
        return self.cache_dir / f"{digest}-{src_lang}-{tgt_lang}.jsonl"

    def _table(self, src_lang: str, tgt_lang: str) -> dict[str, str]:
        key = (src_lang, tgt_lang)
        if key not in self._memory:
            table: dict[str, str] = {}
            path = self._file(src_lang, tgt_lang)
            if path is not None and path.exists():
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        try:
                            rec = json.loads(line)
                            table[rec["text"]] = rec["translation"]
                        except (ValueError, KeyError, TypeError):
                            continue
            self._memory[key] = table
        return self._memory[key]

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        check_language(src_lang)
        check_language(tgt_lang)
        with self._lock:
            table = self._table(src_lang, tgt_lang)
            todo = list(dict.fromkeys(t for t in texts if t not in table))
        missing = set(todo)
        self.hits += sum(1 for t in texts if t not in missing)
        self.misses += len(todo)
        start = time.monotonic()
        # Slice by slice: each slice is on disk before the next starts (an interrupted run keeps
        # it), and the progress hook can give an estimate of the time left.
        for k in range(0, len(todo), GENERATION_SLICE):
            part = todo[k:k + GENERATION_SLICE]
            made = self.inner.translate(part, src_lang, tgt_lang)
            if len(made) != len(part):
                raise TranslatorError(f"{self.name} returned {len(made)} translations for {len(part)} texts")
            with self._lock:
                table.update(zip(part, made))
                path = self._file(src_lang, tgt_lang)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with open(path, "a", encoding="utf-8") as fh:
                        for text, out in zip(part, made):
                            fh.write(json.dumps({"text": text, "translation": out}, ensure_ascii=False) + "\n")
            progress.report(Progress(f"{self.name} {src_lang}→{tgt_lang}", k + len(part), len(todo),
                                     time.monotonic() - start))
        return [table[t] for t in texts]

    def score(self, sources: Sequence[str], targets: Sequence[str], src_lang: str,
              tgt_lang: str) -> list[TokenScores]:
        """Forced decoding, remembered for the last :data:`SCORE_MEMORY` pairs (``tm_logprob`` and
        ``tm_pmi`` both need log P(MT | source) of the same pairs)."""
        check_language(src_lang)
        check_language(tgt_lang)
        keys = [(src_lang, tgt_lang, s, t) for s, t in zip(sources, targets)]
        with self._lock:
            found = {k: self._scores[k] for k in keys if k in self._scores}
        todo = list(dict.fromkeys(k for k in keys if k not in found))
        if todo:
            made = self.inner.score([k[2] for k in todo], [k[3] for k in todo], src_lang, tgt_lang)
            if len(made) != len(todo):
                raise TranslatorError(f"{self.name} returned {len(made)} scores for {len(todo)} pairs")
            found.update(zip(todo, made))
            with self._lock:
                if len(self._scores) + len(todo) > SCORE_MEMORY:
                    self._scores.clear()
                self._scores.update(zip(todo, made))
        return [found[k] for k in keys]
