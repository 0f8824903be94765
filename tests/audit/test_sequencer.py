"""The audit sequencer (PostgreSQL): events are written pending and linked after commit, in order, without a
fork or a gap; a pending event is as protected as a linked one; a writer that dies between its commit and the
linking loses nothing; the runtime role can link but not change anything; version-2 hashes are the same
whether the database or Python computes them."""
import threading
import time
from io import StringIO
from unittest import mock

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import override_settings

from audit.actors import SYSTEM
from audit.chain import compute_hash, event_values, jsonb_text
from audit.models import GENESIS_HASH, AccessEvent, AuditEvent, SubjectReference
from audit.services.events import _SequenceDue, access_event_record, audit_event_record, audit_sequence_pending
from tests.audit.conftest import run_verify
from tests.audit.test_db_roles import _as_application, _connect, runtime_role  # noqa: F401  (fixture)

pytestmark = [pytest.mark.postgres]

TRICKY_DETAILS = [
    {},
    {"b": 1, "a": 2, "aa": [], "": None, "ä": "ö", "z" * 3: {"y": True, "x": False}},
    {"text": 'quote " backslash \\ newline \n tab \t bell \x07 nul-free \x1f', "emoji": "\U0001F600 Straße"},
    {"floats": [0.1, 1e-07, 1e16, 1.5e300, -0.0, 100000.0, 0.95, -2.5], "ints": [0, -1, 10**20]},
    {"nested": [{"k": [1, {"deep": "ps_0123456789abcdef0123"}]}], "empty": {"": []}},
]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the sequencer is PostgreSQL's; SQLite links inside the writing transaction")


@pytest.mark.django_db
@pytest.mark.parametrize("details", TRICKY_DETAILS)
def test_python_and_the_database_compute_the_same_version_2_hash(tenant, details):
    event = audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant, details=details)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.hash_version == 2 and stored.hash
    assert compute_hash(event_values(stored)) == stored.hash
    with connection.cursor() as cursor:
        cursor.execute("SELECT details::text FROM audit_auditevent WHERE id = %s", [event.pk])
        assert jsonb_text(stored.details) == cursor.fetchone()[0]
    assert run_verify("--tenant", "muster")[0] == 0


@pytest.mark.django_db(transaction=True)
@override_settings(AUDIT_SEQUENCER="on_commit")
def test_events_are_pending_until_commit_then_linked_in_order(tenant):
    with transaction.atomic():
        first = audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                                   details={"subject": "ps_0123456789abcdef0123"})
        access = access_event_record(actor=SYSTEM, tenant=tenant, purpose="review", obj=tenant)
        second = audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant)
        # Written, visible as pending, not linked: no chain lock is held by this transaction.
        pending = AuditEvent.objects.filter(chain=str(tenant.pk), sequence__isnull=True)
        assert {event.pk for event in pending} == {first.pk, second.pk}
        assert first.is_pending and AuditEvent.objects.get(pk=first.pk).hash is None
    linked = list(AuditEvent.objects.filter(chain=str(tenant.pk)).order_by("sequence"))
    assert [event.sequence for event in linked] == [1, 2, 3]
    assert [event.pk for event in linked[1:]] == [first.pk, second.pk]
    assert linked[1].prev_hash == linked[0].hash and linked[2].prev_hash == linked[1].hash
    assert AccessEvent.objects.get(pk=access.pk).sequence == 1
    assert SubjectReference.objects.filter(tenant=tenant, pseudonym="ps_0123456789abcdef0123",
                                           sequence=2).exists()
    assert run_verify("--tenant", "muster") == (0, ["muster: 3 events ok", "muster/access: 1 events ok"])


@pytest.mark.django_db(transaction=True)
@override_settings(AUDIT_SEQUENCER="on_commit")
def test_a_writer_that_dies_after_its_commit_loses_no_event(tenant):
    # The process stops between its commit and the linking: its events stay pending ...
    with mock.patch.object(_SequenceDue, "__call__", lambda self: None):
        for n in range(3):
            audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant, details={"n": n})
    assert AuditEvent.objects.filter(chain=str(tenant.pk), sequence__isnull=True).count() == 3
    # ... the next writer's linking takes them along, in the order they were written ...
    audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant, details={"n": 3})
    events = list(AuditEvent.objects.filter(chain=str(tenant.pk)).order_by("sequence"))
    assert [event.details.get("n") for event in events] == [None, 0, 1, 2, 3]
    # ... and with no writer coming, the sweep does.
    with mock.patch.object(_SequenceDue, "__call__", lambda self: None):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant, details={"n": 4})
    call_command("audit_sequencer", stdout=StringIO())
    assert not AuditEvent.objects.filter(sequence__isnull=True).exists()
    assert run_verify("--tenant", "muster") == (0, ["muster: 6 events ok"])


