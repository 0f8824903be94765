import itertools

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.actors import SYSTEM
from audit.chain import compute_hash, event_values
from audit.models import GENESIS_HASH, AuditEvent
from audit.registry import UnregisteredEventType
from audit.services.events import AuditEntry, RawPersonalDataInAudit, audit_event_record, audit_events_record

pytestmark = pytest.mark.django_db


def test_events_form_a_gap_free_hash_chain_per_tenant(tenant, make_tenant):
    other = make_tenant()
    for _ in range(3):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant)
    audit_event_record(actor=SYSTEM, tenant=other, event_type="tenant.switched", obj=other)

    events = list(AuditEvent.objects.filter(tenant=tenant).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    for event in events:
        assert compute_hash(event_values(event)) == event.hash
    assert AuditEvent.objects.filter(tenant=other).order_by("sequence").first().sequence == 1


def test_unregistered_event_type_raises(tenant):
    with pytest.raises(UnregisteredEventType):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="nothing.happened")


def test_raw_email_in_details_is_refused(tenant):
    with pytest.raises(RawPersonalDataInAudit):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched",
                           details={"who": "erika.mustermann@example.de"})


def test_event_rolls_back_with_the_change(tenant):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched")
        raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == before


def test_events_without_tenant_go_to_the_system_chain():
    event = audit_event_record(actor=SYSTEM, tenant=None, event_type="user.login_failed",
                               details={"known_user": False})
    assert event.chain == "system" and event.actor_kind == "system"


def test_several_events_are_appended_in_their_order_with_one_insert(tenant):
    audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant)
    with CaptureQueriesContext(connection) as context:
        recorded = audit_events_record(actor=SYSTEM, tenant=tenant, events=[
            AuditEntry("tenant.switched", obj=tenant, details={"n": n}) for n in range(3)])
    inserts = [q["sql"] for q in context.captured_queries if q["sql"].startswith('INSERT INTO "audit_auditevent"')]
    assert len(inserts) == (1 if connection.vendor == "postgresql" else 3)
    events = list(AuditEvent.objects.filter(tenant=tenant).order_by("sequence"))
    assert [e.details.get("n") for e in events[-4:]] == [None, 0, 1, 2]
    assert [(e.pk, e.sequence) for e in recorded] == [(e.pk, e.sequence) for e in events[-3:]]
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    for event in events:
        assert compute_hash(event_values(event), event.hash_version) == event.hash


def test_several_events_are_refused_together_when_one_names_raw_personal_data(tenant):
    before = AuditEvent.objects.count()
    with pytest.raises(RawPersonalDataInAudit):
        audit_events_record(actor=SYSTEM, tenant=tenant, events=[
            AuditEntry("tenant.switched", obj=tenant),
            AuditEntry("tenant.switched", details={"who": "a.b@example.de"})])
    assert AuditEvent.objects.count() == before
