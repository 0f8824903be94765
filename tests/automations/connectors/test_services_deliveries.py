"""Results reach target systems through the outbox: signed per Standard Webhooks, retried with the same
webhook id, dead letters escalated to IT and sent again, refusals for unapproved data categories — all
against a real HTTP receiver on loopback that verifies every signature."""
import json
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from audit.actors import SYSTEM
from audit.models import AuditEvent
from automations.choices import DeliveryStatus, ItemStatus
from automations.connectors.models import ConnectorSecret, Delivery
from automations.connectors.services import deliveries
from automations.connectors.services.credentials import connector_secret, connector_secret_set, connector_secrets_rotate
from automations.execution.services import intake
from automations.execution.services.results import work_item_finalise
from automations.models import Escalation
from portal.choices import Role
from portal.services import api_token_create
from tests.automations.connectors.conftest import approve_connector, webhook_connector
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db

INVOICE_TEXT = "Rechnung Nr. 4711, Rechnungsnummer steht oben"


@pytest.fixture(autouse=True)
def eager_celery(eager_tasks):
    """In-process tasks (tests/conftest.py)."""


def submit(run_on_commit, team, tenant, text=INVOICE_TEXT, key="belege"):
    item, _created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                   use_case_key=key, payload={"text": text})
    item.refresh_from_db()
    return item


