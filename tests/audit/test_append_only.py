"""Audit rows are append-only in the database itself: nobody updates, deletes or truncates them, except the
owner role inside an explicit maintenance transaction."""
import pytest
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import DatabaseError, connection, transaction

from audit import append_only
from audit.actors import SYSTEM
from audit.models import AuditEvent
from audit.services.events import audit_event_record
from audit.services.maintenance import audit_maintenance
from tests.audit.conftest import broken, run_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(tenant):
    return audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                              details={"step": 2})


def _refused(action) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        action()


def test_update_of_an_audit_row_is_refused(event):
    event.details = {"step": 99}
    _refused(event.save)
    _refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(event_type="tenant.created"))
    event.refresh_from_db()
    assert event.details == {"step": 2}


def test_delete_of_audit_rows_is_refused(event):
    _refused(event.delete)
    _refused(AuditEvent.objects.all().delete)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.postgres
def test_truncate_is_refused_even_for_the_superuser(event):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")

    def truncate():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks of this test's rows pending
            cursor.execute("TRUNCATE audit_auditevent")

    _refused(truncate)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_owner_may_change_rows_inside_a_maintenance_transaction_only(event, tenant):
    with audit_maintenance():
        AuditEvent.objects.filter(pk=event.pk).update(details={"step": 99})
    # The switch ends with the block.
    _refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(details={"step": 2}))

    assert run_verify("--tenant", tenant.slug) == (1, broken("muster", (2, "modified"), read=2))
    with audit_maintenance():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert not AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_switch_is_off_again_after_a_failed_maintenance_transaction(event):
    with pytest.raises(RuntimeError), audit_maintenance():
        AuditEvent.objects.filter(pk=event.pk).update(details={"step": 99})
        raise RuntimeError("the purge failed half-way")

    event.refresh_from_db()
    assert event.details == {"step": 2}
    _refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(details={"step": 99}))


def test_nested_maintenance_blocks_leave_the_outer_one_on(event):
    with audit_maintenance():
        with audit_maintenance():
            pass
        AuditEvent.objects.filter(pk=event.pk).update(details={"step": 3})
    event.refresh_from_db()
    assert event.details == {"step": 3}


def test_appending_still_works(event, tenant):
    audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant)
    assert run_verify("--tenant", tenant.slug) == (0, ["muster: 3 events ok"])


def test_the_guard_comes_back_after_a_migration_dropped_it(event):
    """SQLite rebuilds a table to alter it, which drops its triggers; every migrate puts them back."""
    append_only.uninstall(connection, "audit_auditevent")
    assert not append_only.is_installed(connection, "audit_auditevent")

    emit_post_migrate_signal(0, False, connection.alias)

    assert append_only.is_installed(connection, "audit_auditevent")
    _refused(event.delete)


def test_flush_empties_the_audit_tables_too(transactional_db, tenant):
    """The test suite's own flush (transactional tests) and `manage.py flush` run as maintenance."""
    audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant)

    call_command("flush", interactive=False, verbosity=0)

    assert not AuditEvent.objects.exists()
    audit_event_record(actor=SYSTEM, tenant=None, event_type="user.login_failed", details={"known_user": False})
    _refused(AuditEvent.objects.all().delete)
