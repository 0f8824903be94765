import time

from django.core.management.base import BaseCommand
from django.db import connection

from audit.services.events import audit_sequence_pending


class Command(BaseCommand):
    help = (
        "Links pending audit and access events into their chains (PostgreSQL; audit.sequencer). Writers link "
        "their own events right after commit; this sweep catches those whose writer stopped in between. "
        "Once, or with --loop as a dedicated process every --interval seconds (the bound on how long an event "
        "can stay pending)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep sweeping until stopped")
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between sweeps (with --loop)")

    def handle(self, *args, loop=False, interval=0.5, **options):
        while True:
            linked = audit_sequence_pending()
            if not loop:
                self.stdout.write(f"{linked} events linked")
                return
            if linked:
                self.stdout.write(f"{linked} events linked")
            connection.close_if_unusable_or_obsolete()
            time.sleep(interval)
