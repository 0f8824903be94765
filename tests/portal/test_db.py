"""The PostgreSQL backend's health check (portal.db.postgresql): no round trip on a healthy connection, the
connection replaced when the server ended it; statements prepared on the server by the cursor that asks for it.
Several new and changed rows in one statement (portal.db.writes), reads compiled once per process
(portal.db.prepared) and an UPDATE written once (portal.db.updates)."""
import time
import uuid
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from automations.choices import ItemStatus
from automations.models import Run, StepRun, Suggestion, WorkItem
from portal.db.inserts import _STATEMENTS, _insert_sql
from portal.db.prepared import PreparedQuery, prepared_cursor
from portal.db.updates import update_fields
from portal.db.writes import Update, write_together
from portal.models import ApiToken, Membership
from portal.services import api_token_create
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
        write_together([item, run])
    assert run.pk is not None  # the database's id, returned
    assert Run.objects.get(pk=run.pk).item.payload == {"text": "Rechnung"}


def test_an_insert_after_the_first_of_its_kind_sends_the_same_row(tenant, member, django_assert_num_queries):
    team = make_team(member)
    use_case = make_use_case(tenant, team["automation_lead"])
    _STATEMENTS.clear()
    first = WorkItem(tenant=tenant, use_case=use_case, content_hash="1" * 64, payload={"text": "eins"})
    write_together([first, Run(tenant=tenant, item=first)])
    assert len(_STATEMENTS) == 2  # the item's and the run's INSERT, kept
    second = WorkItem(tenant=tenant, use_case=use_case, content_hash="2" * 64, payload={"text": "zwei", "n": [1]},
                      external_id="R-2", reasons=["a"])
    run = Run(tenant=tenant, item=second)
    with django_assert_num_queries(1):
        write_together([second, run])
    stored = WorkItem.objects.get(pk=second.pk)
    assert (stored.payload, stored.external_id, stored.reasons, stored.content_hash) == (
        {"text": "zwei", "n": [1]}, "R-2", ["a"], "2" * 64)
    assert stored.created_at == second.created_at and Run.objects.get(pk=run.pk).item_id == second.pk
    # A value that is an expression is compiled as Django compiles it (and not kept).
    third = WorkItem(tenant=tenant, use_case=use_case, content_hash="3" * 64, payload={}, finalised_at=Now())
    write_together([third])
    assert WorkItem.objects.get(pk=third.pk).finalised_at is not None


def _compiled_values(obj) -> list:
    """The row's values as Django's compiler converts them (the first row of its kind is compiled)."""
    _STATEMENTS.clear()
    _sql, values, _returning = _insert_sql(obj, connection)
    return _shown(values)


def _shown(values) -> list:
    """By type and content: a JSON value by its object, a time only by its type (auto_now fills in the moment)."""
    return [(type(value), None if isinstance(value, datetime) else getattr(value, "obj", value)) for value in values]


def test_a_kept_insert_converts_each_value_as_the_compiler_does(tenant, member):
    team = make_team(member)
    use_case = make_use_case(tenant, team["automation_lead"])
    user = team["it_operator"]

    def rows(n: int) -> list:
        at = timezone.now()
        item = WorkItem(pk=uuid.UUID(int=n), tenant=tenant, use_case=use_case, content_hash=f"{n}" * 64,
                        payload={"text": "fünf", "n": [n]}, external_id="R-5", status=ItemStatus.RECEIVED,
                        created_by=user, reasons=["a"], idempotency_key=None)
        return [item, Run(tenant=tenant, item=item, attempt=2, lease_expires_at=at),
                AuditEvent(tenant=tenant, chain=str(tenant.pk), event_type="work_item.received", occurred_at=at,
                           actor_kind="user", actor_user_id=user.pk, sequence=7, hash_version=2,
                           object_type="automations.workitem", object_id=str(item.pk), details={"use_case": "x"})]

    for compiled, kept_row in zip(rows(5), rows(5), strict=True):
        expected = _compiled_values(compiled)  # compiled by Django and kept
        _sql, values, _returning = _insert_sql(kept_row, connection)  # the kept text, values converted per field
        assert _STATEMENTS  # kept
        assert _shown(values) == expected


_TOKEN = PreparedQuery(ApiToken, lambda prefix: (
    ApiToken.objects.select_related("user", "tenant").filter(prefix=prefix)
    .annotate(member_roles=Subquery(Membership.objects.filter(
        tenant=OuterRef("tenant"), user=OuterRef("user"), is_active=True).order_by().values("roles")[:1]))
    .order_by()[:1]), prefix=str)


