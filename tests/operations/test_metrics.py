"""The Prometheus endpoint: the token, django-prometheus' own metrics and the business metrics."""
import re

import pytest
from django.db.models import Count

from operations.heartbeat import heartbeat_record
from operations.models import Heartbeat
from reviews.choices import OPEN_TASK_STATES
from reviews.models import ReviewTask
from tests.automations.factories import make_team
from tests.integration.builders import live_use_case

TOKEN = "monitoring-token-for-tests"


@pytest.fixture(autouse=True)
def monitoring(settings):
    settings.MONITORING_TOKEN = TOKEN


def scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def value(text: str, metric: str, **labels) -> float:
    for line in text.splitlines():
        if not line.startswith(metric + "{") and not line.startswith(metric + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{metric} {labels} not in the scrape")


def test_metrics_need_the_token(client, db):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_business_metrics_follow_the_items_runs_and_reviews(client, tenant, member, eager_tasks, run_on_commit):
    from automations.execution.services import intake

    team = make_team(member)
    live_use_case(tenant, team, key="belege")
    for text in ("Rechnung Nr. 1", "Mahnung zur Rechnung", "irgendwas ohne Regel"):
        run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                      payload={"text": text})
    heartbeat_record(name="w1@h", kind=Heartbeat.Kind.WORKER, pid=7, queues="celery,maintenance")
    text = scrape(client)
    from automations.models import WorkItem

    for status in set(WorkItem.objects.values_list("status", flat=True)):
        expected = WorkItem.objects.filter(status=status).count()
        assert value(text, "leitplanke_work_items", tenant="muster", use_case="belege", status=status) == expected
    assert value(text, "leitplanke_runs", status="succeeded") == 3
    assert value(text, "leitplanke_step_runs_last_hour", step="route", outcome="ok") == 3
    assert value(text, "leitplanke_runs_finished_15m") == 3
    reviews = WorkItem.objects.filter(status__in=("review", "clarification")).count()
    assert reviews, "the rules leave at least one item to a clerk"
    open_tasks = ReviewTask.objects.filter(state__in=OPEN_TASK_STATES)
    assert open_tasks.filter(item__status__in=("review", "clarification")).values("item").distinct().count() == reviews
    for row in open_tasks.values("queue__name", "queue__kind").annotate(n=Count("id")):
        assert value(text, "leitplanke_review_backlog", tenant="muster", queue=row["queue__name"],
                     kind=row["queue__kind"]) == row["n"]
    backlog = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith("leitplanke_review_backlog{"))
    assert backlog == open_tasks.count()
    assert value(text, "leitplanke_heartbeat_age_seconds", kind="worker", name="w1@h") < 60
    assert value(text, "leitplanke_database_up") == 1
    assert value(text, "leitplanke_broker_up") == 1
    assert re.search(r"^leitplanke_queue_depth\{queue=\"celery\"\} \d", text, re.M)
    # django-prometheus' request metrics of this process
    assert "django_http_requests_total_by_method_total" in text


def test_deliveries_and_connector_breakers_are_counted(client, tenant, team, eager_tasks, run_on_commit):
    from automations.choices import DeliveryStatus
    from automations.connectors.models import ConnectorCircuit, Delivery
    from automations.execution.services import intake
    from tests.automations.connectors.conftest import webhook_connector
    from tests.automations.connectors.receiver import Receiver, new_secret
    from tests.automations.factories import make_rules_use_case

    use_case = make_rules_use_case(tenant, team)
    receiver = Receiver(new_secret())
    receiver.stop()  # the target system is down: deliveries fail and the connector's breaker opens
    webhook_connector(tenant, team, use_case, receiver, max_attempts=5, circuit_failures=2, circuit_cooldown=60)
    for n in range(3):
        run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                      payload={"text": f"Rechnung Rechnungsnummer {n}"})
    assert ConnectorCircuit.objects.get(entry__key="erp").state == "open"
    waiting = Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).count()
    assert waiting == Delivery.objects.count() == 3

    text = scrape(client)
    assert value(text, "leitplanke_connector_circuit", tenant="muster", connector="erp", state="open") == 1
    for status in set(Delivery.objects.values_list("status", flat=True)):
        assert value(text, "leitplanke_deliveries", tenant="muster", connector="erp",
                     status=status) == Delivery.objects.filter(status=status).count()
    assert "leitplanke_deliveries_overdue" in text  # none overdue yet: the family is there, without samples
