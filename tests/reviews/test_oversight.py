"""Oversight evidence: time on task and override rates per queue, the rubber-stamping flag, groups
below the tenant's minimum size hidden, and figures per person only under a works agreement."""
import pytest
from django.urls import reverse

from automations.models import TenantPolicy
from automations.registry.services.use_cases import tenant_policy_ensure
from portal.choices import Role
from reviews.choices import DecisionAction
from reviews.models import ReviewDecision
from reviews.oversight import OversightSettings, oversight_report
from reviews.services import BULK_COMMENT
from tests.access import login
from tests.reviews.world import make_review_tasks

pytestmark = pytest.mark.django_db
CONFIG = OversightSettings(reading_seconds=30, fast_share=0.25, max_override_rate=0.02, min_decisions=30)


def policy(tenant, **values):
    tenant_policy_ensure(tenant=tenant)
    TenantPolicy.objects.filter(tenant=tenant).update(**values)


def decide(task, actor, *, ms, override=False, bulk=False):
    action = DecisionAction.CORRECT if override else DecisionAction.APPROVE
    return ReviewDecision.objects.create(
        tenant=task.tenant, task=task, item=task.item, actor=actor, action=action, time_on_task_ms=ms,
        diff={"document_class": {"suggested": "invoice", "final": "other"}} if override else {},
        comment=BULK_COMMENT if bulk else "")


@pytest.fixture
def people(world, member):
    return [world["team"]["clerk"], world["team"]["clerk_2"]] + [
        member(Role.CLERK, username=f"sb{n}") for n in range(3)]


def _fill(world, people, count, *, ms, overrides=0):
    tasks = make_review_tasks(world["use_case"], count, start=100)
    for n, task in enumerate(tasks):
        decide(task, people[n % len(people)], ms=ms, override=n < overrides)
    return world["queue"]


def _queue(report, queue):
    return next(e for e in report.queues if e.queue == queue)


def test_fast_decisions_without_overrides_are_flagged(world, people):
    policy(world["tenant"], min_group_size=5)
    queue = _fill(world, people, 40, ms=2_000)
    figures = _queue(oversight_report(tenant=world["tenant"], config=CONFIG), queue).figures
    assert figures.decisions == 40 and figures.people == 5 and figures.median_ms == 2_000
    assert figures.override_rate == 0 and figures.rubber_stamping


@pytest.mark.parametrize("ms, overrides, decisions, flagged", [
    (2_000, 4, 40, False),  # 10 % overrides: people do look
    (25_000, 0, 40, False),  # they take their time
    (2_000, 0, 20, False),  # too few decisions to say
])
def test_no_flag_where_the_review_looks_real(world, people, ms, overrides, decisions, flagged):
    policy(world["tenant"], min_group_size=5)
    queue = _fill(world, people, decisions, ms=ms, overrides=overrides)
    figures = _queue(oversight_report(tenant=world["tenant"], config=CONFIG), queue).figures
    assert figures.rubber_stamping is flagged


def test_override_rate_counts_corrections_and_rejections(world, people):
    policy(world["tenant"], min_group_size=2)
    tasks = make_review_tasks(world["use_case"], 4, start=200)
    decide(tasks[0], people[0], ms=40_000, override=True)
    ReviewDecision.objects.create(tenant=tasks[1].tenant, task=tasks[1], item=tasks[1].item, actor=people[1],
                                  action=DecisionAction.REJECT, comment="falsch", time_on_task_ms=30_000)
    decide(tasks[2], people[0], ms=10_000)
    ReviewDecision.objects.create(tenant=tasks[3].tenant, task=tasks[3], item=tasks[3].item, actor=people[1],
                                  action=DecisionAction.ESCALATE, comment="unklar")  # not a judgement
    figures = _queue(oversight_report(tenant=world["tenant"], config=CONFIG), world["queue"]).figures
    assert figures.decisions == 3 and figures.overrides == 2 and figures.median_ms == 30_000


def test_bulk_approvals_do_not_count_as_reading_time(world, people):
    policy(world["tenant"], min_group_size=2)
    tasks = make_review_tasks(world["use_case"], 3, start=300)
    decide(tasks[0], people[0], ms=20_000)
    decide(tasks[1], people[1], ms=0, bulk=True)
    decide(tasks[2], people[1], ms=0, bulk=True)
    figures = _queue(oversight_report(tenant=world["tenant"], config=CONFIG), world["queue"]).figures
    assert figures.bulk == 2 and figures.median_ms == 20_000


def test_groups_smaller_than_the_minimum_are_never_shown(client, world, people):
    policy(world["tenant"], min_group_size=5, works_agreement_reference="BV 2026/03 KI-Assistenz")
    tasks = make_review_tasks(world["use_case"], 8, start=400)
    for n, task in enumerate(tasks):
        decide(task, people[n % 2], ms=5_000)  # two people only
    report = oversight_report(tenant=world["tenant"], config=CONFIG)
    entry = _queue(report, world["queue"])
    assert entry.figures.hidden and entry.figures.median_ms is None and entry.people == []
    assert report.total.hidden
    login(client, world["team"]["works_council"], world["tenant"])
    page = client.get(reverse("reviews:oversight")).content.decode()
    assert "clerk_2" not in page and 'data-oversight-person' not in page


def test_people_only_with_a_works_agreement(client, world, people):
    policy(world["tenant"], min_group_size=5)
    _fill(world, people, 10, ms=8_000)
    assert _queue(oversight_report(tenant=world["tenant"], config=CONFIG), world["queue"]).people == []
    login(client, world["team"]["works_council"], world["tenant"])
    assert 'data-oversight-person' not in client.get(reverse("reviews:oversight")).content.decode()

    policy(world["tenant"], works_agreement_reference="BV 2026/03 KI-Assistenz")
    entry = _queue(oversight_report(tenant=world["tenant"], config=CONFIG), world["queue"])
    assert [name for name, _f in entry.people] == ["clerk", "clerk_2", "sb0", "sb1", "sb2"]
    assert all(f.decisions == 2 for _name, f in entry.people)
    page = client.get(reverse("reviews:oversight")).content.decode()
    assert 'data-oversight-person="clerk_2"' in page and "BV 2026/03" in page


def test_a_look_at_figures_per_person_is_recorded_naming_the_clerks(client, world, people):
    """Figures per person are the clerks' personal data: the page records one access event naming them (by
    pseudonym), and nothing while it shows groups only."""
    from audit.models import AccessEvent
    from audit.selectors.pseudonyms import pseudonym_lookup

    policy(world["tenant"], min_group_size=5)
    _fill(world, people, 10, ms=8_000)
    login(client, world["team"]["works_council"], world["tenant"])
    before = AccessEvent.objects.count()
    client.get(reverse("reviews:oversight"))
    assert AccessEvent.objects.count() == before
    policy(world["tenant"], works_agreement_reference="BV 2026/03 KI-Assistenz")
    client.get(reverse("reviews:oversight"))
    event, = AccessEvent.objects.order_by("id")[before:]
    assert (event.details["purpose"], event.details["people"], event.actor_user_id) == (
        "oversight", 5, world["team"]["works_council"].pk)
    clerk = pseudonym_lookup(tenant=world["tenant"], kind="name", identifier="clerk").pseudonym
    assert clerk in [event.details["subject"], *event.details["subjects"]]