def test_a_prepared_read_gives_what_the_queryset_gives(tenant, member, django_assert_num_queries):
    team = make_team(member)
    tokens = [api_token_create(actor=user, tenant=tenant, user=user, name=name)[0]
              for name, user in (("a", team["it_operator"]), ("b", team["automation_lead"]))]
    for token in tokens * 2:  # compiled on the first call, reused after
        with django_assert_num_queries(1):
            found = _TOKEN.first(prefix=token.prefix)
        expected = _TOKEN.build(prefix=token.prefix).get()
        assert found is not expected and found.pk == token.pk
        assert [getattr(found, f.attname) for f in ApiToken._meta.concrete_fields] == [
            getattr(expected, f.attname) for f in ApiToken._meta.concrete_fields]
        assert found.scopes == expected.scopes and isinstance(found.scopes, list)  # the JSON column converted
        assert found.member_roles == expected.member_roles and isinstance(found.member_roles, list)
        with django_assert_num_queries(0):  # user and tenant came with the row
            assert (found.user.username, found.tenant.slug) == (expected.user.username, expected.tenant.slug)
        assert found._state.adding is False and found._state.db == "default"
    assert _TOKEN.first(prefix="nothing-like-it") is None
    with pytest.raises(TypeError):
        _TOKEN.first()


def test_a_prepared_read_refuses_an_argument_that_is_not_a_parameter(tenant):
    ignored = PreparedQuery(ApiToken, lambda prefix: ApiToken.objects.filter(name="x"), prefix=str)
    with pytest.raises(ValueError, match="prefix"):
        ignored.first(prefix="abc")


_CREATED_AFTER = PreparedQuery(ApiToken, lambda tenant_id, since, pk: (
    ApiToken.objects.filter(tenant_id=tenant_id, created_at__gte=since)
    .filter(TupleGreaterThan(Tuple(F("tenant_id"), F("id")), (tenant_id, pk))).order_by("pk")),
    tenant_id=int, since=datetime, pk=int)


def test_a_prepared_read_takes_moments_and_the_drivers_typed_integers(tenant, member):
    team = make_team(member)
    tokens = [api_token_create(actor=team["it_operator"], tenant=tenant, user=team["it_operator"], name=str(n))[0]
              for n in range(3)]
    middle = tokens[1].created_at
    for since, after in ((middle, 0), (middle - timedelta(days=1), tokens[0].pk), (middle + timedelta(days=1), 0)):
        found = [t.pk for t in _CREATED_AFTER.all(tenant_id=tenant.pk, since=since, pk=after)]
        assert found == [t.pk for t in _CREATED_AFTER.build(tenant_id=tenant.pk, since=since, pk=after)]
    assert [t.pk for t in _CREATED_AFTER.all(tenant_id=tenant.pk, since=middle, pk=0)] == [t.pk for t in tokens[1:]]
    assert [t.pk for t in _CREATED_AFTER.all(tenant_id=tenant.pk, since=middle - timedelta(days=1),
                                             pk=tokens[0].pk)] == [t.pk for t in tokens[1:]]
    assert _CREATED_AFTER.all(tenant_id=tenant.pk, since=middle + timedelta(days=1), pk=0) == []


def _items(tenant, member, count: int) -> list[WorkItem]:
    team = make_team(member)
    use_case = make_use_case(tenant, team["automation_lead"])
    items = [WorkItem.objects.create(tenant=tenant, use_case=use_case, content_hash=f"{n}" * 64,
                                     payload={"text": f"Rechnung {n}"}) for n in range(count)]
    for item in items:
        Run.objects.create(tenant=tenant, item=item)
    return items


def test_update_fields_writes_only_the_fields_named(tenant, member):
    (item,) = _items(tenant, member, 1)
    other = WorkItem.objects.get(pk=item.pk)
    item.status, item.fields, item.reasons = "applied", {"a": {"value": 1}}, ["x"]
    other.payload = {"text": "changed elsewhere"}
    other.save(update_fields=["payload"])
    with CaptureQueriesContext(connection) as context:
        update_fields(item, ["status", "fields", "reasons"])
    assert len(context.captured_queries) == 1
    stored = WorkItem.objects.get(pk=item.pk)
    assert (stored.status, stored.fields, stored.reasons) == ("applied", {"a": {"value": 1}}, ["x"])
    assert stored.payload == {"text": "changed elsewhere"}  # not named: not written back


