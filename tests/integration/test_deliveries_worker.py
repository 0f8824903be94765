"""The connectors' acceptance with real processes (issue 14): a real Celery worker on Redis and PostgreSQL
sends the applied items to a real HTTP receiver on loopback that verifies every signature.

- The worker is killed with SIGKILL in the middle of deliveries, again and again: the receiver sees every
  applied item and applies each webhook id once; nothing is lost.
- The receiver is down: the connector's circuit breaker opens, the deliveries wait (none dead, no attempt
  spent while open), IT is told by e-mail; when the receiver is back, the trial delivery closes the circuit
  and every delivery arrives, each webhook id applied once."""
import email
import email.policy
import time
from collections import Counter

import pytest

from audit.models import AuditEvent
from automations.choices import DeliveryStatus, ItemStatus
from automations.connectors.models import ConnectorCircuit, Delivery
from automations.connectors.services import deliveries
from automations.execution.services import intake
from automations.execution.services import runs as pipeline
from automations.models import Escalation, WorkItem
from portal.field_keys import configured_keys
from tests.automations.connectors.conftest import webhook_connector
from tests.automations.connectors.receiver import Receiver, new_secret
from tests.integration.builders import live_use_case
from tests.integration.conftest import wait_until
from tests.integration.test_pipeline_worker import assert_audit_chain_intact

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ITEMS = 12
KILLS = 4
ANSWER_DELAY = 0.6  # the receiver applies, then takes this long to answer: the window for a kill
DISPATCH_SECONDS = 2


@pytest.fixture
def receiver():
    server = Receiver(new_secret())
    yield server
    server.stop()


_last = [0.0]


def beat():
    """What beat does (the reaper every minute, the delivery sweep every 10 s), here twice a second."""
    if time.monotonic() - _last[0] >= 0.5:
        _last[0] = time.monotonic()
        pipeline.runs_reap()
        deliveries.deliveries_sweep()


def test_killing_the_worker_mid_delivery_again_and_again_loses_none_and_the_receiver_applies_each_once(
        tenant, team, worker, redis_broker, receiver, settings):
    settings.DELIVERY_DISPATCH_SECONDS = DISPATCH_SECONDS
    use_case = live_use_case(tenant, team)
    use_case.it_contact = team["it_operator"]
    use_case.save(update_fields=["it_contact"])
    webhook_connector(tenant, team, use_case, receiver, timeout=2, backoff=0.2, max_attempts=8)
    receiver.delay = ANSWER_DELAY
    # The worker decrypts the signing secret with the same field key as this process stored it.
    worker.env |= {"LEITPLANKE_FIELD_KEYS": ",".join(configured_keys()),
                   "DELIVERY_DISPATCH_SECONDS": str(DISPATCH_SECONDS)}
    started = time.monotonic()
    items = [intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                                     payload={"text": f"Rechnung, Rechnungsnummer {n:04d}"})[0] for n in range(ITEMS)]
    worker.start()

    killed: list[str] = []  # webhook ids whose sender was killed after the receiver applied them
    while len(killed) < KILLS:
        def mid_delivery():
            with receiver.lock:
                fresh = [wid for wid in receiver.in_flight if wid not in killed]
            return fresh[0] if fresh else None

        webhook_id = wait_until(mid_delivery, timeout=90, interval=0.02, what="a delivery in flight", tick=beat)
        worker.kill()
        killed.append(webhook_id)
        assert Delivery.objects.get(webhook_id=webhook_id).status != DeliveryStatus.DELIVERED
        worker.start()

    def all_delivered():
        return (not WorkItem.objects.filter(pk__in=[i.pk for i in items]).exclude(status=ItemStatus.APPLIED).exists()
                and Delivery.objects.filter(item__in=items, status=DeliveryStatus.DELIVERED).count() == ITEMS)

    def left():
        return (f"every item applied and delivered; deliveries "
                f"{list(Delivery.objects.values_list('status', 'attempts', 'last_error'))}, killed {killed}")

    wait_until(all_delivered, timeout=180, interval=0.25, tick=beat, what=left)
    elapsed = time.monotonic() - started

    rows = list(Delivery.objects.filter(item__in=items))
    assert len(rows) == ITEMS and {d.item_id for d in rows} == {i.pk for i in items}
    ids = {d.webhook_id for d in rows}
    # The receiver saw every applied item, and applied each webhook id once ...
    assert set(receiver.applied) == ids
    assert {doc["data"]["id"] for doc in receiver.applied.values()} == {str(i.pk) for i in items}
    assert all(doc["type"] == "work_item.applied" for doc in receiver.applied.values())
    assert all(r["sig_ok"] for r in receiver.requests)
    # ... though the deliveries whose sender died were sent again, with the same webhook id.
    seen = Counter(r["id"] for r in receiver.requests)
    assert all(seen[wid] >= 2 for wid in killed), seen
    assert all(d.attempts >= 2 for d in rows if d.webhook_id in killed)  # the killed attempt counted
    assert not Delivery.objects.filter(status=DeliveryStatus.DEAD).exists()
    assert not Escalation.objects.exists()
    assert worker.starts == KILLS + 1
    assert_audit_chain_intact(tenant)
    print(f"\n{ITEMS} items, {KILLS} kills mid-delivery, {len(receiver.requests)} requests for {ITEMS} deliveries, "
          f"each applied once, in {elapsed:.1f} s")


