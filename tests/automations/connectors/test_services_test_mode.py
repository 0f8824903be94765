"""Test mode per connector: a dry run's result, and every result of a connector in test mode, goes to the
connector's sandbox target (a real HTTP receiver on loopback that verifies the signature) or, without one, is
recorded with the body that would have been sent — never to the production target, whose receiver here
counts every request it gets."""
import json

import pytest

from audit.models import AuditEvent
from automations.choices import DeliveryStatus, ItemStatus
from automations.connectors.models import ConnectorCircuit, Delivery
from automations.execution.services import dry_run, intake
from automations.models import Escalation
from automations.registry.models.versions import Release
from tests.automations.connectors.conftest import webhook_connector
from tests.automations.connectors.receiver import Receiver
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db

TEXT = "Rechnung Rechnungsnummer 4711"


@pytest.fixture(autouse=True)
def eager_celery(eager_tasks):
    """In-process tasks (tests/conftest.py)."""


@pytest.fixture
def sandbox(receiver):
    """The ERP's test system: the same signing secret, another address."""
    server = Receiver(receiver.secret)
    yield server
    server.stop()


@pytest.fixture
def use_case(tenant, team):
    return make_rules_use_case(tenant, team, it_contact=team["it_operator"])


def _dry_run(run_on_commit, team, use_case):
    release = Release.objects.filter(use_case=use_case).order_by("-number").first()
    (item,) = run_on_commit(dry_run.dry_run_create, actor=team["automation_lead"], release=release,
                            payload={"text": TEXT})
    item.refresh_from_db()
    assert item.is_dry_run and item.status == ItemStatus.APPLIED
    return item


def test_a_dry_runs_result_is_recorded_not_sent_when_the_connector_has_no_sandbox(
        tenant, team, use_case, receiver, run_on_commit):
    webhook_connector(tenant, team, use_case, receiver)
    item = _dry_run(run_on_commit, team, use_case)

    delivery = Delivery.objects.get(item=item)
    assert delivery.test and delivery.status == DeliveryStatus.DELIVERED
    (receipt,) = delivery.receipts.all()
    assert receipt.ok and receipt.target == "" and receipt.status_code is None
    recorded = json.loads(receipt.recorded_body)
    assert recorded["type"] == "work_item.applied" and recorded["data"]["id"] == str(item.pk)
    assert recorded["data"]["fields"]["document_class"]["value"] == "invoice"
    assert receiver.requests == []  # never to production
    event = AuditEvent.objects.get(event_type="delivery.delivered", tenant=tenant)
    assert event.details["test"] is True and event.details["target"] == "recorded"


def test_a_dry_runs_result_goes_signed_to_the_sandbox_and_never_to_production(
        tenant, team, use_case, receiver, sandbox, run_on_commit):
    webhook_connector(tenant, team, use_case, receiver, sandbox_url=sandbox.url)
    item = _dry_run(run_on_commit, team, use_case)

    delivery = Delivery.objects.get(item=item)
    assert delivery.test and delivery.status == DeliveryStatus.DELIVERED
    assert [r["id"] for r in sandbox.requests] == [delivery.webhook_id] and sandbox.requests[0]["sig_ok"]
    assert sandbox.applied[delivery.webhook_id]["data"]["id"] == str(item.pk)
    (receipt,) = delivery.receipts.all()
    assert receipt.target == sandbox.url and receipt.status_code == 200
    assert json.loads(receipt.recorded_body)["data"]["id"] == str(item.pk)
    assert receiver.requests == []


def test_a_connector_in_test_mode_sends_every_result_to_its_sandbox_and_its_failures_leave_production_alone(
        tenant, team, use_case, receiver, sandbox, run_on_commit):
    connector = webhook_connector(tenant, team, use_case, receiver, test_mode=True, sandbox_url=sandbox.url,
                                  max_attempts=1, circuit_failures=1)
    item, _created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                   use_case_key="belege", payload={"text": TEXT})
    first = Delivery.objects.get(item=item)
    assert first.test and first.status == DeliveryStatus.DELIVERED
    assert [r["id"] for r in sandbox.requests] == [first.webhook_id] and receiver.requests == []

    sandbox.answer = 500  # the test system is down: the test delivery dies quietly
    item, _created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                   use_case_key="belege", payload={"text": TEXT + " zwei"})
    second = Delivery.objects.get(item=item)
    assert second.test and second.status == DeliveryStatus.DEAD
    assert receiver.requests == []
    # The production target's circuit and IT's escalations do not hear of the sandbox.
    assert not ConnectorCircuit.objects.filter(entry=connector, state="open").exists()
    assert not Escalation.objects.exists()


def test_a_sandbox_that_is_the_production_target_is_refused(tenant, team, use_case, receiver, run_on_commit):
    webhook_connector(tenant, team, use_case, receiver, sandbox_url=receiver.url)
    item = _dry_run(run_on_commit, team, use_case)

    delivery = Delivery.objects.get(item=item)
    assert delivery.status == DeliveryStatus.DEAD and "production target" in delivery.last_error
    assert receiver.requests == []
    assert AuditEvent.objects.get(event_type="delivery.refused", tenant=tenant).details["test"] is True
    assert not Escalation.objects.exists()
