"""`manage.py ping_worker`: sends the diagnostic task and waits until a worker has run it. The worker
leaves its receipt under PORTAL_VAR_DIR, so this answers for workers on this host (the embedded
default); elsewhere use `celery -A portal inspect ping`."""
import json
import secrets
import time

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from portal.tasks import ping_path, ping_task


class Command(BaseCommand):
    help = _("Check that a Celery worker consumes tasks: send a ping task and wait for its receipt.")

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0, help=_("Seconds to wait (default 30)."))

    @no_translations  # console output in the source language, as the other operator commands
    def handle(self, *args, timeout, **options):
        token = secrets.token_hex(8)
        path = ping_path(token)
        started = time.monotonic()
        ping_task.delay(token)
        while not path.exists():
            if time.monotonic() - started > timeout:
                raise CommandError(_("No worker ran the ping task within %(seconds)s s.") % {"seconds": timeout})
            time.sleep(0.2)
        receipt = json.loads(path.read_text())
        path.unlink(missing_ok=True)
        self.stdout.write(_("pong from worker pid %(pid)s on %(host)s after %(seconds).1f s") % {
            "pid": receipt["pid"], "host": receipt["host"], "seconds": time.monotonic() - started})
