"""The clerk's day through the pages, as plain form posts (no JavaScript): next task, correct, approve,
reject, escalate, clarify, release, the claim expiring, the briefing and training gate, four eyes,
bulk approval, documents and their access log."""
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from automations.choices import ItemStatus, RiskTier
from automations.execution.api.serializers import WorkItemSerializer
from automations.models import Escalation, LabelledExample, TenantPolicy
from automations.registry.services.use_cases import tenant_policy_ensure
from reviews import services
from reviews.choices import DecisionAction, QueueKind, TaskState
from reviews.models import ReviewDecision, ReviewQueue, ReviewTask
from tests.access import login
from tests.automations.factories import make_use_case
from tests.reviews.factories import clear
from tests.reviews.world import INPUTS, OUTPUTS, attach_file, make_review_tasks

pytestmark = pytest.mark.django_db


def _path(response) -> str:
    return urlsplit(response["Location"]).path


def _next(client, queue):
    return client.post(reverse("reviews:queue-next", args=[queue.pk]))


def _task_from(response) -> ReviewTask:
    pk = int(_path(response).rstrip("/").split("/")[-1])
    return ReviewTask.objects.get(pk=pk)


def _decide(client, task, action, comment="", **values):
    data = {"action": action, "comment": comment}
    for name, spec in task.item.fields.items():
        data[f"f_{name}"] = values.get(name, spec.get("value") or "")
    return client.post(reverse("reviews:task-decide", args=[task.pk]), data)


@pytest.fixture
def clerk(client, world):
    return login(client, world["team"]["clerk"], world["tenant"])


def test_next_task_opens_the_most_urgent_one_and_a_correction_leads_to_the_next(clerk, world):
    urgent = make_review_tasks(world["use_case"], 1, priority=1, start=50)[0]
    response = _next(clerk, world["queue"])
    assert _path(response) == reverse("reviews:task-detail", args=[urgent.pk])
    page = clerk.get(response["Location"])
    assert page.status_code == 200 and page.context["mode"] == "work"

    response = _decide(clerk, urgent, "correct", document_class="reminder")
    decision = ReviewDecision.objects.get(task=urgent)
    assert decision.action == DecisionAction.CORRECT
    assert decision.diff == {"document_class": {"suggested": "invoice", "final": "reminder", "confidence": 0.62}}
    urgent.item.refresh_from_db()
    assert urgent.item.status == ItemStatus.APPLIED and urgent.item.fields["document_class"]["value"] == "reminder"
    following = _task_from(response)
    assert following.pk != urgent.pk and following.claimed_by == world["team"]["clerk"]


def test_approve_confirms_only_unchanged_values_and_corrections_are_saved_with_c(clerk, world):
    first = _task_from(_next(clerk, world["queue"]))
    second = _task_from(_decide(clerk, first, "approve"))
    assert ReviewDecision.objects.get(task=first).action == DecisionAction.APPROVE
    assert ReviewDecision.objects.get(task=first).diff == {}
    refused = _decide(clerk, second, "approve", iban="DE02120300000000202051")
    assert refused.status_code == 400 and not ReviewDecision.objects.filter(task=second).exists()
    assert "als Korrektur" in refused.content.decode()
    _decide(clerk, second, "correct", iban="DE02120300000000202051")
    decision = ReviewDecision.objects.get(task=second)
    assert decision.action == DecisionAction.CORRECT and set(decision.diff) == {"iban"}


def test_reject_needs_a_reason(clerk, world):
    task = _task_from(_next(clerk, world["queue"]))
    response = _decide(clerk, task, "reject")
    assert response.status_code == 400 and response.context["form"].errors["comment"]
    task.refresh_from_db()
    assert task.state == TaskState.CLAIMED
    _decide(clerk, task, "reject", comment="Kein Beleg dieses Mandanten")
    task.item.refresh_from_db()
    assert task.item.status == ItemStatus.REJECTED


def test_escalate_with_a_reason_reaches_the_escalation_contact(clerk, world):
    task = _task_from(_next(clerk, world["queue"]))
    _decide(clerk, task, "escalate", comment="Betrag ungewöhnlich hoch")
    task.refresh_from_db()
    assert task.state == TaskState.ESCALATED
    assert Escalation.objects.get(item=task.item).contact == world["team"]["department_owner"]


