"""A loopback webhook receiver as an ERP would run one: it verifies every Standard Webhooks signature by hand
(HMAC-SHA256 over "{id}.{timestamp}.{body}" with the base64 key after whsec_, independent of the signing
library), keeps what it received, applies each webhook id once, and can answer errors or be switched off."""
import base64
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def signature_ok(secret: str, webhook_id: str, timestamp: str, body: bytes, header: str) -> bool:
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body,
                                         hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, part.split(",", 1)[1]) for part in header.split() if "," in part)


class Receiver:
    def __init__(self, secret: str, port: int = 0):
        self.secret = secret
        self.requests: list[dict] = []  # every request, verified or not
        self.applied: dict[str, dict] = {}  # webhook id -> body, each applied once
        self.fail_next = 0
        self.answer = 200
        self.delay = 0.0  # seconds between applying a delivery and answering (a slow ERP)
        self.in_flight: list[str] = []  # webhook ids applied but not answered yet
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                wid = self.headers.get("webhook-id", "")
                ok = signature_ok(receiver.secret, wid, self.headers.get("webhook-timestamp", ""), body,
                                  self.headers.get("webhook-signature", ""))
                with receiver.lock:
                    code = receiver.answer
                    if receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        code = 503
                    doc = json.loads(body) if body else {}
                    receiver.requests.append({"id": wid, "sig_ok": ok, "answered": code, "body": doc,
                                              "headers": dict(self.headers)})
                    if ok and 200 <= code < 300:
                        receiver.applied.setdefault(wid, doc)
                    receiver.in_flight.append(wid)
                try:
                    if receiver.delay:
                        time.sleep(receiver.delay)
                    self.send_response(code if ok else 401)
                    self.end_headers()
                    self.wfile.write(b'{"booked": true}' if ok else b'{"error": "signature"}')
                except OSError:
                    pass  # the sender died before the answer (the tests kill it on purpose)
                finally:
                    with receiver.lock:
                        receiver.in_flight.remove(wid)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/leitplanke"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
