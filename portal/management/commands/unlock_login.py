"""`manage.py unlock_login [USERNAME] [--address IP]`: lifts a sign-in lock before its cool-off ends."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from portal import services


class Command(BaseCommand):
    help = _("Lift a sign-in lock (after repeated failed logins) for a user name or an address; audited.")

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="", help=_("The locked user name."))
        parser.add_argument("--address", default="", help=_("The locked client address (IP)."))

    @no_translations  # console output in the source language, as the other operator commands
    def handle(self, *args, username, address, **options):
        try:
            cleared = services.login_lockout_clear(actor=SYSTEM, username=username, ip_address=address)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(_("Unlocked; %(n)d recorded failed logins cleared.") % {"n": cleared})
