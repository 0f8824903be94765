"""Demo-ERP: a receiver of the portal's signed webhook deliveries inside the quick start, so that the whole
path from a dropped PDF to an ERP booking can be watched without any other system. It verifies each
delivery's Standard Webhooks signature with the secrets of the webhook connectors that point at it, books
each webhook id once, and keeps what it received in var/demo/erp/received.jsonl."""
import json
import threading

from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from automations.choices import CatalogueKind, ConnectorType
from automations.connectors.services.credentials import connector_secret
from automations.registry.models.catalogue import CatalogueEntry

_lock = threading.Lock()


def received_file():
    return settings.VAR_DIR / "demo" / "erp" / "received.jsonl"


def received() -> list[dict]:
    """What Demo-ERP received, newest first."""
    path = received_file()
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(reversed(lines))


def _secrets(path: str) -> list[str]:
    entries = CatalogueEntry.objects.filter(kind=CatalogueKind.CONNECTOR, connector_type=ConnectorType.WEBHOOK,
                                            endpoint__endswith=path)
    return [s for s in (connector_secret(entry=e) for e in entries) if s]


def receive(*, path: str, body: bytes, headers: dict) -> dict:
    """Verify and book one delivery; returns the record kept (with `verified` and `first`)."""
    verified = False
    for secret in _secrets(path):
        try:
            Webhook(secret).verify(body, headers)
            verified = True
            break
        except WebhookVerificationError:
            continue
    try:
        doc = json.loads(body)
    except ValueError:
        doc = {}
    raw = doc.get("data") if isinstance(doc, dict) else None
    data: dict = raw if isinstance(raw, dict) else {}
    webhook_id = headers.get("webhook-id", "")
    fields: dict = data["fields"] if isinstance(data.get("fields"), dict) else {}
    with _lock:
        earlier = {r["webhook_id"] for r in received() if r.get("verified")}
        record = {"received_at": timezone.now().isoformat(), "webhook_id": webhook_id,
                  "type": doc.get("type", "") if isinstance(doc, dict) else "", "verified": verified,
                  "first": verified and webhook_id not in earlier, "item": data.get("id", ""),
                  "use_case": data.get("use_case", ""), "status": data.get("status", ""),
                  "summary": {k: (v or {}).get("value") for k, v in list(fields.items())[:6] if isinstance(v, dict)}}
        path_ = received_file()
        path_.parent.mkdir(parents=True, exist_ok=True)
        with path_.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    return record
