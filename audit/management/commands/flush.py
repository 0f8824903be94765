"""Django's flush, run as an audit maintenance transaction: emptying every table includes the append-only
audit tables, which only the owner role may do (audit.services.maintenance). The test suite's table flush
(TransactionTestCase, pytest-django's transactional_db) goes through here too."""
from django.core.management.commands.flush import Command as FlushCommand

from audit.services.maintenance import audit_maintenance


class Command(FlushCommand):
    def handle(self, **options):
        with audit_maintenance(using=options["database"]):
            return super().handle(**options)
