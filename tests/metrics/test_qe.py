"""The ``qe`` metric and the headline it gives a batch, with a fake QE model (no weights needed)."""

from __future__ import annotations

import pytest

from mtcheck.config import ScoreConfig
from mtcheck.core import Segment
from mtcheck.errors import UsageError
from mtcheck.metrics import METRICS
from mtcheck.metrics.qe import QE, mt_weight
from mtcheck.models.qe import QEPrediction, StackedReference, penalty_to_score


class FakeQE:
    """Penalty = number of '!' in the MT; interval ±1; the reference model adds 10 when MT != reference."""

    name = "fake-qe"
    signature_fields = "model:fake-qe|base:none|top:0"
    reference_mode = "stacked"

    def __init__(self, with_reference=True):
        self.reference_model = StackedReference(("qe",), (1.0,), 0.0) if with_reference else None
        self.calls = []

    def predict(self, sources, mts, batch_size=16):
        self.calls.append(("predict", list(mts)))
        out = []
        for m in mts:
            p = float(m.count("!"))
            out.append(QEPrediction(p, penalty_to_score(p), max(0.0, p - 1), p + 1))
        return out

    def predict_with_reference(self, sources, mts, refs, base=None):
        self.calls.append(("reference", list(refs)))
        out = []
        for p, m, r in zip(base, mts, refs):
            if r is None or r == m:
                out.append(p)
            else:
                q = p.penalty + 10
                out.append(QEPrediction(q, penalty_to_score(q), p.low + 10, p.high + 10))
        return out


@pytest.mark.parametrize("text, weight", [("", 1), ("Hello.", 1), ("Net profit rose 5%.", 4), ("  a  b ", 2)])
def test_mt_weight(text, weight):
    assert mt_weight(text) == weight


def test_segment_outputs_reference_free():
    m = QE(model=FakeQE(), use_references=False)
    out = m.segment_outputs(["Fine.", "Bad!!", "Worse!!!!!"], [[], [], []], ["好。", "坏", "更坏"])
    assert out["qe"] == [100.0, 92.0, 80.0]
    assert out["qe_mqm"] == [-0.0, -2.0, -5.0]
    # 80% interval of the score: the score at the high penalty, and at the low penalty
    assert out["qe_low"] == [96.0, 88.0, 76.0]
    assert out["qe_high"] == [100.0, 96.0, 84.0]
    assert "ref:none" in m.signature()


def test_reference_is_used_where_given():
    fake = FakeQE()
    m = QE(model=fake)
    out = m.segment_outputs(["Same.", "Other."], [["Same."], []], ["同。", "别。"])
    assert out["qe"] == [100.0, 100.0]
    out = m.segment_outputs(["Same.", "Other."], [["Different."], []], ["同。", "别。"])
    assert out["qe"] == [60.0, 100.0]
    assert fake.calls[-1] == ("reference", ["Different.", None])
    assert "ref:stacked" in m.signature()


def test_model_without_reference_part_scores_reference_free():
    m = QE(model=FakeQE(with_reference=False))
    assert m.segment_scores(["Other."], [["Different."]], ["别。"]) == [100.0]


def test_corpus_is_weighted_by_mt_words():
    m = QE(model=FakeQE(), use_references=False)
    hyps = ["One!!!!!", "three words here"]  # scores 80 (1 word) and 100 (3 words)
    cs = m.corpus_score(hyps, [[], []], ["一", "三"])
    assert cs.score == pytest.approx((80 * 1 + 100 * 3) / 4)
    assert cs.n == 2
    assert cs.signature.startswith("metric:QE|model:fake-qe|base:none|top:0|ref:none|agg:mt-words|mtcheck:")


def test_sources_are_required():
    with pytest.raises(UsageError, match="no sources"):
        QE(model=FakeQE()).segment_scores(["x"], [[]], None)


def test_registered():
    assert METRICS["qe"] is QE and QE.model_role == "qe" and not QE.needs_reference


def install_fake(monkeypatch, fake):
    """Make every ``QE`` metric use ``fake`` as its model, and the model registry call it available."""

    def load(self):  # as the real property does: load once, keep it
        self._model = fake
        return fake

    monkeypatch.setattr(QE, "model", property(load))
    import mtcheck.models.registry as registry

    monkeypatch.setattr(registry, "availability", lambda spec: (True, "test"))
    return fake


@pytest.fixture
def fake_qe(monkeypatch):
    return install_fake(monkeypatch, FakeQE())


