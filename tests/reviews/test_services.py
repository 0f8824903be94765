import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from automations.choices import ItemStatus, RiskTier
from automations.models import LabelledExample
from reviews import services
from reviews.choices import DecisionAction, QueueKind, TaskState
from reviews.models import ReviewTask
from tests.automations.factories import make_team, make_use_case
from tests.reviews.factories import clear, join_team, make_item, make_tasks


@pytest.fixture
def team(member):
    team = make_team(member)
    from portal.choices import Role

    team["clerk_2"] = member(Role.CLERK, username="clerk_2")
    return team


@pytest.fixture
def use_case(tenant, team):
    return make_use_case(tenant, team["automation_lead"], key="belege", output_fields=[
        {"name": "document_class", "type": "category", "choices": ["invoice", "reminder"]}])


@pytest.mark.django_db
def test_next_task_goes_by_priority_then_due_time(use_case, team):
    clear(team["clerk"], use_case, team["automation_lead"])
    later, urgent = make_tasks(use_case, 1, priority=3)[0], make_tasks(use_case, 1, priority=1)[0]
    got = services.review_task_claim_next(actor=team["clerk"], queue=urgent.queue)
    assert got == urgent and got.state == TaskState.CLAIMED and got.claimed_by == team["clerk"]
    assert services.review_task_claim_next(actor=team["clerk"], queue=later.queue) == later


@pytest.mark.django_db
def test_without_briefing_and_training_a_clerk_gets_nothing(use_case, team):
    task = make_tasks(use_case, 1)[0]
    with pytest.raises(PermissionDenied):  # the clerk role alone works no queue
        services.review_task_claim_next(actor=team["clerk"], queue=task.queue)
    join_team(team["clerk"], use_case, team["automation_lead"])
    assert services.review_task_claim_next(actor=team["clerk"], queue=task.queue) is None
    services.briefing_confirm(actor=team["clerk"], use_case=use_case)
    assert services.review_task_claim_next(actor=team["clerk"], queue=task.queue) is None  # training missing
    with pytest.raises(PermissionDenied):
        services.review_task_claim(actor=team["clerk"], task=task)
    services.training_record(actor=team["automation_lead"], use_case=use_case, user=team["clerk"], topic="Einweisung",
                             held_on=timezone.localdate())
    assert services.review_task_claim_next(actor=team["clerk"], queue=task.queue) == task


@pytest.mark.django_db
def test_a_changed_documentation_needs_a_new_briefing_confirmation(use_case, team):
    from automations.registry.services import use_cases

    clear(team["clerk"], use_case, team["automation_lead"])
    task = make_tasks(use_case, 1)[0]
    use_cases.use_case_update(actor=team["automation_lead"], use_case=use_case,
                              values={"manual_fallback": "Neues Vorgehen"}, reason="update")
    assert services.review_task_claim_next(actor=team["clerk"], queue=task.queue) is None


@pytest.mark.django_db
def test_works_council_may_not_work_queues(use_case, team):
    task = make_tasks(use_case, 1)[0]
    with pytest.raises(PermissionDenied):
        services.review_task_claim_next(actor=team["works_council"], queue=task.queue)


@pytest.mark.django_db
def test_claim_expires_and_the_task_returns(use_case, team):
    for clerk in ("clerk", "clerk_2"):
        clear(team[clerk], use_case, team["automation_lead"])
    task = make_tasks(use_case, 1)[0]
    services.review_task_claim_next(actor=team["clerk"], queue=task.queue)
    assert services.review_task_claim_next(actor=team["clerk_2"], queue=task.queue) is None
    assert services.review_claims_expire(now=timezone.now() + timedelta(minutes=16)) == 1
    task.refresh_from_db()
    assert task.state == TaskState.OPEN and task.claimed_by is None
    assert services.review_task_claim_next(actor=team["clerk_2"], queue=task.queue) == task