def sweep_until(run_on_commit, condition, seconds=10.0):
    """Beat's sweep, run until `condition()` holds (retries wait their backoff)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the deliveries did not settle"
        time.sleep(0.05)
        run_on_commit(deliveries.deliveries_sweep)


def api_get(tenant, user, item) -> dict:
    _token, plain = api_token_create(actor=user, tenant=tenant, user=user, name="erp")
    response = Client().get(f"/api/v1/work-items/{item.pk}/", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 200, response.content
    return response.json()


def test_applied_item_reaches_the_receiver_signed_with_the_item_as_the_api_shows_it(
        tenant, team, receiver, run_on_commit):
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"])
    webhook_connector(tenant, team, use_case, receiver)
    item = submit(run_on_commit, team, tenant)
    assert item.status == ItemStatus.APPLIED

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["sig_ok"] and request["answered"] == 200
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-timestamp"].isdigit()
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert headers["webhook-signature"].startswith("v1,")
    body = request["body"]
    assert body["type"] == "work_item.applied" and body["tenant"] == tenant.slug and body["timestamp"]
    shown = api_get(tenant, team["it_operator"], item)
    assert {k: v for k, v in body["data"].items() if k != "deliveries"} == \
        {k: v for k, v in shown.items() if k != "deliveries"}

    delivery = Delivery.objects.get(item=item)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.webhook_id == headers["webhook-id"]
    receipt = delivery.receipts.get()
    assert receipt.ok and receipt.status_code == 200 and receipt.response_excerpt == '{"booked": true}'
    assert shown["deliveries"] == [{"connector": "ERP erp", "status": "delivered", "attempts": 1,
                                    "delivered_at": delivery.delivered_at.isoformat()}]
    assert item.runs.get().steps.get(step="deliver").details == {"delivery": "outbox"}
    assert AuditEvent.objects.filter(event_type="delivery.delivered", tenant=tenant).count() == 1


def test_failed_attempts_are_retried_with_the_same_webhook_id_and_the_receiver_applies_once(
        tenant, team, receiver, run_on_commit):
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"])
    webhook_connector(tenant, team, use_case, receiver, max_attempts=5)
    receiver.fail_next = 2
    item = submit(run_on_commit, team, tenant)
    delivery = Delivery.objects.get(item=item)
    sweep_until(run_on_commit, lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED)

    assert [r["answered"] for r in receiver.requests] == [503, 503, 200]
    assert {r["id"] for r in receiver.requests} == {delivery.webhook_id}
    assert all(r["sig_ok"] for r in receiver.requests)
    assert list(receiver.applied) == [delivery.webhook_id]
    delivery.refresh_from_db()
    assert delivery.attempts == 3
    assert [(r.number, r.status_code, r.ok) for r in delivery.receipts.all()] == [
        (1, 503, False), (2, 503, False), (3, 200, True)]


def test_backoff_doubles_with_jitter_up_to_the_ceiling(tenant, team, receiver):
    class Fixed:
        def __init__(self, x):
            self.x = x

        def uniform(self, a, b):
            return a + (b - a) * self.x

    connector = type("C", (), {"settings": {"backoff": 4, "backoff_max": 20}})()
    assert [deliveries.backoff_seconds(connector, n, Fixed(0)) for n in (1, 2, 3, 4)] == [2, 4, 8, 10]
    assert [deliveries.backoff_seconds(connector, n, Fixed(1)) for n in (1, 2, 3, 4)] == [4, 8, 16, 20]


def test_last_failed_attempt_makes_a_dead_letter_escalated_to_it_and_redelivered_by_it(
        tenant, team, receiver, run_on_commit):
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"],
                                   manual_fallback="Beleg im ERP von Hand buchen.")
    webhook_connector(tenant, team, use_case, receiver, max_attempts=2)
    receiver.answer = 500
    item = submit(run_on_commit, team, tenant)
    delivery = Delivery.objects.get(item=item)
    sweep_until(run_on_commit, lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DEAD)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.last_error == "HTTP 500"
    escalation = Escalation.objects.get(item=item)
    assert escalation.contact == team["it_operator"] and "failed after 2 attempts" in escalation.reason
    assert escalation.manual_fallback == "Beleg im ERP von Hand buchen."
    assert AuditEvent.objects.filter(event_type="delivery.dead", tenant=tenant).count() == 1

    with pytest.raises(PermissionDenied):
        deliveries.delivery_redeliver(actor=team["clerk"], delivery=delivery)
    receiver.answer = 200
    run_on_commit(deliveries.delivery_redeliver, actor=team["it_operator"], delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert {r["id"] for r in receiver.requests} == {delivery.webhook_id}
    assert list(receiver.applied) == [delivery.webhook_id]
    with pytest.raises(ValidationError):
        deliveries.delivery_redeliver(actor=team["it_operator"], delivery=delivery)


def test_connector_not_approved_for_the_use_cases_data_categories_is_refused_at_run_time(
        tenant, team, receiver, run_on_commit):
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"], output_fields=[
        {"name": "document_class", "type": "category", "required": True,
         "choices": ["invoice", "reminder", "delivery_note", "other"]},
        {"name": "iban", "type": "iban", "personal_data": True, "category": "bank"}])
    webhook_connector(tenant, team, use_case, receiver, categories=["contact"])
    item = submit(run_on_commit, team, tenant)
    assert item.status == ItemStatus.APPLIED
    delivery = Delivery.objects.get(item=item)
    assert delivery.status == DeliveryStatus.DEAD and "bank" in delivery.last_error
    assert delivery.attempts == 0 and receiver.requests == []
    escalation = Escalation.objects.get(item=item)
    assert escalation.contact == team["it_operator"] and "refused" in escalation.reason
    event = AuditEvent.objects.get(event_type="delivery.refused", tenant=tenant)
    assert event.details["connector"] == "erp"


def test_a_clerks_rejection_is_delivered_as_work_item_rejected(tenant, team, receiver, run_on_commit):
    use_case = make_rules_use_case(tenant, team, status="pilot", it_contact=team["it_operator"])
    webhook_connector(tenant, team, use_case, receiver)
    item = submit(run_on_commit, team, tenant)
    assert item.status == ItemStatus.REVIEW and not Delivery.objects.filter(item=item).exists()
    run_on_commit(work_item_finalise, actor=team["clerk"], item=item, approved=False, final_values={})
    assert [r["body"]["type"] for r in receiver.requests] == ["work_item.rejected"]
    assert receiver.requests[0]["body"]["data"]["status"] == "rejected"


def test_a_worker_killed_mid_send_leaves_the_delivery_to_the_sweep_with_the_same_id(
        tenant, team, receiver, run_on_commit, django_capture_on_commit_callbacks):
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"])
    webhook_connector(tenant, team, use_case, receiver)
    item = submit(run_on_commit, team, tenant)
    receiver.requests.clear()
    with django_capture_on_commit_callbacks(execute=False):  # this outbox row's task never reaches a worker
        (delivery,) = deliveries.deliveries_create(item=item)
    assert delivery.status == DeliveryStatus.PENDING and receiver.requests == []
    taken = deliveries._take(delivery.pk)  # a worker takes it ... and dies before it sends
    assert taken is not None
    assert run_on_commit(deliveries.deliveries_sweep) == 0  # its lease still holds
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=delivery.created_at, dispatched_until=None)
    assert run_on_commit(deliveries.deliveries_sweep) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    assert [r["id"] for r in receiver.requests] == [delivery.webhook_id]


def test_connector_credentials_are_encrypted_never_shown_and_rotatable(tenant, team, receiver, settings):
    from cryptography.fernet import Fernet

    from portal.field_keys import configured_keys

    entry = approve_connector(tenant, team, "crm", {
        "kind": "connector", "connector_type": "webhook", "direction": "delivery", "name": "CRM",
        "endpoint": receiver.url})
    with pytest.raises(ValidationError):
        connector_secret_set(actor=team["it_operator"], entry=entry, secret="not-a-whsec")
    with pytest.raises(PermissionDenied):
        connector_secret_set(actor=team["clerk"], entry=entry, secret=receiver.secret)
    connector_secret_set(actor=team["it_operator"], entry=entry, secret=receiver.secret)
    stored = ConnectorSecret.objects.get(entry=entry)
    assert receiver.secret not in stored.ciphertext
    event = AuditEvent.objects.get(event_type="connector_secret.set", tenant=tenant)
    assert receiver.secret not in json.dumps(event.details) and event.details["fingerprint"].startswith("sha256:")
    assert connector_secrets_rotate(actor=SYSTEM) == 0  # already under the newest key
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *configured_keys()]
    assert connector_secrets_rotate(actor=SYSTEM) == 1
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key retired
    assert connector_secret(entry=entry) == receiver.secret


def test_a_connector_enters_the_catalogue_only_with_the_security_officers_approval(tenant, team, receiver):
    from automations.choices import ChangeKind
    from automations.registry.services import changes

    with pytest.raises(ValidationError):
        changes.change_request_create(actor=team["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                                      title="x", description="x", payload={"key": "dms", "fields": {
                                          "kind": "connector", "name": "DMS"}})
    cr = changes.change_request_create(actor=team["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                                       title="ERP", description="ERP", payload={"key": "erp", "fields": {
                                           "kind": "connector", "connector_type": "webhook",
                                           "direction": "delivery", "name": "ERP", "endpoint": receiver.url,
                                           "approved_categories": ["bank"]}})
    assert Role.SECURITY_OFFICER in cr.required_roles and Role.DATA_PROTECTION_OFFICER in cr.required_roles
