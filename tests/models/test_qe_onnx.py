"""The onnxruntime engine of the QE network: same numbers as PyTorch, a cache that is safe to reuse, clear choices.

Runs on the tiny one-layer e5 model of the encoder tests and the tiny QE
networks of ``test_qe.py``; the expected values are PyTorch's own outputs.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from mtcheck.errors import ModelUnavailableError  # noqa: E402
from mtcheck.models import qe, qe_onnx  # noqa: E402
from tests.models.test_encoder import tiny, tiny_file  # noqa: E402,F401
from tests.models.test_qe import saved, with_reference_net  # noqa: E402,F401

needs_ort = pytest.mark.skipif(qe_onnx.onnx_missing() is not None, reason="onnxruntime/onnx not installed")

# Different lengths in one batch, so that padding is exercised; one all-Han MT.
PAIRS = [("公司利润", "net profit"), ("公司", "profit AB"), ("利润。", "net"), ("公司利润。", "公司")]


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    from mtcheck.models import encoder

    monkeypatch.setenv(encoder.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(qe_onnx.ENGINE_ENV, raising=False)
    return tmp_path / "cache" / "qe-onnx"


def _load(directory, tiny, **kw):
    return qe.load_qe_dir(directory, name="tiny-qe", encoder=tiny, **kw)


@needs_ort
def test_onnx_predicts_what_torch_predicts(tiny, with_reference_net, cache):
    directory, _ = with_reference_net
    ref = _load(directory, tiny, engine="torch")
    got = _load(directory, tiny, engine="onnx")
    assert (ref.engine, got.engine) == ("torch", "onnx")
    srcs, mts = [s for s, _ in PAIRS], [m for _, m in PAIRS]
    refs = ["the profit", None, "net", "profit"]
    for a, b in zip(ref.predict(srcs, mts, batch_size=3), got.predict(srcs, mts, batch_size=3)):
        assert b.penalty == pytest.approx(a.penalty, abs=1e-4)
        assert (b.low, b.high) == pytest.approx((a.low, a.high), abs=1e-4)
        assert [(x, y) for x, y, _ in b.token_bad] == [(x, y) for x, y, _ in a.token_bad]
        assert [p for *_, p in b.token_bad] == pytest.approx([p for *_, p in a.token_bad], abs=2e-4)
    # the reference cross-encoder runs on the same engine
    a = ref.predict_with_reference(srcs, mts, refs)
    b = got.predict_with_reference(srcs, mts, refs)
    assert [x.penalty for x in b] == pytest.approx([x.penalty for x in a], abs=1e-4)
    assert isinstance(got._ref_net, qe_onnx.OnnxQENet)
    assert got.signature_fields == "model:tiny-qe|base:tiny-e5|top:1|engine:ort"
    assert ref.signature_fields == "model:tiny-qe|base:tiny-e5|top:1"
    assert len(list(cache.glob("qe-*.onnx"))) == 2  # one graph per network


@needs_ort
def test_the_cached_graph_is_reused_and_a_changed_network_is_not(tiny, saved, cache, monkeypatch):
    directory, net = saved
    first = _load(directory, tiny, engine="onnx").predict(["公司"], ["net profit"])[0]
    (path,) = cache.glob("qe-*.onnx")

    def no_export(*args, **kw):
        raise AssertionError("exported again")

    export = qe_onnx.export_graph
    monkeypatch.setattr(qe_onnx, "export_graph", no_export)
    again = _load(directory, tiny, engine="onnx").predict(["公司"], ["net profit"])[0]
    assert again.penalty == first.penalty
    monkeypatch.setattr(qe_onnx, "export_graph", export)
    # other trained weights: another digest, another graph, other numbers
    with torch.no_grad():
        net.seg_head[-1].bias.add_(torch.tensor([0.4, 0.0, 0.0]))
    qe.save_qe(directory, net, {"base": "tiny-e5", "n_top": 1, "hidden_head": 8, "unit": 5.0})
    changed = _load(directory, tiny, engine="onnx")
    assert changed._net.path != path
    assert changed.predict(["公司"], ["net profit"])[0].penalty == pytest.approx(first.penalty + 2.0, abs=2e-2)


@needs_ort
def test_each_layers_attention_is_fused_and_the_shared_layers_are_left_as_they_were(tiny, saved, cache):
    import onnx

    directory, _ = saved
    before = tiny._model.config._attn_implementation
    model = _load(directory, tiny, engine="onnx")
    ops = [n.op_type for n in onnx.load(str(model._net.path)).graph.node]
    # One Attention operator per layer the network runs (the tiny base has one), no loose Softmax.
    assert ops.count("Attention") == model._net._net.depth == 1
    assert "Softmax" not in ops
    assert tiny._model.config._attn_implementation == before  # the encoder the metrics share


@needs_ort
def test_a_damaged_cached_graph_is_rebuilt(tiny, saved, cache):
    directory, _ = saved
    want = _load(directory, tiny, engine="onnx").predict(["公司"], ["net profit"])[0].penalty
    (path,) = cache.glob("qe-*.onnx")
    path.write_bytes(b"not an onnx graph")
    model = _load(directory, tiny, engine="onnx")
    assert model.predict(["公司"], ["net profit"])[0].penalty == pytest.approx(want, abs=1e-6)
    assert path.stat().st_size > 1000


@needs_ort
def test_int8_graph_stays_close_and_is_named(tiny, saved, cache):
    directory, _ = saved
    full = _load(directory, tiny, engine="onnx").predict(*zip(*PAIRS))
    model8 = _load(directory, tiny, engine="onnx", int8=True)
    assert model8.name == "tiny-qe-int8" and model8.engine == "onnx"
    assert model8._net.path.name.endswith("-int8.onnx")
    for a, b in zip(full, model8.predict(*zip(*PAIRS))):
        assert b.penalty == pytest.approx(a.penalty, abs=0.5)  # random tiny weights: a loose bound


@pytest.mark.parametrize("value, engine", [("", "auto"), ("torch", "torch"), (" ONNX ", "onnx"), ("auto", "auto")])
def test_engine_from_the_environment(monkeypatch, value, engine):
    monkeypatch.setenv(qe_onnx.ENGINE_ENV, value)
    assert qe_onnx.requested_engine() == engine


def test_unknown_engine_is_a_clear_error(tiny, saved, monkeypatch):
    directory, _ = saved
    monkeypatch.setenv(qe_onnx.ENGINE_ENV, "tensorrt")
    with pytest.raises(ModelUnavailableError, match=r"MTCHECK_QE_ENGINE='tensorrt': expected one of auto, onnx, torch"):
        _load(directory, tiny)


def test_without_onnxruntime_auto_runs_torch_and_onnx_says_why(tiny, saved, cache, monkeypatch):
    directory, _ = saved
    monkeypatch.setattr(qe_onnx, "onnx_missing", lambda: "No module named 'onnxruntime' (pip install onnxruntime onnx)")
    model = _load(directory, tiny)
    assert model.engine == "torch" and model.signature_fields == "model:tiny-qe|base:tiny-e5|top:1"
    with pytest.raises(ModelUnavailableError, match="QE engine onnx: No module named 'onnxruntime'"):
        _load(directory, tiny, engine="onnx")


@needs_ort
def test_a_failed_export_falls_back_in_auto_and_fails_in_onnx(tiny, saved, cache, monkeypatch):
    directory, _ = saved
    want = _load(directory, tiny, engine="torch").predict(["公司"], ["net profit"])[0].penalty

    def broken(net, path, *, int8=False):
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(qe_onnx, "export_graph", broken)
    with pytest.warns(qe_onnx.EngineFallbackWarning, match="exporter exploded; running the QE network in PyTorch"):
        model = _load(directory, tiny)
    assert model.engine == "torch"
    assert model.predict(["公司"], ["net profit"])[0].penalty == want
    with pytest.raises(ModelUnavailableError, match=r"could not export the network to .*qe-.*\.onnx: RuntimeError"):
        _load(directory, tiny, engine="onnx")
    assert not list(cache.glob("*.onnx"))


@needs_ort
def test_int8_falls_back_to_torch_quantisation(tiny, saved, cache, monkeypatch):
    directory, _ = saved
    monkeypatch.setattr(qe_onnx, "export_graph", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no")))
    with pytest.warns(qe_onnx.EngineFallbackWarning):
        model = _load(directory, tiny, int8=True)
    assert model.engine == "torch"
    assert any(m.__class__.__module__.startswith("torch.ao.nn.quantized") for m in model._net.modules())
