"""The DSB search on a million audit events, against a bare indexed SQL query for the same rows, on PostgreSQL.

  PORTAL_ENV=test .venv/bin/python bench/audit_search.py [--database-url URL] [--events 1000000]
                                                         [--days 365] [--repeat 200] [--keep]

Fills its own database (default lp_audit_bench on 127.0.0.1: dropped, created and migrated fresh, dropped
afterwards unless --keep) with one tenant whose audit chain holds --events events spread evenly over --days
days: a valid hash chain, computed here and loaded with COPY (the append-only triggers refuse only UPDATE,
DELETE and TRUNCATE, so no maintenance switch is needed; the audit service itself is bypassed for the data
generation only). Then, in the same run and interleaved, `--repeat` times each for random days:

  - DSB search: audit.selectors.events.event_search for a one-day filter (the first page of 50, newest first,
    with the cursor of the next page) plus the actor names the page shows — what the DSB area's list and
    the API do before rendering;
  - bare SQL: the same 51 rows with one hand-written query on the same index, fetched with a plain cursor;
  - the same two for a deep keyset page (about the middle of the day), and for a one-day filter on one
    event type.

Prints p50/p95 per measurement and the ratio DSB search / bare SQL of the p95s (target: within 2x), and a
JSON summary last. Exits 1 when the one-day ratio misses the target."""
import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVENT_TYPES = ["work_item.received", "run.started", "run.finished", "work_item.routed", "review_task.decided",
               "work_item.finalised", "user.logged_in", "master_record.changed"]


