import itertools
from datetime import date

import pytest
from django.db import connection, transaction
from django.db.models.sql.compiler import SQLInsertCompiler
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


def _columns(event) -> dict:
    return {field.attname: getattr(event, field.attname) for field in AuditEvent._meta.concrete_fields}


def test_the_event_returned_is_the_row_stored_with_its_tenant_at_hand(tenant, admin_user):
    recorded = audit_event_record(actor=admin_user, tenant=tenant, event_type="tenant.switched", obj=tenant, details={
        "day": date(2026, 12, 7), "note": "Prüfung „ok“", "nested": {"b": [1, 2.5, None, True]}, "n": 4711})
    stored = AuditEvent.objects.get(pk=recorded.pk)
    assert _columns(recorded) == _columns(stored)
    assert stored.details == {"day": "2026-12-07", "note": "Prüfung „ok“", "nested": {"b": [1, 2.5, None, True]},
                              "n": 4711}
    assert (stored.actor_kind, stored.actor_user_id, stored.object_type, stored.object_id) == (
        "user", admin_user.pk, "portal.tenant", str(tenant.pk))
    assert not recorded._state.adding and recorded._state.db == "default"
    with CaptureQueriesContext(connection) as context:
        assert recorded.tenant == tenant
    assert context.captured_queries == []


def test_pending_events_are_written_without_compiling_an_insert_per_event(tenant, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite links each event as the ORM writes it")
    audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched")  # the statement, built once

    def refuse(*args, **kwargs):
        raise AssertionError("an INSERT was compiled through the ORM")

    monkeypatch.setattr(SQLInsertCompiler, "as_sql", refuse)
    with CaptureQueriesContext(connection) as context:
        recorded = audit_events_record(actor=SYSTEM, tenant=tenant, events=[
            AuditEntry("tenant.switched", obj=tenant, details={"n": n}) for n in range(2)])
    (insert,) = [q["sql"] for q in context.captured_queries if q["sql"].startswith('INSERT INTO "audit_auditevent"')]
    # Every column but the id and what the sequencer fills in (sequence, prev_hash, hash).
    filled = {f.column for f in AuditEvent._meta.concrete_fields} - {"id", "sequence", "prev_hash", "hash"}
    assert all(f'"{column}"' in insert.split("VALUES")[0] for column in filled)
    assert [_columns(event) for event in recorded] == [
        _columns(event) for event in AuditEvent.objects.filter(pk__in=[e.pk for e in recorded]).order_by("pk")]
    assert all(event.hash_version == 2 for event in recorded)
