from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.actors import SYSTEM
from audit.services.db_roles import DatabaseRoleError, admin_alias, database_role_configure


class Command(BaseCommand):
    help = (
        "Creates the runtime database role if missing and grants it what the application needs: all "
        "tables, but only SELECT and INSERT on the append-only audit tables. Runs on the owner connection "
        "(DATABASE_ADMIN_URL, else DATABASE_URL); run it again after migrations. PostgreSQL only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runtime-role", default=settings.DATABASE_RUNTIME_ROLE,
                            help="Name of the runtime role (default: %(default)s, DATABASE_RUNTIME_ROLE).")
        parser.add_argument("--password", help="Set the runtime role's password (else left as it is).")
        parser.add_argument("--database", default=None,
                            help="Database alias of the owner connection (default: admin if configured).")

    def handle(self, *args, runtime_role, password=None, database=None, **options):
        try:
            setup = database_role_configure(actor=SYSTEM, role=runtime_role, password=password,
                                            using=database or admin_alias())
        except DatabaseRoleError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Runtime role {setup.role} {'created' if setup.created else 'updated'} (owner {setup.owner}, "
            f"schema {setup.schema}); read and append only: {', '.join(setup.append_only_tables) or '-'}."
        )
