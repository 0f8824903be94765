"""`manage.py set_processor_key PROCESSOR --tenant SLUG --actor USERNAME`: store a processor's API key,
read from standard input (never from the command line, where shell history and `ps` would keep it)."""
import getpass
import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from automations.registry.selectors import catalogue_list
from automations.registry.services.processors import processor_secret_set
from portal.management.tenants import add_tenant_argument, tenant_from_option


class Command(BaseCommand):
    help = _("Store the API key of a catalogue processor, encrypted; the key is read from standard input.")

    def add_arguments(self, parser):
        parser.add_argument("processor", help=_("The processor's catalogue key."))
        parser.add_argument("--actor", required=True, help=_("The IT operator or security officer doing it."))
        add_tenant_argument(parser)

    def handle(self, *args, processor, actor, tenant, **options):
        tenant = tenant_from_option(tenant)
        entry = catalogue_list(tenant=tenant, kind="processor").filter(key=processor).first()
        if entry is None:
            raise CommandError(_("No processor %(key)r in the catalogue of %(tenant)s.")
                               % {"key": processor, "tenant": tenant.slug})
        user = get_user_model().objects.filter(username=actor, is_active=True).first()
        if user is None:
            raise CommandError(_("Unknown user %(user)s.") % {"user": actor})
        api_key = getpass.getpass(_("API key: ")) if sys.stdin.isatty() else sys.stdin.readline().strip()
        try:
            secret = processor_secret_set(actor=user, entry=entry, api_key=api_key)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from None
        self.stdout.write(_("Stored, key fingerprint %(fp)s.") % {"fp": secret.key_fingerprint})
