"""The runtime database role (setup_db_roles) reads and appends to the audit log, and nothing more: it
logs in over TCP like the application does, and every way of changing audit rows is refused to it."""
import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit import append_only
from audit.actors import SYSTEM
from audit.models import AuditEvent
from audit.services.maintenance import AuditMaintenanceRefused, audit_maintenance
from tests.audit.conftest import broken, run_verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("database roles are PostgreSQL's")


@pytest.fixture
def runtime_role():
    """A role name of this test alone (roles are shared by every database of the server)."""
    role = f"lp_runtime_{secrets.token_hex(4)}"
    yield role
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone():
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


def _connect(role: str) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(host="127.0.0.1", port=settings["PORT"] or 5432, dbname=settings["NAME"],
                           user=role, autocommit=True)


def _as_application(role: str, code: str, tmp_path) -> subprocess.CompletedProcess:
    """Run Django code in a process whose DATABASE_URL logs in as the runtime role."""
    settings = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_ADMIN_URL"}
    env |= {
        "PORTAL_ENV": "test",
        "PORTAL_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"postgres://{role}@127.0.0.1:{settings['PORT'] or 5432}/{settings['NAME']}",
    }
    env.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    return subprocess.run([sys.executable, "-c", f"import django\ndjango.setup()\n{code}"], cwd=BASE_DIR,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def _privileges(role: str, table: str) -> set[str]:
    granted = set()
    with connection.cursor() as cursor:
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"):
            cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
            if cursor.fetchone()[0]:
                granted.add(privilege)
    return granted


REFUSALS = [
    "UPDATE audit_auditevent SET details = '{}'",
    "DELETE FROM audit_auditevent",
    "TRUNCATE audit_auditevent",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER USER",
    "DROP TRIGGER audit_auditevent_append_only ON audit_auditevent",
]


def test_runtime_role_appends_through_the_service_and_can_change_no_audit_row(runtime_role, tenant, tmp_path):
    call_command("setup_db_roles", "--runtime-role", runtime_role, stdout=StringIO())

    result = _as_application(runtime_role, (
        "from portal.models import Tenant\n"
        "from audit.actors import SYSTEM\n"
        "from audit.services.events import audit_event_record\n"
        "tenant = Tenant.objects.get(slug='muster')\n"
        "event = audit_event_record(actor=SYSTEM, tenant=tenant, event_type='tenant.switched', obj=tenant)\n"
        "print(event.sequence)\n"
    ), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2"]

    with _connect(runtime_role) as runtime:
        assert runtime.execute("SELECT current_user").fetchone()[0] == runtime_role
        for attempt in ("plain", "with the switch"):
            if attempt == "with the switch":
                runtime.execute("SET leitplanke.audit_maintenance = on")
            for statement in REFUSALS:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    runtime.execute(statement)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            runtime.execute("SET session_replication_role = replica")
        # The rest of the portal's tables are the runtime role's to write.
        runtime.execute("UPDATE portal_tenant SET name = name")

    assert AuditEvent.objects.filter(tenant=tenant).count() == 2
    assert run_verify() == (0, ["muster: 2 events ok", "system: 1 events ok"])  # + database_role.configured


def test_the_trigger_holds_even_if_the_runtime_role_is_granted_update_by_mistake(runtime_role, tenant):
    call_command("setup_db_roles", "--runtime-role", runtime_role, stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE, DELETE, TRUNCATE ON audit_auditevent TO "{runtime_role}"')

    with _connect(runtime_role) as runtime:
        runtime.execute("SELECT set_config('leitplanke.audit_maintenance', 'on', false)")
        for statement in REFUSALS[:3]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="audit rows are append-only"):
                runtime.execute(statement)

    # Re-running the command takes the stray privileges back.
    call_command("setup_db_roles", "--runtime-role", runtime_role, stdout=StringIO())
    assert _privileges(runtime_role, "audit_auditevent") == {"SELECT", "INSERT"}
    assert AuditEvent.objects.filter(tenant=tenant).count() == 1


def test_maintenance_is_refused_to_the_runtime_role(runtime_role, tenant):
    call_command("setup_db_roles", "--runtime-role", runtime_role, stdout=StringIO())

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'SET LOCAL ROLE "{runtime_role}"')
        with pytest.raises(AuditMaintenanceRefused), audit_maintenance():
            pass


def test_the_owner_with_the_switch_can_change_rows(runtime_role, tenant):
    """The test's own connection is the owner (a superuser): refused without the switch, allowed with it."""
    call_command("setup_db_roles", "--runtime-role", runtime_role, stdout=StringIO())
    event = AuditEvent.objects.get(tenant=tenant)

    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(details={"slug": "anders"})
    with audit_maintenance():
        AuditEvent.objects.filter(pk=event.pk).update(details={"slug": "anders"})

    assert run_verify("--tenant", "muster") == (1, broken("muster", (1, "modified"), read=1))


def test_setup_is_idempotent_and_covers_tables_of_later_migrations(runtime_role, tenant):
    call_command("setup_db_roles", "--runtime-role", runtime_role, "--password", "Geheim-12345",
                 stdout=StringIO())
    call_command("setup_db_roles", "--runtime-role", runtime_role, stdout=StringIO())

    assert _privileges(runtime_role, "audit_auditevent") == {"SELECT", "INSERT"}
    assert _privileges(runtime_role, "audit_auditchainhead") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert _privileges(runtime_role, "portal_membership") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolcanlogin, rolsuper, rolpassword IS NOT NULL FROM pg_authid WHERE rolname = %s",
                       [runtime_role])
        assert cursor.fetchone() == (True, False, True)

    # A later migration creates a table (default privileges apply) and makes it append-only.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE audit_laterevent (id bigint PRIMARY KEY)")
    try:
        assert _privileges(runtime_role, "audit_laterevent") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
        append_only.install(connection, "audit_laterevent")
        assert _privileges(runtime_role, "audit_laterevent") == {"SELECT", "INSERT"}
        call_command("setup_db_roles", "--runtime-role", runtime_role, stdout=StringIO())
        assert _privileges(runtime_role, "audit_laterevent") == {"SELECT", "INSERT"}
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE audit_laterevent")

    configured = AuditEvent.objects.filter(chain="system", event_type="database_role.configured")
    assert configured.count() == 3
    assert configured.first().details["append_only_tables"] == [
        "audit_accessevent", "audit_auditanchor", "audit_auditevent", "audit_subjectreference",
        "audit_verificationrun", "audit_pseudonym"]


