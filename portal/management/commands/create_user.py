"""`manage.py create_user USERNAME [--tenant SLUG --roles a,b] [--superuser]`: a login account, and
optionally its membership; how the first automation lead of a production set-up gets in. The password is
asked for twice on a terminal, or read from the first line of standard input (for scripts)."""
import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.db import transaction
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from automations.registry.selectors import tenant_policy_get
from portal import services
from portal.choices import Role
from portal.management.tenants import tenant_from_option


class Command(BaseCommand):
    help = _("Create a login account, optionally with a membership and roles in a tenant.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--tenant", metavar="SLUG",
                            help=_("Give the user a membership in this tenant (with --roles)."))
        parser.add_argument("--roles", default="",
                            help=_("Comma-separated roles: %(roles)s.") % {"roles": ", ".join(Role.values)})
        parser.add_argument("--superuser", action="store_true",
                            help=_("A superuser of the Django admin (holds no roles by that)."))

    def _password(self) -> str:
        if not sys.stdin.isatty():
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass(_("Password: "))
        if first != getpass.getpass(_("Password (again): ")):
            raise CommandError(_("The passwords differ."))
        return first

    @no_translations  # console output in the source language, as the other operator commands
    def handle(self, *args, username, email, tenant, roles, superuser, **options):
        roles = [r.strip() for r in roles.split(",") if r.strip()]
        if bool(roles) != bool(tenant):
            raise CommandError(_("--tenant and --roles go together."))
        tenant_obj = tenant_from_option(tenant) if tenant else None
        unknown = sorted(set(roles) - set(Role.values))
        if unknown:
            raise CommandError(_("Unknown roles: %(roles)s (known: %(known)s).") % {
                "roles": ", ".join(unknown), "known": ", ".join(Role.values)})
        password = self._password()
        try:
            with transaction.atomic():
                user = services.user_create(actor=SYSTEM, username=username, password=password, email=email,
                                            is_superuser=superuser)
                if tenant_obj is not None:
                    # The first holders of a new tenant's roles; later grants are change requests.
                    services.role_first_holder_grant(
                        tenant=tenant_obj, user=user, roles=roles, reason="created on the command line",
                        allow_dual_role=tenant_policy_get(tenant=tenant_obj).allow_dual_role)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        where = (_(" with roles %(roles)s in %(tenant)s") % {"roles": ", ".join(roles), "tenant": tenant_obj.slug}
                 if tenant_obj else "")
        self.stdout.write(_("User %(username)s created%(where)s.") % {"username": username, "where": where})
