"""The GPU fine-tuning path (:mod:`mtcheck.models.qe_full`, ``scripts/qe_gpu.py``) on the tiny E5S1 model."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from mtcheck.models import qe  # noqa: E402
from mtcheck.models import qe_full as qf  # noqa: E402
from mtcheck.models.encoder import _e5_state_dict, _read_e5_file  # noqa: E402
from mtcheck.models.qe_train import Example, TrainConfig  # noqa: E402
from tests.conftest import import_script  # noqa: E402
from tests.models.test_encoder import ID, VOCAB_ROWS  # noqa: E402
from tests.models.test_encoder import tiny, tiny_file  # noqa: E402,F401

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------
# The packed base


def test_pack_keeps_the_chosen_rows_and_every_other_tensor_exactly(tiny_file):
    path, _ = tiny_file
    f = _read_e5_file(path)
    rows = np.array([ID["<s>"], ID["<pad>"], ID["</s>"], ID["▁net"], ID["利润"]])
    arrays, meta = qf.pack_e5(f, rows)
    packed = qf.unpack_e5(arrays, meta)
    full = _e5_state_dict(f)
    assert set(packed) == set(full)
    for name, value in full.items():
        want = value[rows] if name == "embeddings.word_embeddings.weight" else value
        assert packed[name].shape == want.shape, name
        assert np.array_equal(packed[name], want), name  # the same 4-bit decode, bit for bit
    assert meta["bert"]["vocab_size"] == 5
    assert meta["bert"]["pad_token_id"] == 1  # <pad> is the second kept row
    assert arrays["emb.word"].nbytes * VOCAB_ROWS == f.tensors["emb.word"][3] * 5


def test_decode_4bit_vector_and_matrix_alike():
    from mtcheck.models.encoder import decode_e5_tensor
    from tests.models.test_encoder import _q4_bytes

    q = np.arange(64, dtype=np.int64).reshape(2, 32) % 16
    raw = _q4_bytes(q, np.array([[0.5], [0.25]]))
    matrix = decode_e5_tensor(raw, 1, (2, 32))
    assert matrix[0, :3].tolist() == [-4.0, -3.5, -3.0]  # (nibble - 8) * scale
    assert np.array_equal(decode_e5_tensor(raw, 1, (64,)), matrix.reshape(-1))
    with pytest.raises(Exception, match="dtype code 7"):
        decode_e5_tensor(raw, 7, (2, 32), "x")


def test_pack_needs_the_padding_row(tiny_file):
    f = _read_e5_file(tiny_file[0])
    with pytest.raises(ValueError, match="padding"):
        qf.pack_e5(f, np.array([ID["<s>"], ID["</s>"]]))


def _toy(tiny, n=24):
    out = []
    for k in range(n):
        bad = k % 2 == 0
        e = qe.encode_pair(tiny._tokenize, "公司利润", "net AB" if bad else "net profit")
        targets = tuple(1.0 if bad and j == len(e.mt_positions) - 1 else 0.0 for j in range(len(e.mt_positions)))
        out.append(Example(("toy", f"s{k % 3}", k // 3), e, 5.0 if bad else 0.0, targets if k % 4 else None))
    return out


def _compact(tiny, tiny_file, examples):
    f = _read_e5_file(tiny_file[0])
    used = sorted({t for e in examples for t in e.enc.ids} | {f.pad})
    remap = np.full(f.vocab, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    arrays, meta = qf.pack_e5(f, np.array(used))
    return arrays, meta, remap


def test_packed_base_computes_what_the_full_model_computes(tiny, tiny_file):
    exs = _toy(tiny, 4)
    arrays, meta, remap = _compact(tiny, tiny_file, exs)
    small = qf.build_base(arrays, meta)
    assert not any(p.requires_grad for p in small.parameters())
    flat = qf.FlatSplit.from_examples(exs, remap)
    b_small = flat.batch(range(4), meta["bert"]["pad_token_id"])
    b_full = qe.pad_batch([e.enc for e in exs], tiny._pad_id)
    with torch.no_grad():
        a = small(input_ids=b_small["ids"], attention_mask=b_small["mask"]).last_hidden_state
        b = tiny._model(input_ids=b_full["ids"], attention_mask=b_full["mask"]).last_hidden_state
    m = b_full["mask"].bool()
    assert torch.allclose(a[m], b[m], atol=1e-5)


# ---------------------------------------------------------------------------
# Flat examples


def test_flat_batch_matches_pad_batch_and_the_targets(tiny):
    exs = _toy(tiny, 6)
    flat = qf.FlatSplit.from_examples(exs)
    idx = [4, 1, 2]
    got = flat.batch(idx, tiny._pad_id)
    want = qe.pad_batch([exs[i].enc for i in idx], tiny._pad_id)
    for k in ("ids", "mask", "src_mask", "mt_mask"):
        assert torch.equal(got[k], want[k]), k
    assert got["y"].tolist() == [exs[i].penalty / 5.0 for i in idx]
    for r, i in enumerate(idx):
        pos = list(exs[i].enc.mt_positions)
        if exs[i].token_targets is None:
            assert got["tok_m"][r].sum() == 0
        else:
            assert got["tok_m"][r, pos].tolist() == [1.0] * len(pos)
            assert got["tok_t"][r, pos].tolist() == list(exs[i].token_targets)
    # the systems' outputs of one source share a group, other sources do not
    assert got["group"][1] == got["group"][2] != got["group"][0]


def test_synthetic_examples_join_their_item_and_can_be_rank_only(tiny):
    import types

    long_mt = "The company said its net profit rose 12% to 350 million yuan this year ."
    ds = types.SimpleNamespace(items=[types.SimpleNamespace(system=s, item=i, source="公司利润", mt=long_mt)
                                      for i in (3, 4) for s in ("A", "B", "C")])
    encs = [qe.encode_pair(tiny._tokenize, it.source, it.mt) for it in ds.items]
    train = [Example(("nt", it.system, it.item), e, 1.0, (0.0,) * len(e.mt_positions))
             for it, e in zip(ds.items, encs)]
    syn = qf.synthetic_examples(ds, train, tiny._tokenize, 128, seed=5, per_item=2)
    assert len(syn) == 4
    for e in syn:
        assert e.key[0] == "nt" and e.key[1].split("*")[0] in "ABC" and e.key[1].split("*")[1] in qf.CORRUPTIONS
        assert e.penalty == 1.0 + qf.SYNTHETIC_PENALTY and e.token_targets is None and not e.rank_only
    for item in (3, 4):  # two different systems' outputs per item
        assert len({e.key[1].split("*")[0] for e in syn if e.key[2] == item}) == 2
    again = qf.synthetic_examples(ds, train, tiny._tokenize, 128, seed=5, per_item=2, rank_only=True)
    assert [e.key for e in again] == [e.key for e in syn] and all(e.rank_only for e in again)
    flat = qf.FlatSplit.from_examples(train[:1] + again[:1])
    assert flat.batch([0, 1], tiny._pad_id)["reg_w"].tolist() == [1.0, 0.0]


def test_flat_arrays_round_trip_concat_and_head(tiny):
    exs = _toy(tiny, 7)
    a, b = qf.FlatSplit.from_examples(exs[:3]), qf.FlatSplit.from_examples(exs[3:])
    whole = qf.FlatSplit.from_examples(exs)
    joined = qf.FlatSplit.concat([a, b])
    back = qf.FlatSplit.from_arrays(whole.to_arrays("x"), "x")
    head = whole.head(3)
    for k in ("ids", "off", "src", "src_off", "mt", "mt_off", "tok", "has_tok", "penalty", "group", "system"):
        assert np.array_equal(getattr(joined, k), getattr(whole, k)), k
        assert np.array_equal(getattr(back, k), getattr(whole, k)), k
        assert np.array_equal(getattr(head, k), getattr(a, k)), k
    assert len(whole.head(100)) == 7


def test_group_id_is_stable_across_processes():
    import subprocess

    code = "from mtcheck.models.qe_full import group_id; print(group_id('newstest2020', 7))"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                           env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout for seed in ("1", "2")}
    assert runs == {f"{qf.group_id('newstest2020', 7)}\n"}


# ---------------------------------------------------------------------------
# Synthetic negatives

MT = "The company's net profit rose 12% to 350 million yuan in the third quarter of 2020 ."


@pytest.mark.parametrize("seed", range(20))
def test_omission_deletes_one_run_of_words(seed):
    words = MT.split()
    out = qf.corrupt(MT, "omission", random.Random(seed)).split()
    gone = len(words) - len(out)
    assert 3 <= gone <= round(len(words) * 0.5)
    starts = [s for s in range(len(words) - gone + 1) if words[:s] + words[s + gone:] == out]
    assert starts


@pytest.mark.parametrize("seed", range(20))
def test_garble_shuffles_a_short_run_in_place(seed):
    words = MT.split()
    out = qf.corrupt(MT, "garble", random.Random(seed)).split()
    changed = [i for i, (a, b) in enumerate(zip(words, out)) if a != b]
    assert out != words and sorted(out) == sorted(words)
    assert changed[-1] - changed[0] < 8


@pytest.mark.parametrize("seed", range(20))
def test_number_changes_one_digit(seed):
    out = qf.corrupt(MT, "number", random.Random(seed))
    diff = [i for i, (a, b) in enumerate(zip(MT, out)) if a != b]
    assert len(out) == len(MT) and len(diff) == 1
    assert MT[diff[0]].isdigit() and out[diff[0]].isdigit()


@pytest.mark.parametrize("mt, kind", [
    ("Net profit rose sharply .", "omission"),       # too short to lose a clause
    ("Net profit rose sharply .", "garble"),
    ("Net profit rose sharply this year , the company said .", "number"),  # no number
    ("yes yes yes yes yes yes yes yes", "garble"),    # shuffling changes nothing
])
def test_corruption_that_does_not_apply_is_none(mt, kind):
    assert qf.corrupt(mt, kind, random.Random(0)) is None


@pytest.mark.parametrize("mt", [MT, "Too short ."])
def test_unknown_corruption_is_refused(mt):
    with pytest.raises(ValueError, match="omission"):
        qf.corrupt(mt, "typo", random.Random(0))


def test_number_never_gets_a_leading_zero():
    outs = {qf.corrupt("It cost 12 yuan .", "number", random.Random(s)) for s in range(60)}
    assert not any(o.startswith("It cost 0") for o in outs)
    assert any(o.startswith("It cost 1") for o in outs) and any(not o.startswith("It cost 1") for o in outs)
    # a one-digit number may become 0: that is a number, not a leading zero
    singles = {qf.corrupt("It cost 5 yuan .", "number", random.Random(s)) for s in range(60)}
    assert "It cost 0 yuan ." in singles


# ---------------------------------------------------------------------------
# Training


def test_fit_learns_the_toy_task_through_the_whole_network(tiny):
    exs = _toy(tiny)
    flat = qf.FlatSplit.from_examples(exs)
    torch.manual_seed(7)
    net = qe.build_net(tiny._model, 1, hidden_head=8)
    cfg = TrainConfig(n_top=1, epochs=15, batch_size=8, lr_layers=1e-3, lr_head=1e-2, hidden_head=8)
    seen = []
    hist = qf.fit(net, flat, cfg, tiny._pad_id, evaluate=lambda m, e: seen.append(e) or {"e": e})
    assert [h["epoch"] for h in hist] == list(range(1, 16)) == seen
    assert hist[-1]["mse"] < hist[0]["mse"]
    seg, tok = qf.predict(net, flat, tiny._pad_id, batch_size=5)
    bad = [s[0] for e, s in zip(exs, seg) if e.penalty > 0]
    good = [s[0] for e, s in zip(exs, seg) if e.penalty == 0]
    assert min(bad) > max(good)
    assert tok.shape == flat.mt.shape and ((tok >= 0) & (tok <= 1)).all()
    # predict() agrees with the path mtcheck scores with
    b = qe.pad_batch([exs[0].enc], tiny._pad_id)
    with torch.no_grad():
        raw, _ = net.upper(net.lower(b["ids"], b["mask"]), b["mask"], b["src_mask"], b["mt_mask"])
    assert seg[0].tolist() == pytest.approx(qe.decode_segment((raw[0] * 5.0).tolist()), abs=1e-4)


def test_ranking_epochs_batch_whole_items(tiny, monkeypatch):
    exs = _toy(tiny)
    flat = qf.FlatSplit.from_examples(exs)
    seen = []
    real = qf.FlatSplit.batch

    def spy(self, idx, pad_id, device="cpu"):
        seen.append(sorted(self.group[list(idx)].tolist()))
        return real(self, idx, pad_id, device)

    monkeypatch.setattr(qf.FlatSplit, "batch", spy)
    net = qe.build_net(tiny._model, 1, hidden_head=8)
    cfg = TrainConfig(n_top=1, epochs=1, rank_weight=1.0, items_per_batch=2, hidden_head=8)
    hist = qf.fit(net, flat, cfg, tiny._pad_id)
    assert hist[0]["rank"] > 0
    groups = flat.group.tolist()
    for batch in seen:
        assert len(set(batch)) <= 2
        for g in set(batch):
            assert batch.count(g) == groups.count(g)  # every output of the source is there


# ---------------------------------------------------------------------------
# The script, end to end on a tiny pack


@pytest.fixture()
def qe_gpu():
    return import_script("qe_gpu")


def test_train_report_and_install_on_a_tiny_pack(tiny, tiny_file, qe_gpu, tmp_path, monkeypatch, capsys):
    exs = _toy(tiny)
    splits = {"train": exs[:12], "calib": exs[12:18], "newstest2021": exs[18:], "ted": exs[18:],
              "synthetic": exs[:3]}
    arrays, meta, remap = _compact(tiny, tiny_file, exs)
    pack = tmp_path / "pack"
    pack.mkdir()
    np.savez(pack / "base.npz", **arrays)
    np.savez_compressed(pack / "pack.npz", **{k: v for n, s in splits.items()
                                              for k, v in qf.FlatSplit.from_examples(s, remap).to_arrays(n).items()})
    np.save(pack / "vocab.npy", np.flatnonzero(remap >= 0))
    (pack / "meta.json").write_text(json.dumps({
        "splits": sorted(splits), "counts": {k: len(v) for k, v in splits.items()}, "base": meta,
        "pad_id": int(remap[tiny._pad_id]), "max_side": 128, "calibration_fraction": 0.15, "seed": 13,
        "encoder": "tiny-e5"}))
    monkeypatch.setattr(qe_gpu, "SWEEP", (qe_gpu.Sweep("a", n_top=1, synthetic=True, synthetic_rank_only=True),
                                          qe_gpu.Sweep("b", n_top=1, extra=("ted",)),
                                          qe_gpu.Sweep("c", n_top=1, lr_layers=1e-4)))
    out = tmp_path / "out"
    assert qe_gpu.main(["train", "--out", str(out), "--pack", str(pack), "--cpu", "--quick"]) == 0
    res = json.loads((out / "results.json").read_text())
    by = {c["sweep"]["name"]: c for c in res["configs"]}
    assert by["a"]["train_examples"] == 15 and by["b"]["train_examples"] == 18
    assert [h["epoch"] for h in by["a"]["history"]] == [1, 2]
    assert "ted" not in by["b"]["history"][0] and "ted" in by["a"]["history"][0]
    assert "weights" not in by["b"]  # trained on a dev set: never shipped
    assert all("weights" in by[n] for n in ("a", "c"))
    with np.load(out / "preds.npz") as z:
        assert z["a|calib"].shape == (6, 3) and "b|ted" not in z.files
    capsys.readouterr()
    assert qe_gpu.main(["report", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| b | nt2020+ted |" in table and "(trained on)" in table
    assert "| a | nt2020+synthetic (ranking only) |" in table

    # install: the tiny encoder stands in for e5-small-q4
    import train_qe

    monkeypatch.setattr("mtcheck.models.registry.get_model", lambda name: tiny)
    monkeypatch.setattr(train_qe, "fit_reference_model", lambda *a: {"features": [], "coef": [], "intercept": 0.0})
    monkeypatch.setattr("mtcheck.metaeval.loaders.load_mqm_newstest2020", lambda root: None)
    model_dir = tmp_path / "model"
    assert qe_gpu.main(["install", str(out), "--config", "a", "--pack", str(pack), "--out", str(model_dir)]) == 0
    printed = capsys.readouterr().out
    assert "parity on 6 calibration pairs" in printed
    parity = float(printed.split("Pearson ")[1].split(",")[0])
    assert parity > 0.999
    loaded = qe.load_qe_dir(model_dir, name="t", encoder=tiny)
    cfg = json.loads((model_dir / "config.json").read_text())
    assert cfg["n_top"] == 1 and cfg["train"]["synthetic"] is True
    assert len(loaded.predict(["公司利润"], ["net AB"])) == 1
    assert torch.is_grad_enabled()  # install leaves no global state behind
    assert qe_gpu.main(["install", str(out), "--config", "b", "--pack", str(pack), "--out", str(model_dir)]) == 2
    assert "no weights for 'b'" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# scripts/bench_qe_contrast.py


@pytest.mark.parametrize("good, bad, share, drop", [
    ([3.0, 2.0], [1.0, 1.0], 1.0, 1.5),     # both lower
    ([3.0, 2.0], [3.0, 5.0], 0.25, -1.5),   # a tie (one half) and a rise
    ([0.0], [0.0], 0.5, 0.0),
])
def test_contrast_agreement(good, bad, share, drop):
    agreement = import_script("bench_qe_contrast").agreement
    assert agreement(good, bad) == (pytest.approx(share), pytest.approx(drop))


def test_contrast_pairs_take_one_output_per_item():
    import types

    pairs = import_script("bench_qe_contrast").pairs
    items = [types.SimpleNamespace(item=i, system=s, mt=MT if i else "Too short , no digits .")
             for i in range(3) for s in ("A", "B")]
    made = pairs(items, seed=1)
    assert [k for k, _it, _b in made] == ["omission", "garble", "number"] * 2  # item 0 fits none
    for item in (1, 2):
        assert len({it.system for _k, it, _b in made if it.item == item}) == 1
    assert all(b != it.mt for _k, it, b in made)
    assert pairs(items, seed=1) == made
