"""`manage.py worker_alive`: a liveness check of the Celery workers on this host, for container health
checks and monitoring scripts (systemd uses the watchdog instead, deploy/systemd/). Reads the heartbeat
files the workers' consumers write under PORTAL_VAR_DIR/heartbeats/; exit 0 when every worker asked for
(or, without --name, at least one) reported within --max-age seconds, else exit 1."""
import json
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, no_translations

from operations.heartbeat import heartbeat_folder, heartbeat_path


class Command(BaseCommand):
    help = "Exit 0 when the workers on this host consume (their heartbeat is fresh), else 1."

    def add_arguments(self, parser):
        parser.add_argument("--name", action="append", default=[],
                            help="Worker node name (e.g. worker1@host); may be repeated. Default: any worker.")
        parser.add_argument("--max-age", type=float, default=60.0, help="Seconds (default 60).")

    @no_translations
    def handle(self, *args, name, max_age, **options):
        now = datetime.now(UTC)
        paths = [heartbeat_path(n) for n in name] or sorted(heartbeat_folder().glob("*.json"))
        fresh, problems = [], []
        for path in paths:
            try:
                beat = json.loads(path.read_text())
                age = (now - datetime.fromisoformat(beat["at"])).total_seconds()
            except (OSError, ValueError, KeyError):
                problems.append(f"{path.stem}: no heartbeat")
                continue
            (fresh if age <= max_age else problems).append(f"{beat['name']}: {age:.0f} s ago (pid {beat['pid']}, "
                                                           f"queues {beat['queues']})")
        for line in fresh:
            self.stdout.write(f"alive  {line}")
        if not fresh or (name and problems):
            raise CommandError("; ".join(problems) or "no worker has reported on this host")
