"""`manage.py rotate_secrets` killed with SIGKILL in the middle of its work, as a process of its own on
PostgreSQL: no secret is lost (each is under the old key or the new one, both still configured), and a second
run finishes the job, re-encrypting only what is left; afterwards the old key can be retired."""
import io
import os
import signal
import subprocess
import sys

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent
from automations.choices import ChangeKind
from automations.connectors.models import ConnectorSecret
from automations.connectors.services.credentials import connector_secret, connector_secret_set
from automations.models import ProcessorSecret
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.services import changes, processors
from portal import field_keys as secrets
from tests.automations.factories import approve_all, make_team
from tests.integration.conftest import STRAY, database_url, wait_until
from tests.integration.test_pipeline_worker import assert_audit_chain_intact

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PROCESSORS = 2
MAILBOXES = 6
LOCKED = 2  # the command stops, waiting, at the third mailbox (in key order)


def _entry(tenant, team, key, fields) -> CatalogueEntry:
    cr = changes.change_request_create(actor=team["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                                       title=key, description="catalogue", payload={"key": key, "fields": fields})
    approve_all(cr, team)
    return CatalogueEntry.objects.get(tenant=tenant, key=key)


def test_a_rotation_killed_midway_loses_no_secret_and_the_next_run_finishes_it(tenant, member, settings, tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    team = make_team(member)
    plain = {}
    for n in range(PROCESSORS):
        entry = _entry(tenant, team, f"llm-{n}", {"kind": "processor", "name": f"LLM {n}",
                                                  "endpoint": "http://127.0.0.1:9/v1"})
        plain[entry.pk] = f"sk-key-{n}-{os.urandom(6).hex()}"
        processors.processor_secret_set(actor=team["it_operator"], entry=entry, api_key=plain[entry.pk])
    mailboxes = []
    for n in range(MAILBOXES):
        entry = _entry(tenant, team, f"postfach-{n}", {"kind": "connector", "connector_type": "imap",
                                                       "direction": "intake", "name": f"Postfach {n}",
                                                       "endpoint": f"imaps://user{n}@127.0.0.1:9/INBOX"})
        plain[entry.pk] = f"Passwort-{n}-{os.urandom(6).hex()}"
        connector_secret_set(actor=team["it_operator"], entry=entry, secret=plain[entry.pk])
        mailboxes.append(entry)
    rows = list(ConnectorSecret.objects.order_by("pk"))

    def current() -> int:
        return sum(secrets.is_current(c) for c in [*ProcessorSecret.objects.values_list("ciphertext", flat=True),
                                                   *ConnectorSecret.objects.values_list("ciphertext", flat=True)])

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    env = {key: value for key, value in os.environ.items() if key not in STRAY}
    env |= {"DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_ENV": "test", "SECRET_KEY": settings.SECRET_KEY,
            "DATABASE_URL": database_url(), "PORTAL_VAR_DIR": str(tmp_path / "var"),
            "LEITPLANKE_FIELD_KEYS": f"{new},{old}"}
    command = [sys.executable, str(django_settings.BASE_DIR / "manage.py"), "rotate_secrets"]
    # Another client holds the third mailbox's row: the command re-encrypts what comes before it, then waits.
    with psycopg.connect(database_url()) as blocker:
        blocker.execute("SELECT 1 FROM automations_connectorsecret WHERE id = %s FOR UPDATE", (rows[LOCKED].pk,))
        process = subprocess.Popen(command, env=env, cwd=django_settings.BASE_DIR, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(lambda: current() == PROCESSORS + LOCKED, timeout=120, interval=0.1,
                       what="the rows before the locked one to be re-encrypted")

            def waiting_for_the_lock() -> bool:
                # Asked on the test's own connection: a transaction sees pg_stat_activity as of its start.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                   "AND datname = current_database()")
                    return cursor.fetchone()[0] > 0

            wait_until(waiting_for_the_lock, timeout=60, interval=0.1, what="the command to wait for the row")
            os.killpg(process.pid, signal.SIGKILL)  # the crash: no chance to clean up
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        blocker.rollback()

    # Nothing lost: with both keys configured every secret reads back, the rest still under the old key.
    assert current() == PROCESSORS + LOCKED
    assert all(processors.processor_api_key(entry=s.entry) == plain[s.entry_id] for s in ProcessorSecret.objects.all())
    assert all(connector_secret(entry=m) == plain[m.pk] for m in mailboxes)

    out = io.StringIO()
    with pytest.raises(CommandError, match="not yet under the newest key"):
        call_command("rotate_secrets", "--check", stdout=out)
    again = subprocess.run(command, env=env, cwd=django_settings.BASE_DIR, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"processor API keys: 0 re-encrypted, {PROCESSORS} already under the newest key" in again.stdout
    assert (f"connector credentials: {MAILBOXES - LOCKED} re-encrypted, {LOCKED} already under the newest key"
            in again.stdout)
    call_command("rotate_secrets", "--check", stdout=out)

    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key retired
    assert all(processors.processor_api_key(entry=s.entry) == plain[s.entry_id] for s in ProcessorSecret.objects.all())
    assert all(connector_secret(entry=m) == plain[m.pk] for m in mailboxes)
    # Each credential re-encrypted and audited exactly once, over both runs.
    rotated = AuditEvent.objects.filter(event_type__in=("processor_secret.rotated", "connector_secret.rotated"))
    assert rotated.count() == PROCESSORS + MAILBOXES
    assert {e.details["key"] for e in rotated} == {secrets.fingerprint(new)}
    assert_audit_chain_intact(tenant)
