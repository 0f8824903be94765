"""Append-only audit tables, enforced by the database itself.

PostgreSQL: a trigger function refuses UPDATE and DELETE of rows and TRUNCATE of the table, unless the
transaction has turned on the maintenance switch (``SET LOCAL leitplanke.audit_maintenance = on``, see
audit.services.maintenance) *and* the current user is the table's owner or a member of the owner role. Anyone may
set a custom setting, so the setting alone opens nothing: the runtime role (which never owns tables and
is no member of the owner) stays refused, and it lacks the UPDATE, DELETE and TRUNCATE privileges besides.

SQLite (the embedded default) has no roles: whoever can write the file can also drop the triggers. There
the triggers guard against the application itself. The switch is a row in ``audit_maintenance_switch``,
a table that is no Django model, so no ORM code reaches it; only audit.services.maintenance writes it, inserting
its row at the start of a maintenance transaction and deleting it before commit, so no other connection
ever sees the switch on.

Event rows are written pending (no sequence or hash yet) and linked by the sequencer (audit.sequencer): the
guard lets exactly that one filling through, for the owner role inside the sequencer's function.

Migrations call install() for every append-only table; changing the SQL here needs a new migration that
calls it again (install() replaces the function and recreates the triggers).
"""
from django.db.backends.base.base import BaseDatabaseWrapper

MAINTENANCE_SETTING = "leitplanke.audit_maintenance"
SEQUENCING_SETTING = "leitplanke.audit_sequencing"  # audit.sequencer
GUARD_FUNCTION = "audit_append_only_guard"
SQLITE_SWITCH_TABLE = "audit_maintenance_switch"
REFUSAL = "audit rows are append-only"
# Every table made append-only by a migration; a new one is added here and installed by its migration.
APPEND_ONLY_TABLES = ("audit_auditevent", "audit_accessevent", "audit_subjectreference", "audit_auditanchor",
                      "audit_verificationrun")

# Pseudonyms change in one way only: erasure destroys the subject's key, the encrypted identifier and the
# lookup digest (set to NULL) and stamps the time. Whom a pseudonym points to can never be changed, and no
# row is ever deleted. The runtime role may update exactly these columns (setup_db_roles), and the guard
# below checks what it writes.
PSEUDONYM_TABLE = "audit_pseudonym"
PSEUDONYM_ERASED_COLUMNS = ("subject_key", "identifier_encrypted", "lookup_digest", "erased_at")
PSEUDONYM_GUARD_FUNCTION = "audit_pseudonym_erase_only_guard"
PSEUDONYM_REFUSAL = "pseudonyms change only by erasure"

# Every guard lets the owner role through inside audit.services.maintenance.audit_maintenance() (the setting
# is on only there), for retention and erasure.
_PG_MAINTENANCE_PASSES = f"""    IF pg_catalog.current_setting('{MAINTENANCE_SETTING}', true) = 'on'
       AND pg_catalog.pg_has_role(
           current_user,
           (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID),
           'MEMBER') THEN
        IF TG_LEVEL = 'STATEMENT' THEN
            RETURN NULL;
        ELSIF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;"""