def test_clarification_queue_says_what_is_missing(clerk, world):
    task = _task_from(_next(clerk, world["queue"]))
    _decide(clerk, task, "clarify", comment="Bestellnummer fehlt")
    clarification = ReviewTask.objects.get(item=task.item, queue__kind=QueueKind.CLARIFICATION)
    page = clerk.get(reverse("reviews:queue-detail", args=[clarification.queue_id]))
    assert "Bestellnummer fehlt" in page.content.decode()
    assert page.context["queue"].kind == QueueKind.CLARIFICATION


def test_release_gives_the_task_back(clerk, world):
    task = _task_from(_next(clerk, world["queue"]))
    response = clerk.post(reverse("reviews:task-release", args=[task.pk]))
    assert _path(response) == reverse("reviews:queue-detail", args=[world["queue"].pk])
    task.refresh_from_db()
    assert task.state == TaskState.OPEN and task.claimed_by is None


def test_a_skipped_task_goes_to_the_back_for_this_clerk_only(client, clerk, world):
    first = _task_from(_next(clerk, world["queue"]))
    response = clerk.post(reverse("reviews:task-release", args=[first.pk]), {"skip": "1"})
    second = _task_from(response)  # the next task opens at once, and it is another one
    assert second != first
    clerk.post(reverse("reviews:task-release", args=[second.pk]))  # given back: also not next for this clerk
    third = _task_from(_next(clerk, world["queue"]))
    assert third not in (first, second)
    _decide(clerk, third, "approve")
    assert _task_from(_next(clerk, world["queue"])) == first  # only skipped ones left: the earliest skipped first
    other = login(client.__class__(), world["team"]["clerk_2"], world["tenant"])
    assert _task_from(_next(other, world["queue"])) == second  # another clerk gets it in the usual order


def test_next_returns_the_task_the_clerk_already_holds(clerk, world):
    held = _task_from(_next(clerk, world["queue"]))
    assert _task_from(_next(clerk, world["queue"])) == held


def test_an_expired_claim_returns_the_task_to_another_clerk(client, world):
    login(client, world["team"]["clerk"], world["tenant"])
    task = _task_from(_next(client, world["queue"]))
    assert services.review_claims_expire(now=timezone.now() + timedelta(minutes=16)) == 1
    page = client.get(reverse("reviews:task-detail", args=[task.pk]))
    assert page.context["mode"] == "take"  # no longer the clerk's to decide
    assert _decide(client, task, "approve").status_code == 302
    assert not ReviewDecision.objects.filter(task=task).exists()
    login(client, world["team"]["clerk_2"], world["tenant"])
    assert _task_from(_next(client, world["queue"])) == task


def test_a_clerk_without_briefing_and_training_sees_why_and_gets_nothing(client, world):
    newcomer, lead = world["team"]["uncleared"], world["team"]["automation_lead"]
    login(client, newcomer, world["tenant"])
    page = client.get(reverse("reviews:queue-detail", args=[world["queue"].pk]))
    assert not page.context["can_claim"]
    assert [c.use_case for c in page.context["missing"]] == [world["use_case"]]
    assert reverse("reviews:briefing", args=["belege"]) in page.content.decode()
    response = _next(client, world["queue"])
    assert _path(response) == reverse("reviews:queue-detail", args=[world["queue"].pk])
    assert not ReviewTask.objects.filter(claimed_by=newcomer).exists()

    client.post(reverse("reviews:briefing-confirm", args=["belege"]))
    page = client.get(reverse("reviews:queue-detail", args=[world["queue"].pk]))
    assert [(c.briefing_confirmed, c.trained) for c in page.context["missing"]] == [(True, False)]

    login(client, lead, world["tenant"])
    response = client.post(reverse("reviews:trainings"), {"use_case": world["use_case"].pk, "user": newcomer.pk,
                                                         "topic": "Einweisung Belege", "held_on": "2026-11-20"})
    assert response.status_code == 302
    login(client, newcomer, world["tenant"])
    assert _task_from(_next(client, world["queue"])).claimed_by == newcomer


