"""A translator behind an OpenAI-compatible HTTP endpoint (llama.cpp server, vLLM, a hosted model).

``--translator openai:URL:MODEL`` (or ``openai:URL#MODEL``) points mtcheck at
any server that speaks the OpenAI REST dialect. :class:`OpenAITranslator`
implements :class:`~mtcheck.models.translation.Translator` with two endpoints:

* **translate** — ``POST {URL}/chat/completions`` with a system and a user
  message asking for the translation only, at temperature 0. Texts are sent
  concurrently through a bounded thread pool; outputs keep the input order.
* **score** — forced decoding through the legacy ``POST {URL}/completions``:
  the prompt is a plain-text translation prompt followed by the target,
  sent with ``max_tokens: 0, echo: true, logprobs: 1`` so the server returns
  the log-probability of every prompt token and generates nothing. Only the
  tokens that cover the target are kept, with character offsets into the
  target. A server that does not return prompt log-probabilities gets a
  :class:`TranslatorError` saying so; nothing is made up.

The spec grammar (:func:`parse_translator_spec`)::

    openai:URL#MODEL     the model is everything after the first "#"
    openai:URL:MODEL     URL is http[s]://HOST[:PORT][/PATH]; the model is
                         everything after the first ":" that follows
                         HOST[:PORT], so the path must not contain ":"
                         while the model may ("qwen2.5:7b")

A port is all digits, so ``openai:http://host:123`` is a URL with no model;
write ``openai:http://host#123`` for a model named ``123``.

Network failures are the normal case for a remote model, so every request
has a bounded connect/read timeout and is retried, with exponential backoff
and jitter, on connection errors, timeouts, HTTP 429 and 5xx (except 501,
which servers use for "not supported"); ``Retry-After`` is honoured. Other
4xx answers are not retried: they will not change. Redirects are refused
rather than followed, since following one would send the API key to
another host. Responses are read up to a size bound. Error messages name
the URL, the HTTP status and what was expected, and never the API key
(which is also scrubbed from any server text quoted in them).

The API key comes from an environment variable (``OPENAI_API_KEY`` unless
:attr:`HTTPSettings.api_key_env` names another); local servers need none.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import random as _random
import re
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from mtcheck.models.translation import LANGUAGES, TokenScores, TranslatorError, check_language

SPEC_PREFIX = "openai:"

# Statuses worth another try: the server is overloaded or briefly broken.
# 501 is left out: llama.cpp and others answer it for "feature not supported".
_RETRY_STATUSES = frozenset({429} | set(range(500, 600)) - {501})

# Error bodies are only quoted in messages, so a little of one is enough.
_ERROR_BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class HTTPSettings:
    """How an HTTP translator talks to its server.

    Attributes:
        timeout: Seconds to wait for the connection and for each read.
        max_attempts: Tries per request, the first included.
        backoff_base: Delay before the first retry, in seconds; it doubles
            with each further retry.
        backoff_max: Cap on a retry delay. A ``Retry-After`` longer than this
            ends the retries rather than being ignored.
        jitter: Fraction of each delay that is randomised (``0`` for none,
            ``1`` for "full jitter"); spreads retries from concurrent workers.
        concurrency: Requests in flight at once.
        api_key_env: Environment variable holding the API key.
        max_response_bytes: Larger responses are refused.
        max_tokens: Cap on a generated translation, in tokens.
    """

    timeout: float = 30.0
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.5
    concurrency: int = 4
    api_key_env: str = "OPENAI_API_KEY"
    max_response_bytes: int = 16 * 1024 * 1024
    max_tokens: int = 1024

    def __post_init__(self) -> None:
        problems = []
        if not self.timeout > 0:
            problems.append(f"timeout must be > 0 seconds, got {self.timeout!r}")
        if not (isinstance(self.max_attempts, int) and self.max_attempts >= 1):
            problems.append(f"max_attempts must be an integer >= 1, got {self.max_attempts!r}")
        if not self.backoff_base >= 0:
            problems.append(f"backoff_base must be >= 0 seconds, got {self.backoff_base!r}")
        if not self.backoff_max >= self.backoff_base:
            problems.append(f"backoff_max must be >= backoff_base ({self.backoff_base!r}), got {self.backoff_max!r}")
        if not 0 <= self.jitter <= 1:
            problems.append(f"jitter must be between 0 and 1, got {self.jitter!r}")
        if not (isinstance(self.concurrency, int) and self.concurrency >= 1):
            problems.append(f"concurrency must be an integer >= 1, got {self.concurrency!r}")
        if not (isinstance(self.api_key_env, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.api_key_env)):
            problems.append(f"api_key_env must be an environment variable name, got {self.api_key_env!r}")
        if not (isinstance(self.max_response_bytes, int) and self.max_response_bytes >= 1):
            problems.append(f"max_response_bytes must be an integer >= 1, got {self.max_response_bytes!r}")
        if not (isinstance(self.max_tokens, int) and self.max_tokens >= 1):
            problems.append(f"max_tokens must be an integer >= 1, got {self.max_tokens!r}")
        if problems:
            raise TranslatorError("invalid HTTP settings: " + "; ".join(problems))


@dataclass(frozen=True)
class OpenAIEndpoint:
    """A parsed ``openai:`` translator spec.

    Attributes:
        base_url: The API root without a trailing slash, e.g. ``http://localhost:8080/v1``;
            ``/chat/completions`` and ``/completions`` are appended to it.
        model: The ``model`` field sent with every request.
    """

    base_url: str
    model: str

    @property
    def spec(self) -> str:
        """The canonical spec string, which :func:`parse_translator_spec` reads back."""
        return f"{SPEC_PREFIX}{self.base_url}#{self.model}"


_SPEC_HELP = "expected openai:URL:MODEL or openai:URL#MODEL, e.g. openai:http://localhost:8080/v1:qwen2.5-7b"


def parse_translator_spec(spec: str) -> OpenAIEndpoint:
    """Read an ``openai:URL:MODEL`` or ``openai:URL#MODEL`` spec (grammar in the module docstring).

    Raises:
        TranslatorError: The spec is not of that form. Credentials in the URL
            are refused (the key belongs in the environment) and never quoted.
    """
    if not isinstance(spec, str) or not spec.startswith(SPEC_PREFIX):
        shown = spec.split(":", 1)[0] + ":…" if isinstance(spec, str) and ":" in spec else repr(spec)
        raise TranslatorError(f"unknown translator spec {shown}; {_SPEC_HELP}")
    rest = spec[len(SPEC_PREFIX):].strip()
    scheme, sep, after = rest.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise TranslatorError(f"translator spec {spec!r}: the URL must start with http:// or https://; {_SPEC_HELP}")
    authority_end = len(after)
    for stop in "/?#":
        i = after.find(stop)
        if i != -1:
            authority_end = min(authority_end, i)
    if "@" in after[:authority_end]:
        raise TranslatorError(
            f"translator spec {SPEC_PREFIX}{scheme}://…: credentials in the URL are not accepted; "
            "put the API key in the environment variable (OPENAI_API_KEY by default)")
    if "#" in after:
        url_part, _, model = after.partition("#")
    else:
        url_part, model = _split_colon_model(after, spec)
    url = f"{scheme.lower()}://{url_part}".rstrip("/")
    model = model.strip()
    if not model:
        raise TranslatorError(f"translator spec {spec!r} names no model; {_SPEC_HELP}")
    parsed = urllib.parse.urlsplit(url)
    if parsed.query or parsed.fragment:
        raise TranslatorError(f"translator spec {spec!r}: the URL must not have a query string; {_SPEC_HELP}")
    try:
        parsed.port  # urllib checks the port's range only when asked for it
    except ValueError as err:
        raise TranslatorError(f"translator spec {spec!r}: bad port in the URL ({err}); {_SPEC_HELP}") from None
    if not parsed.hostname:
        raise TranslatorError(f"translator spec {spec!r}: the URL has no host; {_SPEC_HELP}")
    return OpenAIEndpoint(base_url=url, model=model)


def _split_colon_model(after_scheme: str, spec: str) -> tuple[str, str]:
    """Split ``HOST[:PORT][/PATH]:MODEL`` at the first colon after ``HOST[:PORT]``."""
    if after_scheme.startswith("["):  # an IPv6 literal: its colons are not separators
        close = after_scheme.find("]")
        if close == -1:
            raise TranslatorError(f"translator spec {spec!r}: unclosed '[' in the host; {_SPEC_HELP}")
        host_end = close + 1
    else:
        host_end = len(after_scheme)
        for stop in ":/":
            i = after_scheme.find(stop)
            if i != -1:
                host_end = min(host_end, i)
    pos = host_end
    port = re.match(r":(\d+)(?=$|[/:])", after_scheme[pos:])
    if port:
        pos += port.end()
    colon = after_scheme.find(":", pos)
    if colon == -1:
        return after_scheme, ""
    return after_scheme[:colon], after_scheme[colon + 1:]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would replay the Authorization header to wherever they point."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - urllib hook
        return None


class _Failure(Exception):
    """One failed attempt, before retries are decided (internal)."""

    def __init__(self, reason: str, *, retry: bool, status: int | None = None,
                 retry_after: float | None = None, connection: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.status = status
        self.retry_after = retry_after
        self.connection = connection


class OpenAITranslator:
    """A :class:`~mtcheck.models.translation.Translator` served over the OpenAI REST API.

    Args:
        base_url: API root, e.g. ``http://localhost:8080/v1``.
        model: Model name sent with each request.
        settings: Timeouts, retries, concurrency and the key's variable.
        api_key: The key; ``None`` reads ``settings.api_key_env`` from ``environ``.
        environ: Where to look the key up (``os.environ`` when ``None``).
        sleep: Waits between retries; tests pass a recorder.
        random: Returns a float in ``[0, 1)`` for the jitter.
    """

    def __init__(self, base_url: str, model: str, settings: HTTPSettings | None = None, *,
                 api_key: str | None = None, environ: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 random: Callable[[], float] = _random.random):
        self.settings = settings if settings is not None else HTTPSettings()
        endpoint = OpenAIEndpoint(base_url.rstrip("/"), model)
        self.base_url = endpoint.base_url
        self.model = endpoint.model
        self.name = endpoint.spec
        env = os.environ if environ is None else environ
        key = api_key if api_key is not None else env.get(self.settings.api_key_env)
        key = (key or "").strip()
        # http.client would quote an invalid header value, key included, in its ValueError.
        if any(ord(c) < 0x21 or ord(c) > 0x7E for c in key):
            raise TranslatorError(
                f"the API key in ${self.settings.api_key_env} contains spaces, control or non-ASCII "
                "characters; expected a single token")
        self._api_key = key or None
        self._sleep = sleep
        self._random = random
        # Built once so that the proxy settings are read once, and without redirect following.
        self._opener = urllib.request.build_opener(_NoRedirect())
        self.requests_sent = 0
        self._count_lock = threading.Lock()

    @classmethod
    def from_spec(cls, spec: str, settings: HTTPSettings | None = None, **kwargs: Any) -> "OpenAITranslator":
        """Build a translator from an ``openai:`` spec; keyword arguments go to the constructor."""
        endpoint = parse_translator_spec(spec)
        return cls(endpoint.base_url, endpoint.model, settings, **kwargs)

    def __repr__(self) -> str:
        return (f"OpenAITranslator(base_url={self.base_url!r}, model={self.model!r}, "
                f"api_key={'set' if self._api_key else 'none'})")

    # -- the Translator protocol -------------------------------------------------

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        """Translate each text through ``/chat/completions``; one output per input, in order.

        Empty or blank texts translate to ``""`` without a request.
        """
        check_language(src_lang)
        check_language(tgt_lang)
        return self._map(lambda text: self._translate_one(text, src_lang, tgt_lang), list(texts))

    def score(self, sources: Sequence[str], targets: Sequence[str], src_lang: str,
              tgt_lang: str) -> list[TokenScores]:
        """Forced decoding through ``/completions`` with ``echo``: log P(target | prompt) per token.

        A token that straddles the prompt and the target (``" The"`` after
        ``"English:"``) is kept, with its offsets clipped to the target.
        Offsets come from the server's ``text_offset`` when those agree with
        the text, else from aligning the token texts to it. Where a character
        is split across tokens, the token that completes it covers it and the
        earlier pieces get empty spans; when the server sends unreadable
        pieces (``"\\ufffd"``), a run of them is attributed to its last token.
        """
        check_language(src_lang)
        check_language(tgt_lang)
        sources, targets = list(sources), list(targets)
        if len(sources) != len(targets):
            raise TranslatorError(f"score needs one target per source, got {len(sources)} sources "
                                  f"and {len(targets)} targets")
        return self._map(lambda pair: self._score_one(pair[0], pair[1], src_lang, tgt_lang),
                         list(zip(sources, targets)))

    # -- prompts -------------------------------------------------------------------

    @staticmethod
    def chat_messages(text: str, src_lang: str, tgt_lang: str) -> list[dict[str, str]]:
        """The chat request asking for a translation of ``text``."""
        src, tgt = LANGUAGES[src_lang], LANGUAGES[tgt_lang]
        return [
            {"role": "system", "content": f"You are a professional {src}-to-{tgt} translator."},
            {"role": "user", "content": f"Translate the following {src} text into {tgt}. "
                                        f"Reply with the translation only.\n\n{text}"},
        ]

    @staticmethod
    def score_prefix(source: str, src_lang: str, tgt_lang: str) -> str:
        """The plain-text prompt the target is appended to for scoring."""
        src, tgt = LANGUAGES[src_lang], LANGUAGES[tgt_lang]
        return f"Translate the following {src} text into {tgt}.\n\n{src}: {source}\n{tgt}: "

    # -- internals -------------------------------------------------------------------

    def _map(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        if len(items) <= 1 or self.settings.concurrency == 1:
            return [fn(item) for item in items]
        pool = ThreadPoolExecutor(max_workers=min(self.settings.concurrency, len(items)),
                                  thread_name_prefix="mtcheck-http")
        try:
            return list(pool.map(fn, items))  # map keeps the input order
        finally:
            # After a failure, don't start the requests still queued.
            pool.shutdown(wait=True, cancel_futures=True)

    def _translate_one(self, text: str, src_lang: str, tgt_lang: str) -> str:
        if not text.strip():
            return ""
        url = self.base_url + "/chat/completions"
        body = {
            "model": self.model,
            "messages": self.chat_messages(text, src_lang, tgt_lang),
            "temperature": 0,
            "max_tokens": self.settings.max_tokens,
            "stream": False,
        }
        reply = self._post(url, body)
        content = _field(reply, ("choices", 0, "message", "content"), url, "an OpenAI chat completion")
        if not isinstance(content, str):
            raise TranslatorError(f"response from {url}: choices[0].message.content is "
                                  f"{type(content).__name__}, expected a string")
        finish = _get(reply, ("choices", 0, "finish_reason"))
        if finish == "length":
            raise TranslatorError(f"response from {url}: the translation was cut off at max_tokens="
                                  f"{self.settings.max_tokens}; raise HTTPSettings.max_tokens")
        return clean_reply(content, text)

    def _score_one(self, source: str, target: str, src_lang: str, tgt_lang: str) -> TokenScores:
        if not target:
            return TokenScores(text=target, tokens=(), logprobs=(), offsets=())
        url = self.base_url + "/completions"
        prefix = self.score_prefix(source, src_lang, tgt_lang)
        full = prefix + target
        body = {
            "model": self.model,
            "prompt": full,
            "max_tokens": 0,
            "echo": True,
            "logprobs": 1,
            "temperature": 0,
        }
        try:
            reply = self._post(url, body)
        except TranslatorError as err:
            if getattr(err, "status", None) in (400, 404, 422, 501):
                raise TranslatorError(
                    f"{err}; score() needs a server whose /completions endpoint returns prompt "
                    "log-probabilities (echo=true with logprobs, e.g. vLLM)") from None
            raise
        unsupported = (f"the server at {url} does not return prompt log-probabilities "
                       "(echo=true with logprobs); score() needs one that does, e.g. vLLM")
        logprobs = _get(reply, ("choices", 0, "logprobs"))
        _field(reply, ("choices", 0), url, "an OpenAI completion")
        if not isinstance(logprobs, dict):
            raise TranslatorError(unsupported + " (choices[0].logprobs is missing)")
        tokens = logprobs.get("tokens")
        values = logprobs.get("token_logprobs")
        if not isinstance(tokens, list) or not isinstance(values, list):
            missing = "tokens" if not isinstance(tokens, list) else "token_logprobs"
            raise TranslatorError(unsupported + f" (choices[0].logprobs.{missing} is missing)")
        if len(tokens) != len(values) or not all(isinstance(t, str) for t in tokens):
            raise TranslatorError(f"response from {url}: choices[0].logprobs.tokens and token_logprobs "
                                  "are not lists of equal length of strings and numbers")
        if not tokens:
            raise TranslatorError(unsupported + " (no prompt tokens came back)")
        spans = _offsets_from_server(full, tokens, logprobs.get("text_offset"))
        if spans is None:
            spans = _align(full, tokens)
        if spans is None:
            raise TranslatorError(f"response from {url}: its tokens do not spell the prompt that was sent "
                                  "(a prompt truncated by the server, or tokens not given as text)")
        start = len(prefix)
        out_tokens, out_lp, out_off = [], [], []
        for tok, value, span in zip(tokens, values, spans):
            if span is None or not (span[0] >= start or span[1] > start):
                continue  # a prompt token, or one generated after the target
            s, e = span
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TranslatorError(f"response from {url}: choices[0].logprobs.token_logprobs has "
                                      f"{value!r} for a target token, expected a number")
            out_tokens.append(tok)
            out_lp.append(float(value))
            out_off.append((max(s, start) - start, max(e, start) - start))
        return TokenScores(text=target, tokens=tuple(out_tokens), logprobs=tuple(out_lp),
                           offsets=tuple(out_off))

    def _post(self, url: str, body: dict[str, Any]) -> Any:
        """POST JSON with retries; the decoded JSON reply, or a TranslatorError."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        s = self.settings
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(url, data)
            except _Failure as failure:
                if not failure.retry or attempt >= s.max_attempts:
                    raise self._final_error(url, failure, attempt) from None
                if failure.retry_after is not None:
                    if failure.retry_after > s.backoff_max:
                        raise self._error(
                            f"{url} answered HTTP {failure.status} asking to retry after "
                            f"{failure.retry_after:g} s, longer than backoff_max={s.backoff_max:g} s; "
                            "giving up (raise HTTPSettings.backoff_max to wait)", failure.status) from None
                    delay = failure.retry_after
                else:
                    delay = min(s.backoff_max, s.backoff_base * 2 ** (attempt - 1))
                    delay *= 1 - s.jitter * self._random()
                self._sleep(max(0.0, delay))

    def _attempt(self, url: str, data: bytes) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": "mtcheck"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        with self._count_lock:
            self.requests_sent += 1
        limit = self.settings.max_response_bytes
        try:
            with self._opener.open(request, timeout=self.settings.timeout) as resp:
                status = resp.status
                length = resp.headers.get("Content-Length")
                if length is not None and length.strip().isdigit() and int(length) > limit:
                    raise TranslatorError(f"response from {url} (HTTP {status}) is {int(length)} bytes, "
                                          f"more than the {limit}-byte limit")
                raw = resp.read(limit + 1)
        except urllib.error.HTTPError as err:
            raise self._http_failure(url, err) from None
        except urllib.error.URLError as err:
            raise _connection_failure(err.reason, self.settings.timeout) from None
        except (OSError, http.client.HTTPException) as err:
            raise _connection_failure(err, self.settings.timeout) from None
        if len(raw) > limit:
            raise TranslatorError(f"response from {url} (HTTP {status}) is more than the {limit}-byte limit")
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            excerpt = self._redact(raw[:120].decode("utf-8", "replace"))
            raise TranslatorError(f"response from {url} (HTTP {status}) is not JSON; expected a JSON "
                                  f"object, got {excerpt!r}") from None

    def _http_failure(self, url: str, err: urllib.error.HTTPError) -> _Failure:
        status = err.code
        try:
            detail = _error_detail(err.read(_ERROR_BODY_LIMIT))
        except (OSError, http.client.HTTPException):
            detail = ""
        finally:
            err.close()
        reason = f"HTTP {status}"
        if err.reason:
            reason += f" ({err.reason})"
        if 300 <= status < 400:
            where = err.headers.get("Location", "") if err.headers else ""
            reason += f" redirecting to {where!r}; redirects are not followed, give the final URL"
        if detail:
            reason += f": {self._redact(detail)}"
        if status in (401, 403):
            reason += (f" (check the API key in ${self.settings.api_key_env})" if self._api_key
                       else f" (no API key: ${self.settings.api_key_env} is not set)")
        retry_after = _retry_after(err.headers.get("Retry-After") if err.headers else None)
        return _Failure(reason, retry=status in _RETRY_STATUSES, status=status, retry_after=retry_after)

    def _final_error(self, url: str, failure: _Failure, attempts: int) -> TranslatorError:
        tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
        if failure.connection:
            msg = f"cannot reach {url}: {failure.reason} after {tries}"
        else:
            msg = f"{url} answered {failure.reason} after {tries}; expected HTTP 200 with a JSON body"
        return self._error(msg, failure.status)

    def _error(self, message: str, status: int | None) -> TranslatorError:
        err = TranslatorError(self._redact(message))
        err.status = status  # lets score() tell "endpoint unsupported" from other failures
        return err

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