@pytest.mark.django_db(transaction=True)
@override_settings(AUDIT_SEQUENCER="on_commit")
def test_a_pending_event_is_append_only_too_and_a_linked_one_is_never_filled_again(tenant):
    with mock.patch.object(_SequenceDue, "__call__", lambda self: None):
        event = audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant)
    for statement, params in (
        ("UPDATE audit_auditevent SET details = '{\"x\": 1}' WHERE id = %s", [event.pk]),
        ("UPDATE audit_auditevent SET sequence = 99, prev_hash = %s, hash = %s WHERE id = %s",
         [GENESIS_HASH, GENESIS_HASH, event.pk]),
        ("DELETE FROM audit_auditevent WHERE id = %s", [event.pk]),
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    # Even the owner with the sequencer's own setting may fill only the three columns of a pending row, once.
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL leitplanke.audit_sequencing = on")
        cursor.execute("UPDATE audit_auditevent SET sequence = 2, prev_hash = %s, hash = %s, event_type = 'x' "
                       "WHERE id = %s", [GENESIS_HASH, GENESIS_HASH, event.pk])
    audit_sequence_pending()
    linked = AuditEvent.objects.get(pk=event.pk)
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL leitplanke.audit_sequencing = on")
        cursor.execute("UPDATE audit_auditevent SET hash = %s WHERE id = %s", [GENESIS_HASH, linked.pk])
    assert run_verify("--tenant", "muster") == (0, ["muster: 2 events ok"])


@pytest.mark.django_db(transaction=True)
def test_the_runtime_role_links_through_the_function_and_changes_nothing(runtime_role, tenant, tmp_path):  # noqa: F811
    call_command("setup_db_roles", "--runtime-role", runtime_role, stdout=StringIO())
    result = _as_application(runtime_role, (
        "from django.db import transaction\n"
        "from django.test import override_settings\n"
        "from portal.models import Tenant\n"
        "from audit.actors import SYSTEM\n"
        "from audit.services.events import audit_event_record\n"
        "from audit.models import AuditEvent\n"
        "tenant = Tenant.objects.get(slug='muster')\n"
        "with override_settings(AUDIT_SEQUENCER='on_commit'):\n"
        "    with transaction.atomic():\n"
        "        event = audit_event_record(actor=SYSTEM, tenant=tenant, event_type='tenant.switched', obj=tenant)\n"
        "        print(event.sequence)\n"
        "print(AuditEvent.objects.get(pk=event.pk).sequence)\n"
    ), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "2"]
    with _connect(runtime_role) as runtime:
        runtime.execute("SET leitplanke.audit_sequencing = on")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            runtime.execute("UPDATE audit_auditevent SET hash = NULL")
    assert run_verify("--tenant", "muster") == (0, ["muster: 2 events ok"])


@pytest.mark.django_db(transaction=True)
@override_settings(AUDIT_SEQUENCER="on_commit")
def test_concurrent_writers_and_sequencers_make_one_chain_without_gaps(tenant):
    writers, each = 6, 15
    start = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            start.wait()
            for n in range(each):
                with transaction.atomic():
                    audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                                       details={"worker": worker, "n": n})
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    def sweeper() -> None:
        try:
            start.wait()
            for _ in range(20):
                audit_sequence_pending()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(writers)]
    threads.append(threading.Thread(target=sweeper))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    events = list(AuditEvent.objects.filter(chain=str(tenant.pk)).order_by("sequence"))
    total = writers * each + 1
    assert [event.sequence for event in events] == list(range(1, total + 1))
    assert [event.prev_hash for event in events] == [GENESIS_HASH] + [event.hash for event in events[:-1]]
    for worker in range(writers):  # each writer's events in the order it wrote them
        assert [e.details["n"] for e in events if e.details.get("worker") == worker] == list(range(each))
    assert run_verify("--tenant", "muster") == (0, [f"muster: {total} events ok"])


@pytest.mark.django_db(transaction=True)
@override_settings(AUDIT_SEQUENCER="on_commit", AUDIT_SEQUENCE_DELAY_SECONDS=0.1)
def test_a_process_links_its_commits_of_a_short_window_together_from_a_thread(tenant):
    for n in range(3):
        with transaction.atomic():
            audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant, details={"n": n})
    events = AuditEvent.objects.filter(chain=str(tenant.pk))
    deadline = time.monotonic() + 10
    while events.filter(sequence__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [event.details.get("n") for event in events.order_by("sequence")] == [None, 0, 1, 2]
    assert run_verify("--tenant", "muster") == (0, ["muster: 4 events ok"])


@pytest.mark.django_db(transaction=True)
@override_settings(AUDIT_SEQUENCER="inline")
def test_inline_writers_of_two_chains_in_opposite_orders_never_deadlock(tenant):
    """One transaction writes to the tenant's chain, then to the system chain; another the other way round, at
    the same time. Linking inline holds each head until commit: without one order of waiting, each would hold
    the head the other needs (PostgreSQL's DeadlockDetected)."""
    first_holds_a_head = threading.Event()
    errors: list[BaseException] = []

    def write(order: list, wait: threading.Event | None) -> None:
        try:
            if wait is not None:
                wait.wait(5)
            with transaction.atomic():
                for n, owner in enumerate(order):
                    audit_event_record(actor=SYSTEM, tenant=owner, event_type="tenant.switched", obj=tenant,
                                       details={"n": n, "order": [str(o) for o in order]})
                    if wait is None and n == 0:
                        first_holds_a_head.set()
                        time.sleep(0.5)  # the other transaction starts meanwhile and wants the other head first
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=([tenant, None], None)),
               threading.Thread(target=write, args=([None, tenant], first_holds_a_head))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert AuditEvent.objects.filter(sequence__isnull=True).count() == 0
    assert run_verify("--tenant", "muster") == (0, ["muster: 3 events ok"])