BREAKER_ITEMS = 6


def _mails(folder) -> list:
    """The messages the worker wrote (Django's file backend: one file per connection, each message followed by
    a line of 79 dashes)."""
    found = []
    for path in sorted(folder.glob("*")):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk.strip(), policy=email.policy.default))
    return found


def test_a_receiver_that_is_down_opens_the_breaker_deliveries_wait_and_all_arrive_once_after_it_is_back(
        tenant, team, worker, redis_broker, receiver, settings):
    settings.DELIVERY_DISPATCH_SECONDS = DISPATCH_SECONDS
    team["it_operator"].email = "it@muster.example"
    team["it_operator"].save(update_fields=["email"])
    use_case = live_use_case(tenant, team)
    use_case.it_contact = team["it_operator"]
    use_case.save(update_fields=["it_contact"])
    connector = webhook_connector(tenant, team, use_case, receiver, timeout=2, backoff=0.2, max_attempts=3,
                                  circuit_failures=2, circuit_cooldown=1.5)
    port, secret = receiver.port, receiver.secret
    receiver.stop()  # the ERP is down
    worker.env |= {"LEITPLANKE_FIELD_KEYS": ",".join(configured_keys()),
                   "DELIVERY_DISPATCH_SECONDS": str(DISPATCH_SECONDS)}
    items = [intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                                     payload={"text": f"Rechnung, Rechnungsnummer {n:04d}"})[0]
             for n in range(BREAKER_ITEMS)]
    worker.start()

    def circuit_state():
        circuit = ConnectorCircuit.objects.filter(entry=connector).first()
        return circuit.state if circuit else "closed"

    wait_until(lambda: circuit_state() == "open", timeout=90, interval=0.1, tick=beat, what="the circuit to open")
    wait_until(lambda: Delivery.objects.filter(item__in=items).count() == BREAKER_ITEMS, timeout=90, tick=beat,
               what="every item applied and its delivery queued")
    # Past several cool-downs with the receiver still away: trials go out and fail, the circuit opens again.
    trials = AuditEvent.objects.filter(event_type="connector_circuit.half_opened", tenant=tenant)
    wait_until(lambda: trials.count() >= 2, timeout=60, interval=0.2, tick=beat, what="two failed trial deliveries")
    worker.drain()
    rows = list(Delivery.objects.filter(item__in=items))
    assert all(d.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED) for d in rows), [
        (d.status, d.attempts) for d in rows]  # waiting, none dead ...
    attempts_while_down = sum(d.attempts for d in rows)
    budget_left = [d.attempts - d.attempts_before_redelivery for d in rows]
    assert all(left < 3 for left in budget_left), budget_left  # ... and none spent its budget while it waited
    assert circuit_state() in ("open", "half_open")
    told = [m for m in _mails(worker.folder / "var" / "mail") if m["To"] == "it@muster.example"]
    # IT was told, once (a failed trial re-opens quietly), in the worker's language
    assert len(told) == 1 and "ERP erp" in str(told[0]["Subject"]), [str(m["Subject"]) for m in told]
    assert AuditEvent.objects.filter(event_type="connector_circuit.opened", tenant=tenant).count() >= 2

    back = Receiver(secret, port=port)  # the ERP is back
    try:
        def all_delivered():
            return Delivery.objects.filter(item__in=items, status=DeliveryStatus.DELIVERED).count() == BREAKER_ITEMS

        wait_until(all_delivered, timeout=90, interval=0.2, tick=beat, what=lambda: (
            f"every delivery to arrive: {list(Delivery.objects.values_list('status', 'attempts', 'next_attempt_at'))}"))
        ids = {d.webhook_id for d in Delivery.objects.filter(item__in=items)}
        assert set(back.applied) == ids  # every applied item arrived ...
        assert {doc["data"]["id"] for doc in back.applied.values()} == {str(i.pk) for i in items}
        assert all(r["sig_ok"] for r in back.requests)
        seen = Counter(r["id"] for r in back.requests)
        assert all(n == 1 for n in seen.values()), seen  # ... each once: the others waited for the trial
    finally:
        back.stop()
    circuit = ConnectorCircuit.objects.get(entry=connector)
    assert circuit.state == "closed" and circuit.last_success_at is not None and circuit.consecutive_failures == 0
    assert AuditEvent.objects.filter(event_type="connector_circuit.closed", tenant=tenant).count() == 1
    assert not Delivery.objects.filter(status=DeliveryStatus.DEAD).exists()
    assert not Escalation.objects.exists()
    assert_audit_chain_intact(tenant)
    print(f"\n{BREAKER_ITEMS} deliveries to a receiver that was down: {attempts_while_down} attempts while it was "
          f"away, {len(back.requests)} requests after it came back, each applied once")
