"""`manage.py import_registry FILE --tenant SLUG --actor USERNAME`: bring a tenant towards a registry
file through drafts and change requests, as the acting user (automations.registry.services.registry_io). Run it again
after the approvals until it reports that the tenant is in sync."""
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from automations.registry.services.registry_io import registry_import
from portal.management.tenants import add_tenant_argument, tenant_from_option
from portal.selectors import user_get_by_username


class Command(BaseCommand):
    help = _("Import a registry file as drafts and change requests; nothing reaches production without approval.")

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("A JSON file written by export_registry."))
        add_tenant_argument(parser)
        parser.add_argument("--actor", required=True, metavar="USERNAME",
                            help=_("The person the import acts as (author of drafts and change requests)."))
        parser.add_argument("--json", action="store_true", help=_("Print the report as JSON."))

    @no_translations
    def handle(self, *args, file, tenant, actor, **options):
        tenant = tenant_from_option(tenant)
        user = user_get_by_username(username=actor)
        if user is None:
            raise CommandError(_("No active user named %(username)r.") % {"username": actor})
        try:
            with open(file, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, json.JSONDecodeError) as error:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": error}) from None
        user.active_tenant = tenant
        try:
            report = registry_import(actor=user, tenant=tenant, data=data)
        except PermissionDenied as error:
            raise CommandError(_("%(username)s may not import into %(tenant)s: %(error)s")
                               % {"username": actor, "tenant": tenant.slug, "error": error}) from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
            return
        sections = [(_("Created"), report.created),
                    (_("Change requests proposed"), [f"CR-{cr['id']}: {cr['title']}" for cr in report.proposed]),
                    (_("Waiting for approval"), [f"CR-{cr['id']}: {cr['title']}" for cr in report.pending]),
                    (_("Next run"), report.waiting), (_("Conflicts"), report.conflicts), (_("Refused"), report.errors)]
        for title, lines in sections:
            if lines:
                self.stdout.write(f"{title}:")
                for line in lines:
                    self.stdout.write(f"  - {line}")
        self.stdout.write(_("In sync: the tenant matches the file.") if report.in_sync else
                          _("Not yet in sync: approve the change requests, then import the file again."))
