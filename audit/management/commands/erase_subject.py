"""`manage.py erase_subject IDENTIFIER --tenant SLUG --actor USERNAME [--kind ...] [--dry-run]`: an erasure
request (GDPR Art. 17), carried out as the acting data protection officer (audit.services.erasure)."""
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from audit.choices import IdentifierKind
from audit.selectors.subjects import AmbiguousSubject, SubjectNotFound
from audit.services.erasure import ErasureRefused, data_subject_erase
from portal.management.tenants import add_tenant_argument, tenant_from_option
from portal.selectors import user_get_by_username


class Command(BaseCommand):
    help = _("Erase everything stored about a person in a tenant (GDPR Art. 17), as its data protection officer. "
             "Prints what was (or, with --dry-run, would be) erased; items under a retention duty or a legal "
             "hold are restricted instead.")

    def add_arguments(self, parser):
        parser.add_argument("identifier", help=_("E-mail address, IBAN, customer or supplier number, or name."))
        add_tenant_argument(parser)
        parser.add_argument("--actor", required=True, metavar="USERNAME",
                            help=_("The data protection officer carrying out the request."))
        parser.add_argument("--kind", choices=IdentifierKind.values,
                            help=_("What the identifier is (guessed when left out)."))
        parser.add_argument("--dry-run", action="store_true", help=_("Only show what would be erased."))

    @no_translations  # console output in the source language; the UI is what gets translated
    def handle(self, *args, identifier, tenant, actor, kind=None, dry_run=False, **options):
        tenant = tenant_from_option(tenant)
        user = user_get_by_username(username=actor)
        if user is None:
            raise CommandError(_("No active user named %(username)r.") % {"username": actor})
        user.active_tenant = tenant
        try:
            report = data_subject_erase(actor=user, tenant=tenant, identifier=identifier, kind=kind,
                                        dry_run=dry_run)
        except ErasureRefused:
            raise CommandError(_("%(username)s is not the data protection officer of %(tenant)s; only they carry "
                                 "out erasure requests.") % {"username": actor, "tenant": tenant.slug}) from None
        except AmbiguousSubject as error:
            lines = [str(error), *[f"  {candidate}" for candidate in error.candidates]]
            raise CommandError("\n".join(lines)) from None
        except SubjectNotFound as error:
            raise CommandError(str(error)) from None
        for line in report.lines():
            self.stdout.write(line)