def test_a_superuser_is_refused_as_runtime_role(tenant):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"must not be the owner role|is a superuser"):
        call_command("setup_db_roles", "--runtime-role", "postgres")


def test_the_runtime_role_erases_pseudonyms_and_changes_nothing_else_of_them_nor_verification_runs(
        runtime_role, tenant, tmp_path):
    """Whom a pseudonym points to, a verification run's verdict and a request's record are not the runtime
    role's to rewrite; erasure (destroying a pseudonym's key) is the one change it may make."""
    from audit.choices import VerificationTrigger
    from audit.models import Pseudonym, VerificationRun
    from audit.services.events import audit_verification_run
    from audit.services.pseudonyms import pseudonym_for

    alice = pseudonym_for(tenant=tenant, kind="email", identifier="alice@example.org")
    pseudonym_for(tenant=tenant, kind="email", identifier="bob@example.org")
    run, _result, _problems = audit_verification_run(trigger=VerificationTrigger.COMMAND, actor=SYSTEM, tenant=tenant)
    call_command("setup_db_roles", "--runtime-role", runtime_role, stdout=StringIO())
    assert _privileges(runtime_role, "audit_verificationrun") == {"SELECT", "INSERT"}
    assert _privileges(runtime_role, "audit_pseudonym") == {"SELECT", "INSERT"}  # UPDATE of four columns only

    with _connect(runtime_role) as runtime:
        for statement in (
            "UPDATE audit_verificationrun SET ok = true",
            "DELETE FROM audit_verificationrun",
            # point Alice's pseudonym at Bob (his ciphertext and key), or rename it
            ("UPDATE audit_pseudonym SET identifier_encrypted = b.identifier_encrypted, subject_key = b.subject_key "
            "FROM audit_pseudonym b WHERE audit_pseudonym.id <> b.id"),
            "UPDATE audit_pseudonym SET lookup_digest = 'x'",
            "UPDATE audit_pseudonym SET kind = 'iban'",
            "UPDATE audit_pseudonym SET erased_at = now()",  # an erasure that keeps the key
            "DELETE FROM audit_pseudonym",
            "TRUNCATE audit_pseudonym",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                runtime.execute(statement)

    result = _as_application(runtime_role, (
        "from audit.models import Pseudonym\n"
        "from audit.services.pseudonyms import erase\n"
        f"erase(Pseudonym.objects.get(pseudonym='{alice}'))\n"
        "print('erased')\n"
    ), tmp_path)
    assert result.returncode == 0, result.stderr
    erased = Pseudonym.objects.get(pseudonym=alice)
    assert erased.subject_key is None and erased.lookup_digest is None and erased.erased_at is not None
    assert Pseudonym.objects.filter(tenant=tenant, subject_key__isnull=False).count() == 1
    assert VerificationRun.objects.get(pk=run.pk).ok is True


def test_the_runtime_role_moves_a_request_through_its_steps_but_never_re_points_reopens_or_deletes_it(
        runtime_role, tenant):
    """A data subject request's steps are updates of the open request; whom and what it concerns, when it
    arrived and why are fixed, a closed request changes no more, and none is deleted."""
    from audit.choices import RequestKind
    from audit.models import DataSubjectRequest
    from audit.services import requests

    open_request = requests.data_subject_request_open(
        tenant=tenant, kind=RequestKind.ACCESS, identifier_kind="email", identifier="alice@example.org", actor=SYSTEM)
    closed = requests.data_subject_request_open(
        tenant=tenant, kind=RequestKind.ACCESS, identifier_kind="email", identifier="bob@example.org", actor=SYSTEM)
    requests.data_subject_request_complete(request=closed, summary={"items": 0})
    call_command("setup_db_roles", "--runtime-role", runtime_role, stdout=StringIO())
    assert _privileges(runtime_role, "audit_datasubjectrequest") == {"SELECT", "INSERT", "UPDATE"}

    with _connect(runtime_role) as runtime:
        # A step of the open request (the identity check) goes through.
        changed = runtime.execute("UPDATE audit_datasubjectrequest SET identity_check = 'id_card', "
                                  "identity_note = 'Ausweis vorgelegt' WHERE id = %s", [open_request.pk]).rowcount
        assert changed == 1
        for statement, row in (
            ("UPDATE audit_datasubjectrequest SET subject_pseudonym = 'ps_someone_else' WHERE id = %s", open_request),
            ("UPDATE audit_datasubjectrequest SET identifier_hash = 'x' WHERE id = %s", open_request),
            ("UPDATE audit_datasubjectrequest SET kind = 'erasure' WHERE id = %s", open_request),
            ("UPDATE audit_datasubjectrequest SET received_at = now() WHERE id = %s", open_request),
            ("UPDATE audit_datasubjectrequest SET status = 'open', completed_at = NULL WHERE id = %s", closed),
            ("UPDATE audit_datasubjectrequest SET summary = '{}' WHERE id = %s", closed),
            ("DELETE FROM audit_datasubjectrequest WHERE id = %s", open_request),
            ("TRUNCATE audit_datasubjectrequest", None),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                runtime.execute(statement, [row.pk] if row is not None else None)

    assert DataSubjectRequest.objects.get(pk=open_request.pk).identity_note == "Ausweis vorgelegt"
    reread = DataSubjectRequest.objects.get(pk=closed.pk)
    assert (reread.status, reread.summary) == ("completed", {"items": 0})
    assert DataSubjectRequest.objects.filter(tenant=tenant).count() == 2
