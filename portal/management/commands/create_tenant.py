"""`manage.py create_tenant SLUG NAME`: a new tenant (Mandant), e.g. the first one of a production set-up."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from portal import services
from portal.models import Tenant


class Command(BaseCommand):
    help = _("Create a tenant (Mandant).")

    def add_arguments(self, parser):
        parser.add_argument("slug", help=_("Short name used in commands and URLs, e.g. muster."))
        parser.add_argument("name", help=_("Display name, e.g. \"Muster GmbH\"."))

    @no_translations  # console output in the source language, as the other operator commands
    def handle(self, *args, slug, name, **options):
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(_("A tenant with the slug %(slug)r exists already.") % {"slug": slug})
        try:
            tenant = services.tenant_create(actor=SYSTEM, slug=slug, name=name)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(_("Tenant %(slug)s (%(name)s) created.") % {"slug": tenant.slug, "name": tenant.name})
