"""The pipeline when the broker or the database cannot be reached (DESIGN, "API errors"): a committed item is
never lost or failed for want of a broker, the reaper sends it, and its wait is bounded by the lease."""
from datetime import timedelta
from unittest import mock

import kombu.exceptions
import pytest
from django import db
from django.utils import timezone

from automations.choices import ItemStatus, RunStatus, RunTrigger
from automations.execution.services import intake
from automations.execution.services import runs as pipeline
from automations.execution.tasks import process_run_task
from automations.models import Run
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db


def broker_down():
    return mock.patch.object(process_run_task, "apply_async",
                             side_effect=kombu.exceptions.OperationalError("Error 111 connecting to redis"))


def test_an_item_whose_task_cannot_be_sent_stays_received_and_is_due_for_the_reaper(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    with broker_down():
        item, created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                      use_case_key="belege", payload={"text": "Rechnung Rechnungsnummer"})
    assert created
    item.refresh_from_db()
    run = item.runs.get()
    assert item.status == ItemStatus.RECEIVED and run.status == RunStatus.QUEUED
    assert run.lease_expires_at <= timezone.now()  # the reaper's next pass sends it, not one after the grace
    # The broker is back: the reaper's pass sends it and the item is processed.
    assert run_on_commit(pipeline.runs_reap) == 1
    item.refresh_from_db()
    run.refresh_from_db()
    assert item.status == ItemStatus.APPLIED and run.attempt == 1 and run.trigger == RunTrigger.REAPER


def test_the_reaper_sending_into_a_broker_still_down_tries_again_next_pass(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    with broker_down():
        item, _ = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                use_case_key="belege", payload={"text": "Rechnung Rechnungsnummer"})
        assert run_on_commit(pipeline.runs_reap) == 1
        assert run_on_commit(pipeline.runs_reap) == 1
    item.refresh_from_db()
    assert item.status == ItemStatus.RECEIVED and item.runs.get().attempt == 1  # waiting costs no attempt


def test_the_reapers_wait_for_an_old_queued_run_is_bounded_by_the_lease(tenant, team, settings):
    make_rules_use_case(tenant, team)
    settings.RUN_LEASE_SECONDS, settings.RUN_DISPATCH_SECONDS = 120, 30
    from portal.celery import app

    app.conf.task_always_eager = False
    try:
        with mock.patch.object(process_run_task, "apply_async"):  # a message the broker then loses
            item, _ = intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                                              payload={"text": "Rechnung Rechnungsnummer"})
            now = timezone.now()
            # An item queued an hour ago: its wait would grow to another hour if it followed the item's age.
            Run.objects.filter(item=item).update(created_at=now - timedelta(hours=1),
                                                 lease_expires_at=now - timedelta(seconds=1))
            assert pipeline.runs_reap(now=now) == 1
    finally:
        app.conf.task_always_eager = True
    run = item.runs.get()
    assert run.lease_expires_at == now + timedelta(seconds=120)


def test_a_task_that_cannot_reach_the_database_is_retried_with_backoff_not_failed():
    assert db.OperationalError in process_run_task.autoretry_for
    assert db.InterfaceError in process_run_task.autoretry_for
    assert kombu.exceptions.OperationalError in process_run_task.autoretry_for
    assert process_run_task.max_retries is None and process_run_task.retry_backoff


def test_a_retry_of_the_same_task_costs_the_run_no_attempt(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    from portal.celery import app

    app.conf.task_always_eager = False
    try:
        with mock.patch.object(process_run_task, "apply_async"):
            item, _ = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                    use_case_key="belege", payload={"text": "Rechnung Rechnungsnummer"})
    finally:
        app.conf.task_always_eager = True
    run = item.runs.get()
    # The task started the run, then lost the database mid-way; Celery retries it under the same id.
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, task_id="t-1",
                                         lease_expires_at=timezone.now() + timedelta(minutes=5))
    pipeline.run_execute(run_id=run.pk, task_id="t-1", retry=1)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.attempt == 1


def test_runs_of_a_dead_embedded_worker_are_released_to_the_reaper_at_once(tenant, team, settings, run_on_commit):
    make_rules_use_case(tenant, team)
    settings.RUN_LEASE_SECONDS = 20 * 60
    from portal.celery import app

    app.conf.task_always_eager = False
    try:
        with mock.patch.object(process_run_task, "apply_async"):
            item, _ = intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                                              payload={"text": "Rechnung Rechnungsnummer"})
    finally:
        app.conf.task_always_eager = True
    run = item.runs.get()
    taken, _ = intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                                       payload={"text": "Gutschrift"})
    taken_run = taken.runs.get()  # queued: the worker that died had taken its message, not yet started it
    finished = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                             use_case_key="belege", payload={"text": "Lieferschein"})[0].runs.get()
    now = timezone.now()
    # The worker took the run and died with it: its lease would hold it for twenty minutes.
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, task_id="gone",
                                         lease_expires_at=now + timedelta(minutes=20))
    assert pipeline.runs_orphaned_release(now=now) == 2
    with mock.patch.object(process_run_task, "apply_async"):
        assert pipeline.runs_reap(now=now) == 2
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED and run.attempt == 2 and run.trigger == RunTrigger.REAPER
    taken_run.refresh_from_db()  # sent again without costing an attempt
    assert taken_run.status == RunStatus.QUEUED and taken_run.attempt == 1 and taken_run.trigger == RunTrigger.REAPER
    finished.refresh_from_db()
    assert finished.status == RunStatus.SUCCEEDED  # a finished run is no business of the release
