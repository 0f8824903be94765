"""`manage.py quickstart`: the embedded default in one command (DESIGN.md, "Contracts").

Migrates, seeds the demo tenant and users (demo.seed), then runs the web server, a pipeline worker, a
maintenance worker (the reaper and beat's other tasks, on their own queue) and Celery beat as child processes
until Ctrl-C, under a small supervisor (operations.supervisor): each child has its own process group, so
that a Ctrl-C in the terminal reaches only this command, which then stops them in order; a child that stops
unexpectedly is started again after a growing pause, and the command says so. When the pipeline worker dies
on the embedded broker — which loses whatever a worker had taken — the runs it was in the middle of are
handed to the reaper at once instead of when their lease ends."""
import os
import signal
import socket
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.db import connection
from django.utils.translation import gettext as _

from automations.connectors.services.credentials import webhook_secret_valid
from automations.execution.services.runs import runs_orphaned_release, runs_reap
from demo import connectors as demo_connectors
from demo import seed as demo
from operations.supervisor import Child, Supervisor
from portal.choices import Role

# The celery command reads these from the environment and would override our settings (MACHINE-NOTES).
STRAY_CELERY_VARIABLES = ("BROKER_URL", "RESULT_BACKEND", "APP")


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Command(BaseCommand):
    help = _("Set up the embedded default with demo data, then serve the portal with a worker and beat.")

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help=_("Set up and exit, without serving."))
        parser.add_argument("--host", default="127.0.0.1", help=_("Address to serve on (default 127.0.0.1)."))
        parser.add_argument("--port", type=int, default=8000, help=_("Port to serve on (default 8000)."))
        parser.add_argument("--webhook-url", help=_("Deliver the demo use cases' results to this URL, signed "
                                                    "per Standard Webhooks (a later run with another URL moves it), "
                                                    "instead of to Demo-ERP inside the portal (/demo/erp/)."))
        parser.add_argument("--webhook-secret", help=_("The whsec_… signing secret for --webhook-url (without it, "
                                                       "one is generated and printed)."))
        parser.add_argument("--imap-url", help=_("Also read invoices from this mailbox: "
                                                 "imap://USER:PASSWORD@HOST:PORT/MAILBOX (plain IMAP on loopback "
                                                 "only); each PDF attachment becomes an item."))

    @no_translations  # console output in the source language; the UI is what gets translated
    def handle(self, *args, no_serve, host, port, webhook_url=None, webhook_secret=None, imap_url=None, **options):
        if settings.PRODUCTION:
            raise CommandError(_("quickstart creates demo accounts with a published password; it refuses to "
                                 "run with PORTAL_ENV=production."))
        if imap_url and not imap_url.startswith(("imap://", "imaps://")):
            raise CommandError(_("--imap-url is imap://USER:PASSWORD@HOST:PORT/MAILBOX"))
        if webhook_secret and not webhook_url:
            raise CommandError(_("--webhook-secret belongs to --webhook-url."))
        if webhook_secret and not webhook_secret_valid(webhook_secret):
            raise CommandError(_("--webhook-secret is whsec_ followed by the base64 of 24 to 64 random bytes."))
        result = self._setup()
        self._connectors(result, webhook_url, webhook_secret, host=host, port=port)
        if imap_url:
            try:
                demo_connectors.seed_imap(result.tenant, result.users, url=imap_url)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(_("Invoices are read from the mailbox %(url)s") % {"url": imap_url.split("@")[-1]})
        if no_serve:
            self.stdout.write(_("Set up. Start everything with: python manage.py quickstart"))
            return
        self._check_port_free(host, port)
        if host not in ("127.0.0.1", "localhost") and "*" not in settings.ALLOWED_HOSTS:
            self.stdout.write(self.style.WARNING(
                _("Only requests for %(hosts)s are answered; set ALLOWED_HOSTS to the names you reach this "
                  "machine by.") % {"hosts": ", ".join(settings.ALLOWED_HOSTS)}))
        if not settings.DEBUG:
            # With DEBUG on, WhiteNoise serves static files straight from the apps.
            call_command("collectstatic", interactive=False, verbosity=0)
        self._serve(host, port)

    # --- setting up ------------------------------------------------------------------------------

    def _setup(self) -> demo.DemoResult:
        db = connection.settings_dict
        where = db["NAME"] if db["ENGINE"].endswith("sqlite3") else f"{db.get('HOST') or 'localhost'}/{db['NAME']}"
        self.stdout.write(_("Database: %(vendor)s %(where)s") % {"vendor": connection.vendor, "where": where})
        self.stdout.write(_("Broker:   %(broker)s") % {"broker": settings.CELERY_BROKER_URL.split("://")[0]})
        self.stdout.write(_("Applying migrations ..."))
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(_("Seeding the demo data ..."))
        result = demo.seed()
        self._print_logins(result)
        return result

    def _connectors(self, result: demo.DemoResult, webhook_url: str | None, webhook_secret: str | None, *,
                    host: str, port: int) -> None:
        for folder in demo_connectors.seed_inboxes(result.tenant):
            self.stdout.write(_("Inbox: drop files into %(folder)s") % {"folder": folder})
        if webhook_url:  # the receiver named takes Demo-ERP's place: each result is delivered once
            demo_connectors.unwire(result.tenant, result.users, key=demo_connectors.DEMO_ERP_KEY)
        elif not demo_connectors.webhook_wired(result.tenant):
            erp_url = demo_connectors.demo_erp_url(host, port)
            demo_connectors.seed_demo_erp(result.tenant, result.users, url=erp_url)
            self.stdout.write(_("Results of the demo use cases go to Demo-ERP (%(url)s); see what it received at "
                                "%(page)s") % {"url": erp_url, "page": erp_url.replace("hooks/", "")})
        if webhook_url:
            secret = webhook_secret or demo_connectors.new_webhook_secret()
            demo_connectors.seed_webhook(result.tenant, result.users, key=demo_connectors.WEBHOOK_KEY,
                                         name="Webhook (quickstart)", url=webhook_url, secret=secret)
            self.stdout.write(_("Webhook deliveries go to %(url)s") % {"url": webhook_url})
            if not webhook_secret:
                self.stdout.write(_("Signing secret (shown once): %(secret)s") % {"secret": secret})
    def _print_logins(self, result: demo.DemoResult) -> None:
        labels = dict(Role.choices)
        self.stdout.write("")
        self.stdout.write(_("Demo log-ins for %(name)s (tenant slug %(slug)s):") % {
            "name": result.tenant.name, "slug": result.tenant.slug})
        rows = [(_("user"), _("password"), _("roles"))]
        for login in result.logins:
            roles = ", ".join(str(labels[r]) for r in login.roles) or _("superuser, for the Django admin (/admin/)")
            rows.append((login.username, login.password, roles))
        width = [max(len(str(row[i])) for row in rows) for i in range(2)]
        for row in rows:
            self.stdout.write(f"  {row[0]:<{width[0]}}  {row[1]:<{width[1]}}  {row[2]}")
        self.stdout.write(_("Two-factor sign-in is not enforced outside production: the demo users sign in with their "
                            "password alone (in production automation leads, IT, ISB, DSB and superusers set up a "
                            "second factor first)."))
        self.stdout.write("")

    # --- serving ---------------------------------------------------------------------------------

    def _check_port_free(self, host: str, port: int) -> None:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise CommandError(_("Cannot serve on %(host)s:%(port)s (%(error)s); choose another port with "
                                     "--port.") % {"host": host, "port": port, "error": exc.strerror}) from None

    def _children(self, host: str, port: int) -> list[Child]:
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "portal"]
        schedule = settings.CELERY_FOLDER / "beat-schedule"
        worker = ["worker", "--loglevel", "INFO", "--without-mingle", "--without-gossip"]
        return [
            Child(_("Celery worker"), celery + worker + [
                "--pool", "threads", "--concurrency", "2", "--queues", settings.CELERY_TASK_DEFAULT_QUEUE,
                "--hostname", "quickstart@%h"]),
            Child(_("maintenance worker"), celery + worker + [
                "--pool", "solo", "--queues", settings.MAINTENANCE_QUEUE, "--hostname", "maintenance@%h"]),
            Child(_("Celery beat"), celery + ["beat", "--loglevel", "INFO", "--schedule", str(schedule)]),
            # --noreload: the autoreloader would re-run this whole command and start a second worker.
            Child(_("web server"), [python, str(settings.BASE_DIR / "manage.py"), "runserver", "--noreload",
                                     f"{host}:{port}"]),
        ]

    @staticmethod
    def _environment() -> dict:
        env = {k: v for k, v in os.environ.items() if k not in STRAY_CELERY_VARIABLES}
        env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE", "portal.settings")
        env["PORTAL_VAR_DIR"] = str(settings.VAR_DIR)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _serve(self, host: str, port: int) -> None:
        received: list[int] = []
        previous = {s: signal.signal(s, lambda signum, frame: received.append(signum))
                    for s in (signal.SIGINT, signal.SIGTERM)}
        children = self._children(host, port)
        pipeline_worker = children[0]
        url_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        url = f"http://{url_host}:{port}/"

        def say(message: str) -> None:
            self.stderr.write(message)

        def on_exit(child: Child, code: int) -> None:
            if child is pipeline_worker and settings.CELERY_BROKER_URL.startswith("filesystem"):
                self._recover_runs()

        supervisor = Supervisor(children, env=self._environment(), cwd=settings.BASE_DIR, say=say, on_exit=on_exit,
                                messages={
                                    "stopped": _("The {what} stopped unexpectedly (exit code {code}); restarting it "
                                                 "in {seconds:g} s."),
                                    "restarted": _("Restarted the {what}."),
                                    "killed": _("The {what} did not stop within {seconds} s; killing it."),
                                })
        try:
            supervisor.start_all()
            self.stdout.write(_("Starting %(what)s ...") % {"what": ", ".join(c.label for c in children)})
            ready = False
            while not received:
                supervisor.poll()
                if not ready and _port_answers(url_host, port):
                    ready = True
                    self.stdout.write(self.style.SUCCESS(
                        _("Leitplanke is running at %(url)s (log in as one of the users above). Stop it with "
                          "Ctrl-C.") % {"url": url}))
                time.sleep(0.25)
        finally:
            self.stdout.write(_("Stopping %(what)s ...") % {"what": ", ".join(c.label for c in supervisor.running())})
            supervisor.stop(received)
            for s, handler in previous.items():
                signal.signal(s, handler)
        self.stdout.write(_("Stopped."))

    def _recover_runs(self) -> None:
        """The embedded broker gave the dead worker its messages for good: what it was running goes back
        to the queue now (the reaper's work, done at once) rather than when the lease ends."""
        try:
            released = runs_orphaned_release()
            if released:
                runs_reap()
                self.stderr.write(_("%(n)s run(s) the stopped worker was running or had taken were queued again.")
                                  % {"n": released})
        except Exception as exc:  # noqa: BLE001 - the beat reaper takes them over when their lease ends
            self.stderr.write(_("Runs of the stopped worker not queued again (%(error)s); the reaper takes them "
                                "over when their lease ends.") % {"error": exc})
        finally:
            connection.close()
