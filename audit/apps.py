from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_append_only(sender, using, **kwargs) -> None:
    """SQLite rebuilds a table to alter it, which drops its triggers; put the guard back after every
    migrate so that a later migration of an audit table can never leave it unguarded."""
    from django.db import connections

    from audit import append_only

    connection = connections[using]
    existing = set(connection.introspection.table_names())
    for table in append_only.APPEND_ONLY_TABLES:
        if table in existing and not append_only.is_installed(connection, table):
            append_only.install(connection, table)
    if append_only.PSEUDONYM_TABLE in existing and not append_only.pseudonym_guard_installed(connection):
        append_only.install_pseudonym_guard(connection)
    if append_only.REQUEST_TABLE in existing and not append_only.request_guard_installed(connection):
        append_only.install_request_guard(connection)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit and data protection")

    def ready(self) -> None:
        # System checks and audit event types register themselves; services send the tasks by name (portal.jobs).
        from audit import checks, events, tasks  # noqa: F401

        post_migrate.connect(_ensure_append_only, sender=self, dispatch_uid="audit_ensure_append_only")
