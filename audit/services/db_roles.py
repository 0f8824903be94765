"""The two PostgreSQL roles of a production installation (DESIGN.md, "Production").

The owner role (DATABASE_ADMIN_URL) owns every table, runs migrations and maintenance. The runtime role
(DATABASE_URL) logs in for the web, the workers and beat: it may read and write the portal's tables but
only read and append to the audit tables. With no UPDATE, DELETE or TRUNCATE privilege there, no
ownership and no membership in the owner role, it has no way past the append-only triggers either.
"""
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction
from psycopg import sql

from audit import append_only
from audit.services.events import audit_event_record

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class DatabaseRoleError(Exception):
    pass


@dataclass(frozen=True)
class RuntimeRoleSetup:
    role: str
    created: bool
    owner: str
    schema: str
    append_only_tables: list[str]


def admin_alias() -> str:
    """The owner connection: the "admin" database when DATABASE_ADMIN_URL is set, else the default one."""
    return "admin" if "admin" in settings.DATABASES else "default"


def database_role_configure(*, actor, role: str, password: str | None = None,
                            using: str | None = None) -> RuntimeRoleSetup:
    """Create the runtime LOGIN role if missing and (re)apply its privileges; idempotent, and meant to be
    run again after migrations (new tables, new append-only tables)."""
    if not _ROLE_NAME.match(role):
        raise DatabaseRoleError(f"{role!r} is not a plain role name (lower case letters, digits, underscores).")
    using = using or admin_alias()
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise DatabaseRoleError("Database roles exist on PostgreSQL only; the embedded SQLite default has none.")

    with transaction.atomic(using=using), connection.cursor() as cursor:
        def run(statement: str, *args) -> None:
            cursor.execute(sql.SQL(statement).format(*args).as_string(cursor.connection))

        cursor.execute(
            "SELECT current_database(), current_schema(), "
            "COALESCE((SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename = 'django_migrations'), current_user::text)"
        )
        database, schema, owner = cursor.fetchone()
        if role == owner:
            raise DatabaseRoleError(f"The runtime role must not be the owner role {owner!r}.")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        existing = cursor.fetchone()
        created = existing is None
        if created:
            run("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", sql.Identifier(role))
        elif existing[0]:
            raise DatabaseRoleError(f"The role {role!r} is a superuser; a runtime role must not be one.")
        else:
            cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])
            if cursor.fetchone()[0]:
                raise DatabaseRoleError(
                    f"The role {role!r} is a member of the owner role {owner!r}, which would let it past "
                    "the append-only triggers; remove the membership first."
                )
            run("ALTER ROLE {} LOGIN", sql.Identifier(role))
        if password:
            run("ALTER ROLE {} PASSWORD {}", sql.Identifier(role), sql.Literal(password))

        ident, schema_ident, owner_ident = sql.Identifier(role), sql.Identifier(schema), sql.Identifier(owner)
        run("GRANT CONNECT ON DATABASE {} TO {}", sql.Identifier(database), ident)
        run("GRANT USAGE ON SCHEMA {} TO {}", schema_ident, ident)
        # Start from nothing so that re-running yields exactly these privileges, whatever was there.
        run("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}", schema_ident, ident)
        run("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}", schema_ident, ident)
        protected = append_only.protected_tables(connection)
        for table in protected:
            run("REVOKE ALL ON TABLE {}.{} FROM {}", schema_ident, sql.Identifier(table), ident)
            run("GRANT SELECT, INSERT ON TABLE {}.{} TO {}", schema_ident, sql.Identifier(table), ident)
        if append_only.pseudonym_guard_installed(connection):
            # Erasure is the one change to a pseudonym: only its erased columns, and the guard checks that
            # they are set to NULL (whom a pseudonym points to never changes).
            pseudonyms = sql.Identifier(append_only.PSEUDONYM_TABLE)
            run("REVOKE ALL ON TABLE {}.{} FROM {}", schema_ident, pseudonyms, ident)
            run("GRANT SELECT, INSERT ON TABLE {}.{} TO {}", schema_ident, pseudonyms, ident)
            run("GRANT UPDATE ({}) ON TABLE {}.{} TO {}",
                sql.SQL(", ").join(sql.Identifier(c) for c in append_only.PSEUDONYM_ERASED_COLUMNS),
                schema_ident, pseudonyms, ident)
            protected = [*protected, append_only.PSEUDONYM_TABLE]
        if append_only.request_guard_installed(connection):
            # Requests move through their steps (UPDATE, checked by the guard) but are never deleted.
            run("REVOKE DELETE, TRUNCATE ON TABLE {}.{} FROM {}", schema_ident,
                sql.Identifier(append_only.REQUEST_TABLE), ident)
        run("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}", schema_ident, ident)
        run("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}", schema_ident, ident)
        # Tables created by later migrations get the same; a new append-only table loses UPDATE and DELETE
        # again in its own migration (append_only.install), before it holds a single row.
        run("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}",
            owner_ident, schema_ident, ident)
        run("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}",
            owner_ident, schema_ident, ident)

    setup = RuntimeRoleSetup(role=role, created=created, owner=owner, schema=schema, append_only_tables=protected)
    # Recorded through the application's own connection once the grants are committed: it may be the
    # runtime role itself, which can append to the audit log only from now on.
    audit_event_record(actor=actor, tenant=None, event_type="database_role.configured",
                       details={"role": role, "created": created, "append_only_tables": protected})
    return setup
