"""`manage.py purge_audit --before DATE [--tenant SLUG]`: remove audit and access events older than DATE
(at least AUDIT_RETENTION_DAYS, six months) after writing a signed anchor; run with the owner role."""
from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils import timezone

from audit.services.maintenance import AuditMaintenanceRefused
from audit.services.purge import PurgeRefused, audit_purge
from audit.signing import SigningKeyMissing
from portal.models import Tenant


class Command(BaseCommand):
    help = ("Removes audit and access events older than --before (a date at least AUDIT_RETENTION_DAYS ago) from "
            "every chain, or one tenant's; each chain must verify, and a signed anchor (the last removed event's "
            "sequence and hash) is written first, so verify_audit starts there. Runs on the owner connection "
            "(DATABASE_ADMIN_URL).")

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, metavar="YYYY-MM-DD",
                            help="Remove events older than the start of this day (local time).")
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant's chains.")
        parser.add_argument("--database", default=None, help="Owner connection alias (default: admin if configured).")

    @no_translations
    def handle(self, *args, before, tenant=None, database=None, **options):
        try:
            day = datetime.strptime(before, "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar day, made aware below
        except ValueError:
            raise CommandError("--before must be a date, YYYY-MM-DD.") from None
        cutoff = timezone.make_aware(datetime.combine(day, time(0, 0)))
        chosen = None
        if tenant is not None:
            chosen = Tenant.objects.filter(slug=tenant).first()
            if chosen is None:
                raise CommandError(f"No tenant with the slug {tenant!r}.")
        try:
            results = audit_purge(before=cutoff, tenant=chosen, using=database)
        except (PurgeRefused, SigningKeyMissing, AuditMaintenanceRefused) as error:
            raise CommandError(str(error)) from None
        failed = False
        for result in results:
            if result.refused:
                failed = True
                self.stdout.write(f"{result.label}: {result.refused}")
            elif result.up_to is None:
                self.stdout.write(f"{result.label}: nothing older than {day}")
            else:
                self.stdout.write(
                    f"{result.label}: {result.events} events removed, anchored at sequence {result.up_to}")
        if failed:
            raise CommandError("Some chains were not purged.")