_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {GUARD_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $guard$
BEGIN
    -- The sequencer (audit.sequencer) fills a pending event's sequence, prev_hash and hash once, as the owner
    -- role inside its SECURITY DEFINER function; nothing else of the row may change, and never again.
    -- (Nested: a row of another table has none of these columns.)
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME IN ('audit_auditevent', 'audit_accessevent')
       AND pg_catalog.current_setting('{SEQUENCING_SETTING}', true) = 'on' THEN
        IF OLD.hash IS NULL AND OLD.sequence IS NULL AND NEW.hash IS NOT NULL
           AND (OLD.id, OLD.tenant_id, OLD.chain, OLD.occurred_at, OLD.actor_kind, OLD.actor_user_id,
                OLD.actor_token_id, OLD.event_type, OLD.object_type, OLD.object_id, OLD.details, OLD.hash_version)
               IS NOT DISTINCT FROM
               (NEW.id, NEW.tenant_id, NEW.chain, NEW.occurred_at, NEW.actor_kind, NEW.actor_user_id,
                NEW.actor_token_id, NEW.event_type, NEW.object_type, NEW.object_id, NEW.details, NEW.hash_version)
           AND pg_catalog.pg_has_role(
               current_user,
               (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID),
               'MEMBER') THEN
            RETURN NEW;
        END IF;
    END IF;
{_PG_MAINTENANCE_PASSES}
    RAISE EXCEPTION '{REFUSAL} (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only the owner role may change audit rows, '
                     'inside audit.services.maintenance.audit_maintenance().';
END;
$guard$
"""


_PG_PSEUDONYM_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {PSEUDONYM_GUARD_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $guard$
BEGIN
{_PG_MAINTENANCE_PASSES}
    IF TG_OP = 'UPDATE'
       AND NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.kind = OLD.kind
       AND NEW.pseudonym = OLD.pseudonym AND NEW.created_at = OLD.created_at
       AND NEW.subject_key IS NULL AND NEW.identifier_encrypted IS NULL AND NEW.lookup_digest IS NULL
       AND NEW.erased_at IS NOT NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{PSEUDONYM_REFUSAL} (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'A pseudonym is only ever erased (its key, ciphertext and digest set to NULL).';
END;
$guard$
"""

_SQLITE_PSEUDONYM_KEPT = ("NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.kind = OLD.kind "
                          "AND NEW.pseudonym = OLD.pseudonym AND NEW.created_at = OLD.created_at "
                          "AND NEW.subject_key IS NULL AND NEW.identifier_encrypted IS NULL "
                          "AND NEW.lookup_digest IS NULL AND NEW.erased_at IS NOT NULL")


def install_pseudonym_guard(connection: BaseDatabaseWrapper) -> None:
    """Make audit_pseudonym erase-only (idempotent)."""
    table = PSEUDONYM_TABLE
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _pg_install_guard(cursor, table, _PG_PSEUDONYM_FUNCTION, PSEUDONYM_GUARD_FUNCTION,
                              _pg_trigger_names(table))
            _pg_revoke_changes_from_non_owners(cursor, table)
        elif connection.vendor == "sqlite":
            _sqlite_install_guard(cursor, table, _SQLITE_PSEUDONYM_TRIGGERS, PSEUDONYM_REFUSAL,
                                  kept=_SQLITE_PSEUDONYM_KEPT)


_SQLITE_PSEUDONYM_TRIGGERS = (f"{PSEUDONYM_TABLE}_erase_only_update", f"{PSEUDONYM_TABLE}_erase_only_delete")


def uninstall_pseudonym_guard(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for trigger in _SQLITE_PSEUDONYM_TRIGGERS:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{trigger}"')
    else:
        uninstall(connection, PSEUDONYM_TABLE)


def pseudonym_guard_installed(connection: BaseDatabaseWrapper) -> bool:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s)",
                           list(_SQLITE_PSEUDONYM_TRIGGERS))
            return cursor.fetchone()[0] == 2
    return is_installed(connection, PSEUDONYM_TABLE)


# A data subject request moves through its steps (identity check, extension, refusal, completion), but whom and
# what it concerns, when it arrived and why never change, a closed request changes no more, and none is
# deleted: the runtime role could otherwise re-point a request at another person or reopen a completed one.
REQUEST_TABLE = "audit_datasubjectrequest"
REQUEST_GUARD_FUNCTION = "audit_request_guard"
REQUEST_REFUSAL = "a data subject request keeps whom it concerns and changes no more once closed"
REQUEST_FIXED_COLUMNS = ("id", "tenant_id", "kind", "identifier_kind", "identifier_hash", "subject_pseudonym",
                         "received_at", "channel", "reason")
# Besides the fixed ones, frozen once the request is closed (completed or refused). The people who acted
# (actor_id, identity_checked_by_id) may still be set to NULL when their account is deleted.
REQUEST_CLOSED_COLUMNS = ("status", "due_at", "completed_at", "summary", "identity_checked_at", "identity_check",
                          "identity_note", "extended_at", "extension_reason", "refusal_reason", "reminder_sent_at")


def _pg_same(columns) -> str:
    return (f"({', '.join(f'OLD.{c}' for c in columns)}) IS NOT DISTINCT FROM "
            f"({', '.join(f'NEW.{c}' for c in columns)})")


def _sqlite_same(columns) -> str:
    return " AND ".join(f"NEW.{c} IS OLD.{c}" for c in columns)


