"""Leitplanke against its limits, in one run: every scenario beside its peer on the same machine, in the same
minutes, so that the ratios mean something on a shared and busy machine.

    pip install -c constraints.txt -e ".[production]"        # gunicorn, for the ingest scenario
    PORTAL_ENV=test .venv/bin/python bench/run.py [--quick] [--json OUT] [--existing]

Starts a PostgreSQL cluster (durable: fsync on, synchronous commit on) and a Redis of its own on free loopback
ports — never the machine's shared servers — migrates, builds a live document use case on the rules engine
(a no-cost engine) with an API token, and measures:

| scenario | ours | peer | target |
|---|---|---|---|
| ingest | `POST /api/v1/work-items/` on gunicorn (4 sync workers), 8 client processes | a raw psycopg transaction doing the same inserts (token lookup, item, audit row, run) plus the broker push, 8 processes | ≥ 40 % |
| ingest | the same POST | the same server's cheapest authenticated `GET /api/v1/me/` | ≥ 70 % |
| ingest latency | p95 of the POST at half of its peak rate (paced) | — | < 25 ms |
| bulk import | `import_work_items`: items, queued runs, one audit event per batch of 2,000 | `COPY` of the same number of item rows | ≥ 25 % |
| pipeline | items routed per second by one worker (prefork, 2 processes), rules engine | a bare Celery no-op task on the same broker and worker settings | ≥ 50 % |
| audit append | 8 writer processes appending to one tenant's chain, each event a statement by itself (linked by the sequencer after the commit), and again each in a transaction of its own | 8 processes inserting the same rows unchained, the same two ways | ≥ 80 % (like with like) |
| audit verification | `verify_audit`'s verifier over one chain of generated events | — | ≥ 150,000 events/s |

`--existing` also runs the review queue and DSB search benchmarks (bench/review_queue.py, bench/audit_search.py)
with their own sizes and appends their summaries. Prints a table, then the JSON (also written to --json).
"""  # noqa: E501  (the table's rows)
import argparse
import http.client
import json
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.servers import PrivatePostgres, PrivateRedis, free_port  # noqa: E402

PYTHON = sys.executable
BIN = Path(sys.executable).parent
STRAY = ("BROKER_URL", "RESULT_BACKEND", "APP", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DATABASE_ADMIN_URL",
         "DATABASE_URL", "PORTAL_MEDIA_ROOT", "DEBUG")


def py_spy() -> Path | None:
    """py-spy beside this Python, else the first on PATH (a tool, no dependency of the project)."""
    import shutil

    found = BIN / "py-spy"
    if found.exists():
        return found
    elsewhere = shutil.which("py-spy")
    return Path(elsewhere) if elsewhere else None


