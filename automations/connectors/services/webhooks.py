"""Webhook requests signed per the Standard Webhooks specification (the `standardwebhooks` package signs:
HMAC-SHA256 over "{id}.{timestamp}.{body}" with the base64 key of a whsec_ secret)."""
import time
from datetime import UTC, datetime

import requests
from standardwebhooks.webhooks import Webhook

from automations.connectors.services.answers import DeliveryAnswer

EXCERPT_CHARS = 500


def webhook_headers(*, secret: str, webhook_id: str, body: bytes, at: datetime | None = None) -> dict[str, str]:
    at = at or datetime.now(UTC)
    timestamp = int(at.timestamp())
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=datetime.fromtimestamp(timestamp, UTC), data=body)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature,
            "content-type": "application/json", "user-agent": "Leitplanke-Webhooks/1"}


def webhook_post(*, url: str, headers: dict[str, str], body: bytes, timeout: float) -> DeliveryAnswer:
    """One POST; any 2xx within the timeout is success (DESIGN, "Connectors"). Redirects are not followed:
    a signed body goes to the approved target only."""
    started = time.monotonic()
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return DeliveryAnswer(False, None, int((time.monotonic() - started) * 1000), "",
                             f"{type(exc).__name__}: {exc}"[:1000])
    latency = int((time.monotonic() - started) * 1000)
    excerpt = response.text[:EXCERPT_CHARS] if response.content else ""
    ok = 200 <= response.status_code < 300
    return DeliveryAnswer(ok, response.status_code, latency, excerpt,
                         "" if ok else f"HTTP {response.status_code}")
