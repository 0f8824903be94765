"""A scripted OpenAI-compatible chat-completions server on loopback: real HTTP for the client under test.

Each POST to /v1/chat/completions takes the next scripted reply (or the default one): a completion
with given content and log-probabilities, an HTTP error with headers (429 + Retry-After), a delay
longer than the client's timeout, or a body that is not JSON. Every request is kept (headers and
parsed body) so tests can see exactly what reached the provider."""
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: str | None = None
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None  # sent as is (e.g. invalid JSON)
    logprobs: list[float] | None = None
    error: str = ""  # message of an OpenAI error envelope for status >= 400
    prompt_tokens: int = 42
    completion_tokens: int = 17


def completion_body(reply: Reply, model: str) -> dict:
    choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply.content}}
    if reply.logprobs is not None:
        choice["logprobs"] = {"content": [{"token": f"t{i}", "logprob": lp, "bytes": None, "top_logprobs": []}
                                          for i, lp in enumerate(reply.logprobs)]}
    else:
        choice["logprobs"] = None
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [choice], "usage": {"prompt_tokens": reply.prompt_tokens,
                                           "completion_tokens": reply.completion_tokens,
                                           "total_tokens": reply.prompt_tokens + reply.completion_tokens}}


@dataclass
class Received:
    path: str
    headers: dict
    body: dict | None
    raw: bytes
    at: float


class ScriptedLlmServer:
    def __init__(self):
        self.script: list[Reply] = []
        self.default = Reply(content='{"reply": "Guten Tag"}')
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with server._lock:
                    server.requests.append(Received(self.path, dict(self.headers), body, raw, time.monotonic()))
                    reply = server.script.pop(0) if server.script else server.default
                if self.path.rstrip("/") != "/v1/chat/completions":
                    reply = Reply(status=404, error="unknown path")
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw is not None:
                    data = reply.raw
                elif reply.status >= 400:
                    data = json.dumps({"error": {"message": reply.error or "scripted error", "type": "test",
                                                 "code": None}}).encode()
                else:
                    data = json.dumps(completion_body(reply, (body or {}).get("model", "?"))).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "ScriptedLlmServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def then(self, *replies: Reply) -> "ScriptedLlmServer":
        with self._lock:
            self.script.extend(replies)
        return self

    @property
    def bodies(self) -> list[dict]:
        return [r.body for r in self.requests]
