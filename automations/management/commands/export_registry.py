"""`manage.py export_registry --tenant SLUG [--output FILE]`: the tenant's whole registry as JSON
(automations.registry.services.registry_io); ids, times and authors are listed under `instance_specific`."""
import json

from django.core.management.base import BaseCommand, no_translations
from django.utils.translation import gettext as _

from automations.registry.services.registry_io import registry_export
from portal.management.tenants import add_tenant_argument, tenant_from_option


class Command(BaseCommand):
    help = _("Write a tenant's registry (policy, catalogue, use cases, versions, releases, labels) as JSON.")

    def add_arguments(self, parser):
        add_tenant_argument(parser)
        parser.add_argument("--output", metavar="FILE", help=_("Write to this file instead of standard output."))

    @no_translations
    def handle(self, *args, tenant, output, **options):
        text = json.dumps(registry_export(tenant=tenant_from_option(tenant)), indent=2, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(_("Registry written to %(file)s.") % {"file": output})
        else:
            self.stdout.write(text)
