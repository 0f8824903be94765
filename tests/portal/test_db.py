"""The PostgreSQL backend's health check (portal.db.postgresql): no round trip on a healthy connection, the
connection replaced when the server ended it. And several rows in one statement (portal.db.inserts)."""
import time
from unittest import mock

import pytest
from django.db import connection, connections

from automations.models import Run, WorkItem
from portal.db.inserts import insert_together
from tests.automations.factories import make_team, make_use_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_connection():
    """A connection of its own, in autocommit and idle, as a web worker's is between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _next_request(wrapper) -> None:
    wrapper.health_check_done = False  # what Django does at the end of each request (close_if_unusable_or_obsolete)


def test_a_healthy_idle_connection_is_kept_without_a_statement(own_connection):
    assert own_connection.health_check_enabled
    _next_request(own_connection)
    with mock.patch.object(type(own_connection), "is_usable", side_effect=AssertionError("a round trip")):
        own_connection.close_if_health_check_failed()
    assert own_connection.connection is not None and own_connection.health_check_done


def test_a_connection_the_server_ended_is_replaced_before_the_next_statement(own_connection):
    with own_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's notice and the closed socket arrive
    _next_request(own_connection)
    with own_connection.cursor() as cursor:  # the health check runs before the first statement
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_rows_that_name_each_other_are_written_in_one_statement(tenant, member, django_assert_num_queries):
    team = make_team(member)
    use_case = make_use_case(tenant, team["automation_lead"])
    item = WorkItem(tenant=tenant, use_case=use_case, content_hash="0" * 64, payload={"text": "Rechnung"})
    run = Run(tenant=tenant, item=item)
    with django_assert_num_queries(1):
        insert_together([item, run])
    assert run.pk is not None  # the database's id, returned
    assert Run.objects.get(pk=run.pk).item.payload == {"text": "Rechnung"}