@pytest.mark.django_db
def test_release_gives_the_task_back(use_case, team):
    clear(team["clerk"], use_case, team["automation_lead"])
    task = services.review_task_claim_next(actor=team["clerk"], queue=make_tasks(use_case, 1)[0].queue)
    services.review_task_release(actor=team["clerk"], task=task)
    task.refresh_from_db()
    assert task.state == TaskState.OPEN and task.claimed_by is None


@pytest.mark.django_db
def test_correction_finalises_the_item_with_the_diff_and_becomes_an_example(use_case, team, tenant):
    from automations.registry.services import use_cases

    use_cases.use_case_update(actor=team["automation_lead"], use_case=use_case,
                              values={"training_reuse_allowed": True}, reason="purpose allows reuse")
    clear(team["clerk"], use_case, team["automation_lead"])
    task = services.review_task_claim_next(actor=team["clerk"], queue=make_tasks(use_case, 1)[0].queue)
    decision = services.review_task_decide(actor=team["clerk"], task=task, action=DecisionAction.CORRECT,
                                           final_values={"document_class": "reminder"})
    assert decision.diff == {"document_class": {"suggested": "invoice", "final": "reminder", "confidence": 0.6}}
    item = task.item
    item.refresh_from_db()
    assert item.status == ItemStatus.APPLIED
    assert item.fields["document_class"] == {"value": "reminder", "confidence": 0.6, "decided_by": "clerk"}
    example = LabelledExample.objects.get(item=item)
    assert example.labels == {"document_class": "reminder"} and example.source == "correction"


@pytest.mark.django_db
def test_no_training_example_without_purpose_for_reuse(use_case, team):
    clear(team["clerk"], use_case, team["automation_lead"])
    task = services.review_task_claim_next(actor=team["clerk"], queue=make_tasks(use_case, 1)[0].queue)
    services.review_task_decide(actor=team["clerk"], task=task, action=DecisionAction.CORRECT,
                                final_values={"document_class": "reminder"})
    assert not LabelledExample.objects.exists()


@pytest.mark.django_db
def test_high_risk_decision_waits_for_a_second_clerk(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"], key="hochrisiko", risk_tier=RiskTier.HIGH,
                             output_fields=[{"name": "document_class", "type": "category", "choices": ["invoice"]}])
    for clerk in ("clerk", "clerk_2"):
        clear(team[clerk], use_case, team["automation_lead"])
    task = services.review_task_claim_next(actor=team["clerk"], queue=make_tasks(use_case, 1)[0].queue)
    services.review_task_decide(actor=team["clerk"], task=task, action=DecisionAction.APPROVE)
    task.refresh_from_db()
    task.item.refresh_from_db()
    assert task.state == TaskState.AWAITING_SECOND_REVIEW and task.item.status == ItemStatus.REVIEW
    assert services.review_task_claim_next(actor=team["clerk"], queue=task.queue) is None  # not the same person
    second = services.review_task_claim_next(actor=team["clerk_2"], queue=task.queue)
    services.review_task_decide(actor=team["clerk_2"], task=second, action=DecisionAction.CONFIRM)
    task.refresh_from_db()
    task.item.refresh_from_db()
    assert task.state == TaskState.DONE and task.item.status == ItemStatus.APPLIED


@pytest.mark.django_db
def test_api_tokens_never_decide(use_case, team, tenant):
    from audit.actors import Actor
    from portal.services import api_token_create

    clear(team["clerk"], use_case, team["automation_lead"])
    token, _ = api_token_create(actor=team["clerk"], tenant=tenant, user=team["clerk"], name="x")
    task = services.review_task_claim_next(actor=Actor(user=team["clerk"], token=token),
                                           queue=make_tasks(use_case, 1)[0].queue)
    with pytest.raises(PermissionDenied):
        services.review_task_decide(actor=Actor(user=team["clerk"], token=token), task=task,
                                    action=DecisionAction.APPROVE)