def test_a_high_risk_decision_waits_for_a_second_clerk(client, world, tenant):
    team = world["team"]
    risky = make_use_case(tenant, team["automation_lead"], key="kredit", risk_tier=RiskTier.HIGH,
                          input_fields=INPUTS, output_fields=OUTPUTS)
    for name in ("clerk", "clerk_2"):
        clear(team[name], risky, team["automation_lead"])
    task = make_review_tasks(risky, 1)[0]
    login(client, team["clerk"], tenant)
    assert _task_from(_next(client, task.queue)) == task
    response = _decide(client, task, "correct", document_class="other")
    task.refresh_from_db()
    assert task.state == TaskState.AWAITING_SECOND_REVIEW and task.item.status == ItemStatus.REVIEW
    assert _path(response) == reverse("reviews:queue-detail", args=[task.queue_id])  # not the same person again

    login(client, team["clerk_2"], tenant)
    tab = client.get(reverse("reviews:queue-detail", args=[task.queue_id]) + "?state=awaiting_second_review")
    assert 'data-first-reviewer>clerk<' in tab.content.decode()  # who decided first, not "—"
    assert _task_from(_next(client, task.queue)) == task
    page = client.get(reverse("reviews:task-detail", args=[task.pk]))
    assert page.context["second_review"] and page.context["first_decision"].actor == team["clerk"]
    assert page.context["form"]["f_document_class"].initial == "other"  # the first reviewer's value
    data = {"action": "confirm", "comment": "", "f_document_class": "other", "f_iban": "DE89370400440532013000"}
    client.post(reverse("reviews:task-decide", args=[task.pk]), data)
    task.refresh_from_db()
    task.item.refresh_from_db()
    assert task.state == TaskState.DONE and task.item.status == ItemStatus.APPLIED
    assert task.item.fields["document_class"]["value"] == "other"
    # The value the first clerk chose is theirs; the second confirmed it (the API reports decided_by).
    assert task.item.fields["document_class"]["decided_by"] == "clerk"
    assert task.item.fields["document_class"]["confirmed_by"] == "clerk_2"
    shown = WorkItemSerializer(task.item).data["fields"]["document_class"]  # as GET /api/v1/work-items/{id}/
    assert (shown["decided_by"], shown["confirmed_by"]) == ("clerk", "clerk_2")


def test_bulk_approval_only_where_queue_and_policy_allow_and_only_low_risk(clerk, world):
    queue, tenant = world["queue"], world["tenant"]
    flagged = make_review_tasks(world["use_case"], 1, start=70, fields={
        "document_class": {"value": "invoice", "confidence": 0.5, "reasons": ["document_class: unknown code"]}})[0]
    ids = [t.pk for t in world["tasks"]] + [flagged.pk]
    response = clerk.post(reverse("reviews:queue-bulk-approve", args=[queue.pk]), {"tasks": ids})
    assert response.status_code == 302 and not ReviewDecision.objects.exists()  # not allowed yet

    ReviewQueue.objects.filter(pk=queue.pk).update(bulk_approval_allowed=True)
    tenant_policy_ensure(tenant=tenant)
    TenantPolicy.objects.filter(tenant=tenant).update(bulk_approval_allowed=True)
    page = clerk.get(reverse("reviews:queue-detail", args=[queue.pk]))
    offered = {row["task"].pk for row in page.context["rows"] if row["bulk"]}
    assert offered == {t.pk for t in world["tasks"]}  # the flagged one is not offered
    clerk.post(reverse("reviews:queue-bulk-approve", args=[queue.pk]), {"tasks": ids})
    decisions = ReviewDecision.objects.filter(task__in=world["tasks"])
    assert decisions.count() == 3 and {d.action for d in decisions} == {DecisionAction.APPROVE}
    assert {d.comment for d in decisions} == {services.BULK_COMMENT}
    flagged.refresh_from_db()
    assert flagged.state == TaskState.OPEN


