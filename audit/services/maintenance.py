"""The one way past the append-only triggers (audit.append_only): a maintenance transaction of the owner
role. Used by the database flush (tests, ``manage.py flush``) and, later, the anchored purge."""
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from audit.append_only import APPEND_ONLY_TABLES, MAINTENANCE_SETTING, SQLITE_SWITCH_TABLE


class AuditMaintenanceRefused(PermissionError):
    pass


@contextmanager
def audit_maintenance(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Open a transaction (or savepoint) in which the owner role may update, delete and truncate audit rows.

    The switch is local to the transaction: it ends at commit or rollback, and is turned back off when
    the block ends inside a longer transaction. A connection that is not the owner role is refused here
    already, and would be by the triggers anyway."""
    connection = connections[using]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT current_setting(%s, true), "
                    "pg_has_role(current_user, c.relowner, 'MEMBER') "
                    "FROM (SELECT 1) one LEFT JOIN pg_class c ON c.oid = to_regclass(%s)",
                    [MAINTENANCE_SETTING, APPEND_ONLY_TABLES[0]],
                )
                previous, is_owner = cursor.fetchone()
                if is_owner is False:
                    raise AuditMaintenanceRefused(
                        "Only the owner role of the audit tables may use audit maintenance "
                        "(connect through DATABASE_ADMIN_URL)."
                    )
                cursor.execute("SELECT set_config(%s, 'on', true)", [MAINTENANCE_SETTING])
            elif connection.vendor == "sqlite":
                cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s",
                               [SQLITE_SWITCH_TABLE])
                switch_exists = cursor.fetchone() is not None
                switched_on = False
                if switch_exists:
                    cursor.execute(f"INSERT OR IGNORE INTO {SQLITE_SWITCH_TABLE} (id) VALUES (1)")
                    switched_on = cursor.rowcount == 1
        # On an exception, the rollback of this atomic block turns the switch off by itself.
        yield
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config(%s, %s, true)", [MAINTENANCE_SETTING, previous or ""])
            elif connection.vendor == "sqlite" and switched_on:
                cursor.execute(f"DELETE FROM {SQLITE_SWITCH_TABLE}")