def _drop(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _create(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/lp_audit_bench")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("PostgreSQL only: the figures are about its planner and indexes.")
    _drop(args.database_url)
    _create(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_ENV", "test")
    os.environ.setdefault("PORTAL_VAR_DIR", str(Path("/tmp") / "leitplanke-bench-var"))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        ok = Bench(events=args.events, days=args.days, repeat=args.repeat).run()
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _drop(args.database_url)
    sys.exit(0 if ok else 1)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Bench:
    def __init__(self, *, events: int, days: int, repeat: int):
        self.events, self.days, self.repeat = events, days, repeat
        self.rng = random.Random(20261125)

    # --- data ------------------------------------------------------------------------------------------

    def fill(self, version: int = 2, slug: str = "bench"):
        """`events` events over `days` days in a new tenant's chain. Version 2: written pending, as writers do,
        then linked by the sequencer (its rate is kept in self.sequenced_per_second); version 1: hashed here."""
        from django.contrib.auth import get_user_model
        from django.db import connection

        from audit import sequencer
        from audit.actors import SYSTEM
        from audit.chain import HASHED_FIELDS, _timestamp, compute_hash
        from audit.models import AuditChainHead, AuditEvent
        from portal import services

        tenant = services.tenant_create(actor=SYSTEM, slug=slug, name="Bench GmbH")
        users = [get_user_model().objects.get_or_create(username=f"bench{i}")[0] for i in range(20)]
        chain = str(tenant.pk)
        sequencer.sequence_all_pending()  # the tenant's own first events, written pending like every event
        existing = AuditEvent.objects.filter(chain=chain).order_by("-sequence").first()
        sequence, previous = existing.sequence, existing.hash
        end = datetime.now(UTC).replace(microsecond=0)
        start = end - timedelta(days=self.days)
        step = (end - start) / self.events
        columns = ["tenant_id", *HASHED_FIELDS, "hash", "hash_version"]
        started = time.perf_counter()
        batch = 100_000
        with connection.cursor() as cursor:
            for first in range(0, self.events, batch):
                buffer = io.StringIO()
                for n in range(first, min(first + batch, self.events)):
                    sequence += 1
                    user = self.rng.choice(users)
                    values = {
                        "chain": chain, "sequence": sequence, "occurred_at": start + step * n,
                        "actor_kind": "user", "actor_user_id": user.pk, "actor_token_id": None,
                        "event_type": EVENT_TYPES[n % len(EVENT_TYPES)], "object_type": "automations.workitem",
                        "object_id": f"{n:032x}", "details": {"use_case": "belege", "n": n}, "prev_hash": previous,
                    }
                    digest = compute_hash(values) if version == 1 else "\\N"
                    row = [str(tenant.pk), chain, str(sequence) if version == 1 else "\\N",
                           _timestamp(values["occurred_at"]), "user", str(user.pk), "\\N", values["event_type"],
                           values["object_type"], values["object_id"], json.dumps(values["details"]),
                           previous if version == 1 else "\\N", digest, str(version)]
                    buffer.write("\t".join(row) + "\n")
                    previous = digest
                buffer.seek(0)
                with cursor.cursor.copy(f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN") as copy:
                    copy.write(buffer.read())
            cursor.execute("ANALYZE audit_auditevent")
        if version == 1:
            AuditChainHead.objects.filter(chain=chain).update(sequence=sequence, hash=previous)
        else:
            from audit.services.events import audit_sequence_pending

            linking = time.perf_counter()
            linked = audit_sequence_pending()
            self.sequenced_per_second = linked / (time.perf_counter() - linking)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE audit_auditevent")
        print(f"filled {self.events:,} events over {self.days} days in {time.perf_counter() - started:.0f} s")
        return tenant, start, end

    # --- timing ----------------------------------------------------------------------------------------

    @staticmethod
    def _time(fn) -> tuple[float, object]:
        started = time.perf_counter()
        result = fn()
        return (time.perf_counter() - started) * 1000, result

    def run(self) -> bool:
        from django.db import connection

        from audit.selectors import events as selectors
        from audit.selectors.events import EventFilter

        tenant, start, _end = self.fill()
        chain = str(tenant.pk)
        columns = ("id, tenant_id, chain, sequence, occurred_at, actor_kind, actor_user_id, actor_token_id, "
                   "event_type, object_type, object_id, details, prev_hash, hash")
        bare_day = (f"SELECT {columns} FROM audit_auditevent WHERE chain = %s AND occurred_at >= %s "
                    "AND occurred_at < %s ORDER BY occurred_at DESC, sequence DESC LIMIT 51")
        bare_after = (f"SELECT {columns} FROM audit_auditevent WHERE chain = %s AND occurred_at >= %s "
                      "AND occurred_at < %s AND (occurred_at, sequence) < (%s, %s) "
                      "ORDER BY occurred_at DESC, sequence DESC LIMIT 51")
        bare_type = (f"SELECT {columns} FROM audit_auditevent WHERE tenant_id = %s AND event_type = %s "
                     "AND occurred_at >= %s AND occurred_at < %s ORDER BY occurred_at DESC, sequence DESC LIMIT 51")

        def bare(sql, params):
            with connection.cursor() as db:
                db.execute(sql, params)
                return db.fetchall()

        def dsb(filters, after=None):
            page = selectors.event_search(tenant=tenant, filters=filters, cursor=after)
            return selectors.event_page_with_actors(page)

        timings = {name: [] for name in ("day_dsb", "day_sql", "deep_dsb", "deep_sql", "type_dsb", "type_sql")}
        for round_ in range(self.repeat + 10):  # the first 10 warm the caches and are not counted
            offset = self.rng.randrange(1, self.days - 1)
            since = (start + timedelta(days=offset)).replace(hour=0, minute=0, second=0)
            until = since + timedelta(days=1)
            event_type = self.rng.choice(EVENT_TYPES)
            middle = bare(bare_day, [chain, since, since + timedelta(hours=12)])[-1]
            after = selectors._encode_cursor(middle[4], middle[3])
            day = EventFilter(since=since, until=until)
            typed = EventFilter(since=since, until=until, event_type=event_type)
            measures = [
                ("day_dsb", partial(dsb, day)), ("day_sql", partial(bare, bare_day, [chain, since, until])),
                ("deep_dsb", partial(dsb, day, after)),
                ("deep_sql", partial(bare, bare_after, [chain, since, until, middle[4], middle[3]])),
                ("type_dsb", partial(dsb, typed)),
                ("type_sql", partial(bare, bare_type, [tenant.pk, event_type, since, until])),
            ]
            self.rng.shuffle(measures)  # interleaved in random order: no side profits from a warmer cache
            results = {}
            for name, fn in measures:
                elapsed, results[name] = self._time(fn)
                if round_ >= 10:
                    timings[name].append(elapsed)
            # Same rows on both sides.
            assert [e.sequence for e in results["day_dsb"].events] == [r[3] for r in results["day_sql"][:50]]
            assert [e.sequence for e in results["deep_dsb"].events] == [r[3] for r in results["deep_sql"][:50]]
            assert [e.sequence for e in results["type_dsb"].events] == [r[3] for r in results["type_sql"][:50]]

        summary = {"events": self.events, "days": self.days, "repeat": self.repeat, "measurements": {}}
        print(f"\n{'measurement':<30}{'p50 ms':>10}{'p95 ms':>10}")
        for name, values in timings.items():
            p50, p95 = statistics.median(values), _percentile(values, 0.95)
            summary["measurements"][name] = {"p50_ms": round(p50, 3), "p95_ms": round(p95, 3)}
            print(f"{name:<30}{p50:>10.3f}{p95:>10.3f}")
        ok = True
        for case in ("day", "deep", "type"):
            ratio = summary["measurements"][f"{case}_dsb"]["p95_ms"] / summary["measurements"][f"{case}_sql"]["p95_ms"]
            summary[f"{case}_ratio_p95"] = round(ratio, 2)
            print(f"{case}: DSB search p95 / bare SQL p95 = {ratio:.2f} (target <= 2)")
            if case == "day":
                ok = ratio <= 2
        with connection.cursor() as db:
            db.execute("EXPLAIN " + bare_day, [chain, start + timedelta(days=100), start + timedelta(days=101)])
            plan = " / ".join(row[0].strip() for row in db.fetchall())
        summary["plan"] = plan
        print(f"plan: {plan}")
        print(json.dumps(summary))
        return ok


if __name__ == "__main__":
    main()
