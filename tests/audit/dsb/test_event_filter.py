"""One filter behind the DSB area's list, the API and the export: for the same filter, all three give the same
events (audit.selectors.events.event_queryset)."""
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.access import login
from tests.audit.dsb.helpers import ERIKA
from tests.audit.dsb.test_api import bearer

pytestmark = pytest.mark.django_db


def _page_sequences(client, params: dict) -> list[int]:
    seen, query = [], dict(params)
    while True:
        response = client.get(reverse("audit:event-list"), query)
        assert response.status_code == 200
        page = response.context["page"]
        seen += [event.sequence for event in page.events]
        if not page.has_more:
            return seen
        query = {**params, "after": page.next_cursor}


def _api_sequences(client, params: dict) -> list[int]:
    seen, url, query = [], reverse("api:audit-event-list"), params
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        seen += [event["sequence"] for event in body["results"]]
        url, query = body["next"], None
    return seen


def _export_sequences(client, params: dict) -> list[int]:
    response = client.get(reverse("audit:event-export"), {**params, "format": "jsonl"})
    assert response.status_code == 200, response.content[:300]
    records = [json.loads(line) for line in b"".join(response.streaming_content).splitlines() if line.strip()]
    return [record["sequence"] for record in records if record["type"] == "event"]


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


def _filters(world) -> dict[str, dict]:
    events = AuditEvent.objects.filter(chain=str(world["tenant"].pk))
    middle = events.order_by("sequence")[events.count() // 2].occurred_at
    return {
        "everything": {},
        "event type prefix": {"event_type": "work_item."},
        "exact event type": {"event_type": "master_record.changed"},
        "actor": {"actor": world["team"]["automation_lead"].username},
        "use case (details or the use case itself)": {"use_case": "tickets"},
        "object": {"object_type": "automations.workitem", "object_id": str(world["items"]["erika_ticket"].pk)},
        "time range": {"since": _local(middle), "until": _local(middle + timedelta(days=1))},
        "a person": {"subject": ERIKA["email"]},
        "combined": {"event_type": "work_item.", "use_case": "tickets", "until": _local(middle + timedelta(days=1))},
        "no match": {"actor": "niemand"},
    }


def test_the_page_the_api_and_the_export_give_the_same_events_for_each_filter(client, world):
    page = login(client, world["team"]["data_protection_officer"], world["tenant"])
    api = bearer(world["team"]["auditor"], world["tenant"])
    api.get(reverse("api:audit-verification"))  # a token's first use of the day is audited: not inside the loop
    total = AuditEvent.objects.filter(chain=str(world["tenant"].pk)).count()
    sizes = {}
    for name, params in _filters(world).items():
        # The page and the API list newest first; the export in chain order.
        listed = _page_sequences(page, params)
        assert listed == sorted(listed, reverse=True), name
        assert _api_sequences(api, params) == listed, name
        assert _export_sequences(page, params) == sorted(listed), name
        sizes[name] = len(listed)
    assert sizes["everything"] == total and sizes["no match"] == 0
    # Each filter narrows, and none is empty: the comparisons above compared something. (The world's events may
    # all fall into one second, so the time range is only compared, not required to narrow.)
    narrowing = {name: size for name, size in sizes.items() if name not in ("everything", "no match", "time range")}
    assert all(0 < size < total for size in narrowing.values()), sizes
