"""`manage.py create_api_token USERNAME --tenant SLUG`: issues a token and prints it once, last."""
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from portal import services
from portal.choices import TokenScope
from portal.management.tenants import add_tenant_argument, tenant_from_option
from portal.selectors import user_get_by_username


class Command(BaseCommand):
    help = _("Issue an API token for a user in a tenant; the token is printed once, as the last line.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        add_tenant_argument(parser)
        parser.add_argument("--name", default="", help=_("What the token is for (shown in the token list)."))
        parser.add_argument("--days", type=int, default=None,
                            help=_("Days until it expires (default: API_TOKEN_DEFAULT_DAYS, at most "
                                   "API_TOKEN_MAX_DAYS)."))
        parser.add_argument("--scope", action="append", dest="scopes", choices=TokenScope.values, default=None,
                            help=_("What the token may do; repeat for several (default: read, intake, results)."))

    @no_translations  # console output in the source language; the UI is what gets translated
    def handle(self, *args, username, tenant, name, days, scopes, **options):
        if days is not None and days < 1:
            raise CommandError(_("--days must be at least 1."))
        if days is not None and days > settings.API_TOKEN_MAX_DAYS:
            raise CommandError(_("--days may be at most %(max)s (API_TOKEN_MAX_DAYS).") % {
                "max": settings.API_TOKEN_MAX_DAYS})
        user = user_get_by_username(username=username)
        if user is None:
            raise CommandError(_("No active user named %(username)r.") % {"username": username})
        tenant = tenant_from_option(tenant)
        try:
            # Issued by the system on an operator's command line, not by the user themselves.
            token, plain = services.api_token_create(
                actor=SYSTEM, tenant=tenant, user=user, name=name or _("command line"), days=days,
                scopes=scopes or services.DEFAULT_TOKEN_SCOPES,
            )
        except PermissionDenied:
            raise CommandError(
                _("%(username)s has no active membership in %(tenant)s.")
                % {"username": username, "tenant": tenant.slug}
            ) from None
        expires = timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M %Z")
        self.stdout.write(
            _("API token %(prefix)s for %(username)s in %(tenant)s, valid until %(expires)s. "
              "It is shown only now:") % {"prefix": token.prefix, "username": username, "tenant": tenant.slug,
                                          "expires": expires}
        )
        self.stdout.write(plain)
