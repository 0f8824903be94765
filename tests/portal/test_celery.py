"""portal.celery: a worker keeps its database connection across tasks (a new PostgreSQL backend per task cost a
pipeline run more than its statements) and drops it after a task that did not succeed."""
import pytest
from celery import signals
from django.conf import settings
from django.db import connection

from portal.celery import app
from portal.tasks import ping_task

pytestmark = pytest.mark.django_db(transaction=True)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the worker's connection handling is measured on PostgreSQL")


def test_celerys_django_fixup_is_told_to_reuse_connections():
    assert app.conf.get("CELERY_DB_REUSE_MAX") == settings.CELERY_DB_REUSE_MAX >= 100


def test_a_succeeded_task_leaves_the_connection_open_for_the_next_one():
    first = backend_pid()
    signals.task_postrun.send(sender=ping_task, task_id="t-1", task=ping_task, state="SUCCESS")
    signals.task_prerun.send(sender=ping_task, task_id="t-2", task=ping_task)
    assert connection.connection is not None
    assert backend_pid() == first


@pytest.mark.parametrize("state", ["FAILURE", "RETRY"])
def test_a_task_that_did_not_succeed_closes_the_connection(state):
    first = backend_pid()
    signals.task_postrun.send(sender=ping_task, task_id="t-1", task=ping_task, state=state)
    assert connection.connection is None
    assert backend_pid() != first


def test_a_connection_older_than_conn_max_age_is_replaced_before_the_next_task():
    first = backend_pid()
    connection.close_at = 0  # past its CONN_MAX_AGE
    signals.task_prerun.send(sender=ping_task, task_id="t-2", task=ping_task)
    assert backend_pid() != first
