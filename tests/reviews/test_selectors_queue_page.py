"""The queue page reads its queue and the user's reach to it in one prepared query instead of guardian's
querysets: for every kind of person and every queue it must answer exactly as review_queue_get (seen or not)
and may_work_queue (may work or not) do."""
import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm

from automations.registry.models.use_cases import UseCase
from portal.choices import Role
from reviews import selectors, services
from reviews.choices import QueueKind
from reviews.models import ReviewQueue, ReviewTeam
from tests.automations.factories import make_use_case
from tests.conftest import in_tenant
from tests.reviews.world import INPUTS, OUTPUTS, make_review_tasks

pytestmark = pytest.mark.django_db


def _reach(selector, **kwargs):
    try:
        return selector(**kwargs)
    except ReviewQueue.DoesNotExist:
        return None


@pytest.fixture
def people(world, tenant, member, make_user):
    team, lead, use_case = world["team"], world["team"]["automation_lead"], world["use_case"]
    # A second queue of another department, granted to nobody yet, and a sample-check queue of the first.
    tickets = make_use_case(tenant, lead, key="tickets", department="Kundenservice", input_fields=INPUTS,
                            output_fields=OUTPUTS)
    make_review_tasks(tickets, 1, start=50)
    services.review_queue_ensure(use_case=use_case, kind=QueueKind.SAMPLE_CHECK)
    tickets_queue = selectors.review_queue_for_use_case(use_case=tickets)
    people = {name: team[name] for name in ("clerk", "uncleared", "department_owner", "automation_lead", "auditor")}
    people["newcomer"] = member(Role.CLERK, username="neu")  # the clerk role alone: no queue
    people["granted_alone"] = member(Role.CLERK, username="allein")
    services.review_queue_assign(actor=lead, queue=tickets_queue, user=people["granted_alone"])
    people["owner_by_grant"] = member(Role.CLERK, username="eigner")
    assign_perm("automations.change_usecase", people["owner_by_grant"], tickets)
    people["owner_by_team"] = member(Role.CLERK, username="teameigner")
    group = ReviewTeam.objects.get(tenant=tenant, name=world["use_case"].department).group
    group.user_set.add(people["owner_by_team"])
    people["it_contact"] = member(Role.CLERK, username="it_kontakt")
    tickets.it_contact = people["it_contact"]
    tickets.save(update_fields=["it_contact"])
    superuser = make_user("chef", tenant=tenant, roles=[Role.CLERK])
    get_user_model().objects.filter(pk=superuser.pk).update(is_superuser=True)
    superuser.refresh_from_db()
    people["superuser"] = superuser
    inactive = member(Role.CLERK, username="weg")
    services.review_queue_assign(actor=lead, queue=world["queue"], user=inactive)
    get_user_model().objects.filter(pk=inactive.pk).update(is_active=False)
    inactive.refresh_from_db()
    people["inactive"] = inactive
    people["other_tenant_lead"] = get_user_model().objects.get(username="lead_anders")
    return people


def test_the_page_sees_and_works_exactly_the_queues_the_scoped_selectors_allow(world, tenant, people):
    queues = list(ReviewQueue.objects.all().order_by("pk"))
    assert len(queues) == 4  # three of this tenant, one of the other
    seen_somewhere = worked_somewhere = 0
    for name, user in people.items():
        for queue in queues:
            in_tenant(user, tenant)
            expected = _reach(selectors.review_queue_get, tenant=tenant, user=user, pk=queue.pk)
            in_tenant(user, tenant)
            got = _reach(selectors.review_queue_get_for_page, tenant=tenant, user=user, pk=queue.pk)
            assert (got is None) == (expected is None), (name, queue.name, queue.tenant_id)
            if got is not None:
                in_tenant(user, tenant)
                assert got.may_work == selectors.may_work_queue(user=user, queue=queue), (name, queue.name)
                assert got.pk == queue.pk and got.tenant_id == tenant.pk
                seen_somewhere += 1
                worked_somewhere += got.may_work
    # The matrix is not empty on either side: some queues are seen, some worked, some refused.
    assert 0 < worked_somewhere < seen_somewhere < len(people) * len(queues)


def test_a_grant_taken_back_closes_the_page_at_once(world, tenant, people):
    user = people["granted_alone"]
    queue = selectors.review_queue_for_use_case(use_case=UseCase.objects.get(tenant=tenant, key="tickets"))
    in_tenant(user, tenant)
    assert selectors.review_queue_get_for_page(tenant=tenant, user=user, pk=queue.pk).may_work
    services.review_queue_unassign(actor=world["team"]["automation_lead"], queue=queue, user=user)
    in_tenant(user, tenant)
    with pytest.raises(ReviewQueue.DoesNotExist):
        selectors.review_queue_get_for_page(tenant=tenant, user=user, pk=queue.pk)


def test_the_pages_clearance_is_the_clearance_of_its_use_cases(world, tenant, people, member):
    queue = world["queue"]
    use_cases = selectors.review_queue_use_cases(queue=queue)
    for name in ("clerk", "uncleared", "newcomer", "granted_alone", "owner_by_team"):
        user = people[name]
        in_tenant(user, tenant)
        expected = [(c.use_case.pk, c.briefing_confirmed, c.trained)
                    for c in selectors.review_clearance(tenant=tenant, user=user, use_cases=use_cases)]
        got = [(c.use_case.pk, c.briefing_confirmed, c.trained)
               for c in selectors.review_queue_clearance(tenant=tenant, user=user, queue=queue, use_cases=use_cases)]
        assert got == expected, name
    cleared = [c.cleared for c in selectors.review_queue_clearance(tenant=tenant, user=people["clerk"], queue=queue,
                                                                   use_cases=use_cases)]
    assert cleared == [True]
    # The briefing changes: a confirmation of the one before is no confirmation of it.
    world["use_case"].manual_fallback = "Neu: per Telefon"
    world["use_case"].save(update_fields=["manual_fallback"])
    use_cases = selectors.review_queue_use_cases(queue=queue)
    assert [c.briefing_confirmed for c in selectors.review_queue_clearance(
        tenant=tenant, user=people["clerk"], queue=queue, use_cases=use_cases)] == [False]
