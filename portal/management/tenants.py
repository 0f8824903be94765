"""The `--tenant SLUG` option every tenant-bound management command shares (DESIGN.md, "Contracts"):
it may be left out when exactly one tenant exists."""
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from portal.models import Tenant


def add_tenant_argument(parser) -> None:
    parser.add_argument(
        "--tenant", metavar="SLUG",
        help=_("The tenant (Mandant) to work in; may be left out when exactly one tenant exists."),
    )


def tenant_from_option(slug: str | None) -> Tenant:
    """The tenant named by --tenant, or the only tenant there is; a CommandError otherwise."""
    active = Tenant.objects.filter(is_active=True).order_by("slug")
    if slug:
        tenant = active.filter(slug=slug).first()
        if tenant is None:
            known = ", ".join(active.values_list("slug", flat=True)) or _("none")
            raise CommandError(_("No active tenant with the slug %(slug)r (known: %(known)s).")
                               % {"slug": slug, "known": known})
        return tenant
    tenants = list(active[:2])
    if len(tenants) == 1:
        return tenants[0]
    if not tenants:
        raise CommandError(_("There is no tenant yet; run `manage.py quickstart` or create one first."))
    raise CommandError(_("There are several tenants; choose one with --tenant SLUG (known: %(known)s).")
                       % {"known": ", ".join(active.values_list("slug", flat=True))})
