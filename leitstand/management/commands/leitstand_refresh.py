"""`manage.py leitstand_refresh [--tenant SLUG] [--days N]`: recompute the Leitstand's daily figures of the last
N days (a backfill after an upgrade or an import; beat keeps today and yesterday current)."""
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from leitstand.services import daily_figures_refresh_range
from portal.models import Tenant


class Command(BaseCommand):
    help = _("Recompute the Leitstand's daily figures of the last days.")

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help=_("Tenant slug (may be left out when exactly one tenant exists)."))
        parser.add_argument("--days", type=int, default=30, help=_("How many days back, today included."))

    def handle(self, *args, tenant=None, days=30, **options):
        if days < 1:
            raise CommandError(_("--days is at least 1."))
        tenants = Tenant.objects.order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(_("No tenant with the slug %(slug)s.") % {"slug": tenant})
        elif tenants.count() != 1:
            raise CommandError(_("Name the tenant with --tenant SLUG."))
        today = timezone.localdate()
        for each in tenants:
            rows = daily_figures_refresh_range(tenant=each, since=today - timedelta(days=days - 1), until=today)
            self.stdout.write(_("%(tenant)s: %(rows)s daily rows over %(days)s days")
                              % {"tenant": each.slug, "rows": rows, "days": days})