def _connection_failure(reason: object, timeout: float) -> _Failure:
    """Describe a network-level failure; all but certificate problems are worth a retry."""
    if isinstance(reason, ssl.SSLCertVerificationError):
        return _Failure(f"TLS certificate not trusted ({reason.verify_message})", retry=False, connection=True)
    if isinstance(reason, TimeoutError):
        text = f"no response within {timeout:g} s"
    elif isinstance(reason, ConnectionRefusedError):
        text = "connection refused"
    elif isinstance(reason, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
                             http.client.RemoteDisconnected)):
        text = "connection closed by the server"
    elif isinstance(reason, http.client.IncompleteRead):
        text = "connection closed mid-response"
    elif isinstance(reason, OSError) and getattr(reason, "strerror", None):
        text = str(reason.strerror)
    else:
        text = str(reason) or type(reason).__name__
    return _Failure(text, retry=True, connection=True)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); ``None`` if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_detail(raw: bytes) -> str:
    """The server's own explanation from an error body, one line and short."""
    text = raw.decode("utf-8", "replace")
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        err = obj.get("error", obj.get("detail", obj.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err is not None:
            text = err if isinstance(err, str) else json.dumps(err, ensure_ascii=False)
    text = " ".join(text.split())
    return text[:200] + ("…" if len(text) > 200 else "")


def _get(obj: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or len(obj) <= step:
                return None
        elif not isinstance(obj, dict) or step not in obj:
            return None
        obj = obj[step]
    return obj


def _field(obj: Any, path: tuple[str | int, ...], url: str, expected: str) -> Any:
    """``obj[path…]``, or a TranslatorError naming the first missing step."""
    done = ""
    for step in path:
        if isinstance(step, int):
            ok = isinstance(obj, list) and len(obj) > step
            done += f"[{step}]"
        else:
            ok = isinstance(obj, dict) and step in obj
            done += f".{step}" if done else step
        if not ok:
            raise TranslatorError(f"response from {url} lacks {done}; expected {expected}")
        obj = obj[step]
    return obj


_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "«": "»", "`": "`"}
_THINK = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)


def clean_reply(reply: str, source: str = "") -> str:
    """The translation in a chat reply: without a leading ``<think>`` block, surrounding whitespace
    and one pair of quotes the model wrapped it in.

    Quotes stay when the source was quoted too, or when the inside holds the
    same quote marks (``"Yes," he said, "no."`` is not wrapped).
    """
    text = _THINK.sub("", reply, count=1).strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == _QUOTES[text[0]]:
        inner = text[1:-1]
        src = source.strip()
        source_quoted = len(src) >= 2 and src[0] in _QUOTES and src[-1] == _QUOTES[src[0]]
        if not source_quoted and text[0] not in inner and text[-1] not in inner:
            text = inner.strip()
    return text


# -- token offsets -----------------------------------------------------------------

def _offsets_from_server(text: str, tokens: list[str], offsets: Any) -> list[tuple[int, int] | None] | None:
    """Spans from ``text_offset``, if present and consistent with ``text``; else ``None``.

    Consistent: integers, starting at 0, never decreasing; every token whose
    text is readable found at its offset and followed by the next offset
    right after it; and the prompt's tokens ending exactly at the end of
    ``text``. Tokens from there on (generated despite ``max_tokens: 0``)
    get ``None``. Offsets that are running sums of unreadable token strings
    (``"bytes:\\xe5"``) fail these checks and are not used.
    """
    if not isinstance(offsets, list) or len(offsets) != len(tokens) or not offsets:
        return None
    if not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets):
        return None
    if offsets[0] != 0 or any(b < a for a, b in zip(offsets, offsets[1:])):
        return None
    n = len(text)
    prompt = next((i for i, off in enumerate(offsets) if off >= n), len(offsets))
    if prompt < len(offsets) and offsets[prompt] != n:
        return None  # the prompt's tokens overshoot its end
    ends = offsets[1:prompt] + [n]
    for tok, off, end in zip(tokens, offsets, ends):
        if _readable(tok) and (off + len(tok) != end or not text.startswith(tok, off)):
            return None
    return [(s, e) for s, e in zip(offsets, ends)] + [None] * (len(offsets) - prompt)


