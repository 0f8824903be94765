"""`manage.py reset_second_factor USERNAME`: removes a user's second factor (e.g. a superuser's lost phone)."""
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from portal import selectors, services


class Command(BaseCommand):
    help = _("Remove a user's second factor (authenticator and recovery codes); they set it up again at their next "
             "sign-in. Audited.")

    def add_arguments(self, parser):
        parser.add_argument("username", help=_("The user whose second factor is removed."))

    @no_translations  # console output in the source language, as the other operator commands
    def handle(self, *args, username, **options):
        user = selectors.user_get_by_username(username=username)
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        removed = services.second_factor_reset(actor=SYSTEM, user=user)
        self.stdout.write(f"Second factor of {user.get_username()} reset; {removed} devices removed.")