_PG_REQUEST_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {REQUEST_GUARD_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $guard$
BEGIN
{_PG_MAINTENANCE_PASSES}
    IF TG_OP = 'UPDATE' AND {_pg_same(REQUEST_FIXED_COLUMNS)}
       AND (OLD.status = 'open' OR {_pg_same(REQUEST_CLOSED_COLUMNS)}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{REQUEST_REFUSAL} (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only the steps of an open request change it (audit.services.request_handling).';
END;
$guard$
"""
_REQUEST_PG_TRIGGERS = (f"{REQUEST_TABLE}_guard", f"{REQUEST_TABLE}_guard_truncate")
_REQUEST_SQLITE_TRIGGERS = (f"{REQUEST_TABLE}_guard_update", f"{REQUEST_TABLE}_guard_delete")


def install_request_guard(connection: BaseDatabaseWrapper) -> None:
    """Guard audit_datasubjectrequest (idempotent): see REQUEST_FIXED_COLUMNS and REQUEST_CLOSED_COLUMNS."""
    table = REQUEST_TABLE
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _pg_install_guard(cursor, table, _PG_REQUEST_FUNCTION, REQUEST_GUARD_FUNCTION, _REQUEST_PG_TRIGGERS)
        elif connection.vendor == "sqlite":
            kept = (f"{_sqlite_same(REQUEST_FIXED_COLUMNS)} "
                    f"AND (OLD.status = 'open' OR ({_sqlite_same(REQUEST_CLOSED_COLUMNS)}))")
            _sqlite_install_guard(cursor, table, _REQUEST_SQLITE_TRIGGERS, REQUEST_REFUSAL, kept=kept)


def uninstall_request_guard(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for trigger in _REQUEST_PG_TRIGGERS:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{trigger}" ON "{REQUEST_TABLE}"')
        elif connection.vendor == "sqlite":
            for trigger in _REQUEST_SQLITE_TRIGGERS:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{trigger}"')


def request_guard_installed(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = ANY(%s)",
                           [REQUEST_TABLE, list(_REQUEST_PG_TRIGGERS)])
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s)",
                           list(_REQUEST_SQLITE_TRIGGERS))
        else:
            return False
        return cursor.fetchone()[0] == 2


def _pg_install_guard(cursor, table: str, function_sql: str, function: str, triggers: tuple[str, str]) -> None:
    """The guard function, and its triggers on `table`: one before every row's UPDATE or DELETE, one before
    TRUNCATE (idempotent)."""
    row_trigger, truncate_trigger = triggers
    cursor.execute(function_sql)
    cursor.execute(f'DROP TRIGGER IF EXISTS "{row_trigger}" ON "{table}"')
    cursor.execute(f'DROP TRIGGER IF EXISTS "{truncate_trigger}" ON "{table}"')
    cursor.execute(f'CREATE TRIGGER "{row_trigger}" BEFORE UPDATE OR DELETE ON "{table}" '
                   f"FOR EACH ROW EXECUTE FUNCTION {function}()")
    cursor.execute(f'CREATE TRIGGER "{truncate_trigger}" BEFORE TRUNCATE ON "{table}" '
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")


def _sqlite_install_guard(cursor, table: str, triggers: tuple[str, str], refusal: str,
                          kept: str | None = None) -> None:
    """SQLite's guard: an UPDATE (unless it keeps what `kept` says) and a DELETE abort with `refusal`, except
    while the maintenance switch table has its row (idempotent)."""
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {SQLITE_SWITCH_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1))")
    unguarded = f"NOT EXISTS (SELECT 1 FROM {SQLITE_SWITCH_TABLE})"
    update_trigger, delete_trigger = triggers
    for trigger, operation, condition in ((update_trigger, "UPDATE", f"{unguarded} AND NOT ({kept})" if kept
                                           else unguarded), (delete_trigger, "DELETE", unguarded)):
        cursor.execute(f'CREATE TRIGGER IF NOT EXISTS "{trigger}" BEFORE {operation} ON "{table}" '
                       f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{refusal}'); END")


def _pg_trigger_names(table: str) -> tuple[str, str]:
    return f"{table}_append_only", f"{table}_append_only_truncate"


def _sqlite_trigger_names(table: str) -> tuple[str, str]:
    return f"{table}_append_only_update", f"{table}_append_only_delete"


def install(connection: BaseDatabaseWrapper, table: str) -> None:
    """Make `table` append-only (idempotent)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _pg_install_guard(cursor, table, _PG_FUNCTION, GUARD_FUNCTION, _pg_trigger_names(table))
            _pg_revoke_changes_from_non_owners(cursor, table)
        elif connection.vendor == "sqlite":
            _sqlite_install_guard(cursor, table, _sqlite_trigger_names(table), REFUSAL)


def uninstall(connection: BaseDatabaseWrapper, table: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for trigger in _pg_trigger_names(table):
                cursor.execute(f'DROP TRIGGER IF EXISTS "{trigger}" ON "{table}"')
        elif connection.vendor == "sqlite":
            for trigger in _sqlite_trigger_names(table):
                cursor.execute(f'DROP TRIGGER IF EXISTS "{trigger}"')


def is_installed(connection: BaseDatabaseWrapper, table: str) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = ANY(%s)",
                [table, list(_pg_trigger_names(table))],
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name IN (%s, %s)",
                [table, *_sqlite_trigger_names(table)],
            )
        else:
            return False
        return cursor.fetchone()[0] == 2


def protected_tables(connection: BaseDatabaseWrapper) -> list[str]:
    """The tables that carry the guard (the audit tables the runtime role may only read and append to)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE p.proname = %s AND c.relnamespace = to_regnamespace(current_schema()) ORDER BY 1",
                [GUARD_FUNCTION],
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s ORDER BY 1",
                ["%_append_only_update"],
            )
        else:
            return []
        return [row[0] for row in cursor.fetchall()]


def _pg_revoke_changes_from_non_owners(cursor, table: str) -> None:
    """A new append-only table may have inherited UPDATE/DELETE through default privileges granted to the
    runtime role (setup_db_roles); take them back at once rather than waiting for the next run."""
    cursor.execute(
        "SELECT DISTINCT a.grantee, COALESCE(r.rolname, 'PUBLIC') "
        "FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
        "LEFT JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE c.oid = to_regclass(%s) AND a.grantee <> c.relowner "
        "AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')",
        [table],
    )
    for grantee_oid, name in cursor.fetchall():
        grantee = "PUBLIC" if grantee_oid == 0 else '"' + name.replace('"', '""') + '"'
        cursor.execute(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM {grantee}')
