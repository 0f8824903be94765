"""Helpers of the audit tests: run verify_audit as the command line does, and tamper with audit rows the
way a database superuser could, past the append-only triggers."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from audit.actors import SYSTEM
from audit.services.events import audit_event_record
from audit.services.maintenance import audit_maintenance

COLUMNS = ("tenant_id, chain, sequence, occurred_at, actor_kind, actor_user_id, actor_token_id, event_type, "
           "object_type, object_id, details, prev_hash, hash")


def run_verify(*args: str) -> tuple[int, list[str]]:
    """verify_audit's exit code and output lines."""
    out = StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=StringIO())
        code = 0
    except CommandError as error:
        code = error.returncode
    return code, out.getvalue().splitlines()


def broken(label: str, *failures: tuple[int, str], read: int, more: int = 0) -> list[str]:
    """What verify_audit prints for a broken chain: the first failing event (the contract line), every further
    one, then the summary."""
    lines = [f"{label}: sequence {sequence}: {reason}" for sequence, reason in failures]
    total = len(failures) + more
    rest = f", {more} more not listed" if more else ""
    return [*lines, (f"{label}: {total} failing event{'s' if total != 1 else ''} among {read} read, "
                    f"the first at sequence {failures[0][0]}{rest}")]


def tamper(*statements: str | tuple[str, list]) -> None:
    """Run raw SQL on audit rows with the triggers out of the way: on PostgreSQL as the superuser with
    replication triggers off (what an attacker with superuser rights does), on SQLite through the
    maintenance switch (what anyone with write access to the file can do)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
                _execute(cursor, statements)
                cursor.execute("SET LOCAL session_replication_role = origin")
        else:
            with audit_maintenance(), connection.cursor() as cursor:
                _execute(cursor, statements)


def _execute(cursor, statements) -> None:
    for statement in statements:
        sql, params = statement if isinstance(statement, tuple) else (statement, [])
        cursor.execute(sql, params)


@pytest.fixture
def muster_chain(tenant):
    """The muster tenant's chain with 8 events: tenant.created, then seven more."""
    for step in range(2, 9):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                           details={"step": step})
    return str(tenant.pk)
