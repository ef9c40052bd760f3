"""Translation-model signals on a fake translator whose outputs and log-probabilities are fixed by hand."""

import json

import pytest
import sacrebleu
from typer.testing import CliRunner

import mtcheck
import mtcheck.metrics.translation as tm
from mtcheck.config import neural_metrics
from mtcheck.metrics import METRICS, get_metric
from mtcheck.models.translation import TokenScores

EN_ZH = {"Revenue rose 12%.": "营收增长12%。", "Profit fell.": "利润下降。"}
ZH_EN = {"营收增长12%。": "Revenue grew 12%.", "利润下降了。": "Profit fell."}


class FakeTranslator:
    """Fixed translations; a target token is a whitespace-separated word (or one Han character)
    with log-probability -len(token)/10 given a source, -len(token)/5 without one."""

    def __init__(self, name="fake-tm"):
        self.name = name
        self.calls = []

    def translate(self, texts, src_lang, tgt_lang):
        self.calls.append(("translate", src_lang, tgt_lang, tuple(texts)))
        table = EN_ZH if (src_lang, tgt_lang) == ("en", "zh") else ZH_EN
        return [table.get(t, "") for t in texts]

    @staticmethod
    def _tokens(text, per_char):
        toks, pos = [], 0
        for piece in (list(text) if per_char else text.split()):
            start = text.index(piece, pos)
            toks.append((piece, start, start + len(piece)))
            pos = start + len(piece)
        return toks

    def _score(self, target, lang, scale):
        toks = self._tokens(target, per_char=(lang == "zh"))
        return TokenScores(target, tuple(t for t, _, _ in toks), tuple(-len(t) / scale for t, _, _ in toks),
                           tuple((a, b) for _, a, b in toks))

    def score(self, sources, targets, src_lang, tgt_lang):
        self.calls.append(("score", src_lang, tgt_lang, tuple(targets)))
        return [self._score(t, tgt_lang, 10) for t in targets]

    def score_unconditional(self, targets, tgt_lang):
        return [self._score(t, tgt_lang, 5) for t in targets]


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MTCHECK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tm, "_CACHED", {})


HYPS = ["Revenue rose 12%.", "Profit fell.", ""]
SRCS = ["营收增长12%。", "利润下降了。", "你好"]
REFS = [[], [], []]


def test_backtranslation_chrf_is_chrf_of_the_backtranslation_against_the_source():
    fake = FakeTranslator()
    m = get_metric("bt_chrf", translator=fake)
    chrf = sacrebleu.CHRF()
    expected = [chrf.sentence_score("营收增长12%。", ["营收增长12%。"]).score,      # 100: it comes back whole
                chrf.sentence_score("利润下降。", ["利润下降了。"]).score,
                None]                                                          # empty MT: no score
    assert m.segment_scores(HYPS, REFS, SRCS) == pytest.approx(expected)
    assert expected[0] == pytest.approx(100.0) and expected[1] < 100
    corpus = m.corpus_score(HYPS, REFS, SRCS)
    assert corpus.score == pytest.approx(chrf.corpus_score(["营收增长12%。", "利润下降。"],
                                                          [["营收增长12%。", "利润下降了。"]]).score)
    assert corpus.signature.startswith("metric:BT-chrF|nrefs:1|") and "|model:fake-tm|mtcheck:" in corpus.signature


def test_generations_are_made_once_per_text_and_kept_on_disk(tmp_path):
    fake = FakeTranslator()
    m = get_metric("bt_chrf", translator=fake)
    m.segment_scores(HYPS, REFS, SRCS)
    m.corpus_score(HYPS, REFS, SRCS)
    assert [c for c in fake.calls if c[0] == "translate"] == [("translate", "en", "zh", tuple(HYPS[:2]))]
    # A new process (fresh memory cache) reads the disk cache instead of translating.
    tm._CACHED.clear()
    again = FakeTranslator()
    get_metric("bt_chrf", translator=again).segment_scores(HYPS, REFS, SRCS)
    assert again.calls == []


