"""Object permissions that mean something: a clerk works the queues granted to their team (a department)
or to them alone, and sees only those queues, their tasks and their use cases' items — in the pages and
the API; lists hold no row of another team. No role grants a queue for the whole tenant."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from portal.choices import Role
from portal.services import api_token_create
from reviews import selectors, services
from reviews.choices import QueueKind
from reviews.models import ReviewQueue
from tests.access import login
from tests.automations.factories import make_team, make_use_case
from tests.reviews.factories import clear
from tests.reviews.world import INPUTS, OUTPUTS, make_review_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_teams(tenant, member):
    """Buchhaltung (invoices, clerk a) and Kundenservice (tickets, clerk b), each with open tasks."""
    team = make_team(member)
    lead = team["automation_lead"]
    team["clerk_b"] = member(Role.CLERK, username="clerk_b")
    invoices = make_use_case(tenant, lead, key="rechnungen", department="Buchhaltung", input_fields=INPUTS,
                             output_fields=OUTPUTS, data_subjects=["Lieferanten"])
    tickets = make_use_case(tenant, lead, key="tickets", department="Kundenservice", input_fields=INPUTS,
                            output_fields=OUTPUTS, data_subjects=["Kunden"])
    clear(team["clerk"], invoices, lead)
    clear(team["clerk_b"], tickets, lead)
    a_tasks = make_review_tasks(invoices, 2, payload={"text": "Rechnung A", "sender_email": "a@example.org"})
    b_tasks = make_review_tasks(tickets, 2, start=10, payload={"text": "Ticket B", "sender_email": "b@example.org"})
    return {"team": team, "invoices": invoices, "tickets": tickets, "a": a_tasks, "b": b_tasks}


def _bearer(user, tenant):
    token = api_token_create(actor=user, tenant=tenant, user=user, name="t")[1]
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_clerk_of_one_team_sees_nothing_of_the_other_teams_queues_and_items_in_the_pages(client, tenant,
                                                                                         two_teams):
    a_task, b_task = two_teams["a"][0], two_teams["b"][0]
    login(client, two_teams["team"]["clerk"], tenant)
    queues = client.get(reverse("reviews:queue-list")).content.decode()
    assert a_task.queue.name in queues and b_task.queue.name not in queues
    assert client.get(reverse("reviews:queue-detail", args=[a_task.queue.pk])).status_code == 200
    assert client.get(reverse("reviews:queue-detail", args=[b_task.queue.pk])).status_code == 404
    assert client.get(reverse("reviews:task-detail", args=[a_task.pk])).status_code == 200
    assert client.get(reverse("reviews:task-detail", args=[b_task.pk])).status_code == 404
    assert client.post(reverse("reviews:task-claim", args=[b_task.pk])).status_code == 404
    assert client.post(reverse("reviews:queue-next", args=[b_task.queue.pk])).status_code == 404
    items = client.get(reverse("work:item-list")).content.decode()
    assert str(a_task.item_id) in items and str(b_task.item_id) not in items
    assert str(b_task.item_id) not in client.get(reverse("work:item-list") + "?use_case=tickets").content.decode()
    assert client.get(reverse("work:item-detail", args=[b_task.item_id])).status_code == 404
    assert client.get(reverse("work:item-detail", args=[a_task.item_id])).status_code == 200
    home = client.get(reverse("portal:home")).content.decode()
    assert b_task.queue.name not in home


def test_a_clerk_of_one_team_sees_nothing_of_the_other_teams_queues_and_items_over_the_api(client, tenant,
                                                                                         two_teams):
    a_task, b_task = two_teams["a"][0], two_teams["b"][0]
    headers = _bearer(two_teams["team"]["clerk"], tenant)
    queues = client.get(reverse("api:review-queue-list"), **headers).json()["results"]
    assert a_task.queue.pk in {q["id"] for q in queues} and b_task.queue.pk not in {q["id"] for q in queues}
    assert client.get(reverse("api:review-queue-detail", args=[b_task.queue.pk]), **headers).status_code == 404
    assert client.get(reverse("api:review-task-detail", args=[b_task.pk]), **headers).status_code == 404
    assert client.get(reverse("api:review-task-detail", args=[a_task.pk]), **headers).status_code == 200
    listed = client.get(reverse("api:review-task-list") + f"?queue={b_task.queue.pk}", **headers)
    assert listed.status_code == 400 and "results" not in listed.json()  # not a queue of theirs
    items = client.get(reverse("api:work-item-list"), **headers).json()["results"]
    assert {i["use_case"] for i in items} == {"rechnungen"} and len(items) == 2
    assert client.get(reverse("api:work-item-detail", args=[b_task.item_id]), **headers).status_code == 404
    assert client.post(reverse("api:review-task-claim", args=[b_task.pk]), **headers).status_code == 404


def test_the_clerk_role_alone_works_no_queue_and_sees_none(client, tenant, two_teams, member):
    newcomer = member(Role.CLERK, username="neu")
    queue = two_teams["a"][0].queue
    assert not selectors.review_queue_list(tenant=tenant, user=newcomer).exists()
    assert not selectors.may_work_queue(user=newcomer, queue=queue)
    with pytest.raises(PermissionDenied):
        services.review_task_claim_next(actor=newcomer, queue=queue)
    login(client, newcomer, tenant)
    assert client.get(reverse("work:item-detail", args=[two_teams["a"][0].item_id])).status_code == 404


def test_the_tenant_wide_readers_see_both_teams(tenant, two_teams):
    for role in ("automation_lead", "it_operator", "data_protection_officer", "auditor"):
        user = two_teams["team"][role]
        assert selectors.review_queue_list(tenant=tenant, user=user).count() == 2, role


def test_a_team_works_the_queues_of_its_department_created_later_too(tenant, two_teams):
    clerk = two_teams["team"]["clerk"]
    later = services.review_queue_ensure(use_case=two_teams["invoices"], kind=QueueKind.SAMPLE_CHECK)
    assert selectors.may_work_queue(user=clerk, queue=later)
    assert not selectors.may_work_queue(user=two_teams["team"]["clerk_b"], queue=later)


def test_taking_a_clerk_out_of_the_team_closes_its_queues_and_items_and_both_are_audited(tenant, two_teams):
    team, lead = two_teams["team"], two_teams["team"]["automation_lead"]
    clerk = team["clerk"]
    granted = AuditEvent.objects.get(event_type="review_team.granted", details__user_id=clerk.pk)
    assert granted.details["personal_data"] is True and granted.details["team"] == "Buchhaltung"
    assert services.review_team_revoke(actor=lead, tenant=tenant, name="Buchhaltung", user=clerk) is True
    assert services.review_team_revoke(actor=lead, tenant=tenant, name="Buchhaltung", user=clerk) is False
    assert not selectors.review_queue_list(tenant=tenant, user=clerk).exists()
    assert AuditEvent.objects.filter(event_type="review_team.revoked", details__user_id=clerk.pk).count() == 1


def test_a_single_queue_is_granted_and_taken_away_without_the_team(tenant, two_teams):
    lead, clerk = two_teams["team"]["automation_lead"], two_teams["team"]["clerk"]
    queue = two_teams["b"][0].queue
    assert services.review_queue_assign(actor=lead, queue=queue, user=clerk) is True
    assert services.review_queue_assign(actor=lead, queue=queue, user=clerk) is False
    assert set(selectors.review_queue_list(tenant=tenant, user=clerk)) >= {queue}
    assert services.review_queue_unassign(actor=lead, queue=queue, user=clerk) is True
    assert queue not in set(selectors.review_queue_list(tenant=tenant, user=clerk))
    event = AuditEvent.objects.get(event_type="review_queue.assigned", details__user_id=clerk.pk)
    assert event.details["personal_data"] is True


def test_only_the_automation_lead_grants_and_only_to_members(tenant, two_teams, make_tenant, make_user):
    team = two_teams["team"]
    queue = two_teams["a"][0].queue
    for role in ("department_owner", "clerk", "data_protection_officer"):
        with pytest.raises(PermissionDenied):
            services.review_team_grant(actor=team[role], tenant=tenant, name="Kundenservice", user=team["clerk"])
        with pytest.raises(PermissionDenied):
            services.review_queue_assign(actor=team[role], queue=queue, user=team["clerk_b"])
    outsider = make_user("fremd", tenant=make_tenant(), roles=[Role.CLERK])
    with pytest.raises(ValidationError):
        services.review_team_grant(actor=team["automation_lead"], tenant=tenant, name="Buchhaltung", user=outsider)
    assert not ReviewQueue.objects.filter(pk=queue.pk, tenant=tenant).exclude(team="Buchhaltung").exists()
