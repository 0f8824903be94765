"""A receiver that is down opens its connector's circuit: deliveries wait (none dead, none lost), IT is told
by e-mail and on its home page, and when the receiver is back the trial delivery closes the circuit and
every waiting delivery arrives, each webhook id applied once."""
import time

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from automations.choices import DeliveryStatus
from automations.connectors.models import ConnectorCircuit, Delivery
from automations.connectors.services import deliveries
from automations.execution.services import intake
from tests.automations.connectors.conftest import webhook_connector
from tests.automations.connectors.receiver import Receiver
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_celery(eager_tasks):
    """In-process tasks (tests/conftest.py)."""


def test_receiver_down_opens_the_circuit_deliveries_wait_and_all_arrive_after_it_is_back(
        tenant, team, receiver, run_on_commit, mailoutbox, client):
    team["it_operator"].email = "it@muster.example"
    team["it_operator"].save()
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"])
    connector = webhook_connector(tenant, team, use_case, receiver, max_attempts=2, circuit_failures=2,
                                  circuit_cooldown=0.5)
    port, secret = receiver.port, receiver.secret
    receiver.stop()  # the ERP is down

    items = [run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                           payload={"text": f"Rechnung Rechnungsnummer {n}"})[0] for n in range(5)]
    for _ in range(3):  # beat's sweeps while the receiver is away, past the cool-down
        time.sleep(0.6)
        run_on_commit(deliveries.deliveries_sweep)

    circuit = ConnectorCircuit.objects.get(entry=connector)
    assert circuit.state == "open" and "ConnectionError" in circuit.last_error
    rows = list(Delivery.objects.filter(item__in=items))
    assert len(rows) == 5 and all(d.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED) for d in rows)
    assert sum(d.attempts for d in rows) < 2 * 5  # most waited instead of spending attempts
    assert [m.to for m in mailoutbox if "unavailable" in m.subject] == [["it@muster.example"]]
    assert AuditEvent.objects.filter(event_type="connector_circuit.opened", tenant=tenant).exists()
    assert AuditEvent.objects.filter(event_type="connector_circuit.half_opened", tenant=tenant).exists()

    client.force_login(team["it_operator"])
    page = client.get(reverse("portal:home")).content.decode()
    assert 'data-connector="erp" data-state="open"' in page

    back = Receiver(secret, port=port)  # the ERP is back
    try:
        deadline = time.monotonic() + 15
        while Delivery.objects.filter(item__in=items).exclude(status=DeliveryStatus.DELIVERED).exists():
            assert time.monotonic() < deadline, list(Delivery.objects.values_list("status", "attempts"))
            time.sleep(0.3)
            run_on_commit(deliveries.deliveries_sweep)
        ids = set(Delivery.objects.filter(item__in=items).values_list("webhook_id", flat=True))
        assert set(back.applied) == ids and all(r["sig_ok"] for r in back.requests)
        assert len(back.requests) == 5  # each delivery once: the others waited for the trial
    finally:
        back.stop()
    circuit.refresh_from_db()
    assert circuit.state == "closed" and circuit.last_success_at is not None
    assert AuditEvent.objects.filter(event_type="connector_circuit.closed", tenant=tenant).exists()
    assert not Delivery.objects.filter(status=DeliveryStatus.DEAD).exists()
