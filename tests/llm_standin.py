"""A stand-in for a local language-model server, started by a test on 127.0.0.1 (no network):
it speaks the OpenAI-compatible chat API (GET /v1/models, POST /v1/chat/completions) and
Ollama's native /api/show and /api/tags, and answers as the test scripts it.

    server.answer = lambda body: {"codings": [...]}      # a dict is sent as JSON content
    server.answer = lambda body: "not json"              # a string is sent as it is
    server.answer = lambda body: Reply(500, "boom")      # a status and a raw body
    server.answer = lambda body: Reply(delay=2)          # answer late (a timeout)
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIGEST = "sha256:5b1f0c8e2d7a9c4e6f3b1a0d9e8c7b6a5f4e3d2c1b0a99887766554433221100"


@dataclass
class Reply:
    status: int = 200
    body: object = None
    delay: float = 0.0


class StandIn:
    """The server: `requests` holds (method, path, body) of every request received."""

    def __init__(self, models=("llama3.1:8b",), digest=DIGEST, structured=True,
                 host="127.0.0.1", name=None):
        self.models, self.digest, self.structured = list(models), digest, structured
        self.requests = []
        self.keys = []  # the Authorization header of each chat request (None: none sent)
        self.answer = lambda body: {"codings": []}
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"standin": self})
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{name or host}:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def chats(self):
        """The bodies of the chat completions asked for, in order."""
        return [body for method, path, body in self.requests if path == "/v1/chat/completions"]

    def record(self, method, path, body):
        with self._lock:
            self.requests.append((method, path, body))


def user_text(body):
    """The TEXT a chat request asks to code (what follows "TEXT" in its first user message)."""
    first = next(m for m in body["messages"] if m["role"] == "user")
    return first["content"].rsplit("TEXT\n", 1)[-1].strip()


class _Handler(BaseHTTPRequestHandler):
    standin = None

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status, payload):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        server = self.standin
        server.record("GET", self.path, None)
        if self.path == "/v1/models":
            self._send(200, {"object": "list", "data": [
                {"id": name, "object": "model", "owned_by": "library"}
                for name in server.models]})
        elif self.path == "/api/tags":
            self._send(200, {"models": [{"name": name, "model": name, "digest": server.digest,
                                         "details": {"parameter_size": "8.0B"}}
                                        for name in server.models]})
        else:
            self._send(404, {"error": "404 page not found"})

    def do_POST(self):
        server = self.standin
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        server.record("POST", self.path, body)
        if self.path == "/v1/chat/completions":
            server.keys.append(self.headers.get("Authorization"))
        if self.path == "/api/show":
            if body.get("model") not in server.models:
                self._send(404, {"error": f"model '{body.get('model')}' not found"})
                return
            self._send(200, {"details": {"family": "llama", "parameter_size": "8.0B",
                                         "quantization_level": "Q4_K_M"},
                             "model_info": {"llama.context_length": 131072},
                             "modified_at": "2025-01-01T00:00:00Z"})
            return
        if self.path != "/v1/chat/completions":
            self._send(404, {"error": "404 page not found"})
            return
        if body.get("model") not in server.models:
            self._send(404, {"error": {"message": f"model \"{body.get('model')}\" not found, "
                                                  "try pulling it first",
                                       "type": "api_error"}})
            return
        if "response_format" in body and not server.structured:
            self._send(400, {"error": {"message": "response_format json_schema is not "
                                                  "supported", "type": "invalid_request"}})
            return
        reply = server.answer(body)
        if not isinstance(reply, Reply):
            reply = Reply(200, reply)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.status != 200:
            self._send(reply.status, reply.body if reply.body is not None else b"")
            return
        content = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        self._send(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 0,
                         "model": body["model"], "choices": [{
                             "index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                         "usage": {"prompt_tokens": 10, "completion_tokens": 10,
                                   "total_tokens": 20}})
