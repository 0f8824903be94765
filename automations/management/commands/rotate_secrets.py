"""`manage.py rotate_secrets [--check]`: re-encrypt every stored credential (processor API keys, connector
credentials, the authenticators' TOTP secrets) under the newest field key, the first of LEITPLANKE_FIELD_KEYS,
so that the older keys can be retired. One row per transaction, each audited (`processor_secret.rotated`,
`connector_secret.rotated`, `second_factor.rotated`); rows already under the newest key are left alone, so a
run stopped midway is finished by running it again. `--check` changes nothing and exits 1 while any
credential is not yet under the newest key."""
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from automations.connectors.services.credentials import CONNECTOR_SECRETS
from automations.registry.services.processors import PROCESSOR_SECRETS
from automations.registry.services.stored_secrets import secret_kinds, stored_secrets_rotate
from portal import field_keys as secrets
from portal.services import totp_devices_rotate


class Command(BaseCommand):
    help = _("Re-encrypt every stored credential under the newest field key (the first of LEITPLANKE_FIELD_KEYS); "
             "afterwards the other keys can be removed.")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help=_("Change nothing; exit 1 while a credential is not under the newest key."))

    @no_translations  # console output in the source language
    def handle(self, *args, check, **options):
        # Every kind of stored credential: those named here, and any other that registered itself.
        kinds = list({kind.name: kind for kind in (PROCESSOR_SECRETS, CONNECTOR_SECRETS, *secret_kinds())}.values())
        keys = len(secrets.configured_keys())
        report = stored_secrets_rotate(actor=SYSTEM, kinds=kinds, check_only=check)
        authenticators = totp_devices_rotate(actor=SYSTEM, check_only=check)
        self.stdout.write(_("Newest field key: %(key)s (the first of %(n)s configured)") % {
            "key": report.key_id, "n": keys})
        lines = [(kind.title, report.rotated[kind.name], report.current[kind.name]) for kind in kinds]
        lines.append((_("authenticators' secrets (TOTP)"), authenticators.rotated, authenticators.current))
        for title, rotated, current in lines:
            done = (_("%(n)s to re-encrypt") if check else _("%(n)s re-encrypted")) % {"n": rotated}
            self.stdout.write(_("%(what)s: %(done)s, %(current)s already under the newest key") % {
                "what": title, "done": done, "current": current})
        unreadable = report.total_unreadable + len(authenticators.unreadable)
        if unreadable:
            groups = [f"{kind.title}: " + ", ".join(f"{slug}/{key}" for slug, key in report.unreadable[kind.name])
                      for kind in kinds if report.unreadable[kind.name]]
            if authenticators.unreadable:
                groups.append(_("authenticators of %(users)s") % {"users": ", ".join(authenticators.unreadable)})
            raise CommandError(_("%(n)s stored credential(s) cannot be decrypted with any configured key (%(rows)s). "
                                 "Put the key that encrypted them back into LEITPLANKE_FIELD_KEYS and run this again, "
                                 "or set those credentials anew. Do not remove any key yet.")
                               % {"n": unreadable, "rows": "; ".join(groups)})
        stale = report.total_rotated + authenticators.rotated
        if check and stale:
            raise CommandError(_("%(n)s stored credential(s) are not yet under the newest key: run "
                                 "manage.py rotate_secrets before removing an older key.")
                               % {"n": stale})
        if keys > 1:
            self.stdout.write(self.style.SUCCESS(
                _("Every stored credential is under the newest key: the other %(n)s key(s) of LEITPLANKE_FIELD_KEYS "
                  "can now be removed.") % {"n": keys - 1}))
        else:
            self.stdout.write(self.style.SUCCESS(_("Every stored credential is under the only configured key.")))
