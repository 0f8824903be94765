"""Real processes for the execution core's acceptance (issue 4): a Celery worker process consuming from a
real Redis broker and writing to the real PostgreSQL test database, killed and restarted by the tests.

The test process itself is one more client of the same broker and database: it submits items through
the intake service (or the API), runs the reaper, and reads what the worker committed. Tests here use
committed transactions (`transactional_db`), so that the worker sees the rows and the test sees the
worker's.

TEST_REDIS_URL names the Redis database (tests/run.sh sets it); its keys are flushed before and after
each test, so give the suite a database number of its own."""
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
CELERY = str(Path(sys.executable).with_name("celery"))
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Variables the celery command or the portal would read from the surrounding shell (MACHINE-NOTES.md).
STRAY = ("BROKER_URL", "RESULT_BACKEND", "APP", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
         "CELERY_TASK_ALWAYS_EAGER", "DATABASE_ADMIN_URL", "DATABASE_URL", "PORTAL_MEDIA_ROOT", "DEBUG")
# Short leases so that the reaper recovers within seconds; the worker's engine calls take DELAY.
LEASE_SECONDS = 3
DISPATCH_SECONDS = 3
MAX_ATTEMPTS = 3  # the default: retries and reaping count against it as in production


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what="condition", tick=None):
    """Poll until predicate() is truthy (and return it); `tick` runs between polls (e.g. the reaper);
    `what` (a text, or a callable giving one) says in the failure what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what() if callable(what) else what}")
        if tick is not None:
            tick()
        time.sleep(interval)


def database_url() -> str:
    """The test database as the worker must reach it (pytest-django's test_<name>)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("the worker tests run on PostgreSQL; the embedded default has its own test")
    auth = quote(db["USER"] or "postgres")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _drop_broker_connections(app) -> None:
    """Forget the connections to the broker configured before, as Celery itself does after a fork: the
    connection pool and the producer pool cached on app.amqp, which would go on publishing to the old
    broker (e.g. the filesystem transport an earlier test sent to) where no worker of these tests
    listens. The pools stay open in kombu's registry for the next switch back. (app.close() would also
    drop the connection pool, but it unregisters the app as well.)"""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_broker(settings):
    """The test process publishes to the same Redis database as the worker consumes from."""
    import redis

    from portal.celery import app

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if "TEST_REDIS_URL" in os.environ:
            raise
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    client.flushdb()
    app.conf.broker_url = REDIS_URL
    app.conf.broker_transport = None  # the URL's own (the embedded broker's transport is named in the settings)
    app.conf.broker_transport_options = {"visibility_timeout": 2 * settings.CELERY_TASK_TIME_LIMIT}
    app.conf.task_always_eager = False
    _drop_broker_connections(app)
    yield client
    app.conf.broker_url = settings.CELERY_BROKER_URL
    app.conf.broker_transport = getattr(settings, "CELERY_BROKER_TRANSPORT", None)
    app.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    _drop_broker_connections(app)
    client.flushdb()
    client.close()


class Worker:
    """`celery -A portal worker` as operations start it (solo pool, one process), with the test doubles of
    worker_hooks.py, killed with SIGKILL or stopped with SIGTERM, and started again on demand."""

    def __init__(self, env: dict, folder: Path):
        self.env, self.folder = env, folder
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.journal = Path(env["LEITPLANKE_TEST_JOURNAL"])

    def start(self) -> "Worker":
        assert self.process is None or self.process.poll() is not None, "a worker is already running"
        self.starts += 1
        self.log = self.folder / f"worker-{self.starts}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [CELERY, "-A", "portal", "worker", "-P", "solo", "-c", "1", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "-Q", "celery", "-l", "INFO",
                 "-n", f"integration{self.starts}@%h", "--include", "tests.integration.worker_hooks"],
                cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: b" ready." in self.log.read_bytes() or self.process.poll() is not None,
                   timeout=60, what="the worker to be ready")
        assert self.process.poll() is None, self.log.read_text()
        return self

    def kill(self) -> None:
        """What a crash, the OOM killer or a pulled plug does: no chance to acknowledge or clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def entries(self, task: str = "automations.process_run") -> list[dict]:
        if not self.journal.exists():
            return []
        lines = [json.loads(line) for line in self.journal.read_text().splitlines() if line.strip()]
        return [entry for entry in lines if entry["task"] == task]

    def runs_started(self) -> list[int]:
        return [entry["args"][0] for entry in self.entries() if entry["event"] == "start"]

    def runs_ended(self) -> list[int]:
        return [entry["args"][0] for entry in self.entries() if entry["event"] == "end"]

    def last_entry(self) -> dict | None:
        """The newest journal entry of this worker process (solo pool: tasks run in its own process)."""
        mine = [entry for entry in self.entries() if entry["pid"] == self.process.pid]
        return mine[-1] if mine else None

    def current_run(self) -> int | None:
        """The run this worker process is in the middle of."""
        entry = self.last_entry()
        return entry["args"][0] if entry and entry["event"] == "start" else None

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.folder.glob("worker-*.log")))

    def drain(self, *, timeout: float = 30) -> None:
        """Wait until this worker has taken every message queued before now, instead of sleeping for a
        while: a ping sent now comes back done only after them (one queue, one solo worker, first in, first
        out). A test that asserts that something did *not* happen waits for this first."""
        from portal.tasks import ping_task

        token = uuid.uuid4().hex
        ping_task.delay(token)
        wait_until(lambda: any(entry["args"] == [token] and entry["event"] == "end"
                               and entry["pid"] == self.process.pid for entry in self.entries("portal.tasks.ping")),
                   timeout=timeout, what="the worker to run a ping queued behind everything else")


@pytest.fixture
def worker(transactional_db, redis_broker, tmp_path, settings):
    """A worker (not yet started) on the test database and the Redis broker, with short leases. Stopped
    before the test database is flushed; no process outlives the test."""
    settings.RUN_LEASE_SECONDS = LEASE_SECONDS
    settings.RUN_DISPATCH_SECONDS = DISPATCH_SECONDS
    settings.RUN_MAX_ATTEMPTS = MAX_ATTEMPTS
    folder = tmp_path / "worker"
    folder.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in STRAY}
    env |= {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_ENV": "test",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "PORTAL_VAR_DIR": str(folder / "var"),
        "PORTAL_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "RUN_LEASE_SECONDS": str(LEASE_SECONDS),
        "RUN_DISPATCH_SECONDS": str(DISPATCH_SECONDS),
        "RUN_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "LEITPLANKE_TEST_JOURNAL": str(folder / "journal.jsonl"),
        # The worker links its audit events as in production: after each commit, one chain per short transaction
        # (the test process links inline; one inline writer beside a production one can never wait in a circle).
        "AUDIT_SEQUENCER": "on_commit",
    }
    handle = Worker(env, folder)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def http_server(transactional_db):
    """The portal served over real HTTP on a free loopback port, one thread per request (Django's own
    threaded server, which closes each request's database connection). pytest-django's live_server is
    not used: its media handler cannot cope with MEDIA_URL = None (files are served only through
    permission-checked views)."""
    import threading

    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler, allow_reuse_address=True)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