def test_update_fields_of_a_row_that_is_gone_raises(tenant, member):
    (item,) = _items(tenant, member, 1)
    run = Run.objects.get(item=item)
    Run.objects.filter(pk=run.pk).delete()
    run.status = "succeeded"
    with pytest.raises(DatabaseError):
        update_fields(run, ["status"])


def test_update_fields_refuses_a_model_whose_saves_others_listen_to(tenant):
    from automations.models import MasterRecord  # its history records are written by a post_save receiver

    record = MasterRecord.objects.create(tenant=tenant, kind="customer", number="K-1", name="Muster")
    record.name = "Muster GmbH"
    with pytest.raises(ValueError, match="save receivers"):
        update_fields(record, ["name"])
    assert MasterRecord.objects.get(pk=record.pk).name == "Muster"


def test_updates_and_new_rows_are_written_in_one_statement_in_order(tenant, member, django_assert_num_queries):
    (item,) = _items(tenant, member, 1)
    run = Run.objects.get(item=item)
    item.status, item.fields = "applied", {"document_class": {"value": "invoice"}}
    run.status, run.output_hash = "succeeded", "f" * 64
    steps = [StepRun(tenant=tenant, run=run, step=name, status="ok", attempt=1, details={"n": n})
             for n, name in enumerate(("check", "extract", "validate", "route"))]
    suggestion = Suggestion(tenant=tenant, run=run, item=item, field="document_class", value="invoice",
                            confidence=0.75, engine="rules", explanation="Regel")
    with django_assert_num_queries(1):
        write_together([Update(item, ("status", "fields")), suggestion, Update(run, ("status", "output_hash")),
                        *steps])
    assert (WorkItem.objects.get(pk=item.pk).status, Run.objects.get(pk=run.pk).output_hash) == ("applied", "f" * 64)
    stored = list(StepRun.objects.filter(run=run).order_by("pk"))
    assert [s.pk for s in steps] == [s.pk for s in stored]  # each row got its own id back, in the order given
    assert [(s.step, s.details) for s in stored] == [(s.step, s.details) for s in steps]
    assert Suggestion.objects.get(pk=suggestion.pk).value == "invoice"
    # A second time, the multi-row INSERT's text comes from what the first one built.
    more = [StepRun(tenant=tenant, run=run, step="deliver", status="skipped", attempt=1, details={}) for _ in range(3)]
    with django_assert_num_queries(1):
        write_together(more)
    assert StepRun.objects.filter(run=run).count() == 7 and all(s.pk for s in more)


def test_an_update_together_with_others_of_a_row_that_is_gone_raises_and_its_transaction_writes_nothing(tenant,
                                                                                                      member):
    first, second = _items(tenant, member, 2)
    run = Run.objects.get(item=second)
    Run.objects.filter(pk=run.pk).delete()
    first.status, run.status = "applied", "succeeded"
    with pytest.raises(DatabaseError, match="affected 0 rows"), transaction.atomic():
        write_together([Update(first, ("status",)), Update(run, ("status",))])
    assert WorkItem.objects.get(pk=first.pk).status == "received"



def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_prepared_cursor_prepares_its_statement_once_and_leaves_the_others_alone(settings, tenant):
    settings.DATABASE_PREPARED_STATEMENTS = True
    connection.ensure_connection()
    sql = "SELECT slug FROM portal_tenant WHERE id = %s"
    for _ in range(3):
        with CaptureQueriesContext(connection) as context, prepared_cursor() as cursor:
            cursor.execute(sql, [tenant.pk])
            assert cursor.fetchone() == (tenant.slug,)
        # Logged with its values, as every other statement (tests and DEBUG read the log).
        assert context.captured_queries[0]["sql"] == f"SELECT slug FROM portal_tenant WHERE id = {tenant.pk}"
    assert _prepared_statements().count("SELECT slug FROM portal_tenant WHERE id = $1") == 1
    assert connection.connection.prepare_threshold is None  # Django's: no other statement is prepared
    for _ in range(6):
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM portal_tenant WHERE id = %s", [tenant.pk])
    assert not any("SELECT name" in statement for statement in _prepared_statements())


def test_prepared_statements_can_be_turned_off_for_a_pooler_that_cannot_keep_them(settings, tenant):
    settings.DATABASE_PREPARED_STATEMENTS = False
    for _ in range(3):
        with prepared_cursor() as cursor:
            cursor.execute("SELECT slug FROM portal_tenant WHERE id = %s AND is_active", [tenant.pk])
    assert not any("is_active" in statement for statement in _prepared_statements())