def test_forward_reference_scores_the_mt_against_the_models_translation():
    m = get_metric("fwd_ref", translator=FakeTranslator())
    chrf = sacrebleu.CHRF()
    # 你好 has no translation in the fake ("" ): that segment gets no score
    assert m.segment_scores(HYPS, REFS, SRCS) == pytest.approx(
        [chrf.sentence_score("Revenue rose 12%.", ["Revenue grew 12%."]).score, 100.0, None])


def test_forced_decoding_scores():
    fake = FakeTranslator()
    # "Revenue rose 12%." -> tokens of 7, 4, 4 characters; mean log-prob -(7+4+4)/10/3 = -0.5
    # "Profit fell." -> 6, 5 -> -(6+5)/10/2 = -0.55
    assert get_metric("tm_logprob", translator=fake).segment_scores(HYPS, REFS, SRCS) == pytest.approx(
        [-0.5, -0.55, None])
    # Without the source every token costs twice as much: PMI = mean(cond) - mean(free) = -0.5 - (-1.0)
    assert get_metric("tm_pmi", translator=fake).segment_scores(HYPS, REFS, SRCS) == pytest.approx(
        [0.5, 0.55, None])
    # Reverse: P(source | MT), Chinese scored one character at a time: each costs 1/10
    assert get_metric("tm_reverse", translator=fake).segment_scores(HYPS, REFS, SRCS) == pytest.approx(
        [-0.1, -0.1, None])
    assert ("score", "en", "zh", tuple(SRCS[:2])) in fake.calls


def test_pmi_without_an_unconditional_scorer_gives_no_score():
    class NoFree:                       # a backend that can only score given a source (e.g. HTTP)
        name = "no-free"
        translate = FakeTranslator.translate
        score = FakeTranslator.score
        _score = FakeTranslator._score
        _tokens = staticmethod(FakeTranslator._tokens)

        def __init__(self):
            self.calls = []

    assert get_metric("tm_pmi", translator=NoFree()).segment_scores(HYPS, REFS, SRCS) == [None, None, None]


def test_translation_metrics_are_opt_in():
    names = {"bt_chrf", "bt_xsim", "fwd_ref", "tm_logprob", "tm_pmi", "tm_reverse"}
    assert names <= set(METRICS)
    assert not names & set(neural_metrics())


