"""The Django side of the embedded-default test (test_embedded_default.py), run as its own process against
the SQLite file and filesystem broker that the environment names (DATABASE_URL unset, PORTAL_VAR_DIR):

    python -m tests.integration.embedded_site setup DELAY   # tenant, team, live use case; prints an API token
    python -m tests.integration.embedded_site reap          # one pass of the lease reaper; prints the count
    python -m tests.integration.embedded_site report ID     # the item's runs and audit facts as JSON
    python -m tests.integration.embedded_site summary       # every item's status and routing count as JSON

The outage tests (test_outages.py) use the same commands against a PostgreSQL cluster and Redis of their own.
"""
import json
import os
import sys


def main(command: str, *args: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import translation

    from audit.actors import SYSTEM

    translation.activate("en")
    if command == "setup":
        from portal import services
        from tests.automations.factories import make_team
        from tests.integration.builders import live_use_case

        tenant = services.tenant_create(actor=SYSTEM, slug="muster", name="Muster GmbH")

        def member(role, username):
            user = get_user_model().objects.create_user(username)  # API tokens only: no password
            services.membership_create(actor=SYSTEM, tenant=tenant, user=user, roles=[role])
            return user

        team = make_team(member)
        live_use_case(tenant, team, delay=float(args[0]))
        _token, plain = services.api_token_create(actor=team["it_operator"], tenant=tenant,
                                                  user=team["it_operator"], name="ERP")
        print(json.dumps({"vendor": connection.vendor, "database": str(settings.DATABASES["default"]["NAME"]),
                          "broker": settings.CELERY_BROKER_URL, "token": plain}))
    elif command == "reap":
        from automations.execution.services.runs import runs_reap

        print(runs_reap())
    elif command == "report":
        from audit.models import AuditEvent
        from automations.models import Run, WorkItem

        item = WorkItem.objects.get(pk=args[0])
        print(json.dumps({
            "status": item.status,
            "runs": [{"id": run.pk, "status": run.status, "attempt": run.attempt, "trigger": run.trigger,
                      "steps": list(run.steps.filter(attempt=run.attempt).values_list("step", flat=True))}
                     for run in Run.objects.filter(item=item)],
            "routed": AuditEvent.objects.filter(event_type="work_item.routed", object_id=str(item.pk)).count(),
            "reaped": AuditEvent.objects.filter(event_type="run.reaped").count(),
        }))
    elif command == "summary":
        from collections import Counter

        from audit.models import AuditEvent
        from automations.models import WorkItem

        routed = Counter(AuditEvent.objects.filter(event_type="work_item.routed").values_list("object_id", flat=True))
        print(json.dumps({str(pk): {"status": status, "routed": routed.get(str(pk), 0)}
                          for pk, status in WorkItem.objects.values_list("pk", "status")}))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(*sys.argv[1:])