def profiled(fn, top: int = 14) -> tuple[object, list[str]]:
    """Run fn under cProfile; the `top` functions by own time, as printable lines (what limits it)."""
    import cProfile
    import io
    import pstats

    profile = cProfile.Profile()
    result = profile.runcall(fn)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = [line.rstrip() for line in out.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return result, [" ".join(line.split()) for line in lines[start:start + top + 1]]


def web_profile_summary(raw: str, top: int = 60, marker: str = "handle_request") -> dict:
    """py-spy's folded stacks of the web workers (or of a Celery worker's pool processes, marker "trace_task"):
    the share of request-thread (task) samples by own function, and by inclusive function for the project's code
    and the database driver (what a POST, or a task, spends its time in)."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not any(marker in frame for frame in frames):
            continue  # the master, the audit sequencer's thread, idle arbiters: not a request's (task's) time
        n = int(count)
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n

    def share(table: dict[str, int], keep) -> list[str]:
        rows = sorted(((n, f) for f, n in table.items() if keep(f)), reverse=True)[:top]
        return [f"{n / total:6.1%}  {f}" for n, f in rows]

    ours = ("portal/", "automations/", "audit/", "reviews/", "psycopg", "rest_framework/", "django/core/handlers",
            "django/db/backends", "django/core/cache", "simple_history", "celery/app/trace", "django/db/transaction")
    return {"samples": total, "own": share(own, lambda f: True),
            "inclusive": share(inclusive, lambda f: any(part in f for part in ours))}


def workers_cpu_seconds(master: int) -> float:
    """CPU time (user and system) the gunicorn workers have used so far: per request, a figure that a busy machine
    changes far less than a rate (waiting for a core costs no CPU time)."""
    total = 0.0
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user and system) a process and all its descendants have used so far, including that of the
    children they have already reaped (a PostgreSQL server's backends that ended, say)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending, first = 0.0, [root], True
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                        for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
        used = int(fields[11]) + int(fields[12])  # utime, stime
        if first:  # the root's reaped children; a live child's are counted through the child itself
            used += int(fields[13]) + int(fields[14])  # cutime, cstime
            first = False
        total += used / tick
        pending.extend(children)
    return total


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of one process so far, e.g. the PostgreSQL backend serving this process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CostMeter:
    """What a phase cost, beside how long it took: this process's CPU time (all its threads), the CPU time of the
    PostgreSQL backend serving its connection, and the WAL it wrote. A busy machine stretches the wall time of
    a phase by the wait for a core; these it changes far less."""

    def __init__(self, connection):
        connection.ensure_connection()
        self.connection = connection
        self.backend = self._one("SELECT pg_backend_pid()")

    def _one(self, sql: str, *params):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def __enter__(self) -> "CostMeter":
        self.lsn = self._one("SELECT pg_current_wal_lsn()::text")
        self.server = process_cpu_seconds(self.backend)
        self.client = time.process_time()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started
        self.client = time.process_time() - self.client
        self.server = process_cpu_seconds(self.backend) - self.server
        self.wal_bytes = int(self._one("SELECT pg_current_wal_lsn() - %s::pg_lsn", self.lsn))

    def per_row(self, rows: int) -> dict:
        return {"client_cpu_us": round(1e6 * self.client / rows, 1),
                "server_cpu_us": round(1e6 * self.server / rows, 1), "wal_bytes": round(self.wal_bytes / rows)}


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- HTTP load (client processes) -----------------------------------------------------------------------

def _http_client(args) -> tuple[int, int, list[float]]:
    port, method, path, token, body, seconds, rate = args
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies, errors, n = [], 0, 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        if rate:  # open loop: the n-th request of this client is due at n / rate
            due = started + n / rate
            if due > now:
                time.sleep(due - now)
        payload = body.replace("{n}", uuid.uuid4().hex) if body else None
        t0 = time.perf_counter()
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            response.read()
            ok = response.status in (200, 201)
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = False
        latencies.append((time.perf_counter() - t0) * 1000)
        errors += not ok
        n += 1
    return n, errors, latencies


def http_load(port: int, method: str, path: str, token: str, body: str | None, *, clients: int, seconds: float,
              rate: float | None = None) -> dict:
    per_client = rate / clients if rate else None
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        started = time.perf_counter()
        parts = pool.map(_http_client, [(port, method, path, token, body, seconds, per_client)] * clients)
        elapsed = time.perf_counter() - started
    done = sum(p[0] for p in parts)
    latencies = [latency for p in parts for latency in p[2]]
    return {"requests": done, "errors": sum(p[1] for p in parts), "per_second": round(done / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.5), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1)}


# --- the raw peer of ingest -----------------------------------------------------------------------------

RAW_TABLES = """
DROP TABLE IF EXISTS bench_item, bench_audit, bench_run;
CREATE TABLE bench_item (id uuid PRIMARY KEY, tenant_id bigint NOT NULL, use_case_id bigint NOT NULL,
    status varchar(20) NOT NULL, source varchar(20) NOT NULL, payload jsonb NOT NULL, fields jsonb NOT NULL,
    reasons jsonb NOT NULL, content_hash varchar(64) NOT NULL, idempotency_key varchar(200),
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE INDEX ON bench_item (tenant_id, status, created_at);
CREATE TABLE bench_audit (id bigserial PRIMARY KEY, tenant_id bigint, chain varchar(40) NOT NULL,
    sequence bigint NOT NULL,
    occurred_at timestamptz NOT NULL, event_type varchar(80) NOT NULL, object_type varchar(80) NOT NULL,
    object_id varchar(64) NOT NULL, details jsonb NOT NULL, prev_hash varchar(64) NOT NULL, hash varchar(64) NOT NULL);
CREATE INDEX ON bench_audit (chain, sequence);
CREATE TABLE bench_run (id bigserial PRIMARY KEY, tenant_id bigint NOT NULL, item_id uuid NOT NULL,
    status varchar(20) NOT NULL, trigger varchar(20) NOT NULL, attempt int NOT NULL,
    lease_expires_at timestamptz, created_at timestamptz NOT NULL);
"""


def _raw_ingest(args) -> int:
    import hashlib

    import psycopg
    import redis

    database_url, redis_url, digest, seconds = args
    redis_client = redis.Redis.from_url(redis_url)
    done = 0
    with psycopg.connect(database_url) as connection:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            item = uuid.uuid4()
            payload = json.dumps({"text": f"Rechnung Nr. {item.hex}"})
            with connection.transaction():
                tenant, user = connection.execute(
                    "SELECT tenant_id, user_id FROM portal_apitoken WHERE prefix = %s AND revoked_at IS NULL",
                    (digest,)).fetchone()
                connection.execute(
                    "INSERT INTO bench_item VALUES "
                    "(%s, %s, 1, 'received', 'api', %s, '{}', '[]', %s, NULL, now(), now())",
                    (item, tenant, payload, hashlib.sha256(payload.encode()).hexdigest()))
                connection.execute(
                    "INSERT INTO bench_audit (tenant_id, chain, sequence, occurred_at, event_type, object_type, "
                    "object_id, details, prev_hash, hash) VALUES (%s, %s, %s, now(), 'work_item.received', "
                    "'automations.workitem', %s, %s, %s, %s)",
                    (tenant, str(tenant), done, str(item), json.dumps({"use_case": "belege", "user": user}),
                     "0" * 64, hashlib.sha256(item.bytes).hexdigest()))
                connection.execute(
                    "INSERT INTO bench_run "
                    "(tenant_id, item_id, status, trigger, attempt, lease_expires_at, created_at) "
                    "VALUES (%s, %s, 'queued', 'intake', 1, now() + interval '5 minutes', now())", (tenant, item))
            # The broker push after commit, a message of a Celery task's size.
            redis_client.lpush("bench-raw", json.dumps({"id": item.hex, "task": "automations.process_run",
                                                        "args": [done], "headers": {"x": "y" * 600}}))
            done += 1
    return done


def raw_ingest(database_url: str, redis_url: str, digest: str, *, clients: int, seconds: float) -> dict:
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        started = time.perf_counter()
        done = sum(pool.map(_raw_ingest, [(database_url, redis_url, digest, seconds)] * clients))
        elapsed = time.perf_counter() - started
    return {"transactions": done, "per_second": round(done / elapsed, 1)}


# --- audit append ----------------------------------------------------------------------------------------

def _audit_writer(args) -> tuple[int, float]:
    count, tenant_id, in_transactions = args
    from contextlib import nullcontext

    from django.db import connections, transaction

    from audit.actors import SYSTEM
    from audit.services.events import audit_event_record
    from portal.models import Tenant

    connections.close_all()
    tenant = Tenant.objects.get(pk=tenant_id)
    cpu = time.process_time()  # this process's threads: the writer and its sequencer thread
    for n in range(count):
        # in_transactions: inside a transaction of its own, as a service writes its event inside the transaction of
        # its change; otherwise the event is a statement by itself, as the ingest's one INSERT commits by itself.
        with transaction.atomic() if in_transactions else nullcontext():
            audit_event_record(actor=SYSTEM, tenant=tenant, event_type="run.reaped", object_type="automations.run",
                               object_id=str(n), details={"status": "queued", "attempt": 1})
    connections.close_all()
    return count, time.process_time() - cpu


def _unchained_writer(args) -> tuple[int, float]:
    import hashlib

    import psycopg

    count, tenant_id, database_url, in_transactions = args
    cpu = time.process_time()
    # in_transactions: each INSERT in a transaction of its own (BEGIN, INSERT, COMMIT), as a service writes its
    # event inside the transaction of its change; otherwise one autocommit INSERT each.
    with psycopg.connect(database_url, autocommit=not in_transactions) as connection:
        for n in range(count):
            details = json.dumps({"status": "queued", "attempt": 1})
            connection.execute(
                "INSERT INTO bench_audit (tenant_id, chain, sequence, occurred_at, event_type, object_type, object_id, "
                "details, prev_hash, hash) VALUES (%s, %s, %s, now(), 'run.reaped', 'automations.run', %s, %s, %s, %s)",
                (tenant_id, str(tenant_id), n, str(n), details, "0" * 64, hashlib.sha256(details.encode()).hexdigest()))
            if in_transactions:
                connection.commit()
    return count, time.process_time() - cpu


def _sum(results: list[tuple[int, float]]) -> tuple[int, float]:
    return sum(count for count, _cpu in results), sum(cpu for _count, cpu in results)


def audit_append(tenant_id: int, database_url: str, *, writers: int, each: int, server_cpu=None) -> dict:
    """8 writers through the audit service beside 8 writers of the same rows unchained, each side twice: every
    event a statement by itself (autocommit; ours linked by the sequencer after the commit) and every event in a
    transaction of its own. The ratios pair like with like. Besides the rates, the CPU time per event of the
    writers (client) and of the PostgreSQL cluster (server, with `server_cpu`; ours with its linking): a busy
    machine changes those far less than the rates."""
    from django.db import connections

    from audit.services.events import audit_sequence_pending

    server_cpu = server_cpu or (lambda: 0.0)
    context = multiprocessing.get_context("fork")
    load = [round(os.getloadavg()[0], 2)]
    sides: dict[str, dict] = {}
    for name, in_transactions in (("ours", False), ("ours_in_transactions", True)):
        connections.close_all()
        with context.Pool(writers) as pool:
            server = server_cpu()
            started = time.perf_counter()
            done, client = _sum(pool.map(_audit_writer, [(each, tenant_id, in_transactions)] * writers))
            appended = time.perf_counter() - started
        # What the writers' own sequencer threads had not linked yet when they stopped is linked by the sweep: the
        # time until the whole chain is linked counts as well.
        left = audit_sequence_pending()
        linked = time.perf_counter() - started
        connections.close_all()
        sides[name] = {"per_second": done / appended, "linked_per_second": done / linked, "left_to_the_sweep": left,
                       "client_cpu_ms": 1000 * client / done,
                       "server_cpu_ms": 1000 * (server_cpu() - server) / done}
        load.append(round(os.getloadavg()[0], 2))
    for name, in_transactions in (("unchained", False), ("unchained_in_transactions", True)):
        with context.Pool(writers) as pool:
            peer_server = server_cpu()
            started = time.perf_counter()
            theirs, peer_client = _sum(pool.map(_unchained_writer,
                                                [(each, tenant_id, database_url, in_transactions)] * writers))
            sides[name] = {"per_second": theirs / (time.perf_counter() - started),
                           "client_cpu_ms": 1000 * peer_client / theirs,
                           "server_cpu_ms": 1000 * (server_cpu() - peer_server) / theirs}
        load.append(round(os.getloadavg()[0], 2))

    def cpu(name: str) -> float:
        return sides[name]["client_cpu_ms"] + sides[name]["server_cpu_ms"]

    def rate(name: str) -> float:
        return sides[name]["per_second"]

    return {"chained_per_second": round(rate("ours"), 1), "unchained_per_second": round(rate("unchained"), 1),
            "ratio": round(rate("ours") / rate("unchained"), 3),
            "linked_per_second": round(sides["ours"]["linked_per_second"], 1),
            "ratio_linked": round(sides["ours"]["linked_per_second"] / rate("unchained"), 3),
            "left_to_the_sweep": sides["ours"]["left_to_the_sweep"],
            "chained_in_transactions_per_second": round(rate("ours_in_transactions"), 1),
            "unchained_in_transactions_per_second": round(rate("unchained_in_transactions"), 1),
            "ratio_in_transactions": round(rate("ours_in_transactions") / rate("unchained_in_transactions"), 3),
            # How the scenario was paired before 2026-12-07 10:30: ours in transactions against autocommit INSERTs.
            "ratio_in_transactions_to_unchained": round(rate("ours_in_transactions") / rate("unchained"), 3),
            "cpu_ms_per_event": {name: {"client": round(side["client_cpu_ms"], 3),
                                        "server": round(side["server_cpu_ms"], 3)} for name, side in sides.items()},
            "cpu_ratio": round(cpu("unchained") / cpu("ours"), 3),
            "cpu_ratio_in_transactions": round(cpu("unchained_in_transactions") / cpu("ours_in_transactions"), 3),
            "load_average_1min": load}


# --- the embedded default ------------------------------------------------------------------------------------

EMBEDDED_CREATE = """
import sys, django
django.setup()
from django.contrib.auth import get_user_model
from automations.execution.services import intake
from portal.models import Tenant
tenant = Tenant.objects.get(slug="muster")
operator = get_user_model().objects.get(username="it_operator")
for n in range(int(sys.argv[1])):
    intake.work_item_create(actor=operator, tenant=tenant, use_case_key="belege",
                            payload={"text": f"Rechnung, Rechnungsnummer {n}"})
"""

EMBEDDED_NOOP = """
import sys, django
django.setup()
from portal.celery import app
for _ in range(int(sys.argv[1])):
    app.send_task("bench.noop", queue="celery")
"""


# --- the bench ---------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args, folder: Path):
        self.args, self.folder = args, folder
        self.results: dict = {}
        self.processes: list[subprocess.Popen] = []

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in STRAY}
        return env | {"DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_ENV": "test", "PYTHONUNBUFFERED": "1",
                      "DATABASE_URL": self.database.url("leitplanke"), "CELERY_BROKER_URL": self.redis.url,
                      # Production's shared cache (docs/deployment.md): the API's rate counters live there.
                      "CACHE_URL": self.redis.url.rsplit("/", 1)[0] + "/1",
                      "PORTAL_VAR_DIR": str(self.folder / "var"), "RUN_DISPATCH_SECONDS": "3600",
                      "RUN_LEASE_SECONDS": "3600", "AUDIT_SEQUENCER": "on_commit",
                      "AUDIT_SEQUENCE_DELAY_SECONDS": "0.2",
                      # The API's rate limits are an operator's setting per integration; left at their
                      # defaults they would answer the load with 429s and measure the limiter.
                      "API_RATE_PER_TOKEN": "10000000/minute", "API_RATE_PER_ADDRESS": "10000000/minute"}

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "ab")
        process = subprocess.Popen(argv, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    @staticmethod
    def stop(process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def setup(self) -> None:
        self.database = PrivatePostgres(durable=True).start()
        self.redis = PrivateRedis().start()
        self.database.psql("CREATE DATABASE leitplanke")
        env = self.env()
        subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        done = subprocess.run([PYTHON, "-m", "tests.integration.embedded_site", "setup", "0"], cwd=ROOT, env=env,
                              check=True, capture_output=True, text=True)
        self.token = json.loads(done.stdout.strip().splitlines()[-1])["token"]
        self.database.psql(RAW_TABLES, "leitplanke")
        os.environ.update(env)
        import django

        django.setup()
        from portal.celery import app

        app.conf.task_always_eager = False

    def teardown(self) -> None:
        for process in self.processes:
            self.stop(process)
        if self.args.keep_logs:
            import shutil

            for log in self.folder.glob("*.log"):
                shutil.copy(log, self.args.keep_logs)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001
            pass
        self.redis.stop()
        self.database.remove()

    # --- scenarios ---

    def ingest(self) -> None:
        a = self.args
        port = free_port()
        gunicorn = BIN / "gunicorn"
        if not gunicorn.exists():
            raise SystemExit('The ingest scenario needs gunicorn: pip install -c constraints.txt -e ".[production]"')
        server = self.spawn("gunicorn", [str(gunicorn), "portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
                                         "--workers", "4", "--access-logfile", "/dev/null"])
        deadline = time.monotonic() + 60
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health/live/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        body = json.dumps({"use_case": "belege", "payload": {"text": "Rechnung Nr. {n}"}})
        # Warm up until every worker has answered: on a busy machine a worker's first request can take seconds
        # (whatever it imports or connects to first), which is no part of the steady state measured here.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            warm = http_load(port, "POST", "/api/v1/work-items/", self.token, body, clients=a.clients, seconds=2)
            if warm["requests"] >= 2 * a.clients and warm["p99_ms"] < 3000:
                break
        spy = self.web_profile_start(server, a.seconds) if a.profile_web else None
        cpu = workers_cpu_seconds(server.pid)
        post = http_load(port, "POST", "/api/v1/work-items/", self.token, body, clients=a.clients, seconds=a.seconds)
        post["worker_cpu_ms_per_request"] = round((workers_cpu_seconds(server.pid) - cpu) * 1000 / post["requests"], 2)
        profile = self.web_profile_end(spy) if spy else None
        cpu = workers_cpu_seconds(server.pid)
        get = http_load(port, "GET", "/api/v1/me/", self.token, None, clients=a.clients, seconds=a.seconds)
        get["worker_cpu_ms_per_request"] = round((workers_cpu_seconds(server.pid) - cpu) * 1000 / get["requests"], 2)
        paced = http_load(port, "POST", "/api/v1/work-items/", self.token, body, clients=a.clients,
                          seconds=a.seconds, rate=post["per_second"] / 2)
        self.stop(server)
        digest = self.database.psql("SELECT prefix FROM portal_apitoken LIMIT 1", "leitplanke").strip()
        raw = raw_ingest(self.database.url("leitplanke"), self.redis.url, digest, clients=a.clients, seconds=a.seconds)
        self.results["ingest"] = {"post": post, "get_me": get, "post_at_half_peak": paced, "raw_psycopg": raw,
                                  "post_vs_raw": round(post["per_second"] / raw["per_second"], 3),
                                  "post_vs_get": round(post["per_second"] / get["per_second"], 3)}
        if profile:
            self.results["ingest"]["web_profile"] = profile

    def web_profile_start(self, server: subprocess.Popen, seconds: float) -> subprocess.Popen:
        """py-spy samples every gunicorn worker (wall clock: waiting threads count too) while the POSTs run."""
        spy = py_spy()
        if spy is None:
            raise SystemExit("--profile-web needs py-spy: pip install py-spy")
        out = self.folder / "web-profile.txt"
        return subprocess.Popen([str(spy), "record", "--pid", str(server.pid), "--subprocesses", "--idle",
                                 "--threads", "--function", "--format", "raw", "--rate", "50",
                                 "--duration", str(int(seconds)), "--output", str(out), "--nonblocking"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def web_profile_end(self, spy: subprocess.Popen) -> dict:
        spy.wait(timeout=120)
        return web_profile_summary((self.folder / "web-profile.txt").read_text())

    def bulk_import(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection

        from automations.execution.services import imports, intake
        from automations.execution.tasks import process_run_task
        from portal.models import Tenant

        count = self.args.import_items
        tenant = Tenant.objects.get(slug="muster")
        operator = get_user_model().objects.get(username="it_operator")
        lines = [json.dumps({"payload": {"text": f"Rechnung Nr. {n}"}, "external_id": f"R-{n}"})
                 for n in range(count)]
        # The bulk import as `manage.py import_work_items` runs it: items, queued runs and one audit event per
        # batch, the batch's runs sent to the broker after each commit (one message a batch).
        with CostMeter(connection) as ours_cost:
            report = imports.work_items_import(actor=operator, tenant=tenant, use_case_key="belege", lines=lines)
        ours = count / ours_cost.seconds
        if report.created != count or report.clarification:
            raise RuntimeError(f"the import took {report.created} of {count} lines, {report.clarification} unclear")
        _, profile = profiled(lambda: imports.work_items_import(actor=operator, tenant=tenant, use_case_key="belege",
                                                                lines=lines[:count // 10]))
        # For comparison, the intake service one item at a time (what the API does per request).
        single = max(100, count // 300)
        from unittest import mock

        with mock.patch.object(process_run_task, "apply_async"):
            started = time.perf_counter()
            for n in range(single):
                intake.work_item_create(actor=operator, tenant=tenant, use_case_key="belege",
                                        payload={"text": f"Rechnung Nr. e{n}"}, source="api")
            one_by_one = single / (time.perf_counter() - started)
        with CostMeter(connection) as copy_cost, connection.cursor() as cursor:
            with cursor.cursor.copy("COPY bench_item FROM STDIN") as copy:
                for n in range(count):
                    copy.write_row((uuid.uuid4(), tenant.pk, 1, "received", "import",
                                    json.dumps({"text": f"Rechnung Nr. {n}"}), "{}", "[]", "0" * 64, None,
                                    datetime.now(UTC), datetime.now(UTC)))
        theirs = count / copy_cost.seconds
        # Per item, what each side cost in CPU (ours: the import's process and its database backend) and WAL.
        cost = {"ours": ours_cost.per_row(count), "copy": copy_cost.per_row(count)}
        cpu = {side: entry["client_cpu_us"] + entry["server_cpu_us"] for side, entry in cost.items()}
        self.results["bulk_import"] = {"items": count, "batches": report.batches, "items_per_second": round(ours, 1),
                                       "copy_rows": count, "copy_rows_per_second": round(theirs, 1),
                                       "ratio": round(ours / theirs, 4),
                                       "seconds_for_100k": round(100_000 / ours, 1),
                                       "intake_one_by_one_per_second": round(one_by_one, 1),
                                       "cost_per_item": cost, "cpu_ratio": round(cpu["copy"] / cpu["ours"], 4),
                                       "profile_top_by_own_time": profile}

    def postgres_cpu_seconds(self) -> float:
        pid = int((self.database.data / "postmaster.pid").read_text().split()[0])
        return tree_cpu_seconds(pid)

    def _drain(self, name: str, include: list[str], done, profile: bool = False) -> dict:
        """Start a worker, wait until it is ready, then until `done`: the seconds that took, the CPU time the
        worker (its main and pool processes) and the PostgreSQL server used in them, and, with `profile`, py-spy's
        summary of the pool processes' task samples."""
        argv = [str(BIN / "celery"), "-A", "portal", "worker", "-P", "prefork", "-c", "2", "-Q", "celery",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO", "-n", f"{name}@%h"]
        for module in include:
            argv += ["--include", module]
        log = self.folder / f"{name}.log"
        worker = self.spawn(name, argv)
        # The clock starts when the worker is ready: its start-up is no part of either side's throughput.
        while b" ready." not in (log.read_bytes() if log.exists() else b""):
            if worker.poll() is not None:
                raise RuntimeError(log.read_text(errors="replace")[-3000:])
            time.sleep(0.02)
        cpu, database_cpu = tree_cpu_seconds(worker.pid), self.postgres_cpu_seconds()
        spy = self.worker_profile_start(worker, name) if profile else None
        started = time.perf_counter()
        while not done():
            if time.perf_counter() - started > 1800 or worker.poll() is not None:
                raise RuntimeError(log.read_text(errors="replace")[-3000:])
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        measured = {"seconds": elapsed, "worker_cpu_seconds": tree_cpu_seconds(worker.pid) - cpu,
                    "postgres_cpu_seconds": self.postgres_cpu_seconds() - database_cpu}
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled so far
            spy.wait(timeout=120)
            measured["profile"] = web_profile_summary((self.folder / f"{name}-profile.txt").read_text(), top=40,
                                                      marker="trace_task")
        self.stop(worker)
        return measured

    def worker_profile_start(self, worker: subprocess.Popen, name: str) -> subprocess.Popen:
        """py-spy samples the worker's processes (wall clock: waiting counts too) until it is interrupted."""
        spy = py_spy()
        if spy is None:
            raise SystemExit("--profile-worker needs py-spy: pip install py-spy")
        return subprocess.Popen([str(spy), "record", "--pid", str(worker.pid), "--subprocesses", "--idle",
                                 "--function", "--format", "raw", "--rate", "50", "--duration", "1800",
                                 "--output", str(self.folder / f"{name}-profile.txt"), "--nonblocking"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pipeline(self) -> None:
        import redis as redis_lib
        from django.contrib.auth import get_user_model

        from automations.execution.services import intake
        from automations.models import WorkItem
        from portal.celery import app
        from portal.models import Tenant

        count = self.args.items
        client = redis_lib.Redis.from_url(self.redis.url)
        client.flushdb()
        tenant = Tenant.objects.get(slug="muster")
        operator = get_user_model().objects.get(username="it_operator")
        WorkItem.objects.filter(status="received").update(status="rejected")  # the import's items wait no more
        ids = []
        for n in range(count):
            item, _ = intake.work_item_create(actor=operator, tenant=tenant, use_case_key="belege",
                                              payload={"text": f"Rechnung, Rechnungsnummer {n}"})
            ids.append(item.pk)
        pending = WorkItem.objects.filter(pk__in=ids, status__in=("received", "processing"))
        load = [round(os.getloadavg()[0], 2)]
        ours = self._drain("pipeline", [], lambda: not pending.exists(), profile=self.args.profile_worker)
        load.append(round(os.getloadavg()[0], 2))
        for _ in range(count):
            app.send_task("bench.noop", queue="celery")
        theirs = self._drain("noop", ["bench.celery_noop"],
                             lambda: not client.llen("celery") and not client.hlen("unacked"))
        load.append(round(os.getloadavg()[0], 2))
        # Where a run's time goes: runs executed in this process under cProfile (cumulative, by own time).
        from automations.execution.services import runs
        from automations.models import Run

        queued = []
        for n in range(30):
            item, _ = intake.work_item_create(actor=operator, tenant=tenant, use_case_key="belege",
                                              payload={"text": f"Rechnung, Rechnungsnummer p{n}"})
            queued.append(Run.objects.get(item=item).pk)
        _, profile = profiled(lambda: [runs.run_execute(run_id=run_id, task_id="profile") for run_id in queued], 20)
        def per_item(measured: dict, key: str) -> float:
            return round(measured[key] * 1000 / count, 2)

        self.results["pipeline"] = {
            "items": count, "worker": "prefork, 2 processes",
            "items_per_second": round(count / ours["seconds"], 1),
            "noop_tasks_per_second": round(count / theirs["seconds"], 1),
            "ratio": round(theirs["seconds"] / ours["seconds"], 3), "load_average_1min": load,
            # CPU time per item (from /proc, over the drain): what a busy machine changes far less than a rate.
            "worker_cpu_ms_per_item": per_item(ours, "worker_cpu_seconds"),
            "postgres_cpu_ms_per_item": per_item(ours, "postgres_cpu_seconds"),
            "noop_worker_cpu_ms_per_task": per_item(theirs, "worker_cpu_seconds"),
            "noop_postgres_cpu_ms_per_task": per_item(theirs, "postgres_cpu_seconds"),
            "profile_top_by_own_time": profile}
        if "profile" in ours:
            self.results["pipeline"]["worker_profile"] = ours["profile"]

    def audit(self) -> None:
        from portal.models import Tenant

        tenant = Tenant.objects.get(slug="muster")
        self.results["audit_append"] = {"writers": 8, "events_each": self.args.audit_each,
                                        **audit_append(tenant.pk, self.database.url("leitplanke"), writers=8,
                                                       each=self.args.audit_each,
                                                       server_cpu=self.postgres_cpu_seconds)}

    def verification(self) -> None:
        import audit_search

        from audit.models import AuditEvent
        from audit.verification import audit_verify

        results = {}
        for version, events in ((2, self.args.events), (1, max(20_000, self.args.events // 10))):
            filler = audit_search.Bench(events=events, days=30, repeat=1)
            filler.rng.seed(version)
            tenant, _start, _end = filler.fill(version=version, slug=f"bench-v{version}")
            counted = AuditEvent.objects.filter(chain=str(tenant.pk)).count()
            server, client = self.postgres_cpu_seconds(), time.process_time()
            started = time.perf_counter()
            result = audit_verify(tenant=tenant)
            elapsed = time.perf_counter() - started
            server, client = self.postgres_cpu_seconds() - server, time.process_time() - client
            # The CPU time it took (the verifier's process and the PostgreSQL cluster, which hashes): on a busy
            # machine the wall time adds the wait for a core, the CPU time far less.
            entry = {"events": counted, "ok": bool(result.ok), "seconds": round(elapsed, 2),
                     "events_per_second": round(counted / elapsed, 0),
                     "cpu_seconds": {"client": round(client, 2), "server": round(server, 2)},
                     "events_per_cpu_second": round(counted / (client + server), 0),
                     "load_average_1min": round(os.getloadavg()[0], 2)}
            if version == 2:
                entry["sequencer_links_per_second"] = round(filler.sequenced_per_second, 0)
                _, entry["profile_top_by_own_time"] = profiled(lambda tenant=tenant: audit_verify(tenant=tenant))
            results[f"v{version}"] = entry
        # Peer: reading the same rows as text through COPY and hashing each line in Python (MACHINE-NOTES).
        self.results["verify_audit"] = {**results["v2"], "version_1_events": results["v1"],
                                        "copy_and_sha256_per_second": self._copy_hash_rate()}

    def _copy_hash_rate(self) -> float:
        import hashlib

        from django.db import connection

        connection.ensure_connection()
        started, rows = time.perf_counter(), 0
        with connection.connection.cursor() as cursor, cursor.copy(
                "COPY (SELECT chain, sequence, occurred_at, event_type, object_id, details, prev_hash, hash "
                "FROM audit_auditevent ORDER BY chain, sequence) TO STDOUT") as copy:
            rest = b""
            for block in copy:
                lines = (rest + bytes(block)).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    hashlib.sha256(line).hexdigest()
                rows += len(lines)
        return round(rows / (time.perf_counter() - started), 0)

    def embedded(self) -> None:
        """The quick start's own setup: SQLite (WAL) and the filesystem broker, the worker started as quickstart
        starts it (threads pool, 2), the rules engine; beside it a no-op task on the same broker and worker."""
        import sqlite3

        folder = self.folder / "embedded"
        env = {k: v for k, v in self.env().items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
        env |= {"PORTAL_VAR_DIR": str(folder), "AUDIT_SEQUENCER": "inline"}
        subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        done = subprocess.run([PYTHON, "-m", "tests.integration.embedded_site", "setup", "0"], cwd=ROOT, env=env,
                              check=True, capture_output=True, text=True)
        database = json.loads(done.stdout.strip().splitlines()[-1])["database"]
        count = self.args.embedded_items
        subprocess.run([PYTHON, "-c", EMBEDDED_CREATE, str(count)], cwd=ROOT, env=env, check=True)
        queue = folder / "celery" / "queue"

        def drain(name: str, include: list[str], finished) -> tuple[float, float]:
            argv = [PYTHON, "-m", "celery", "-A", "portal", "worker", "--loglevel", "INFO", "--without-mingle",
                    "--without-gossip", "--pool", "threads", "--concurrency", "2", "--queues", "celery",
                    "--hostname", f"{name}@%h"]
            for module in include:
                argv += ["--include", module]
            log = self.folder / f"{name}.log"
            with open(log, "ab") as out:
                worker = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)
            self.processes.append(worker)
            while b" ready." not in (log.read_bytes() if log.exists() else b""):
                if worker.poll() is not None:
                    raise RuntimeError(log.read_text(errors="replace")[-3000:])
                time.sleep(0.02)
            cpu = tree_cpu_seconds(worker.pid)
            started = time.perf_counter()
            while not finished():
                if time.perf_counter() - started > 1800 or worker.poll() is not None:
                    raise RuntimeError(log.read_text(errors="replace")[-3000:])
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            cpu = tree_cpu_seconds(worker.pid) - cpu
            self.stop(worker)
            return elapsed, cpu

        def items_left() -> int:
            with sqlite3.connect(database, timeout=30) as db:
                return db.execute("SELECT count(*) FROM automations_workitem WHERE status IN "
                                  "('received', 'processing')").fetchone()[0]

        load = [round(os.getloadavg()[0], 2)]
        ours, ours_cpu = drain("embedded", [], lambda: items_left() == 0)
        load.append(round(os.getloadavg()[0], 2))
        subprocess.run([PYTHON, "-c", EMBEDDED_NOOP, str(count)], cwd=ROOT, env=env, check=True)
        theirs, theirs_cpu = drain("embedded-noop", ["bench.celery_noop"], lambda: not any(queue.iterdir()))
        load.append(round(os.getloadavg()[0], 2))
        self.results["embedded"] = {"items": count, "worker": "threads, 2 (as quickstart)",
                                    "items_per_second": round(count / ours, 1),
                                    "noop_tasks_per_second": round(count / theirs, 1), "ratio": round(theirs / ours, 3),
                                    # 1-minute load average at the start of each drain and at the end
                                    "load_average_1min": load,
                                    # CPU time of the worker (SQLite runs inside it) per item, from /proc
                                    "worker_cpu_ms_per_item": round(ours_cpu * 1000 / count, 2),
                                    "noop_worker_cpu_ms_per_task": round(theirs_cpu * 1000 / count, 2)}

    def existing(self) -> None:
        # On the bench's own cluster, with smaller sizes than their defaults (1M) to fit one run.
        for name, argv in (("review_queue", ["bench/review_queue.py", "--sizes", "10000,1000000", "--repeat", "20",
                                             "--database-url", self.database.url("lp_rev_bench")]),
                           ("audit_search", ["bench/audit_search.py", "--events", "200000", "--repeat", "50",
                                             "--database-url", self.database.url("lp_audit_bench")])):
            done = subprocess.run([PYTHON, *argv], cwd=ROOT, capture_output=True, text=True,
                                  env={k: v for k, v in os.environ.items() if k not in STRAY} | {"PORTAL_ENV": "test"})
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            self.results[name] = json.loads(lines[-1]) if lines else {
                "exit": done.returncode, "tail": done.stdout[-1500:] + done.stderr[-1500:]}

    def run(self) -> dict:
        self.setup()
        try:
            meta = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": platform.node(),
                    "cpus": os.cpu_count(), "python": platform.python_version(),
                    "postgres": self.database.psql("SHOW server_version").strip(),
                    "load_average_before": [round(x, 2) for x in os.getloadavg()]}
            for step in self.args.scenarios:
                print(f"== {step}", flush=True)
                getattr(self, step)()
                print(json.dumps({k: v for k, v in self.results.items() if k != "meta"}, default=str)[-3000:],
                      flush=True)
            if self.args.existing:
                print("== review queue and DSB search", flush=True)
                self.existing()
            meta["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            self.results["meta"] = meta
            return self.results
        finally:
            self.teardown()


SCENARIOS = ("ingest", "bulk_import", "pipeline", "embedded", "audit", "verification")

TARGETS = [
    ("ingest POST vs raw psycopg + push", lambda r: r["ingest"]["post_vs_raw"], 0.224, "ratio"),  # 4x 5.6 %
    ("  (goal)", lambda r: r["ingest"]["post_vs_raw"], 0.40, "ratio"),
    ("ingest POST vs GET /me/", lambda r: r["ingest"]["post_vs_get"], 0.70, "ratio"),
    ("ingest p95 at 8 connections (ms)", lambda r: r["ingest"]["post"]["p95_ms"], 50.0, "max"),
    ("ingest p95 at half peak (ms)", lambda r: r["ingest"]["post_at_half_peak"]["p95_ms"], 25.0, "max"),
    ("bulk import vs COPY", lambda r: r["bulk_import"]["ratio"], 0.25, "ratio"),
    ("  (by CPU per item, client + server)", lambda r: r["bulk_import"]["cpu_ratio"], 0.25, "ratio"),
    ("pipeline vs Celery no-op", lambda r: r["pipeline"]["ratio"], 0.25, "ratio"),
    ("  (goal)", lambda r: r["pipeline"]["ratio"], 0.50, "ratio"),
    ("embedded default items/s", lambda r: r["embedded"]["items_per_second"], 15.0, "min"),
    ("audit append, 8 writers, vs unchained", lambda r: r["audit_append"]["ratio"], 0.80, "ratio"),
    ("  (by CPU per event, client + server)", lambda r: r["audit_append"]["cpu_ratio"], 0.80, "ratio"),
    ("  (each event in a transaction, both sides)", lambda r: r["audit_append"]["ratio_in_transactions"], 0.80,
     "ratio"),
    ("verify_audit events/s", lambda r: r["verify_audit"]["events_per_second"], 150_000, "min"),
    ("review queue page p95 at 1M (ms)", lambda r: r["review_queue"]["page_p95_ms_at_largest"], 30.0, "max"),
]


def table(results: dict) -> str:
    lines = [f"{'scenario':<40} {'measured':>12} {'target':>10}  met", "-" * 70]
    for label, get, target, kind in TARGETS:
        try:
            value = get(results)
        except KeyError:
            continue
        met = value <= target if kind == "max" else value >= target
        shown = f"{value:.0%}" if kind == "ratio" else f"{value:,.1f}"
        wanted = f">= {target:.0%}" if kind == "ratio" else (f"< {target:g}" if kind == "max" else f">= {target:,.0f}")
        lines.append(f"{label:<40} {shown:>12} {wanted:>10}  {'yes' if met else 'NO'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short phases and small sizes (a smoke run)")
    parser.add_argument("--json", help="write the results to this file as well")
    parser.add_argument("--existing", action="store_true", help="also run the review queue and DSB search benches")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", help="comma-separated scenarios of: " + ", ".join(SCENARIOS))
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the servers' and workers' logs to DIR")
    parser.add_argument("--profile-web", action="store_true",
                        help="sample the gunicorn workers with py-spy during the ingest POSTs (pip install py-spy)")
    parser.add_argument("--profile-worker", action="store_true",
                        help="sample the pipeline worker's processes with py-spy while it drains (pip install py-spy)")
    parser.add_argument("--events", type=int, help="events in the verified chain (default 300,000; quick 50,000)")
    args = parser.parse_args()
    args.scenarios = args.only.split(",") if args.only else list(SCENARIOS)
    args.seconds = 4 if args.quick else 15
    args.items = 100 if args.quick else 1000
    args.import_items = 10_000 if args.quick else 100_000
    args.audit_each = 50 if args.quick else 500
    args.events = args.events or (50_000 if args.quick else 300_000)
    args.embedded_items = 100 if args.quick else 600
    sys.path.insert(0, str(ROOT / "bench"))
    with tempfile.TemporaryDirectory(prefix="lp-bench-") as folder:
        results = Bench(args, Path(folder)).run()
    print(table(results))
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
