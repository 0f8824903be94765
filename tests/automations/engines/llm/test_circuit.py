"""The circuit breaker per processor: opens after failed calls in a row and tells IT, sends nothing while
open, lets one trial call through after the cool-down, and closes on success."""
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from automations.choices import ItemStatus
from automations.models import LlmCall, ProcessorCircuit
from tests.automations.engines.llm.conftest import TICKET, make_llm_use_case, make_processor

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken(tenant, team, llm_server, settings):
    settings.RUN_MAX_ATTEMPTS = 1
    for name in ("it_operator", "automation_lead"):
        team[name].email = f"{name}@muster.example"
        team[name].save()
    entry = make_processor(tenant, team, llm_server.base_url, max_retries=0, circuit_failures=3,
                           circuit_cooldown=60)
    make_llm_use_case(tenant, team, entry)
    llm_server.default.status = 500
    return entry


def ticket(n):
    return {**TICKET, "subject": f"Ticket {n}"}


def events(kind):
    return AuditEvent.objects.filter(event_type=kind).count()


def test_opens_after_three_failures_in_a_row_and_tells_it_by_mail(broken, llm_server, submit):
    mail.outbox.clear()
    for n in range(2):
        assert submit(ticket(n)).status == ItemStatus.ESCALATED
    assert ProcessorCircuit.objects.get(entry=broken).state == "closed"
    assert all("unavailable" not in m.subject for m in mail.outbox)
    submit(ticket(3))
    circuit = ProcessorCircuit.objects.get(entry=broken)
    assert circuit.state == "open" and circuit.consecutive_failures == 3
    it_mail = [m for m in mail.outbox if "is unavailable" in m.subject]
    assert len(it_mail) == 1 and it_mail[0].to == ["it_operator@muster.example"]
    assert "3 failed calls" in it_mail[0].body and "HTTP 500" in it_mail[0].body
    assert events("processor_circuit.opened") == 1


def test_while_open_nothing_is_sent_and_items_are_escalated(broken, llm_server, submit):
    for n in range(3):
        submit(ticket(n))
    sent = len(llm_server.requests)
    item = submit(ticket(4))
    assert len(llm_server.requests) == sent
    assert item.status == ItemStatus.ESCALATED
    assert any("circuit breaker open" in r for r in item.reasons)
    assert LlmCall.objects.get(item=item).status == "circuit_open"


def test_after_the_cool_down_one_trial_call_closes_it_again(broken, llm_server, submit):
    for n in range(3):
        submit(ticket(n))
    ProcessorCircuit.objects.filter(entry=broken).update(opened_at=timezone.now() - timedelta(seconds=61))
    llm_server.default.status = 200
    item = submit(ticket(5))
    assert item.status == ItemStatus.APPLIED
    circuit = ProcessorCircuit.objects.get(entry=broken)
    assert circuit.state == "closed" and circuit.consecutive_failures == 0
    assert events("processor_circuit.half_opened") == 1 and events("processor_circuit.closed") == 1


def test_a_failed_trial_call_opens_it_again_without_a_second_mail(broken, llm_server, submit):
    for n in range(3):
        submit(ticket(n))
    mails = len(mail.outbox)
    ProcessorCircuit.objects.filter(entry=broken).update(opened_at=timezone.now() - timedelta(seconds=61))
    sent = len(llm_server.requests)
    submit(ticket(6))
    assert len(llm_server.requests) == sent + 1  # exactly one trial call
    circuit = ProcessorCircuit.objects.get(entry=broken)
    assert circuit.state == "open" and circuit.opened_at > timezone.now() - timedelta(seconds=5)
    assert len([m for m in mail.outbox[mails:] if "is unavailable" in m.subject]) == 0
    assert events("processor_circuit.opened") == 2


def test_while_the_trial_call_is_out_other_callers_wait(broken, llm_server):
    from automations.registry.services.processors import processor_circuit_allow

    ProcessorCircuit.objects.update_or_create(entry=broken, defaults={
        "tenant": broken.tenant, "state": "open", "opened_at": timezone.now() - timedelta(seconds=61)})
    assert processor_circuit_allow(entry=broken) is True
    assert processor_circuit_allow(entry=broken) is False
    assert ProcessorCircuit.objects.get(entry=broken).state == "half_open"


def test_a_success_resets_the_count_of_failures(broken, llm_server, submit):
    submit(ticket(1))
    submit(ticket(2))
    llm_server.default.status = 200
    submit(ticket(3))
    llm_server.default.status = 500
    submit(ticket(4))
    submit(ticket(5))
    circuit = ProcessorCircuit.objects.get(entry=broken)
    assert circuit.state == "closed" and circuit.consecutive_failures == 2