def test_batch_headline_is_qe_when_it_runs(fake_qe):
    from mtcheck.pipeline import score_batch

    segs = [Segment("a", "你好。", "Hello.", doc="d"), Segment("b", "谢谢！", "Thanks!!!!!", doc="d"),
            Segment("c", "坏", "", doc="e", problem="unreadable line")]
    batch = score_batch(segs, ScoreConfig(metrics=("chrf", "qe"), checks=()))
    assert batch.headline == "qe"
    assert [r.scores["qe"] for r in batch.segments] == [100.0, 80.0, None]
    assert [r.scores["qe_mqm"] for r in batch.segments] == [-0.0, -5.0, None]
    # batch: weights 1 word and 1 word -> mean of 100 and 80
    assert batch.scores["qe"] == pytest.approx(90.0)
    assert batch.scores["qe_mqm"] == pytest.approx(-2.5)
    assert {d.doc: d.scores["qe"] for d in batch.documents} == {"d": pytest.approx(90.0), "e": None}
    assert batch.signatures["qe"].startswith("metric:QE|model:fake-qe")
    assert "mqm_est" in batch.scores  # the rule-based estimate is still reported


def test_batch_headline_without_qe_is_the_rule_estimate():
    from mtcheck.pipeline import score_batch

    batch = score_batch([Segment("a", "你好。", "Hello.")], ScoreConfig(metrics=("chrf",), checks=()))
    assert batch.headline == "mqm_est"


class SpanQE(FakeQE):
    """As FakeQE, and every token containing '!' has error probability 0.9."""

    def predict(self, sources, mts, batch_size=16):
        import regex

        preds = super().predict(sources, mts, batch_size)
        return [QEPrediction(p.penalty, p.score, p.low, p.high,
                             tuple((m.start(), m.end(), 0.9 if "!" in m.group() else 0.1)
                                   for m in regex.finditer(r"\S+", mt)))
                for p, mt in zip(preds, mts)]


def test_model_spans_join_the_findings_unless_a_rule_already_covers_them(monkeypatch):
    from mtcheck.pipeline import score_batch

    install_fake(monkeypatch, SpanQE())
    monkeypatch.setattr(QE, "SPANS_BY_DEFAULT", True)
    segs = [Segment("a", "你好。", "Hello there!"),            # model span on "there!" -> "there"
            Segment("b", "你好", "Hello 你好!")]               # untranslated check covers "你好"
    batch = score_batch(segs, ScoreConfig(metrics=("qe",), checks=("untranslated",)))
    a, b = batch.segments
    assert [(s.start, s.end, s.check) for s in a.spans] == [(6, 11, "qe-spans")]
    assert a.spans[0].severity.value == "major" and "0.90" in a.spans[0].evidence
    assert all(s.check != "qe-spans" for s in b.spans) and b.spans


def test_spans_off():
    m = QE(model=SpanQE(), use_references=False, spans=False)
    m.segment_scores(["Bad!"], [[]], ["坏"])
    assert m.last_spans() is None
    assert QE(model=SpanQE()).spans is False  # off unless asked for
    m = QE(model=SpanQE(), use_references=False, spans=True)
    assert m.last_spans() is None  # nothing scored yet
    m.segment_scores(["Bad!", "Good"], [[], []], ["坏", "好"])
    assert [[(s.start, s.end) for s in spans] for spans in m.last_spans()] == [[(0, 3)], []]


@pytest.mark.parametrize(
    "mt, refs, flagged",
    [
        ("Bad! news", [], [(0, 3)]),
        ("Bad! news", ["Good news"], [(0, 3)]),
        ("Bad! news", ["Good news", "Bad! news"], []),      # one reference says the words are right
        ("Bad!  news ", ["Bad! news"], []),                 # spacing aside
        ("Bad! news", ["bad! news"], [(0, 3)]),             # case is a difference
    ],
)
def test_no_model_spans_on_an_mt_its_reference_confirms(mt, refs, flagged):
    m = QE(model=SpanQE(with_reference=False), spans=True)
    m.segment_scores([mt], [refs], ["坏消息"])
    assert [(s.start, s.end) for s in m.last_spans()[0]] == flagged


def test_findings_are_folded_into_the_score(monkeypatch):
    from mtcheck.pipeline import score_batch

    fake = FakeQE()
    fake.config = {"rule_weight": 0.5}
    install_fake(monkeypatch, fake)
    # b: empty MT -> the empty check's critical finding (25 points) -> penalty 0 + 0.5 * 25 = 12.5
    segs = [Segment("a", "你好。", "Hello!", doc="d"), Segment("b", "谢谢。", "", doc="d")]
    batch = score_batch(segs, ScoreConfig(metrics=("qe",), checks=("empty",)))
    a, b = batch.segments
    assert (a.scores["qe_mqm"], a.scores["qe"]) == (-1.0, 96.0)          # no finding: the model's own
    assert (b.scores["qe_mqm"], b.scores["qe"]) == (-12.5, 50.0)
    assert (b.scores["qe_low"], b.scores["qe_high"]) == (46.0, 50.0)     # 96 - 50 and 100 - 50
    assert "|rules:0.5|" in batch.signatures["qe"]


def test_no_rule_weight_leaves_outputs_alone():
    m = QE(model=FakeQE())
    out = {"qe": [100.0], "qe_mqm": [-0.0], "qe_low": [96.0], "qe_high": [100.0]}
    assert m.with_findings(out, [25.0]) == out