@pytest.mark.django_db
def test_escalate_from_the_queue_needs_a_reason_and_reaches_the_contact(use_case, team):
    from django.core.exceptions import ValidationError

    from automations.models import Escalation
    from automations.registry.services import use_cases

    use_cases.use_case_update(actor=team["automation_lead"], use_case=use_case,
                              values={"escalation_contact": team["department_owner"]}, reason="contact")
    clear(team["clerk"], use_case, team["automation_lead"])
    task = services.review_task_claim_next(actor=team["clerk"], queue=make_tasks(use_case, 1)[0].queue)
    with pytest.raises(ValidationError):
        services.review_task_decide(actor=team["clerk"], task=task, action=DecisionAction.ESCALATE)
    services.review_task_decide(actor=team["clerk"], task=task, action=DecisionAction.ESCALATE,
                                comment="Lieferant unbekannt, Betrag ungewöhnlich")
    assert Escalation.objects.get(item=task.item).contact == team["department_owner"]


@pytest.mark.django_db
def test_sample_check_takes_the_configured_share(use_case):
    item = make_item(use_case, status=ItemStatus.APPLIED)
    assert services.sample_check_maybe(item=item, share=0.1, draw=lambda: 0.5) is None
    task = services.sample_check_maybe(item=item, share=0.1, draw=lambda: 0.05)
    assert task.queue.kind == QueueKind.SAMPLE_CHECK


@pytest.mark.django_db(transaction=True)
def test_concurrent_clerks_never_hold_the_same_task(tenant, member):
    """Eight clerks call "next task" at the same moment, repeatedly: every task is handed out once."""
    from portal.choices import Role

    team = make_team(member)
    use_case = make_use_case(tenant, team["automation_lead"], key="parallel", output_fields=[
        {"name": "document_class", "type": "category", "choices": ["invoice"]}])
    clerks = [member(Role.CLERK, username=f"parallel_clerk_{i}") for i in range(8)]
    for clerk in clerks:
        clear(clerk, use_case, team["automation_lead"])
    queue = make_tasks(use_case, 40)[0].queue
    got, errors = [], []
    barrier = threading.Barrier(len(clerks))

    def work(clerk):
        try:
            barrier.wait()
            for _ in range(5):
                task = services.review_task_claim_next(actor=clerk, queue=queue)
                if task is not None:
                    got.append(task.pk)
        except Exception as exc:  # noqa: BLE001 - surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in clerks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 40 and len(set(got)) == 40
    assert ReviewTask.objects.filter(queue=queue, state=TaskState.CLAIMED).count() == 40


@pytest.mark.django_db
def test_a_restricted_item_is_claimed_by_nobody(use_case, team):
    from automations.models import WorkItem

    clear(team["clerk"], use_case, team["automation_lead"])
    task = make_tasks(use_case, 1)[0]
    WorkItem.objects.filter(pk=task.item_id).update(restricted=True)  # as an erasure request restricts it
    assert services.review_task_claim_next(actor=team["clerk"], queue=task.queue) is None
    with pytest.raises(PermissionDenied):
        services.review_task_claim(actor=team["clerk"], task=task)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["auditor", "works_council", "data_protection_officer"])
def test_read_only_roles_read_the_briefing_but_confirm_nothing(use_case, team, role):
    from reviews.models import BriefingConfirmation

    with pytest.raises(PermissionDenied):
        services.briefing_confirm(actor=team[role], use_case=use_case)
    assert not BriefingConfirmation.objects.exists()


@pytest.mark.django_db
def test_someone_granted_a_queue_of_the_use_case_confirms_its_briefing(use_case, team):
    queue = services.review_queue_ensure(use_case=use_case, kind=QueueKind.REVIEW)
    owner = team["department_owner"]
    with pytest.raises(PermissionDenied):
        services.briefing_confirm(actor=owner, use_case=use_case)
    services.review_queue_assign(actor=team["automation_lead"], queue=queue, user=owner)
    assert services.briefing_confirm(actor=owner, use_case=use_case).user == owner
