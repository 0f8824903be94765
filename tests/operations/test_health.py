"""The health report (/health/) and the liveness answer (/health/live/)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.actors import SYSTEM
from audit.models import AuditChainHead
from audit.services.events import audit_event_record
from operations.heartbeat import heartbeat_record
from operations.models import Heartbeat

TOKEN = "monitoring-token-for-tests"


@pytest.fixture(autouse=True)
def monitoring(settings, tmp_path):
    settings.MONITORING_TOKEN = TOKEN


def report(client, **headers):
    response = client.get("/health/?format=json", headers={"Authorization": f"Bearer {TOKEN}", **headers})
    return response.status_code, response.json()


def check(results: dict, name: str) -> str:
    [value] = [v for k, v in results.items() if k.startswith(name)]
    return value


def all_alive():
    heartbeat_record(name="worker1@host", kind=Heartbeat.Kind.WORKER, pid=1, queues="celery")
    heartbeat_record(name="maintenance@host", kind=Heartbeat.Kind.WORKER, pid=2, queues="maintenance")
    heartbeat_record(name="beat", kind=Heartbeat.Kind.BEAT, pid=3)


def test_the_report_needs_the_monitoring_token_or_a_superuser(client, db, django_user_model):
    assert client.get("/health/").status_code == 401
    assert client.get("/health/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    staff = django_user_model.objects.create_user("staff", password="Geheim-12345", is_staff=True)
    client.force_login(staff)
    assert client.get("/health/").status_code == 401
    admin = django_user_model.objects.create_superuser("root", password="Geheim-12345")
    client.force_login(admin)
    assert client.get("/health/?format=json").status_code in (200, 500)


def test_liveness_answers_anyone_and_tells_nothing(client, db):
    response = client.get("/health/live/")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_all_checks_pass_with_live_workers_and_beat(client, db, tenant):
    all_alive()
    status, results = report(client)
    assert status == 200, results
    for name in ("Web", "Database", "Broker", "WorkerHeartbeat", "Beat", "Disk", "AuditChainHead"):
        assert check(results, name) == "OK", (name, results)


def test_a_queue_without_a_live_worker_fails_the_report(client, db):
    all_alive()
    Heartbeat.objects.filter(queues="maintenance").update(seen_at=timezone.now() - timedelta(minutes=10))
    status, results = report(client)
    assert status == 500
    assert "no live worker consumes: maintenance" in check(results, "WorkerHeartbeat")
    assert check(results, "Beat") == "OK"


def test_beat_that_stopped_reporting_fails_the_report(client, db):
    all_alive()
    Heartbeat.objects.filter(kind=Heartbeat.Kind.BEAT).update(seen_at=timezone.now() - timedelta(minutes=10))
    status, results = report(client)
    assert status == 500
    assert "beat last reported" in check(results, "Beat")


def test_a_chain_head_that_does_not_match_its_newest_event_fails_the_report(client, db, tenant):
    all_alive()
    audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.created", obj=tenant)
    assert check(report(client)[1], "AuditChainHead") == "OK"
    AuditChainHead.objects.filter(chain=str(tenant.pk)).update(hash="0" * 64)
    status, results = report(client)
    assert status == 500
    assert "differs from the newest event" in check(results, "AuditChainHead")


def test_an_unreachable_broker_fails_the_report(client, db, settings):
    from portal.celery import app

    all_alive()
    previous = app.conf.broker_url, app.conf.broker_transport
    app.conf.broker_url, app.conf.broker_transport = "redis://127.0.0.1:1/0", None
    app._pool = None
    try:
        status, results = report(client)
    finally:
        app.conf.broker_url, app.conf.broker_transport = previous
        app._pool = None
    assert status == 500
    assert "broker unreachable" in check(results, "Broker")


def test_a_disk_above_the_configured_usage_is_reported(client, db, settings):
    all_alive()
    assert check(report(client)[1], "Disk") == "OK"
    settings.HEALTH_DISK_MAX_PERCENT = 0  # every folder's disk holds something, so each is now "too full"
    result = check(report(client)[1], "Disk")
    assert "disk usage above 0 %" in result and "var" in result and "media" in result, result
