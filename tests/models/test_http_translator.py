"""The OpenAI-compatible HTTP translator against a real local HTTP server.

A ``ThreadingHTTPServer`` on 127.0.0.1 serves ``/v1/chat/completions`` (the
"translation" is the text reversed, wrapped in quotes and whitespace the
client must strip) and ``/v1/completions`` with ``echo`` log-probabilities
from a tokenizer written here: ASCII words and numbers with their leading
space, one token per other character, and characters beyond ASCII split into
two UTF-8 pieces in the styles real servers use (OpenAI's ``bytes:\\x..``,
vLLM's empty-then-whole, undecodable ``\\ufffd``). A token's log-probability
is minus its length in bytes, so expected values in the tables are worked
out by hand. Failure modes (503/429 with Retry-After, hangs, bad JSON, 401,
dropped connections, redirects, huge bodies) are queued per test; retries
are counted on the server and backoff delays recorded by an injected sleep.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mtcheck.errors import MtcheckError
from mtcheck.models.http_translator import (
    HTTPSettings,
    OpenAIEndpoint,
    OpenAITranslator,
    clean_reply,
    parse_translator_spec,
)
from mtcheck.models.translation import CachedTranslator, Translator, TranslatorError

KEY = "sk-test-Zq81secretKEY"
MODEL = "test-model"

_TOKEN = re.compile(r" ?[A-Za-z]+| ?[0-9]+|.", re.DOTALL)


def tokenize(text: str, style: str) -> list[tuple[str, int]]:
    """(token text as the server reports it, byte length) for ``text``."""
    out = []
    for piece in _TOKEN.findall(text):
        raw = piece.encode("utf-8")
        if len(raw) == 1 or style == "clean" or len(piece) > 1:
            out.append((piece, len(raw)))
            continue
        head, tail = raw[:1], raw[1:]
        if style == "bytes":
            out += [("bytes:" + "".join(f"\\x{b:02x}" for b in part), len(part)) for part in (head, tail)]
        elif style == "vllm":
            out += [("", 1), (piece, len(tail))]
        elif style == "fffd":
            out += [(head.decode("utf-8", "replace"), 1), (tail.decode("utf-8", "replace"), len(tail))]
        else:
            raise ValueError(style)
    return out


class ServerState:
    """What the fake server does next and what it has seen."""

    def __init__(self):
        self.lock = threading.Lock()
        self.plan: list[str] = []
        self.requests: list[tuple[str, dict, object]] = []
        self.release = threading.Event()
        self.delays: dict[str, float] = {}
        self.inflight = 0
        self.max_inflight = 0
        self.style = "clean"
        self.send_offsets: str | None = "sum"
        self.offset_shift = 0
        self.extra_tokens: list[str] = []
        self.drop_first_tokens = 0
        self.url = ""

    def next_mode(self) -> str:
        with self.lock:
            return self.plan.pop(0) if self.plan else "ok"

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.requests]


def make_handler(state: ServerState):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def send_json(self, status: int, obj, headers: dict | None = None):
            raw = json.dumps(obj, ensure_ascii=False).encode("utf-8")
            self.send_raw(status, raw, headers)

        def send_raw(self, status: int, raw: bytes, headers: dict | None = None, length: bool = True):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if length:
                self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.loads(raw)
            with state.lock:
                state.requests.append((self.path, dict(self.headers), body))
                state.inflight += 1
                state.max_inflight = max(state.max_inflight, state.inflight)
            try:
                self.answer(state.next_mode(), body)
            finally:
                with state.lock:
                    state.inflight -= 1

        def answer(self, mode: str, body):
            auth = self.headers.get("Authorization", "")
            if mode == "close":
                self.close_connection = True
                return
            if mode == "hang":
                state.release.wait(10)
                return
            if mode.startswith("status:"):
                _, code, *rest = mode.split(":", 2)
                headers = {}
                message = f"fake error {code}"
                if rest and rest[0] == "echo":
                    message += f"; you sent Authorization: {auth}"
                elif rest and rest[0] == "date-past":
                    headers["Retry-After"] = formatdate(time.time() - 60, usegmt=True)
                elif rest:
                    headers["Retry-After"] = rest[0]
                return self.send_json(int(code), {"error": {"message": message}}, headers)
            if mode == "badjson":
                return self.send_raw(200, f"<html>oops {auth}</html>".encode())
            if mode == "big":
                return self.send_raw(200, b"[" + b"0," * 3000 + b"0]")
            if mode == "big-unsized":
                return self.send_raw(200, b"[" + b"0," * 3000 + b"0]", length=False)
            if mode == "redirect":
                return self.send_json(302, {}, {"Location": "http://127.0.0.1:9/elsewhere"})
            if mode == "nochoices":
                return self.send_json(200, {"id": "x"})
            if mode == "nocontent":
                return self.send_json(200, {"choices": [{"message": {"role": "assistant"}}]})
            if mode == "cutoff":
                return self.send_json(200, {"choices": [{"message": {"content": "Half a"},
                                                         "finish_reason": "length"}]})
            if mode == "nologprobs":
                return self.send_json(200, {"choices": [{"text": body.get("prompt", ""), "logprobs": None}]})
            if mode == "noecho":
                return self.send_json(200, {"choices": [{"text": "", "logprobs": {
                    "tokens": [], "token_logprobs": [], "text_offset": []}}]})
            assert mode == "ok", mode
            if self.path == "/v1/chat/completions":
                text = body["messages"][-1]["content"].split("\n\n", 1)[1]
                time.sleep(state.delays.get(text, 0))
                return self.send_json(200, {"choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant", "content": f'  "{text[::-1]}"\n'}}]})
            if self.path == "/v1/completions":
                toks = tokenize(body["prompt"], state.style)[state.drop_first_tokens:]
                toks += [(t, len(t.encode())) for t in state.extra_tokens]
                tokens = [t for t, _ in toks]
                logprobs = [None] + [-float(n) for _, n in toks[1:]]
                logprobs_obj = {"tokens": tokens, "token_logprobs": logprobs, "top_logprobs": None}
                if state.send_offsets == "sum":
                    # Running sums of the token strings' lengths, as vLLM computes text_offset.
                    offsets, at = [], state.offset_shift
                    for t in tokens:
                        offsets.append(at)
                        at += len(t)
                    logprobs_obj["text_offset"] = offsets
                elif state.send_offsets == "chars":
                    # True offsets: the characters completed before the token's first byte.
                    data, offsets, at = body["prompt"].encode("utf-8"), [], 0
                    for _, n in toks:
                        offsets.append(len(data[:at].decode("utf-8", "ignore")))
                        at += n
                    logprobs_obj["text_offset"] = offsets
                return self.send_json(200, {"choices": [{"index": 0, "text": body["prompt"],
                                                         "logprobs": logprobs_obj, "finish_reason": "length"}]})
            return self.send_json(404, {"error": {"message": f"no route {self.path}"}})

    return Handler


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    # A proxy in the environment would take requests meant for 127.0.0.1.
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                "OPENAI_API_KEY", "MY_KEY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server():
    state = ServerState()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield state
    state.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def make(state_or_url, sleeps: list | None = None, random=lambda: 0.0, api_key=None, **settings):
    url = state_or_url if isinstance(state_or_url, str) else state_or_url.url
    settings = {"backoff_base": 0.1, **settings}
    return OpenAITranslator(url, MODEL, HTTPSettings(**settings), api_key=api_key,
                            sleep=(sleeps.append if sleeps is not None else (lambda s: None)), random=random)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- spec parsing ----------------------------------------------------------------------

@pytest.mark.parametrize("spec, base_url, model", [
    ("openai:http://localhost:8080/v1:qwen2.5-7b", "http://localhost:8080/v1", "qwen2.5-7b"),
    ("openai:http://localhost:11434/v1:qwen2.5:7b", "http://localhost:11434/v1", "qwen2.5:7b"),
    ("openai:https://api.example.com/v1:gpt-4o-mini", "https://api.example.com/v1", "gpt-4o-mini"),
    ("openai:http://localhost:8080/v1#qwen2.5:7b", "http://localhost:8080/v1", "qwen2.5:7b"),
    ("openai:http://localhost:8080/v1#123", "http://localhost:8080/v1", "123"),
    ("openai:http://localhost:8080:m", "http://localhost:8080", "m"),
    ("openai:http://localhost:m", "http://localhost", "m"),
    ("openai:http://[::1]:8000/v1:m", "http://[::1]:8000/v1", "m"),
    ("openai:http://localhost:8080/v1/:m", "http://localhost:8080/v1", "m"),
    ("openai:HTTP://host/v1:org/model:q4", "http://host/v1", "org/model:q4"),
    ("openai:http://host/v1#org/model@rev", "http://host/v1", "org/model@rev"),
])
def test_parse_spec(spec, base_url, model):
    endpoint = parse_translator_spec(spec)
    assert endpoint == OpenAIEndpoint(base_url, model)
    assert parse_translator_spec(endpoint.spec) == endpoint  # the canonical form reads back


@pytest.mark.parametrize("spec, needle", [
    ("hf:Helsinki-NLP/opus-mt-zh-en", "unknown translator spec"),
    ("openai:localhost:8080/v1:m", "http:// or https://"),
    ("openai:ftp://host/v1:m", "http:// or https://"),
    ("openai:http://localhost:8080/v1", "names no model"),
    ("openai:http://localhost:8080", "names no model"),
    ("openai:http://localhost:8080/v1:", "names no model"),
    ("openai:http://localhost:8080/v1#  ", "names no model"),
    ("openai:http://:8080/v1:m", "no host"),
    ("openai:http://host/v1?x=1:m", "query string"),
    ("openai:http://[::1:8000/v1:m", "unclosed"),
    ("openai:http://host:99999/v1:m", "bad port"),
])
def test_parse_spec_rejects(spec, needle):
    with pytest.raises(TranslatorError, match=re.escape(needle)):
        parse_translator_spec(spec)


def test_parse_spec_refuses_credentials_without_quoting_them():
    with pytest.raises(TranslatorError, match="credentials") as info:
        parse_translator_spec("openai:http://user:hunter2pw@host/v1:m")
    assert "hunter2pw" not in str(info.value)


def test_from_spec_and_name(server):
    t = OpenAITranslator.from_spec(f"openai:{server.url}:{MODEL}")
    assert (t.base_url, t.model) == (server.url, MODEL)
    assert t.name == f"openai:{server.url}#{MODEL}"
    assert isinstance(t, Translator)
    assert issubclass(TranslatorError, MtcheckError)


@pytest.mark.parametrize("kwargs", [
    {"timeout": 0}, {"max_attempts": 0}, {"max_attempts": 1.5}, {"backoff_base": -1},
    {"backoff_base": 2, "backoff_max": 1}, {"jitter": 1.5}, {"concurrency": 0},
    {"api_key_env": "NOT A NAME"}, {"max_response_bytes": 0}, {"max_tokens": 0},
])
def test_settings_validation(kwargs):
    with pytest.raises(TranslatorError, match="invalid HTTP settings"):
        HTTPSettings(**kwargs)


# -- translate -------------------------------------------------------------------------

def test_translate_order_under_concurrency(server):
    texts = [f"第{i}句 text {i}" for i in range(8)]
    # Later texts answer sooner, so completion order is the reverse of input order.
    server.delays = {t: 0.02 * (len(texts) - i) for i, t in enumerate(texts)}
    out = make(server, concurrency=4).translate(texts, "zh", "en")
    assert out == [t[::-1] for t in texts]
    assert 2 <= server.max_inflight <= 4
    assert len(server.requests) == len(texts)


def test_translate_request_shape_and_empty_texts(server):
    out = make(server).translate(["", "   ", "你好"], "zh", "en")
    assert out == ["", "", "好你"]
    assert server.paths() == ["/v1/chat/completions"]
    _, headers, body = server.requests[0]
    assert body["model"] == MODEL and body["temperature"] == 0 and body["stream"] is False
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "Chinese" in body["messages"][1]["content"] and "English" in body["messages"][1]["content"]
    assert body["messages"][1]["content"].endswith("\n\n你好")
    assert "Authorization" not in headers


@pytest.mark.parametrize("how", ["argument", "default env", "custom env"])
def test_api_key_sent_as_bearer(server, monkeypatch, how):
    if how == "argument":
        t = make(server, api_key=KEY)
    elif how == "default env":
        monkeypatch.setenv("OPENAI_API_KEY", KEY + "\n")  # a trailing newline from $(cat file)
        t = make(server)
    else:
        monkeypatch.setenv("OPENAI_API_KEY", "wrong-one")
        monkeypatch.setenv("MY_KEY", KEY)
        t = make(server, api_key_env="MY_KEY")
    t.translate(["abc"], "zh", "en")
    assert server.requests[0][1]["Authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(t)


def test_works_under_cached_translator(server, tmp_path):
    cached = CachedTranslator(make(server), tmp_path)
    assert cached.translate(["一", "二", "一"], "zh", "en") == ["一", "二", "一"]
    assert cached.translate(["二"], "zh", "en") == ["二"]
    assert len(server.requests) == 2


@pytest.mark.parametrize("reply, source, expected", [
    ('  "Hello"\n', "", "Hello"),
    ("“Profit rose.”", "", "Profit rose."),
    ("「你好」", "", "你好"),
    ('"Yes," he said, "no."', "", '"Yes," he said, "no."'),
    ('"Hello"', '"你好"', '"Hello"'),
    ("<think>which tense?</think>\n\nHello", "", "Hello"),
    ("'tis", "", "'tis"),
    ("Hello", "", "Hello"),
])
def test_clean_reply(reply, source, expected):
    assert clean_reply(reply, source) == expected


# -- retries ---------------------------------------------------------------------------

@pytest.mark.parametrize("plan, settings, rnd, sleeps, requests, error", [
    (["status:503"] * 3, {}, 0.0, [0.1, 0.2, 0.4], 4, None),
    (["status:502", "status:500"], {}, 0.0, [0.1, 0.2], 3, None),
    (["status:503"] * 4, {}, 0.0, [0.1, 0.2, 0.4], 4, "HTTP 503 (Service Unavailable): fake error 503 after 4 attempts"),
    (["status:503"] * 2, {"max_attempts": 2}, 0.0, [0.1], 2, "after 2 attempts"),
    (["status:503"] * 3, {"backoff_base": 1, "backoff_max": 2.5}, 0.0, [1, 2, 2.5], 4, None),
    (["status:503"] * 2, {}, 0.5, [0.075, 0.15], 3, None),  # jitter 0.5 * 0.5 takes a quarter off
    (["status:503"] * 2, {"jitter": 0.0}, 0.9, [0.1, 0.2], 3, None),
    (["status:429"], {}, 0.0, [0.1], 2, None),
    (["status:429:2", "status:429:0.5"], {}, 0.0, [2.0, 0.5], 3, None),
    (["status:429:date-past"], {}, 0.0, [0.0], 2, None),
    (["status:429:100"], {}, 0.0, [], 1, "asking to retry after 100 s, longer than backoff_max=30 s"),
    (["close"], {}, 0.0, [0.1], 2, None),
    (["close"] * 3, {"max_attempts": 3}, 0.0, [0.1, 0.2], 3, "connection closed by the server after 3 attempts"),
    (["status:401"], {}, 0.0, [], 1, "HTTP 401 (Unauthorized): fake error 401 (no API key: $OPENAI_API_KEY is not set) after 1 attempt;"),
    (["status:400"], {}, 0.0, [], 1, "HTTP 400"),
    (["status:404"], {}, 0.0, [], 1, "HTTP 404"),
    (["status:501"], {}, 0.0, [], 1, "HTTP 501"),
    (["badjson"], {}, 0.0, [], 1, "(HTTP 200) is not JSON; expected a JSON object"),
    (["redirect"], {}, 0.0, [], 1, "HTTP 302 (Found) redirecting to 'http://127.0.0.1:9/elsewhere'"),
])
def test_retries(server, plan, settings, rnd, sleeps, requests, error):
    server.plan = list(plan)
    seen: list[float] = []
    t = make(server, seen, random=lambda: rnd, **settings)
    if error is None:
        assert t.translate(["abc"], "zh", "en") == ["cba"]
    else:
        with pytest.raises(TranslatorError) as info:
            t.translate(["abc"], "zh", "en")
        assert error in str(info.value)
        assert f"{server.url}/chat/completions" in str(info.value)
    assert seen == pytest.approx(sleeps, abs=0.05 if plan[0].endswith("date-past") else 1e-9)
    assert len(server.requests) == requests
    assert t.requests_sent == requests


def test_real_jitter_stays_within_bounds(server):
    server.plan = ["status:503"] * 3
    seen: list[float] = []
    t = OpenAITranslator(server.url, MODEL, HTTPSettings(backoff_base=0.2), sleep=seen.append)
    t.translate(["abc"], "zh", "en")
    for delay, full in zip(seen, [0.2, 0.4, 0.8]):
        assert full / 2 <= delay <= full


def test_timeout_is_bounded(server):
    server.plan = ["hang", "hang"]
    t = make(server, timeout=0.2, max_attempts=2)
    started = time.monotonic()
    with pytest.raises(TranslatorError) as info:
        t.translate(["abc"], "zh", "en")
    assert time.monotonic() - started < 3
    assert str(info.value) == f"cannot reach {server.url}/chat/completions: no response within 0.2 s after 2 attempts"
    assert len(server.requests) == 2


def test_unreachable_port_names_url_and_attempts():
    url = f"http://127.0.0.1:{free_port()}/v1"
    seen: list[float] = []
    with pytest.raises(TranslatorError) as info:
        make(url, seen, max_attempts=3).translate(["abc"], "zh", "en")
    assert str(info.value) == f"cannot reach {url}/chat/completions: connection refused after 3 attempts"
    assert seen == pytest.approx([0.1, 0.2])


@pytest.mark.parametrize("mode, size", [("big", "6003 bytes, more than the 1000-byte limit"),
                                        ("big-unsized", "more than the 1000-byte limit")])
def test_response_size_bound(server, mode, size):
    server.plan = [mode]
    with pytest.raises(TranslatorError, match=re.escape(size)):
        make(server, max_response_bytes=1000).translate(["abc"], "zh", "en")
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode, needle", [
    ("nochoices", "lacks choices; expected an OpenAI chat completion"),
    ("nocontent", "lacks choices[0].message.content"),
    ("cutoff", "cut off at max_tokens=1024"),
])
def test_unexpected_chat_json(server, mode, needle):
    server.plan = [mode]
    with pytest.raises(TranslatorError, match=re.escape(needle)) as info:
        make(server).translate(["abc"], "zh", "en")
    assert f"{server.url}/chat/completions" in str(info.value)


@pytest.mark.parametrize("mode", ["status:401:echo", "status:500:echo", "badjson", "unreachable"])
def test_api_key_never_in_errors(server, mode):
    url = f"http://127.0.0.1:{free_port()}/v1" if mode == "unreachable" else server.url
    server.plan = [mode] * 4
    t = make(url, api_key=KEY)
    with pytest.raises(TranslatorError) as info:
        t.translate(["abc"], "zh", "en")
    err = info.value
    if mode != "unreachable":
        assert server.requests[0][1]["Authorization"] == f"Bearer {KEY}"  # the server did see it
    if mode == "status:401:echo":
        assert "check the API key in $OPENAI_API_KEY" in str(err)
    for text in (str(err), repr(err), repr(t), str(err.__cause__), str(err.__context__)):
        assert KEY not in text


def test_bad_key_is_refused_without_quoting_it():
    with pytest.raises(TranslatorError, match=r"\$OPENAI_API_KEY contains spaces") as info:
        OpenAITranslator("http://127.0.0.1:1/v1", MODEL, api_key=KEY + "\nX-Evil: 1")
    assert KEY not in str(info.value)


def test_languages_are_checked(server):
    t = make(server)
    with pytest.raises(TranslatorError, match="unknown language 'fr'"):
        t.translate(["abc"], "fr", "en")
    with pytest.raises(TranslatorError, match="one target per source"):
        t.score(["a", "b"], ["x"], "zh", "en")
    assert server.requests == []


# -- score -----------------------------------------------------------------------------

MIXED = "营收 up 32%😀"
SCORE_CASES = [
    # (style, text_offset sent (None: none), target, expected target substrings, expected log-probs)
    ("clean", "sum", "Net profit rose 32%.", ["Net", " profit", " rose", " 32", "%", "."], [-4, -7, -5, -3, -1, -1]),
    ("clean", None, "Net profit rose 32%.", ["Net", " profit", " rose", " 32", "%", "."], [-4, -7, -5, -3, -1, -1]),
    ("clean", "sum", "营收😀，ＡＢ", ["营", "收", "😀", "，", "Ａ", "Ｂ"], [-3, -3, -4, -3, -3, -3]),
    ("clean", None, MIXED, ["营", "收", " up", " 32", "%", "😀"], [-3, -3, -3, -3, -1, -4]),
    ("clean", "sum", "“增长”\n３２％", ["“", "增", "长", "”", "\n", "３", "２", "％"], [-3] * 4 + [-1] + [-3] * 3),
    ("bytes", "sum", MIXED, ["", "营", "", "收", " up", " 32", "%", "", "😀"], [-1, -2, -1, -2, -3, -3, -1, -1, -3]),
    ("bytes", None, MIXED, ["", "营", "", "收", " up", " 32", "%", "", "😀"], [-1, -2, -1, -2, -3, -3, -1, -1, -3]),
    ("vllm", "sum", MIXED, ["", "营", "", "收", " up", " 32", "%", "", "😀"], [-1, -2, -1, -2, -3, -3, -1, -1, -3]),
    ("vllm", None, MIXED, ["", "营", "", "收", " up", " 32", "%", "", "😀"], [-1, -2, -1, -2, -3, -3, -1, -1, -3]),
    # Unreadable pieces: a run is given to its last token, but every character is still covered once.
    ("fffd", "sum", MIXED, ["", "", "", "营收", " up", " 32", "%", "", "😀"], [-1, -2, -1, -2, -3, -3, -1, -1, -3]),
    ("fffd", None, MIXED, ["", "", "", "营收", " up", " 32", "%", "", "😀"], [-1, -2, -1, -2, -3, -3, -1, -1, -3]),
    # Where the server's offsets are right, they place even unreadable pieces exactly.
    ("fffd", "chars", MIXED, ["", "营", "", "收", " up", " 32", "%", "", "😀"], [-1, -2, -1, -2, -3, -3, -1, -1, -3]),
    ("bytes", "chars", MIXED, ["", "营", "", "收", " up", " 32", "%", "", "😀"], [-1, -2, -1, -2, -3, -3, -1, -1, -3]),
]


@pytest.mark.parametrize("style, offsets, target, pieces, logprobs", SCORE_CASES)
def test_score_offsets_map_to_target_characters(server, style, offsets, target, pieces, logprobs):
    server.style, server.send_offsets = style, offsets
    [scores] = make(server).score(["净利润增长32%。"], [target], "zh", "en")
    assert scores.text == target
    assert [target[s:e] for s, e in scores.offsets] == pieces
    assert list(scores.logprobs) == logprobs
    assert len(scores.tokens) == len(pieces)
    # Spans tile the target: no character lost or counted twice.
    assert scores.offsets[0][0] == 0 and scores.offsets[-1][1] == len(target)
    assert all(a[1] == b[0] for a, b in zip(scores.offsets, scores.offsets[1:]))
    _, _, body = server.requests[0]
    assert body["prompt"].endswith(target) and body["prompt"] != target
    assert (body["max_tokens"], body["echo"], body["logprobs"], body["model"]) == (0, True, 1, MODEL)


def test_score_falls_back_when_text_offset_is_wrong(server):
    server.offset_shift = 3  # offsets that do not match the text must not be trusted
    [scores] = make(server).score(["源"], ["Net 32%"], "zh", "en")
    assert [("Net 32%")[s:e] for s, e in scores.offsets] == ["Net", " 32", "%"]


@pytest.mark.parametrize("offsets", ["sum", None])
def test_score_ignores_tokens_generated_after_the_target(server, offsets):
    server.send_offsets = offsets
    server.extra_tokens = [" Extra", " words"]
    [scores] = make(server).score(["源"], ["Net 32%"], "zh", "en")
    assert list(scores.tokens) == [" Net", " 32", "%"]


def test_score_many_pairs_keeps_order_and_skips_empty_targets(server):
    targets = ["A", "", "Bb Ccc", "Dddd"]
    results = make(server, concurrency=3).score(["一", "二", "三", "四"], targets, "zh", "en")
    assert [r.text for r in results] == targets
    assert [r.total for r in results] == [-2.0, 0.0, -7.0, -5.0]  # " A"; nothing; " Bb"+" Ccc"; " Dddd"
    assert results[1].tokens == () and results[1].mean is None
    assert len(server.requests) == 3


@pytest.mark.parametrize("plan, needle", [
    (["nologprobs"], "does not return prompt log-probabilities (echo=true with logprobs); score() needs one"),
    (["noecho"], "(no prompt tokens came back)"),
    (["status:501"], "HTTP 501 (Not Implemented): fake error 501 after 1 attempt; expected HTTP 200 with a "
                     "JSON body; score() needs a server whose /completions endpoint returns prompt log-probabilities"),
    (["status:400"], "score() needs a server whose /completions endpoint"),
    (["nochoices"], "lacks choices; expected an OpenAI completion"),
])
def test_score_unsupported_or_malformed(server, plan, needle):
    server.plan = plan
    with pytest.raises(TranslatorError) as info:
        make(server).score(["源"], ["Net"], "zh", "en")
    assert needle in str(info.value)
    assert f"{server.url}/completions" in str(info.value)


def test_score_refuses_tokens_that_do_not_spell_the_prompt(server):
    server.drop_first_tokens = 2  # a server that cut the start of a long prompt
    server.send_offsets = None
    with pytest.raises(TranslatorError, match="do not spell the prompt"):
        make(server).score(["源"], ["Net"], "zh", "en")
