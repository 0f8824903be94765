"""A separate process appending to an audit chain, for the concurrency proof on the embedded SQLite
default (tests/audit/test_concurrency.py). Reads DATABASE_URL and PORTAL_VAR_DIR like the portal does.

    python -m tests.audit.chain_worker setup SLUG
    python -m tests.audit.chain_worker append SLUG WORKER COUNT GO_FILE
    python -m tests.audit.chain_worker report SLUG
"""
import json
import os
import sys
import time


def main(command: str, slug: str, *args: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from audit.actors import SYSTEM
    from audit.chain import compute_hash, event_values
    from audit.models import GENESIS_HASH, AuditEvent
    from audit.services.events import audit_event_record
    from portal.models import Tenant
    from portal.services import tenant_create

    if command == "setup":
        tenant_create(actor=SYSTEM, slug=slug, name=f"{slug} GmbH")
        return
    tenant = Tenant.objects.get(slug=slug)
    if command == "append":
        worker, count, go_file = int(args[0]), int(args[1]), args[2]
        print("ready", flush=True)
        while not os.path.exists(go_file):  # start all writers at once
            time.sleep(0.005)
        for n in range(count):
            with transaction.atomic():
                audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                                   details={"worker": worker, "n": n})
    elif command == "report":
        events = list(AuditEvent.objects.filter(tenant=tenant).order_by("sequence"))
        links = [GENESIS_HASH] + [event.hash for event in events[:-1]]
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal_mode = cursor.fetchone()[0]
        print(json.dumps({
            "journal_mode": journal_mode,
            "transaction_mode": connection.settings_dict["OPTIONS"].get("transaction_mode"),
            "count": len(events),
            "sequences": [event.sequence for event in events],
            "links_ok": all(event.prev_hash == link for event, link in zip(events, links)),
            "hashes_ok": all(compute_hash(event_values(event)) == event.hash for event in events),
            "per_worker": {str(w): sum(1 for e in events if e.details.get("worker") == w)
                           for w in sorted({e.details.get("worker") for e in events} - {None})},
        }))


if __name__ == "__main__":
    main(*sys.argv[1:])
