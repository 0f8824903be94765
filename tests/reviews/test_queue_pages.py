"""The queue page at scale: a constant number of queries however many tasks wait, keyset pages that
visit every task once in order, filters, and counts that stop at a cap."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from automations.choices import ItemStatus
from automations.models import TenantPolicy, WorkItem
from automations.registry.services.use_cases import tenant_policy_ensure
from reviews import selectors
from reviews.choices import TaskState
from reviews.models import ReviewQueue, ReviewTask
from tests.access import login

pytestmark = pytest.mark.django_db


def add_tasks(queue, use_case, count, *, priority=None, overdue_every=0, reasons=("Low confidence",)):
    """Fast bulk fill (the services are tested elsewhere): items and their open tasks."""
    now = timezone.now()
    items = WorkItem.objects.bulk_create([
        WorkItem(tenant=use_case.tenant, use_case=use_case, content_hash=f"bulk-{now.timestamp()}-{n}",
                 status=ItemStatus.REVIEW, payload={"text": f"Beleg {n}"},
                 fields={"document_class": {"value": "invoice", "confidence": 0.6, "reasons": []}})
        for n in range(count)])
    ReviewTask.objects.bulk_create([
        ReviewTask(tenant=use_case.tenant, queue=queue, item=item, use_case=use_case, state=TaskState.OPEN,
                   priority=priority or (n % 5) + 1, reasons=list(reasons),
                   due_at=now + (timedelta(hours=-1 - n) if overdue_every and n % overdue_every == 0
                                 else timedelta(hours=1 + n % 30, minutes=n)))
        for n, item in enumerate(items)])


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("bulk", [False, True], ids=["plain", "with bulk approval"])
def test_queue_page_queries_do_not_grow_with_the_queue(client, world, django_assert_max_num_queries, bulk):
    queue, use_case = world["queue"], world["use_case"]
    if bulk:
        ReviewQueue.objects.filter(pk=queue.pk).update(bulk_approval_allowed=True)
        tenant_policy_ensure(tenant=world["tenant"])
        TenantPolicy.objects.filter(tenant=world["tenant"]).update(bulk_approval_allowed=True)
    add_tasks(queue, use_case, 7)  # 10 with the world's three
    login(client, world["team"]["clerk"], world["tenant"])
    url = reverse("reviews:queue-detail", args=[queue.pk])
    client.get(url)  # the first look at the people on the page creates their pseudonyms, once
    with_ten = _count(client, url)
    # Pinned (Zulip's assert_database_query_count): the session, the user, their tenants and membership (once
    # for the middleware, the permission backend and the menu), the queue with the right to work it, its use
    # cases, the clearance, the page of tasks, their items and files, the access event, figures, held task and
    # today's work; bulk approval reads the policy and the items' fields besides.
    assert with_ten <= (21 if bulk else 19)
    # At most as many: the page's access event indexes the people it names, and a page of tasks without
    # people (the bulk fill's) needs a statement or two fewer for that.

    add_tasks(queue, use_case, 190)  # 200
    with django_assert_max_num_queries(with_ten):
        first = client.get(url)
    assert len(first.context["rows"]) == selectors.PAGE_SIZE
    cursor = first.context["page"].next_cursor
    with django_assert_max_num_queries(with_ten):  # a deeper page costs the same
        second = client.get(url + f"?after={cursor}")
    assert len(second.context["rows"]) == selectors.PAGE_SIZE
    with django_assert_max_num_queries(with_ten):
        filtered = client.get(url + "?priority=2&q=low")
    assert filtered.context["rows"] and {r["task"].priority for r in filtered.context["rows"]} == {2}


def test_overview_queries_do_not_grow_with_the_queue(client, world, django_assert_num_queries):
    login(client, world["team"]["clerk"], world["tenant"])
    url = reverse("reviews:queue-list")
    client.get(url)  # a process's first page fills its caches (content types and the like) once
    before = _count(client, url)
    add_tasks(world["queue"], world["use_case"], 300)
    with django_assert_num_queries(before):
        client.get(url)


@pytest.mark.parametrize("limit", [25, selectors.PAGE_SIZE], ids=["built per call", "the page's, compiled once"])
def test_keyset_pages_visit_every_task_once_in_order(world, limit):
    queue, use_case = world["queue"], world["use_case"]
    add_tasks(queue, use_case, 130, overdue_every=7)
    expected = list(ReviewTask.objects.filter(queue=queue, state=TaskState.OPEN)
                    .order_by("priority", "due_at", "id").values_list("pk", flat=True))
    seen, cursor = [], None
    while True:
        page = selectors.review_task_page(queue=queue, after=cursor, limit=limit)
        seen += [t.pk for t in page.tasks]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected and len(seen) == 133


def test_filters(world):
    queue, use_case = world["queue"], world["use_case"]
    add_tasks(queue, use_case, 40, overdue_every=4)
    add_tasks(queue, use_case, 3, priority=1, reasons=["Lieferant unbekannt"])
    now = timezone.now()

    def ids(**filters):
        page = selectors.review_task_page(queue=queue, filters=selectors.TaskFilters(**filters), limit=500, now=now)
        return {t.pk for t in page.tasks}

    open_tasks = ReviewTask.objects.filter(queue=queue, state=TaskState.OPEN)
    assert ids(priority=2) == set(open_tasks.filter(priority=2).values_list("pk", flat=True))
    assert ids(overdue=True) == set(open_tasks.filter(due_at__lt=now).values_list("pk", flat=True))
    assert len(ids(search="lieferant")) == 3
    assert ids(use_case_id=world["use_case"].pk) == set(open_tasks.values_list("pk", flat=True))
    assert ids(use_case_id=world["other_use_case"].pk) == set()
    assert ids(state=TaskState.CLAIMED) == set()


def test_a_bad_cursor_starts_from_the_top(world):
    page = selectors.review_task_page(queue=world["queue"], after="not-a-cursor")
    assert page.first and [t.pk for t in page.tasks] == [t.pk for t in world["tasks"]]


def test_counts_stop_at_the_cap(client, world, monkeypatch):
    add_tasks(world["queue"], world["use_case"], 12, overdue_every=1)
    monkeypatch.setattr(selectors, "COUNT_CAP", 10)
    figures = selectors.review_queue_figures(queue=world["queue"])
    assert figures.open.value == 10 and figures.open.capped
    assert figures.overdue.capped and figures.sla_status == "breached"
    login(client, world["team"]["clerk"], world["tenant"])
    page = client.get(reverse("reviews:queue-detail", args=[world["queue"].pk])).content.decode()
    assert 'id="figure-open">10+' in page.replace("\n", "")
