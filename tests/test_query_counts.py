"""Statements per request and per pipeline run, pinned so that they cannot creep back (bench/run.py measures
what they cost).

An ingest POST: 3 statements with the production sequencer (token with user, tenant and roles; the use case;
the item, its audit event and its run in one INSERT — portal.db.writes — which needs no transaction of its
own: no BEGIN, no COMMIT; the chain is linked after the commit, for many commits at once), 5 when the chain is
linked inline (the test default: an advisory lock and the sequencer's call in the same transaction). An
authenticated GET of one item: 3 (token, the item with its use case and release, its deliveries), of one API
token 3 as well; an ingest POST with an Idempotency-Key 4 (the key's lookup), its repeat 4 (token, use case, the
item of that key, its deliveries);
`GET /api/v1/me/`: 1. A pipeline run at most 8 with the chain linked inline (a worker links after commit, in
batches, so its runs take 4 fewer: 4 statements in 2 transactions): the start locks the run and its item and reads
its context in one query (item, use case, tenant, the labelled release, files, the duplicate check), then writes
run, item and event in one statement (portal.db.writes); routing locks again and reads with it what the review
layer and the connectors need (breaker, the tenant's sample check share, whether the use case names delivery
connectors), then writes item, suggestions, run, steps and the two events in one statement; the first run of a
release in a process also reads the release and its engine configurations (2 more).
The connection's health check (CONN_HEALTH_CHECKS) polls the socket and sends `SELECT 1` only when the server
has spoken since (portal.db.postgresql); it is no statement of ours and is not counted.
"""
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from automations.choices import ItemStatus
from automations.execution.services import intake, runs
from automations.models import Run, TenantPolicy, WorkItem
from automations.registry.services.use_cases import tenant_policy_ensure
from portal import services
from portal.models import ApiToken
from tests.automations.factories import make_team
from tests.integration.builders import live_use_case

pytestmark = pytest.mark.django_db

POST_LIMIT, POST_INLINE_LIMIT, GET_LIMIT, ME_LIMIT, RUN_LIMIT = 3, 5, 3, 1, 8
FIRST_RUN_LIMIT = RUN_LIMIT + 2


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


def _post(api, status: int = 201, **headers) -> tuple[object, list[str]]:
    body = json.dumps({"use_case": "belege", "payload": {"text": "Rechnung Nr. 4711"}})
    with CaptureQueriesContext(connection) as context:
        response = api["client"].post(reverse("api:work-item-list"), data=body, content_type="application/json",
                                      headers=headers)
    assert response.status_code == status, response.content
    return response, _statements(context)


def test_an_ingest_post_takes_at_most_3_statements(api, settings):
    settings.AUDIT_SEQUENCER = "on_commit"  # production's: the chain is linked after the commit
    _response, statements = _post(api)
    assert len(statements) <= POST_LIMIT, "\n".join(statements)
    (insert,) = [sql for sql in statements if sql.startswith("WITH")]  # item, audit event and run in one
    assert [table for table in ("automations_workitem", "audit_auditevent", "automations_run")
            if f'INSERT INTO "{table}"' in insert] == ["automations_workitem", "audit_auditevent", "automations_run"]
    assert not any("audit_sequence" in sql or "advisory" in sql for sql in statements)


@pytest.mark.django_db(transaction=True)
def test_an_ingest_post_outside_a_transaction_sends_no_begin_and_no_commit(api, settings):
    settings.AUDIT_SEQUENCER = "on_commit"
    response, statements = _post(api)
    # The link after the commit (with AUDIT_SEQUENCE_DELAY_SECONDS 0, as in tests, at once in the same thread;
    # production links many commits together in a background round) is the sequencer's, not the request's.
    ours = [sql for sql in statements if "audit_sequence_" not in sql]
    assert len(ours) <= POST_LIMIT, "\n".join(ours)
    assert not any(sql in ("BEGIN", "COMMIT") for sql in statements), statements
    item = WorkItem.objects.get(pk=response.json()["id"])  # committed by its one statement
    assert item.status == ItemStatus.RECEIVED and Run.objects.filter(item=item, status="queued").exists()


def test_an_ingest_post_linking_its_event_inline_takes_at_most_5_statements(api, settings):
    settings.AUDIT_SEQUENCER = "inline"
    response, statements = _post(api)
    assert len(statements) <= POST_INLINE_LIMIT, "\n".join(statements)
    assert response.json()["deliveries"] == []  # a new item has none: not asked for


def test_an_ingest_post_with_an_idempotency_key_and_its_repeat_take_one_statement_more(api, settings):
    settings.AUDIT_SEQUENCER = "on_commit"
    first, statements = _post(api, **{"Idempotency-Key": "beleg-4711"})
    assert len(statements) <= POST_LIMIT + 1, "\n".join(statements)  # + the key's lookup
    repeat, statements = _post(api, status=200, **{"Idempotency-Key": "beleg-4711"})
    assert repeat.json()["id"] == first.json()["id"]
    # token, use case, the item of that key, its deliveries (a repeat may come after the item was delivered)
    assert len(statements) <= POST_LIMIT + 1, "\n".join(statements)


def test_a_get_of_me_takes_1_statement(api):
    with CaptureQueriesContext(connection) as context:
        response = api["client"].get(reverse("api:me"))
    assert response.status_code == 200, response.content
    assert len(_statements(context)) <= ME_LIMIT, "\n".join(_statements(context))


def test_an_authenticated_get_of_one_item_takes_at_most_3_statements(api):
    item, _created = intake.work_item_create(actor=api["team"]["it_operator"], tenant=api["tenant"],
                                             use_case_key="belege", payload={"text": "Rechnung Nr. 4711"})
    runs.run_execute(run_id=Run.objects.get(item=item).pk, task_id="t-1")
    with CaptureQueriesContext(connection) as context:
        response = api["client"].get(reverse("api:work-item-detail", args=[item.pk]))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == ItemStatus.APPLIED
    assert len(_statements(context)) <= GET_LIMIT, "\n".join(_statements(context))


def test_an_authenticated_get_of_one_api_token_takes_at_most_3_statements(api):
    token = ApiToken.objects.get(name="bench")
    with CaptureQueriesContext(connection) as context:
        response = api["client"].get(reverse("api:api-token-detail", args=[token.pk]))
    assert response.status_code == 200, response.content
    assert len(_statements(context)) <= GET_LIMIT, "\n".join(_statements(context))


def test_a_pipeline_run_takes_at_most_8_statements(api):
    # No random sample check: a drawn one adds its review task (counted with the review tasks, not here).
    TenantPolicy.objects.filter(pk=tenant_policy_ensure(tenant=api["tenant"]).pk).update(sample_check_share=0)
    for n in range(2):
        item, _created = intake.work_item_create(actor=api["team"]["it_operator"], tenant=api["tenant"],
                                                 use_case_key="belege", payload={"text": f"Rechnung Nr. 4711-{n}"})
        run = Run.objects.get(item=item)
        with CaptureQueriesContext(connection) as context:
            runs.run_execute(run_id=run.pk, task_id=f"t-{n}")
        assert WorkItem.objects.get(pk=item.pk).status == ItemStatus.APPLIED
        limit = FIRST_RUN_LIMIT if n == 0 else RUN_LIMIT  # the second run finds its release known
        assert len(_statements(context)) <= limit, "\n".join(_statements(context))