def test_cli_backtranslate_adds_the_two_signals(tmp_path, monkeypatch):
    from mtcheck.cli import app
    from mtcheck.models import registry

    fake = FakeTranslator("fake-cli")
    spec = registry.ModelSpec(name="fake-cli", role="translator", source="package:json",
                              loader="tests.metrics.test_translation:_load_fake")
    monkeypatch.setitem(registry.MODELS, "fake-cli", spec)
    monkeypatch.setitem(registry._cache, "fake-cli", fake)
    (tmp_path / "b.tsv").write_text("id\tsource\tmt\na\t营收增长12%。\tRevenue rose 12%.\n", encoding="utf-8")
    # Named explicitly: the registry has a default translator of its own (the Qwen GGUF).
    result = CliRunner().invoke(app, ["score", str(tmp_path / "b.tsv"), "--metrics", "chrf", "--backtranslate",
                                      "--model", "translator=fake-cli", "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    seg = data["segments"][0]["scores"]
    assert seg["bt_chrf"] == pytest.approx(100.0) and seg["tm_logprob"] == pytest.approx(-0.5)
    assert "model:fake-cli" in data["signatures"]["tm_logprob"]
    plain = CliRunner().invoke(app, ["score", str(tmp_path / "b.tsv"), "--metrics", "chrf", "--json", "-"])
    assert "bt_chrf" not in json.loads(plain.stdout)["segments"][0]["scores"]


def _load_fake(spec):
    return FakeTranslator(spec.name)


@pytest.mark.parametrize("source, back, expected", [
    # 落 is missing from 落幕: the whole word is marked, with what stands there instead
    ("双11落幕后，阿里巴巴宣布", "双11幕后，阿里巴巴宣布",
     [(3, 5, "Accuracy/Mistranslation", "back-translation reads '幕' where the source has '落幕'")]),
    ("背后的故事很精彩", "很精彩", [(0, 5, "Accuracy/Omission", "the back-translation has nothing for '背后的故事'")]),
    ("净利润为350亿元", "净收益为350亿元",
     [(0, 3, "Accuracy/Mistranslation", "back-translation reads '净收益' where the source has '净利润'")]),
    ("利润下降了。", "利润下降。", []),          # one particle: under two Han characters
    ("营收增长", "营收增长", []),
    ("𠀀𠀁公司", "公司", [(0, 2, "Accuracy/Omission", "the back-translation has nothing for '𠀀𠀁'")]),   # Extension B
    ("（全年）营收", "营收", [(1, 3, "Accuracy/Omission", "the back-translation has nothing for '全年'")]),  # full-width brackets trimmed
])
def test_divergent_stretches(source, back, expected):
    from mtcheck.core import Severity, Side

    spans = tm.divergent_stretches(source, back)
    assert [(s.start, s.end, s.category, s.evidence) for s in spans] == expected
    assert all(s.side is Side.SOURCE and s.severity is Severity.MINOR and s.check == "backtranslation" for s in spans)
    # measured: about 1% of these characters are rated errors
    assert all(s.confidence == 0.01 for s in spans)


def test_pipeline_keeps_the_backtranslation_and_reports_it(tmp_path):
    import jsonschema
    from importlib import resources

    from mtcheck.config import ScoreConfig
    from mtcheck.core import Segment, SegmentResult
    from mtcheck.pipeline import score_batch
    from mtcheck.report.files import write_json
    from mtcheck.report.html import render_html

    import unittest.mock as mock

    import mtcheck.pipeline as pipeline

    fake = FakeTranslator("fake-pipe")
    segs = [Segment("a", "双11落幕后，销量上升。", "Double 11 after the curtain, sales rose."),
            Segment("b", "利润下降了。", "Profit fell.")]
    metrics = [get_metric("bt_chrf", translator=fake), get_metric("fwd_ref", translator=fake)]
    with mock.patch.dict(EN_ZH, {"Double 11 after the curtain, sales rose.": "双11幕后，销量上升。"}), \
            mock.patch.object(pipeline, "build_metrics", lambda config, notes=None: metrics):
        batch = score_batch(segs, ScoreConfig(metrics=("bt_chrf", "fwd_ref"), checks=()))
    a, b = batch.segments
    assert a.texts == {"back_translation": "双11幕后，销量上升。"}          # fwd_ref: no translation of a in the fake
    assert b.texts == {"back_translation": "利润下降。", "pseudo_reference": "Profit fell."}
    assert [(s.side.value, a.segment.source[s.start:s.end]) for s in a.spans] == [("source", "落幕")]
    write_json(batch, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    schema = json.loads(resources.files("mtcheck.report").joinpath("schema/results-1.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    assert data["segments"][0]["texts"]["back_translation"] == "双11幕后，销量上升。"
    assert SegmentResult.from_dict(data["segments"][1]).texts == b.texts
    html = render_html(batch)
    assert "back-translation: <span lang=\"zh\">双11幕后，销量上升。</span>" in html
    assert "model&#39;s translation: Profit fell." in html or "model's translation: Profit fell." in html


def test_forced_decoding_is_shared_between_metrics():
    fake = FakeTranslator("fake-shared")
    get_metric("tm_logprob", translator=fake).segment_scores(HYPS, REFS, SRCS)
    get_metric("tm_pmi", translator=fake).segment_scores(HYPS, REFS, SRCS)
    # P(MT | source) was computed once for both metrics
    assert [c for c in fake.calls if c[0] == "score"] == [("score", "zh", "en", tuple(HYPS[:2]))]


def test_generation_is_saved_slice_by_slice_and_reports_progress(monkeypatch):
    from mtcheck import progress
    from mtcheck.models import translation

    seen = []
    monkeypatch.setattr(translation, "GENERATION_SLICE", 2)
    monkeypatch.setattr(progress, "_progress", seen.append)
    texts = [f"Revenue rose {i}%." for i in range(5)]

    class Failing(FakeTranslator):
        def translate(self, texts, src_lang, tgt_lang):
            if any("4%" in t for t in texts):
                raise KeyboardInterrupt          # Ctrl-C during the third slice
            return [t.upper() for t in texts]

    cached = tm.cached_translator(Failing("slices"))
    with pytest.raises(KeyboardInterrupt):
        cached.translate(texts, "en", "zh")
    assert [(p.done, p.total) for p in seen] == [(2, 5), (4, 5)]
    assert seen[0].remaining_seconds == pytest.approx(seen[0].seconds / 2 * 3)
    # The two finished slices are on disk: a new process translates only the last text.
    tm._CACHED.clear()

    class Upper(FakeTranslator):
        def translate(self, texts, src_lang, tgt_lang):
            self.calls.append(tuple(texts))
            return [t.upper() for t in texts]

    again = Upper("slices")
    assert tm.cached_translator(again).translate(texts, "en", "zh") == [t.upper() for t in texts]
    assert again.calls == [(texts[4],)]


def test_cli_progress_line(capsys):
    from mtcheck.cli import _ProgressLine
    from mtcheck.progress import Progress

    line = _ProgressLine(every=3600)
    line(Progress("qwen en→zh", 8, 80, 16.0))       # printed: the first report
    line(Progress("qwen en→zh", 16, 80, 32.0))      # within the interval: skipped
    line(Progress("qwen en→zh", 80, 80, 160.0))     # the last one is always printed
    err = capsys.readouterr().err.splitlines()
    assert err == ["mtcheck: translating with qwen en→zh: 8/80, 2.0 s each, about 2 min left",
                   "mtcheck: translating with qwen en→zh: 80/80, 2.0 s each, done"]


def _ts(text, pieces):
    """TokenScores from ``(piece, logprob)`` pairs laid end to end over ``text``."""
    offs, pos = [], 0
    for piece, _ in pieces:
        start = text.index(piece, pos)
        offs.append((start, start + len(piece)))
        pos = start + len(piece)
    return TokenScores(text, tuple(p for p, _ in pieces), tuple(lp for _, lp in pieces), tuple(offs))


MT = "Double 11 after the curtain, Tmall sold well."
#              tokens: "Double", " 11", " after", " the", " cur", "tain", ",", " T", "mall", " sold", " well", "."
COND = [("Double", -2.0), (" 11", -1.0), (" after", -4.0), (" the", -1.5), (" cur", -5.0), ("tain", -2.5),
        (",", -0.5), (" T", -6.0), ("mall", -1.0), (" sold", -1.0), (" well", -7.0), (".", -0.1)]
FREE = [("Double", -3.0), (" 11", -2.0), (" after", -3.0), (" the", -1.0), (" cur", -4.0), ("tain", -2.0),
        (",", -0.5), (" T", -9.0), ("mall", -4.0), (" sold", -2.0), (" well", -6.0), (".", -0.1)]


@pytest.mark.parametrize("max_logprob, max_pmi, use_free, expected", [
    # conditional only: "curtain" (-7.5), "Tmall" (-7.0) and "well" (-7.0) are at or below -6.5;
    # the comma keeps "curtain" and "Tmall" apart
    (-6.5, 0.0, False, ["curtain", "Tmall", "well"]),
    # with the unconditional reading the source explains Tmall (-7.0 against -13.0): left alone
    (-6.5, 0.0, True, ["curtain", "well"]),
    # a looser threshold takes "after" (-4 vs -3) and "the" (-1.5 vs -1) too, merged across the spaces
    (-1.5, 0.0, True, ["after the curtain", "well"]),
    # PMI at most -1.2: curtain (-7.5 vs -6.0) is, well (-7 vs -6) is not
    (-6.5, -1.2, True, ["curtain"]),
    (-20.0, 0.0, True, []),
])
def test_unlikely_stretches(max_logprob, max_pmi, use_free, expected):
    spans = tm.unlikely_stretches(_ts(MT, COND), _ts(MT, FREE) if use_free else None, max_logprob, max_pmi)
    assert [MT[s.start:s.end] for s in spans] == expected
    assert all(s.side.value == "mt" and s.severity.value == "minor" and s.check == "tm_logprob" for s in spans)
    # measured on held-out newstest2021: 32% of the flagged characters are rated errors
    assert all(s.confidence == 0.32 for s in spans)


def test_unlikely_stretch_evidence_and_offsets_on_mixed_text():
    text = "天猫 sales of 🚀 rockets 超过 35.019 billion"
    pieces = [("天猫", -1.0), (" sales", -0.5), (" of", -0.2), (" 🚀", -3.0), (" rockets", -9.0), (" 超过", -8.0),
              (" 35", -0.5), (".019", -0.5), (" billion", -0.3)]
    spans = tm.unlikely_stretches(_ts(text, pieces), None, -6.0, 0.0)
    # the emoji is no word; "rockets" and "超过" are adjacent words across one space: one span
    assert [(text[s.start:s.end], s.start, s.end) for s in spans] == [("rockets 超过", 14, 24)]
    assert "-17.0 nats" in spans[0].evidence


def test_logprob_metric_keeps_its_spans_for_the_pipeline(monkeypatch):
    m = get_metric("tm_logprob", translator=FakeTranslator())
    out = m.segment_outputs(HYPS, REFS, SRCS)
    assert out["tm_logprob"] == pytest.approx([-0.5, -0.55, None])
    # fake words cost at most 0.7 nats: nothing reaches the default threshold
    assert m.last_spans() == [[], [], []]
    monkeypatch.setattr(tm, "UNLIKELY_LOGPROB", -0.6)
    monkeypatch.setattr(tm.unlikely_stretches, "__defaults__", (None, -0.6, float("inf")))
    m.segment_outputs(HYPS, REFS, SRCS)
    # "Revenue" costs 0.7 and "Profit" 0.6: each flagged; the empty MT has no span
    assert [[HYPS[i][s.start:s.end] for s in spans] for i, spans in enumerate(m.last_spans())] == \
        [["Revenue"], ["Profit"], []]


class CharCountEncoder:
    """Unit vectors of character counts over a fixed alphabet: cosine = shared-character overlap."""

    name = "char-enc"
    prefix = ""
    pooling = "mean"
    alphabet = "营收增长利润下降了12%。"

    def embed(self, texts, *, batch_size=32):
        import numpy as np

        out = np.array([[t.count(c) for c in self.alphabet] for t in texts], dtype=np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_backtranslation_xsim_compares_the_backtranslation_with_the_source_by_vectors():
    import numpy as np

    enc = CharCountEncoder()
    m = get_metric("bt_xsim", translator=FakeTranslator(), encoder=enc)
    got = m.segment_scores(HYPS, REFS, SRCS)
    # 营收增长12%。 comes back whole: cosine 1; 利润下降。 against 利润下降了。: counts (1,1,1,1,0,1) vs (1,1,1,1,1,1)
    expected_b = 5 / (np.sqrt(5) * np.sqrt(6))
    assert got == pytest.approx([1.0, expected_b, None])
    assert m.signature() == f"metric:BT-xsim|model:fake-tm|encoder:char-enc|pool:mean|prefix:none|mtcheck:{mtcheck.__version__}"
    assert get_metric("bt_xsim", translator=FakeTranslator(), encoder=enc).corpus_score(
        HYPS, REFS, SRCS).score == pytest.approx((1.0 + expected_b) / 2)


def test_backtranslation_is_made_once_for_bt_chrf_and_bt_xsim():
    fake = FakeTranslator()
    get_metric("bt_chrf", translator=fake).segment_scores(HYPS, REFS, SRCS)
    get_metric("bt_xsim", translator=fake, encoder=CharCountEncoder()).segment_scores(HYPS, REFS, SRCS)
    assert len([c for c in fake.calls if c[0] == "translate"]) == 1
