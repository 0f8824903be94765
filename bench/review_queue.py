""""Next task" and the queue page with 10,000 and then 1,000,000 open tasks in one queue, on PostgreSQL.

  PORTAL_ENV=test .venv/bin/python bench/review_queue.py [--database-url URL] [--sizes 10000,1000000]
                                                         [--repeat 50] [--keep]

Fills its own database (default lp_rev_bench on 127.0.0.1: dropped and created fresh, migrated, and
dropped afterwards unless --keep) with COPY, then measures at each size, growing the same queue:
  - next task: reviews.services.review_task_claim_next (claims one task and writes its audit event);
  - the queue page, first page: GET /reviews/queues/<id>/ as the clerk (figures, filters, 50 tasks);
  - the queue page, a deep keyset page: the same with ?after=<cursor> at about 90 % of the queue.
Each is timed `--repeat` times (minimum, median and p95, and the CPU time of this process: median and p95)
with its number of queries, and the queries it runs on the task table are timed once more on the server
(EXPLAIN ANALYZE, rolled back). The target: at
1M each within 1.5x of its time at 10k, with the same number of queries. On a shared, busy machine the
minimum and the server-side time are the steadier figures; all ratios are printed, and the load average
with the JSON summary last."""
import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _database(url: str) -> None:
    """Create the bench database when missing; Django is set up against it afterwards."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _drop(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/lp_rev_bench")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--profile", action="store_true", help="print a profile of the first page at the last size")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("PostgreSQL only: the claim relies on SKIP LOCKED and the figures on its planner.")
    _drop(args.database_url)  # always from an empty database, also after --keep
    _database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_ENV", "test")
    os.environ.setdefault("PORTAL_VAR_DIR", str(Path("/tmp") / "leitplanke-bench-var"))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        Bench(repeat=args.repeat, profile=args.profile).run([int(s) for s in args.sizes.split(",")])
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _drop(args.database_url)


class Bench:
    def __init__(self, *, repeat: int, profile: bool = False):
        self.repeat, self.profile = repeat, profile
        self.rng = random.Random(8)

    # --- data ------------------------------------------------------------------------------------

    def setup(self):
        from django.contrib.auth import get_user_model
        from django.test import Client

        from audit.actors import SYSTEM
        from portal import services
        from portal.choices import Role
        from portal.middleware import SESSION_TENANT_KEY
        from reviews.services import review_queue_ensure
        from tests.automations.factories import make_use_case
        from tests.reviews.factories import clear

        tenant = services.tenant_create(actor=SYSTEM, slug=f"bench-{uuid.uuid4().hex[:6]}", name="Bench GmbH")
        users = {}
        for role in (Role.AUTOMATION_LEAD, Role.CLERK):
            user = get_user_model().objects.create_user(f"{role}-{tenant.slug}", password="Bench-12345-x")
            services.membership_create(actor=SYSTEM, tenant=tenant, user=user, roles=[role])
            users[role] = user
        use_case = make_use_case(tenant, users[Role.AUTOMATION_LEAD], key="belege", output_fields=[
            {"name": "document_class", "type": "category", "choices": ["invoice", "reminder", "other"]}])
        clear(users[Role.CLERK], use_case, users[Role.AUTOMATION_LEAD])
        self.tenant, self.use_case, self.clerk = tenant, use_case, users[Role.CLERK]
        self.queue = review_queue_ensure(use_case=use_case)
        self.client = Client()
        self.client.force_login(self.clerk)
        session = self.client.session
        session[SESSION_TENANT_KEY] = tenant.pk
        session.save()
        self.filled = 0

    def fill(self, total: int) -> float:
        """COPY work items and their open tasks until the queue holds `total` rows."""
        from django.db import connection
        from django.utils import timezone

        count = total - self.filled
        if count <= 0:
            return 0.0
        started = time.perf_counter()
        now = timezone.now()
        fields = json.dumps({"document_class": {"value": "invoice", "confidence": 0.55, "reasons": []}})
        reasons = json.dumps(["Niedrige Konfidenz: document_class"])
        ids = [uuid.UUID(int=self.rng.getrandbits(128), version=4) for _ in range(count)]
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy("COPY automations_workitem (id, tenant_id, use_case_id, source, external_id, "
                          "content_hash, payload, status, reasons, fields, is_dry_run, created_at, updated_at, "
                          "legal_hold, restricted) FROM STDIN") as copy:
                for n, pk in enumerate(ids):
                    copy.write_row((pk, self.tenant.pk, self.use_case.pk, "api", "", f"bench-{self.filled + n}",
                                    json.dumps({"text": f"Beleg {self.filled + n}"}), "review", reasons, fields,
                                    False, now, now, False, False))
            with raw.copy("COPY reviews_reviewtask (tenant_id, item_id, queue_id, use_case_id, reasons, priority, "
                          "due_at, state, created_at) FROM STDIN") as copy:
                for pk in ids:
                    # 2 % overdue; the rest due over the next 30 days; priorities 1 (rare) to 5.
                    hours = -self.rng.uniform(1, 48) if self.rng.random() < 0.02 else self.rng.uniform(1, 720)
                    priority = self.rng.choices([1, 2, 3, 4, 5], weights=[2, 8, 60, 20, 10])[0]
                    copy.write_row((self.tenant.pk, pk, self.queue.pk, self.use_case.pk, reasons, priority,
                                    now + timedelta(hours=hours), "open", now))
            # What autovacuum does after a bulk load: statistics, and the visibility map that lets the
            # capped counts run as index-only scans.
            cursor.execute("VACUUM ANALYZE automations_workitem")
            cursor.execute("VACUUM ANALYZE reviews_reviewtask")
        self.filled = total
        return time.perf_counter() - started

    # --- measurements ----------------------------------------------------------------------------

    def timed(self, action) -> dict:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        action()  # warm the caches once
        times, cpu, queries = [], [], set()
        for _ in range(self.repeat):
            with CaptureQueriesContext(connection) as ctx:
                started, started_cpu = time.perf_counter(), time.process_time()
                action()
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            queries.add(len(ctx))
        times.sort()
        cpu.sort()
        # CPU time of this process (the request's Python, not the database's): on a busy machine far steadier than
        # the wall clock, which waits for a core.
        return {"min_ms": round(times[0], 2), "median_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2), "queries": sorted(queries),
                "cpu_median_ms": round(statistics.median(cpu), 2),
                "cpu_p95_ms": round(cpu[max(0, int(len(cpu) * 0.95) - 1)], 2)}

    def db_time(self, action, runs: int = 7) -> dict:
        """Server-side time of the task table queries an action runs: each captured SELECT on
        reviews_reviewtask again under EXPLAIN ANALYZE (rolled back), summed; the minimum of `runs`.
        Steadier than wall-clock time on a busy machine, and it shows whether the database work grows."""
        from django.db import connection, transaction
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            action()
        statements = [q["sql"] for q in ctx.captured_queries
                      if q["sql"].lstrip().upper().startswith("SELECT") and "reviews_reviewtask" in q["sql"]]
        totals = []
        for _ in range(runs):
            total = 0.0
            with transaction.atomic(), connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                    total += cursor.fetchone()[0][0]["Execution Time"]
                transaction.set_rollback(True)
            totals.append(total)
        return {"db_ms": round(min(totals), 3), "statements": len(statements)}

    def deep_cursor(self) -> str:
        from reviews.models import ReviewTask
        from reviews.selectors import cursor_encode

        # Setup only: find the task at about 90 % of the queue's order (OFFSET is fine here, once).
        open_tasks = ReviewTask.objects.filter(queue=self.queue, state="open").order_by("priority", "due_at", "id")
        return cursor_encode(open_tasks[int(self.filled * 0.9)])

    def measure(self) -> dict:
        from django.urls import reverse

        from reviews.services import review_task_claim_next

        url = reverse("reviews:queue-detail", args=[self.queue.pk])
        deep = self.deep_cursor()

        def page(suffix=""):
            response = self.client.get(url + suffix)
            assert response.status_code == 200, response.status_code
            assert response.content.count(b"<tr data-task=") == 50

        def claim():
            assert review_task_claim_next(actor=self.clerk, queue=self.queue) is not None

        actions = {"next_task": claim, "queue_page_first": page, "queue_page_deep": lambda: page(f"?after={deep}")}
        if self.profile:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            for _ in range(5):
                profile.runcall(page)
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        return {name: self.timed(action) | self.db_time(action) for name, action in actions.items()}

    def run(self, sizes: list[int]) -> None:
        self.setup()
        results = {}
        for size in sizes:
            seconds = self.fill(size)
            print(f"filled {size:>9,} open tasks in {seconds:6.1f} s", flush=True)
            results[size] = self.measure()
        first, last = sizes[0], sizes[-1]
        header = "".join(f"{s:,}: min / median / p95 ms (queries)".rjust(44) for s in sizes)
        print("\n" + "measure".ljust(18) + header + "ratio of medians, of minima".rjust(30))
        summary = {"sizes": sizes, "repeat": self.repeat, "results": {}}
        for name in ("next_task", "queue_page_first", "queue_page_deep"):
            row = name.ljust(18)
            for size in sizes:
                r = results[size][name]
                queries = ",".join(str(q) for q in r["queries"])
                row += f"{r['min_ms']:.1f} / {r['median_ms']:.1f} / {r['p95_ms']:.1f} ({queries})".rjust(44)
            ratio = results[last][name]["median_ms"] / max(results[first][name]["median_ms"], 1e-9)
            ratio_min = results[last][name]["min_ms"] / max(results[first][name]["min_ms"], 1e-9)
            ratio_db = results[last][name]["db_ms"] / max(results[first][name]["db_ms"], 1e-9)
            print(row + f"{ratio:>17.2f}x, {ratio_min:.2f}x")
            db_row = "  task table, db".ljust(18) + "".join(
                f"{results[s][name]['db_ms']:.2f} ms in {results[s][name]['statements']} statements".rjust(44)
                for s in sizes)
            print(db_row + f"{ratio_db:>17.2f}x")
            print("  CPU, this process".ljust(18) + "".join(
                f"median {results[s][name]['cpu_median_ms']:.1f} / p95 {results[s][name]['cpu_p95_ms']:.1f} ms"
                .rjust(44) for s in sizes))
            summary["results"][name] = {str(s): results[s][name] for s in sizes} | {
                "ratio_median": round(ratio, 2), "ratio_min": round(ratio_min, 2), "ratio_db": round(ratio_db, 2)}
        # What the targets read: the worse of the two queue pages' p95 at the largest size.
        summary["page_p95_ms_at_largest"] = max(results[last][name]["p95_ms"]
                                                for name in ("queue_page_first", "queue_page_deep"))
        summary["load_average"] = os.getloadavg()
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
