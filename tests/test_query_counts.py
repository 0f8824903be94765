"""Statements per request and per pipeline run, pinned so that they cannot creep back (bench/run.py measures
what they cost): an ingest POST at most 8, an authenticated GET of one object at most 4 (with its access
event), a pipeline run at most 25 — each counted with the audit chain linked (the sequencer's call included).
"""
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from automations.choices import ItemStatus
from automations.execution.services import intake, runs
from automations.models import Run, WorkItem
from portal import services
from tests.automations.factories import make_team
from tests.integration.builders import live_use_case

pytestmark = pytest.mark.django_db

POST_LIMIT, GET_LIMIT, RUN_LIMIT = 8, 4, 25


@pytest.fixture
def api(tenant, member):
    team = make_team(member)
    live_use_case(tenant, team)
    _token, plain = services.api_token_create(actor=team["it_operator"], tenant=tenant, user=team["it_operator"],
                                              name="bench")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert client.get(reverse("api:me")).status_code == 200  # the token's first use today is audited once
    return {"client": client, "team": team, "tenant": tenant}


def _statements(context: CaptureQueriesContext) -> list[str]:
    """The statements, less the savepoints that stand for transactions inside the test's own transaction."""
    return [query["sql"] for query in context.captured_queries
            if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_an_ingest_post_takes_at_most_8_statements(api):
    body = json.dumps({"use_case": "belege", "payload": {"text": "Rechnung Nr. 4711"}})
    with CaptureQueriesContext(connection) as context:
        response = api["client"].post(reverse("api:work-item-list"), data=body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert len(_statements(context)) <= POST_LIMIT, "\n".join(_statements(context))


def test_an_authenticated_get_of_one_item_takes_at_most_4_statements(api):
    item, _created = intake.work_item_create(actor=api["team"]["it_operator"], tenant=api["tenant"],
                                             use_case_key="belege", payload={"text": "Rechnung Nr. 4711"})
    runs.run_execute(run_id=Run.objects.get(item=item).pk, task_id="t-1")
    with CaptureQueriesContext(connection) as context:
        response = api["client"].get(reverse("api:work-item-detail", args=[item.pk]))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == ItemStatus.APPLIED
    assert len(_statements(context)) <= GET_LIMIT, "\n".join(_statements(context))


def test_a_pipeline_run_takes_at_most_25_statements(api):
    item, _created = intake.work_item_create(actor=api["team"]["it_operator"], tenant=api["tenant"],
                                             use_case_key="belege", payload={"text": "Rechnung Nr. 4711"})
    run = Run.objects.get(item=item)
    with CaptureQueriesContext(connection) as context:
        runs.run_execute(run_id=run.pk, task_id="t-1")
    assert WorkItem.objects.get(pk=item.pk).status == ItemStatus.APPLIED
    assert len(_statements(context)) <= RUN_LIMIT, "\n".join(_statements(context))
