"""Talking to a language-model server through the OpenAI-compatible chat API (Ollama,
llama.cpp's server, vLLM, LM Studio, or a hosted API when asked for): the standard library's
HTTP only, timeouts, retries with backoff, and one clear message for each way a call fails.

    LlmCallError (a SuggesterError)     one call failed: timeout, 5xx after retries, bad reply
     ├── fatal=True                     no later call can work: unreachable server, missing
     │                                  model, refused key; the run stops

>>> client = LlmClient("http://localhost:11434/v1", "llama3.1:8b")
>>> client.check_model()              # unreachable server or model not pulled: one line
>>> reply = client.chat(body)         # Reply(content, raw, seconds, structured)
"""

import ipaddress
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ...errors import SuggesterError

DEFAULT_URL = "http://localhost:11434/v1"  # Ollama's OpenAI-compatible endpoint
DEFAULT_TIMEOUT = 300.0  # seconds: a laptop's first answer includes loading the model
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)


class LlmCallError(SuggesterError):
    """A call that failed; `fatal` when no later call can succeed (the run stops), `raw` the
    server's answer when there was one."""

    def __init__(self, message, fatal=False, raw=None):
        self.fatal, self.raw = fatal, raw
        super().__init__(message)


def is_loopback(url):
    """True when `url` names this computer: localhost, 127.0.0.0/8 or ::1. Any other name,
    a lab server on the local network included, is not."""
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url, allow_remote=False):
    """Refuse a URL that is not http(s), and one that is not this computer unless
    `allow_remote`: the transcripts' words would leave it. Returns the URL without a
    trailing slash."""
    parts = urlsplit(str(url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SuggesterError(f"the LLM server URL must start with http:// or https://, got "
                             f"'{url}' (Ollama's is {DEFAULT_URL})")
    if not allow_remote and not is_loopback(url):
        raise SuggesterError(f"{shown_url(url)} is not this computer, so the words of the "
                             "transcripts would leave it; add --allow-remote to send them "
                             "there (a server on the local network needs it too)")
    return str(url).strip().rstrip("/")


def shown_url(url):
    """A URL as printed and stored: without user name and password."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


@dataclass(frozen=True)
class Reply:
    """A server's answer to one chat call: the message's text, the raw body, the seconds it
    took, and whether the answer's JSON schema was asked for (`structured`)."""

    content: str
    raw: str
    seconds: float
    structured: bool


class LlmClient:
    """One model on one server. `retries` more attempts after a timeout, a dropped connection
    or a 408/429/5xx, waiting `backoff`, then twice that, and so on."""

    def __init__(self, url, model, api_key=None, timeout=DEFAULT_TIMEOUT, retries=2,
                 backoff=0.5):
        self.url, self.model, self.api_key = str(url).rstrip("/"), model, api_key
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.structured = True  # until the server refuses a response_format

    # -- what the server has ----------------------------------------------------------------
    def models(self):
        """The model ids the server lists (GET /models), or None when it lists none. A server
        that cannot be reached is a fatal LlmCallError."""
        try:
            status, raw = self._send("GET", self.url + "/models", None, self.timeout)
        except LlmCallError as exc:
            if exc.fatal:
                raise
            return None
        if status != 200:
            return None
        try:
            return [str(item.get("id")) for item in json.loads(raw).get("data", [])]
        except (ValueError, AttributeError, TypeError):
            return None

    def check_model(self):
        """Refuse a model the server does not list (Ollama lists every model pulled), naming
        `ollama pull`; an unreachable server is one line saying so."""
        listed = self.models()
        if listed is None or self.model in listed or f"{self.model}:latest" in listed:
            return
        shown = ", ".join(sorted(listed)[:10]) or "none"
        raise LlmCallError(f"model '{self.model}' is not installed on {shown_url(self.url)} "
                           f"(it has: {shown}); with Ollama, run `ollama pull {self.model}`",
                           fatal=True)

    def model_info(self):
        """What Ollama's native API says about the model: {"digest", "details"}; {} from
        servers that are not Ollama. The digest names the exact weights, so a model pulled
        again under the same name is a different model in the provenance."""
        root = self.url.removesuffix("/v1")
        info = {}
        show = self._json("POST", root + "/api/show", {"model": self.model})
        if isinstance(show, dict):
            info["details"] = show.get("details") or {}
            if show.get("digest"):
                info["digest"] = str(show["digest"])
        if "details" in info and "digest" not in info:  # older Ollama: the list has it
            tags = self._json("GET", root + "/api/tags", None)
            for item in (tags or {}).get("models", []) if isinstance(tags, dict) else []:
                if item.get("name") in (self.model, f"{self.model}:latest") or \
                        item.get("model") in (self.model, f"{self.model}:latest"):
                    info["digest"] = str(item.get("digest") or "") or None
        return info

    def _json(self, method, url, body):
        try:
            status, raw = self._send(method, url, body, min(self.timeout, 30))
            return json.loads(raw) if status == 200 else None
        except (LlmCallError, ValueError):
            return None

    # -- one chat call ----------------------------------------------------------------------
    def chat(self, body):
        """POST /chat/completions with `body` (prompt.request_body); the answer's text. When
        the server refuses the answer's JSON schema (an HTTP 400 naming response_format), the
        same request goes again without it, and so does every later one."""
        if not self.structured:
            body = {k: v for k, v in body.items() if k != "response_format"}
        started, attempt = time.monotonic(), 0
        while True:
            try:
                status, raw = self._send("POST", self.url + "/chat/completions", body,
                                         self.timeout)
            except LlmCallError as exc:
                if exc.fatal or attempt >= self.retries:
                    raise
                attempt = self._wait(attempt)
                continue
            if status == 200:
                return Reply(_content(raw), raw, time.monotonic() - started,
                             "response_format" in body)
            if status == 400 and "response_format" in body and _names_format(raw):
                self.structured = False
                body = {k: v for k, v in body.items() if k != "response_format"}
                continue
            if status in RETRY_STATUSES and attempt < self.retries:
                attempt = self._wait(attempt)
                continue
            raise self._refusal(status, raw)

    def _wait(self, attempt):
        time.sleep(self.backoff * 2 ** attempt)
        return attempt + 1

    def _refusal(self, status, raw):
        said = _server_message(raw)
        where = shown_url(self.url)
        if status == 404 and "model" in said.lower():
            return LlmCallError(f"model '{self.model}' is not installed on {where} ({said}); "
                                f"with Ollama, run `ollama pull {self.model}`", True, raw)
        if status in (401, 403):
            return LlmCallError(f"{where} refused the request ({status}: {said}); set "
                                "CODING_LLM_API_KEY to a key it accepts", True, raw)
        return LlmCallError(f"the LLM server answered {status}" + (f": {said}" if said else ""),
                            raw=raw)

    def _send(self, method, url, body, timeout):
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")
        except TimeoutError:
            raise LlmCallError(f"no answer from {shown_url(self.url)} within {timeout:g} s; "
                               "a slow model needs a longer --llm-timeout") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise LlmCallError(f"no answer from {shown_url(self.url)} within {timeout:g} "
                                   "s; a slow model needs a longer --llm-timeout") from None
            raise LlmCallError(f"cannot reach the LLM server at {shown_url(self.url)} "
                               f"({_reason(reason)}); is it running? For Ollama: `ollama "
                               "serve`, or open the Ollama app", fatal=True) from None
        except (ConnectionError, OSError) as exc:  # reset or dropped mid-answer
            raise LlmCallError(f"the connection to {shown_url(self.url)} broke "
                               f"({_reason(exc)})") from None


def _reason(reason):
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason).lower() or type(reason).__name__


def _content(raw):
    try:
        data = json.loads(raw)
        return data["choices"][0]["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError):
        raise LlmCallError("the LLM server's answer is not an OpenAI chat completion "
                           f"(begins: {raw[:80]!r})", raw=raw) from None


def _server_message(raw):
    try:
        data = json.loads(raw)
    except ValueError:
        return " ".join(str(raw).split())[:200]
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        error = error.get("message") or error.get("detail") or json.dumps(error)
    return " ".join(str(error).split())[:200]


def _names_format(raw):
    text = str(raw).lower()
    return "response_format" in text or "json_schema" in text