def _readable(token: str) -> bool:
    return "\ufffd" not in token and not token.startswith("bytes:")


def _token_bytes(token: str) -> bytes | None:
    """A token's UTF-8 bytes; ``None`` when the server's text for it lost them."""
    if token.startswith("bytes:"):
        # OpenAI writes a token that is not whole UTF-8 as "bytes:\xe5\xa5".
        body = token[len("bytes:"):]
        if re.fullmatch(r"(\\x[0-9a-fA-F]{2})+", body):
            return bytes(int(body[i + 2:i + 4], 16) for i in range(0, len(body), 4))
        return None
    if "\ufffd" in token:
        return None
    return token.encode("utf-8")


def _align(text: str, tokens: list[str]) -> list[tuple[int, int] | None] | None:
    """Character spans of ``tokens`` laid end to end over ``text``; ``None`` if they do not spell it.

    Works in UTF-8 bytes so that tokens holding part of a character line up;
    a token gets the characters whose last byte it holds. A run of tokens
    whose bytes are unknown ends where the next readable token matches at a
    character boundary, and is attributed to its last token. Tokens after
    the end of ``text`` (generated despite ``max_tokens: 0``) get ``None``.
    """
    data = text.encode("utf-8")
    # chars_done[b]: characters whose last byte lies before byte b.
    chars_done = [0] * (len(data) + 1)
    b = 0
    for i, ch in enumerate(text):
        width = len(ch.encode("utf-8"))
        for k in range(1, width + 1):
            chars_done[b + k] = i + 1 if k == width else i
        b += width
    byte_spans: list[tuple[int, int] | None] = []
    pending: list[int] = []
    pos = 0
    for tok in tokens:
        piece = _token_bytes(tok)
        if pos >= len(data) and not pending:
            byte_spans.append(None)
            continue
        if piece is None or (pending and not piece):
            pending.append(len(byte_spans))
            byte_spans.append((pos, pos))
            continue
        if pending:
            nxt = data.find(piece, pos + 1)
            while nxt != -1 and nxt < len(data) and 0x80 <= data[nxt] < 0xC0:
                nxt = data.find(piece, nxt + 1)  # only at a character boundary
            if nxt == -1:
                return None
            byte_spans[pending[-1]] = (pos, nxt)
            pending.clear()
            pos = nxt
        if not data.startswith(piece, pos):
            return None
        byte_spans.append((pos, pos + len(piece)))
        pos += len(piece)
    if pending:
        byte_spans[pending[-1]] = (pos, len(data))
        pos = len(data)
    if pos != len(data):
        return None
    return [None if span is None else (chars_done[span[0]], chars_done[span[1]]) for span in byte_spans]


def load_openai(spec) -> "OpenAITranslator":
    """Registry loader for ``--model translator=openai:URL#MODEL`` (the spec's location is that string)."""
    return OpenAITranslator.from_spec(spec.location)
