"""E-mail delivery of approved reply suggestions: through Django's mail machinery, to the portal's own mail
settings (locmem in tests) or to an SMTP server of the connector's own (a real one on loopback), each message
carrying the disclosure line the use case documents for its reply field (EU AI Act Art. 50), through the same
outbox as webhooks: receipts, retries, dead letters, refusals, audit."""
import itertools

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from automations.choices import ChangeKind, DeliveryStatus, ItemStatus
from automations.connectors.models import ConnectorCircuit, Delivery
from automations.execution.services import intake
from automations.execution.services.results import work_item_finalise
from automations.models import Escalation
from automations.registry.services import changes
from tests.automations.connectors.conftest import approve_connector, name_connectors
from tests.automations.connectors.smtp_server import SmtpServer
from tests.automations.connectors.test_services_deliveries import sweep_until
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db

DISCLOSURE = {"de": "Diese Antwort wurde mit Unterstützung eines KI-Systems erstellt (KI-Verordnung Art. 50).",
              "en": "This reply was drafted with the help of an AI system (EU AI Act Art. 50)."}
_numbers = itertools.count(1)
REPLY = "Guten Tag, vielen Dank für Ihre Nachricht. Die Rechnung geht heute noch einmal an Sie."


@pytest.fixture(autouse=True)
def eager_celery(eager_tasks):
    """In-process tasks (tests/conftest.py)."""


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def ticket_use_case(tenant, team, disclosure=DISCLOSURE):
    """A pilot use case like service-tickets: every item goes to a clerk, who approves or edits the reply."""
    reply = {"name": "reply", "type": "long_text", "required": False}
    if disclosure:
        reply["disclosure"] = disclosure
    return make_rules_use_case(
        tenant, team, key="tickets", status="pilot", it_contact=team["it_operator"],
        manual_fallback="Antwort aus dem CRM von Hand senden.",
        input_fields=[{"name": "text", "type": "long_text", "required": False},
                      {"name": "subject", "type": "text", "required": False},
                      {"name": "sender_email", "type": "email", "required": False, "personal_data": True,
                       "category": "contact"}],
        output_fields=[{"name": "document_class", "type": "category", "required": True,
                        "choices": ["invoice", "reminder", "delivery_note", "other"]}, reply])


def email_connector(tenant, team, use_case, endpoint="", key="kundenmail", categories=("contact",), **settings):
    entry = approve_connector(tenant, team, key, {
        "kind": "connector", "connector_type": "email", "direction": "delivery", "name": "Kundenantworten",
        "endpoint": endpoint, "approved_categories": list(categories),
        "settings": {"backoff": 0.01, "max_attempts": 3, "from_email": "service@muster.example", **settings}})
    name_connectors(use_case, team, [key])
    return entry


def decided(run_on_commit, team, tenant, *, reply=REPLY, approved=True, message_id="", recipient="kunde@example.com"):
    # Each item its own text: the same content twice would be held as a duplicate.
    payload = {"text": f"Frage zur Rechnung ({next(_numbers)})", "subject": "Frage zur\r\nRechnung 4711",
               "sender_email": recipient}
    if message_id:
        payload["message_id"] = message_id
    item, _created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                   use_case_key="tickets", payload=payload)
    item.refresh_from_db()
    assert item.status == ItemStatus.REVIEW
    final = {"reply": reply} if reply is not None else {}
    return run_on_commit(work_item_finalise, actor=team["clerk"], item=item, approved=approved, final_values=final)


def test_an_approved_reply_is_mailed_with_the_use_cases_ai_disclosure_through_the_outbox(
        tenant, team, run_on_commit):
    use_case = ticket_use_case(tenant, team)
    email_connector(tenant, team, use_case)
    item = decided(run_on_commit, team, tenant, message_id="<anfrage-1@kunde.example>")

    (message,) = mail.outbox
    delivery = Delivery.objects.get(item=item)
    assert message.to == ["kunde@example.com"] and message.from_email == "service@muster.example"
    assert message.subject == "AW: Frage zur Rechnung 4711"  # the line break of the customer's subject is gone
    assert message.body == f"{REPLY}\n\n{DISCLOSURE['de']}\n"
    assert message.extra_headers["Message-ID"] == f"<{delivery.webhook_id}@muster.example>"
    assert message.extra_headers["In-Reply-To"] == "<anfrage-1@kunde.example>"
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.receipts.get().ok
    event = AuditEvent.objects.get(event_type="delivery.delivered", tenant=tenant)
    assert event.details["connector"] == "kundenmail" and "kunde@example.com" not in str(event.details)


def test_a_reply_that_already_ends_with_the_disclosure_carries_it_once(tenant, team, run_on_commit):
    use_case = ticket_use_case(tenant, team)
    email_connector(tenant, team, use_case)
    decided(run_on_commit, team, tenant, reply=f"{REPLY}\n\n{DISCLOSURE['de']}")
    assert mail.outbox[0].body.count(DISCLOSURE["de"]) == 1


