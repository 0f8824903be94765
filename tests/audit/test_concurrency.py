"""Concurrent writers never fork an audit chain or leave a gap: 8 writers append to one tenant's chain at
once, on PostgreSQL (threads, each with its own connection) and on the embedded SQLite default
(processes on a WAL database file with immediate transactions)."""
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from audit.actors import SYSTEM
from audit.chain import compute_hash, event_values
from audit.models import GENESIS_HASH, AuditEvent
from audit.services.events import audit_event_record
from tests.audit.conftest import run_verify

WRITERS = 8
EVENTS_EACH = 25
BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_postgresql(tenant):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has its own test below")
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            start.wait()
            for n in range(EVENTS_EACH):
                with transaction.atomic():
                    audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                                       details={"worker": worker, "n": n})
        except BaseException as error:  # noqa: BLE001  (reported below, in the test's thread)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    events = list(AuditEvent.objects.filter(tenant=tenant).order_by("sequence"))
    total = WRITERS * EVENTS_EACH + 1  # and tenant.created
    assert [event.sequence for event in events] == list(range(1, total + 1))
    assert [event.prev_hash for event in events] == [GENESIS_HASH] + [event.hash for event in events[:-1]]
    assert all(compute_hash(event_values(event)) == event.hash for event in events)
    assert run_verify("--tenant", "muster") == (0, [f"muster: {total} events ok"])


def test_concurrent_writers_on_the_embedded_sqlite_default(tmp_path, migrated_var):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_ADMIN_URL"}
    env |= {
        "DATABASE_URL": f"sqlite:///{migrated_var / 'leitplanke.sqlite3'}",
        "PORTAL_VAR_DIR": str(migrated_var),
        "PORTAL_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                              timeout=300, check=False)

    def worker(*args: str) -> subprocess.CompletedProcess:
        return run("-m", "tests.audit.chain_worker", *args)

    assert worker("setup", "muster").returncode == 0
    go_file = tmp_path / "go"
    writers = [
        subprocess.Popen([sys.executable, "-m", "tests.audit.chain_worker", "append", "muster", str(w),
                          str(EVENTS_EACH), str(go_file)],
                         cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(WRITERS)
    ]
    try:
        for process in writers:
            assert process.stdout.readline().strip() == "ready", process.stderr.read()
        go_file.touch()
        outcomes = [process.communicate(timeout=300) for process in writers]
    finally:
        for process in writers:
            if process.poll() is None:
                process.kill()
    assert [process.returncode for process in writers] == [0] * WRITERS, [err for _, err in outcomes]

    report = json.loads(worker("report", "muster").stdout)
    total = WRITERS * EVENTS_EACH + 1
    assert (report["journal_mode"], report["transaction_mode"]) == ("wal", "IMMEDIATE")
    assert report["count"] == total
    assert report["sequences"] == list(range(1, total + 1))
    assert report["links_ok"] and report["hashes_ok"]
    assert report["per_worker"] == {str(w): EVENTS_EACH for w in range(WRITERS)}
    verified = run("manage.py", "verify_audit")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.splitlines() == [f"muster: {total} events ok", "system: 0 events ok"]
