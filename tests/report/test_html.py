"""The HTML review report: structure, escaping, and a real headless-browser render."""

import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from mtcheck.core import BatchResult, Segment, SegmentResult, Severity, Side, Span
from mtcheck.report.html import from_model, histogram, pieces, render_html, render_markdown

HOSTILE_MT = 'GMV <script>alert(1)</script> "><img src=x onerror=alert(2)> {{ 7*7 }} rose 𠀀 at Tmal.'
HOSTILE_SRC = "成交额<b>增长</b>{{ config }}，天猫。"


def make_batch():
    seg1 = Segment("s1", HOSTILE_SRC, HOSTILE_MT, (), "doc<1>")
    tmal = HOSTILE_MT.index("Tmal")
    spans1 = [
        Span(tmal, tmal + 4, Side.MT, "Terminology", Severity.MAJOR, "wrong name <i>", evidence="glossary: 天猫 → Tmall",
             check="terms", suggestion="Tmall"),
        Span(0, 3, Side.MT, "Accuracy/Mistranslation", Severity.CRITICAL, "number", evidence="e", check="numbers"),
        Span(1, 3, Side.MT, "Fluency/Spelling", Severity.MINOR, "overlap", check="punctuation"),
        Span(0, 3, Side.SOURCE, "Accuracy/Omission", Severity.MAJOR, "not rendered", check="length"),
    ]
    seg2 = Segment("s2", "你好。", "Hello.", (), "doc<1>")
    seg3 = Segment("s3", "", "", (), None, problem="b.jsonl:3: invalid JSON <script>")
    results = [SegmentResult(seg1, spans=spans1), SegmentResult(seg2), SegmentResult(seg3, status="failed",
                                                                                        error=seg3.problem)]
    for r in results:
        r.scores["mqm_est"] = -r.penalty() if r.ok else None
    return BatchResult(results, [], {"mqm_est": -18.0}, {"mqm_est": "metric:MQM-est|mtcheck:0.1.0"}, "0.1.0",
                       headline="mqm_est")


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.marks = []
        self._in_mark = 0
        self._buf = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "mark":
            self._in_mark += 1
            self._buf = []

    def handle_endtag(self, tag):
        if tag == "mark":
            self._in_mark -= 1

    def handle_data(self, data):
        if self._in_mark:
            self._buf.append(data)
            if self._buf:
                self.marks.append(data)


@pytest.mark.parametrize(
    "text, spans, expected",
    [
        ("abcdef", [], [("abcdef", ())]),
        ("abcdef", [(0, Span(1, 3, Side.MT, "c", Severity.MINOR, "m"))], [("a", ()), ("bc", (0,)), ("def", ())]),
        ("abcdef", [(0, Span(0, 4, Side.MT, "c", Severity.MINOR, "m")), (1, Span(2, 6, Side.MT, "c", Severity.MAJOR, "m"))],
         [("ab", (0,)), ("cd", (0, 1)), ("ef", (1,))]),
        ("ab", [(0, Span(1, 1, Side.MT, "c", Severity.MINOR, "m"))], [("a", ()), ("", (0,)), ("b", ())]),
        ("𠀀x", [(0, Span(0, 1, Side.MT, "c", Severity.MINOR, "m"))], [("𠀀", (0,)), ("x", ())]),
    ],
)
def test_pieces(text, spans, expected):
    got = pieces(text, spans)
    assert [(p.text, p.spans) for p in got] == expected
    assert "".join(p.text for p in got) == text


def test_histogram_bins():
    h = histogram([0, 0, -1, -5, -25], bins=5)   # width 5: [-25,-20) [-20,-15) [-15,-10) [-10,-5) [-5,0]
    assert [b["count"] for b in h["bars"]] == [1, 0, 0, 0, 4]
    assert histogram([])["bars"] == [] and histogram([3.0, 3.0])["bars"][0]["count"] == 2


def test_hostile_text_is_escaped():
    html = render_html(make_batch())
    p = Collector()
    p.feed(html)
    assert [t for t, _ in p.tags].count("script") == 1          # only our own script
    assert not any(t == "img" for t, _ in p.tags)
    assert "&lt;b&gt;增长&lt;/b&gt;" in html                    # markup in the source stays text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and "{{ config }}" in html       # template syntax in data is not evaluated
    assert "doc&lt;1&gt;" in html and "invalid JSON &lt;script&gt;" in html
    assert "wrong name &lt;i&gt;" in html