def test_a_rejection_or_an_empty_reply_sends_no_mail(tenant, team, run_on_commit):
    use_case = ticket_use_case(tenant, team)
    email_connector(tenant, team, use_case)
    rejected = decided(run_on_commit, team, tenant, approved=False)
    empty = decided(run_on_commit, team, tenant, reply="  ")
    assert mail.outbox == []
    assert not Delivery.objects.filter(item__in=[rejected, empty]).exists()


def test_without_a_documented_disclosure_no_reply_is_sent_the_delivery_is_refused_and_escalated(
        tenant, team, run_on_commit):
    use_case = ticket_use_case(tenant, team, disclosure=None)
    email_connector(tenant, team, use_case)
    item = decided(run_on_commit, team, tenant)
    assert mail.outbox == []
    delivery = Delivery.objects.get(item=item)
    assert delivery.status == DeliveryStatus.DEAD and "Art. 50" in delivery.last_error and delivery.attempts == 0
    assert AuditEvent.objects.get(event_type="delivery.refused", tenant=tenant).details["connector"] == "kundenmail"
    escalation = Escalation.objects.get(item=item)
    assert escalation.contact == team["it_operator"] and "Art. 50" in escalation.reason


def test_a_real_smtp_server_gets_the_reply_and_a_temporary_refusal_is_retried_with_the_same_message_id(
        tenant, team, run_on_commit, smtp):
    use_case = ticket_use_case(tenant, team)
    email_connector(tenant, team, use_case, endpoint=smtp.url)
    smtp.fail_next = 1  # 451: try again later
    item = decided(run_on_commit, team, tenant)
    delivery = Delivery.objects.get(item=item)
    sweep_until(run_on_commit, lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED)

    (received,) = smtp.messages
    assert received["to"] == ["kunde@example.com"] and received["from"] == "service@muster.example"
    message = received["message"]
    assert message["Message-ID"] == f"<{delivery.webhook_id}@muster.example>"
    assert message["Subject"] == "AW: Frage zur Rechnung 4711"
    text = message.get_content()
    assert REPLY in text and DISCLOSURE["de"] in text
    assert [(r.number, r.ok, r.status_code) for r in delivery.receipts.all()] == [(1, False, 451), (2, True, None)]
    assert smtp.sessions == 2


def test_a_recipient_the_mail_server_refuses_for_good_is_a_dead_letter_at_once_and_no_circuit_failure(
        tenant, team, run_on_commit, smtp):
    use_case = ticket_use_case(tenant, team)
    connector = email_connector(tenant, team, use_case, endpoint=smtp.url, circuit_failures=1)
    smtp.refuse.add("weg@example.com")
    item = decided(run_on_commit, team, tenant, recipient="weg@example.com")
    delivery = Delivery.objects.get(item=item)
    assert delivery.status == DeliveryStatus.DEAD and delivery.attempts == 1
    assert "550" in delivery.last_error and smtp.messages == []
    assert Escalation.objects.filter(item=item).exists()
    assert not ConnectorCircuit.objects.filter(entry=connector, state="open").exists()


def test_the_catalogue_refuses_an_email_connector_it_could_not_use(tenant, team):
    def propose(endpoint="", direction="delivery", **settings):
        return changes.change_request_create(
            actor=team["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE, title="Mail", description="Mail",
            payload={"key": "mail", "fields": {"kind": "connector", "connector_type": "email", "direction": direction,
                                                "name": "Mail", "endpoint": endpoint, "settings": settings}})

    for kwargs, reason in (({"direction": "intake"}, "direction delivery"),
                           ({"endpoint": "http://mail.example"}, "smtp://"),
                           ({"from_email": "kein-absender"}, "not an e-mail address"),
                           ({"reply_field": "reply text"}, "names a field")):
        with pytest.raises(ValidationError) as refused:
            propose(**kwargs)
        assert reason in " ".join(refused.value.messages)
    assert propose(endpoint="smtps://service@mail.muster.example:465").payload["key"] == "mail"


def test_an_email_connector_in_test_mode_records_the_message_without_the_address_and_sends_nothing(
        tenant, team, run_on_commit, smtp):
    use_case = ticket_use_case(tenant, team)
    email_connector(tenant, team, use_case, endpoint=smtp.url, test_mode=True)
    item = decided(run_on_commit, team, tenant)
    delivery = Delivery.objects.get(item=item)
    assert delivery.test and delivery.status == DeliveryStatus.DELIVERED
    assert smtp.messages == [] and smtp.sessions == 0 and mail.outbox == []
    (receipt,) = delivery.receipts.all()
    assert receipt.target == "" and "kunde@example.com" not in receipt.recorded_body
    assert "To: <sender_email>" in receipt.recorded_body and "AW: Frage zur Rechnung 4711" in receipt.recorded_body
