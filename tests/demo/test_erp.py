"""Demo-ERP: the quick start's receiver inside the portal verifies each signed delivery with the secret of
the webhook connector pointing at it, books each webhook id once and lists what it received."""
import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from demo import connectors as demo_connectors
from tests.automations.connectors.receiver import new_secret
from tests.automations.factories import make_rules_use_case, make_team

pytestmark = pytest.mark.django_db


def signed(secret: str, webhook_id: str, body: bytes) -> dict:
    now = datetime.now(UTC)
    return {"HTTP_WEBHOOK_ID": webhook_id, "HTTP_WEBHOOK_TIMESTAMP": str(int(now.timestamp())),
            "HTTP_WEBHOOK_SIGNATURE": Webhook(secret).sign(webhook_id, now, body)}


def test_demo_erp_verifies_books_once_and_lists_what_it_received(client, tenant, member, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    team = make_team(member)
    make_rules_use_case(tenant, team, key="belegklassifizierung")  # a demo use case whose results go to the ERP
    secret = new_secret()
    entry = demo_connectors.seed_webhook(tenant, team, key=demo_connectors.DEMO_ERP_KEY, name="Demo-ERP",
                                         url="http://127.0.0.1:8000" + reverse("demo:erp-hooks"), secret=secret)
    assert entry.use_cases.filter(key="belegklassifizierung").exists()
    hook = reverse("demo:erp-hooks")
    body = json.dumps({"type": "work_item.applied", "tenant": "muster", "timestamp": "2026-12-06T10:00:00+00:00",
                       "data": {"id": "it-1", "use_case": "belegklassifizierung", "status": "applied",
                                "fields": {"document_class": {"value": "invoice", "confidence": 0.9}}}}).encode()

    first = client.post(hook, body, content_type="application/json", **signed(secret, "msg_1", body))
    assert first.status_code == 200 and first.json() == {"booked": True, "first": True}
    again = client.post(hook, body, content_type="application/json", **signed(secret, "msg_1", body))
    assert again.json() == {"booked": True, "first": False}
    forged = client.post(hook, body, content_type="application/json", **signed(new_secret(), "msg_2", body))
    assert forged.status_code == 400

    client.force_login(team["clerk"])
    page = client.get(reverse("demo:erp")).content.decode()
    assert page.count('data-webhook-id="msg_1" data-verified="true"') == 2
    assert 'data-webhook-id="msg_2" data-verified="false"' in page
    assert "document_class: invoice" in page


def test_the_records_of_processing_name_demo_erp_as_a_recipient(tenant, member, settings, tmp_path):
    """The quick start wires Demo-ERP into every demo use case: the records of processing name it beside the
    processor, as a recipient of the results."""
    from django.utils import translation

    from audit.selectors.processing_records import processing_records

    settings.VAR_DIR = tmp_path
    team = make_team(member)
    make_rules_use_case(tenant, team, key="service-tickets", data_subjects=["Kunden"], legal_basis="art6_1_b",
                        input_fields=[{"name": "text", "type": "long_text", "personal_data": True,
                                       "category": "contact"}])
    demo_connectors.seed_demo_erp(tenant, team, url=demo_connectors.demo_erp_url("127.0.0.1", 8000))
    with translation.override("de"):
        record, = processing_records(tenant=tenant).records
    assert record.connectors == [("Demo-ERP (Konnektor: Webhook (signierter HTTP-POST), Zustellung (Ergebnisse "
                                  "gehen hinaus); Standort: Demo)")]
