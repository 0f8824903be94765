"""The portal rides out broker and database outages by itself (docs/deployment.md, "During outages").

One installation of its own — a private PostgreSQL cluster and a private Redis (the machine's shared servers
are never touched), a web server, a pipeline worker, a maintenance worker and beat, each its own process as
the systemd units run them — is driven over HTTP while first Redis and then PostgreSQL are killed and
started again, five times each, under load:

- Redis down: POSTs still get 201 and their items stay `received`; once Redis is back (empty: it keeps
  nothing on disk, so every queued message is gone too) the reaper sends them again; the same worker process
  goes on consuming; processing resumes within a minute of each restart, without anyone doing anything.
- PostgreSQL down: the API answers JSON 503 with Retry-After; the worker survives and its tasks retry with
  backoff; processing resumes within a minute of each restart.
- Afterwards every item answered 201 is settled and routed exactly once, and the audit chains verify.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.integration.conftest import CELERY, STRAY, wait_until
from tests.integration.servers import PrivatePostgres, PrivateRedis, free_port

pytestmark = pytest.mark.integration

BASE_DIR = Path(settings.BASE_DIR)
OUTAGES = 5
RESUME_WITHIN = 60.0  # seconds from a server's restart until every item sent so far is settled
DOWN_SECONDS = 2.0
UNSETTLED = ("received", "processing")


class Installation:
    """Web, pipeline worker, maintenance worker and beat on the private servers."""

    def __init__(self, folder: Path, database: PrivatePostgres, redis: PrivateRedis):
        self.folder, self.database, self.redis = folder, database, redis
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {k: v for k, v in os.environ.items() if k not in STRAY} | {
            "DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_ENV": "test", "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": database.url("leitplanke"), "CELERY_BROKER_URL": redis.url,
            "PORTAL_VAR_DIR": str(folder / "var"), "LEITPLANKE_TEST_JOURNAL": str(folder / "journal.jsonl"),
            # Short leases and a reaper every 2 s, so that recovery happens within the test's minute.
            "RUN_LEASE_SECONDS": "5", "RUN_DISPATCH_SECONDS": "5", "RUN_REAP_SECONDS": "2",
            "HEARTBEAT_SECONDS": "2", "DATABASE_CONNECT_TIMEOUT": "2", "CELERY_BROKER_CONNECTION_TIMEOUT": "2",
            "AUDIT_SEQUENCER": "on_commit",  # web, workers and beat link audit events as in production
        }

    def manage(self, *args: str) -> str:
        done = subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=self.env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def site(self, *args: str):
        return json.loads(self.manage("-m", "tests.integration.embedded_site", *args).strip().splitlines()[-1])

    def start(self, name: str, argv: list[str]) -> None:
        log = open(self.folder / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(argv, cwd=BASE_DIR, env=self.env, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True)

    def start_all(self) -> None:
        worker = [CELERY, "-A", "portal", "worker", "-P", "solo", "--without-gossip", "--without-mingle", "-l", "INFO",
                  "--include", "tests.integration.worker_hooks"]
        self.start("worker", worker + ["-Q", "celery", "-n", "pipeline@%h"])
        self.start("maintenance", worker + ["-Q", "maintenance", "-n", "maintenance@%h"])
        self.start("beat", [CELERY, "-A", "portal", "beat", "-l", "INFO", "-s", str(self.folder / "beat-schedule")])
        self.start("web", [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"])
        wait_until(lambda: self._answers(), timeout=120, what="the web server")
        wait_until(lambda: all(b" ready." in (self.folder / f"{n}.log").read_bytes()
                               for n in ("worker", "maintenance")),
                   timeout=120, what="the workers")

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/health/live/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def alive(self) -> dict[str, int | None]:
        return {name: process.poll() for name, process in self.processes.items()}

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-4000:]
                         for p in sorted(self.folder.glob("*.log")))


@pytest.fixture
def installation(tmp_path):
    database = PrivatePostgres().start()
    redis = PrivateRedis().start()
    site = Installation(tmp_path, database, redis)
    try:
        database.psql("CREATE DATABASE leitplanke")
        site.manage("manage.py", "migrate", "-v", "0")
        site.token = site.site("setup", "0.05")["token"]
        site.start_all()
        yield site
    finally:
        site.stop()
        print(site.logs())
        redis.stop()
        database.remove()


def post(site: Installation, n: int) -> requests.Response:
    return requests.post(f"{site.url}/api/v1/work-items/", timeout=30,
                         headers={"Authorization": f"Bearer {site.token}"},
                         json={"use_case": "belege", "payload": {"text": f"Rechnung Nr. {n}"}})


def get(site: Installation, item_id: str) -> requests.Response:
    return requests.get(f"{site.url}/api/v1/work-items/{item_id}/", timeout=30,
                        headers={"Authorization": f"Bearer {site.token}"})


def settled_within(site: Installation, items: list[str], since: float) -> float:
    """Seconds from `since` until every item is settled, asserting that is within RESUME_WITHIN."""
    pending = set(items)

    def done():
        for item_id in list(pending):
            response = get(site, item_id)
            if response.status_code == 200 and response.json()["status"] not in UNSETTLED:
                pending.discard(item_id)
        return not pending

    wait_until(done, timeout=RESUME_WITHIN - (time.monotonic() - since) + 1, interval=0.5,
               what=lambda: f"items {sorted(pending)} to settle; {site.alive()}")
    return time.monotonic() - since


def test_redis_and_postgres_restarted_five_times_each_under_load(installation):
    site = installation
    items: list[str] = []
    counter = iter(range(10_000))

    def send(count: int, expect: int = 201) -> list[str]:
        made = []
        for _ in range(count):
            response = post(site, next(counter))
            assert response.status_code == expect, (response.status_code, response.text[:500])
            if expect == 201:
                made.append(response.json()["id"])
        items.extend(made)
        return made

    send(4)
    settled_within(site, items, time.monotonic())
    pids = {name: process.pid for name, process in site.processes.items()}

    resumed = []
    for _ in range(OUTAGES):
        send(3)  # load: queued and in flight when Redis goes
        site.redis.kill()
        during = send(3)  # the broker is gone: committed, answered 201, waiting for the reaper
        for item_id in during:
            assert get(site, item_id).json()["status"] == "received"
        time.sleep(DOWN_SECONDS)
        site.redis.start()
        up = time.monotonic()
        send(2)
        resumed.append(settled_within(site, items, up))
        assert site.alive() == dict.fromkeys(site.processes, None), site.logs()
    # The same processes all along: the worker rode out every restart itself.
    assert {name: process.pid for name, process in site.processes.items()} == pids

    for _ in range(OUTAGES):
        send(3)
        site.database.kill()
        refused = post(site, next(counter))
        assert refused.status_code == 503, refused.text[:500]
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.json()["code"] == "database_unavailable"
        listing = requests.get(f"{site.url}/api/v1/work-items/", headers={"Authorization": f"Bearer {site.token}"},
                               timeout=30)
        assert listing.status_code == 503 and "detail" in listing.json()
        time.sleep(DOWN_SECONDS)
        site.database.start()
        up = time.monotonic()
        send(2)
        resumed.append(settled_within(site, items, up))
        assert site.alive() == dict.fromkeys(site.processes, None), site.logs()

    summary = site.site("summary")
    assert sorted(summary) == sorted(items)  # nothing lost, nothing made up
    assert {entry["status"] for entry in summary.values()} <= {"applied", "review", "clarification"}, summary
    assert [i for i, entry in summary.items() if entry["routed"] != 1] == []  # nothing twice
    assert "events ok" in site.manage("manage.py", "verify_audit")
    print(f"resumed after each restart within (s): {[round(s, 1) for s in resumed]}")