def test_markdown_summary_escapes_and_lists():
    md = render_markdown(make_batch())
    assert "| s1 | critical | Accuracy/Mistranslation |" in md
    assert "\\<script\\>" in md and "<script>" not in md
    assert "### Unreadable segments" in md


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(tmp_path, *args):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (make test installs it)")
def test_report_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(make_batch()), encoding="utf-8")
    dom = _chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", page.as_uri()).stdout
    p = Collector()
    p.feed(dom)
    marks = [a for t, a in p.tags if t == "mark"]
    classes = sorted(a["class"] for a in marks)
    # MT: "GMV" cut into G(critical) / MV(critical+minor) and Tmal (major); source: 成交 (major)
    assert classes == ["f critical", "f critical", "f major", "f major"]
    assert all(a.get("tabindex") == "0" for a in marks)      # reachable by keyboard
    assert [t for t, _ in p.tags].count("script") == 1 and "img" not in [t for t, _ in p.tags]
    assert "2 of 3 segments shown" not in dom and "3 of 3 segments shown" in dom   # the script ran
    assert "Tmal" in "".join(p.marks)

    # the URL hash filters: only segments with a critical finding stay visible
    filtered = _chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", page.as_uri() + "#sev=critical").stdout
    assert "1 of 3 segments shown" in filtered
    rows = [a for t, a in _tags(filtered) if t == "tr" and "seg" in a.get("class", "").split()]
    assert [("hidden" in a) for a in rows] == [False, True, True]

    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,900", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def _tags(html):
    p = Collector()
    p.feed(html)
    return p.tags


@pytest.mark.parametrize(
    "check, model",
    [
        ("terms", False),
        ("qe-spans", True),              # the QE token head (--model-spans)
        ("tm_logprob", True),            # the translation model (--backtranslate)
        ("backtranslation", True),
        ("terms+qe-spans", False),       # merged: a rule stands behind it
        ("qe-spans+tm_logprob", True),
    ],
)
def test_from_model(check, model):
    assert from_model(Span(0, 1, Side.MT, "c", Severity.MINOR, "m", check=check)) is model


def test_pieces_know_when_only_a_model_covers_them():
    rule = Span(0, 4, Side.MT, "c", Severity.MINOR, "m", check="terms")
    model = Span(2, 6, Side.MT, "c", Severity.MAJOR, "m", check="qe-spans")
    got = pieces("abcdef", [(0, rule), (1, model)])
    assert [(p.text, p.model) for p in got] == [("ab", False), ("cd", False), ("ef", True)]


def model_batch():
    rule = Span(0, 5, Side.MT, "Terminology", Severity.MINOR, "rule finding", check="terms")
    model = Span(6, 11, Side.MT, "Accuracy/Mistranslation", Severity.MAJOR, "the QE model expects a human reviewer "
                 "to mark this", evidence="QE token head: error probability 0.61", check="qe-spans")
    results = [SegmentResult(Segment("r", "你好世界", "Hello world"), spans=[rule]),
               SegmentResult(Segment("m", "你好世界", "Hello there"), spans=[model]),
               SegmentResult(Segment("n", "你好", "Hello"))]
    for r in results:
        r.scores["mqm_est"] = -r.penalty()
    return BatchResult(results, [], {"mqm_est": -2.0}, {"mqm_est": "metric:MQM-est|mtcheck:0.1.0"}, "0.1.0",
                       headline="mqm_est")


def test_model_findings_are_marked_apart_and_can_be_switched_off():
    html = render_html(model_batch())
    tags = _tags(html)
    marks = sorted(a["class"] for t, a in tags if t == "mark")
    assert marks == ["f major model", "f minor"]
    assert [a.get("class") for t, a in tags if t == "li"] == [None, "model"]
    assert ("input", {"type": "checkbox", "id": "modelspans", "checked": None}) in tags
    assert "model findings (1)" in html and "of which 1 found by a model" in html
    rows = {a["data-sev"]: a["data-sev-rules"] for t, a in tags if t == "tr" and "seg" in a.get("class", "")}
    assert rows == {"minor": "minor", "major": "none", "none": "none"}
    # without model findings there is no switch
    assert 'id="modelspans"' not in render_html(make_batch())


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (make test installs it)")
def test_model_switch_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(model_batch()), encoding="utf-8")
    # segments with a finding only: both, while the model's findings count
    dom = _chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom",
                    page.as_uri() + "#sev=critical,major,minor").stdout
    assert "2 of 3 segments shown" in dom
    # the model's findings switched off: its segment has none left, and its marks lose their highlight
    dom = _chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom",
                    page.as_uri() + "#sev=critical,major,minor&model=0").stdout
    assert "1 of 3 segments shown" in dom
    body = next(a for t, a in _tags(dom) if t == "body")
    assert "hide-model" in body.get("class", "").split()