def test_documents_are_served_through_the_view_and_their_viewing_is_logged(clerk, world):
    task = _task_from(_next(clerk, world["queue"]))
    item_file = attach_file(task.item)
    page = clerk.get(reverse("reviews:task-detail", args=[task.pk]))
    doc = page.context["documents"][0]
    assert doc.kind == "pdf" and doc.pages == 1 and "Rechnung Nr. 2025-1187" in doc.text
    views = AccessEvent.objects.filter(object_id=str(task.item_id))
    assert views.filter(event_type="work_item.viewed").count() == 1

    image = clerk.get(doc.page_urls[0])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content if image.streaming else [image.content]).startswith(b"\x89PNG")
    assert views.filter(event_type="work_item.file_viewed").count() == 0  # covered by the page view

    original = clerk.get(reverse("reviews:task-file", args=[task.pk, item_file.pk]))
    assert original["Content-Type"] == "application/pdf" and original["X-Frame-Options"] == "SAMEORIGIN"
    assert "inline" in original["Content-Disposition"]
    assert views.filter(event_type="work_item.file_viewed").count() == 1
    event = views.get(event_type="work_item.file_viewed")
    assert event.actor_user_id == world["team"]["clerk"].pk and event.details["purpose"] == "review"
    assert event.details["subject"].startswith("ps_")  # the sender, as a pseudonym
    assert "kunde" not in str(event.details)

    login(clerk, world["team"]["clerk_2"], world["tenant"])  # another person's token does not count
    assert clerk.get(doc.page_urls[0]).status_code == 200
    assert views.filter(event_type="work_item.file_viewed", actor_user_id=world["team"]["clerk_2"].pk).count() == 1


def test_no_access_event_without_personal_data(client, world, tenant):
    team = world["team"]
    plain = make_use_case(tenant, team["automation_lead"], key="sortierung", output_fields=[
        {"name": "document_class", "type": "category", "choices": ["invoice"]}])
    clear(team["clerk"], plain, team["automation_lead"])
    task = make_review_tasks(plain, 1, payload={"text": "Lieferschein"},
                             fields={"document_class": {"value": "invoice", "confidence": 0.5}})[0]
    login(client, team["clerk"], tenant)
    assert client.get(reverse("reviews:task-detail", args=[task.pk])).status_code == 200
    assert not AccessEvent.objects.filter(object_id=str(task.item_id)).exists()


def test_the_task_page_shows_confidence_explanation_and_messages(clerk, world):
    task = make_review_tasks(world["use_case"], 1, priority=1, start=80, reasons=["iban: not in master data"], fields={
        "document_class": {"value": "invoice", "confidence": 0.62, "explanation": "Keyword “Rechnung” found.",
                           "reasons": []},
        "iban": {"value": "DE00123", "confidence": 0.41, "explanation": "IBAN in the text.",
                 "reasons": ["iban: check digits do not match"]}})[0]
    _next(clerk, world["queue"])
    page = clerk.get(reverse("reviews:task-detail", args=[task.pk]))
    rows = {row["name"]: row for row in page.context["fields"]}
    assert rows["document_class"]["percent"] == 62 and rows["iban"]["percent"] == 41
    assert rows["iban"]["reasons"] == ["iban: check digits do not match", "iban: not in master data"]
    html = page.content.decode()
    assert 'data-field-reasons="iban"' in html and "Keyword “Rechnung” found." in html
    for key in "acrekn":
        assert f'data-shortcut="{key}"' in html or key == "n"  # n is for clerks who hold no task
    assert 'id="shortcut-help"' in html and "reviews/review.js" in html


def test_corrections_become_labelled_examples_where_the_purpose_allows(clerk, world):
    from automations.registry.services import use_cases

    use_cases.use_case_update(actor=world["team"]["automation_lead"], use_case=world["use_case"],
                              values={"training_reuse_allowed": True}, reason="Zweck erlaubt es")
    clear(world["team"]["clerk"], world["use_case"], world["team"]["automation_lead"])  # the briefing changed
    task = _task_from(_next(clerk, world["queue"]))
    _decide(clerk, task, "correct", document_class="reminder")
    example = LabelledExample.objects.get(item=task.item)
    assert example.labels == {"document_class": "reminder"} and example.source == "correction"


def test_queue_overview_shows_figures_and_own_work_today(clerk, world):
    task = _task_from(_next(clerk, world["queue"]))
    _decide(clerk, task, "approve")
    overview = clerk.get(reverse("reviews:queue-list"))
    row = next(r for r in overview.context["rows"] if r["queue"] == world["queue"])
    assert row["figures"].open.value == 1 and row["figures"].claimed.value == 1  # the next one is held
    assert row["done_today"] == 1 and overview.context["today"]["total"] == 1
