"""`manage.py grant_first_role USERNAME ROLE --tenant SLUG`: the first holder of a role in a tenant, so that
a new tenant can start (docs/roles.md). Refused once anybody in the tenant holds the role: from then on a
control role is granted through a change request on the members page."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from automations.registry.selectors import tenant_policy_get
from portal import services
from portal.choices import Role
from portal.management.tenants import add_tenant_argument, tenant_from_option
from portal.selectors import user_get_by_username


class Command(BaseCommand):
    help = _("Give a user a role that nobody in the tenant holds yet (the start of a new tenant).")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)
        add_tenant_argument(parser)

    @no_translations  # console output in the source language, as the other operator commands
    def handle(self, *args, username, role, tenant, **options):
        user = user_get_by_username(username=username)
        if user is None:
            raise CommandError(_("No active user named %(username)r.") % {"username": username})
        tenant = tenant_from_option(tenant)
        try:
            services.role_first_holder_grant(
                tenant=tenant, user=user, roles=[role], reason="first holder, granted on the command line",
                allow_dual_role=tenant_policy_get(tenant=tenant).allow_dual_role)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(_("%(username)s now holds %(role)s in %(tenant)s.")
                          % {"username": username, "role": role, "tenant": tenant.slug})
