"""Periodic reviews: due from the use case's review interval (beat, once per due date, owners told by e-mail and
on their home page), completed with the checklist, the period's figures and an outcome; `last_reviewed_at`
follows, and with it the next due date."""
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from automations.choices import ChangeKind, UseCaseStatus
from automations.execution.services import intake
from automations.models import ChangeRequest, UseCase, UseCaseReview
from automations.quality import services
from automations.quality.choices import ReviewOutcome, ReviewState
from tests import access
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db

ALL_YES = {"check_stable_benefit": "yes", "check_too_much_rework": "no", "check_process_changed": "no",
           "check_lawful_documented": "yes"}


@pytest.fixture
def use_case(tenant, team, run_on_commit):
    use_case = make_rules_use_case(tenant, team, department_owner=team["department_owner"], review_interval_days=30)
    for text in ["Rechnung Rechnungsnummer 1", "Rechnung und Mahnung 2"]:
        run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                      payload={"text": text})
    # documented 40 days ago, never reviewed: the review fell due ten days ago
    UseCase.objects.filter(pk=use_case.pk).update(created_at=timezone.now() - timedelta(days=40))
    use_case.refresh_from_db()
    return use_case


def test_a_due_review_appears_can_be_completed_and_resets_the_due_date(tenant, team, use_case, run_on_commit,
                                                                       mailoutbox, login):
    assert run_on_commit(services.use_case_reviews_schedule) == 1
    assert run_on_commit(services.use_case_reviews_schedule) == 0  # once per due date
    review = UseCaseReview.objects.get(use_case=use_case)
    assert review.state == ReviewState.DUE
    assert review.due_on == timezone.localdate(use_case.created_at + timedelta(days=30))
    told = [m for m in mailoutbox if "periodic review due" in m.subject]
    assert len(told) == 1 and told[0].to == ["department_owner@muster.example"]
    assert AuditEvent.objects.filter(event_type="use_case_review.due").count() == 1

    owner = login(team["department_owner"], tenant)
    home = owner.get(reverse("portal:home")).content.decode()
    detail_url = reverse("automations:use-case-review-detail", args=["belege", review.pk])
    assert 'id="panel-quality"' in home and detail_url in home
    assert 'id="review-due"' in owner.get(reverse("automations:use-case-detail", args=["belege"])).content.decode()
    page = owner.get(detail_url).content.decode()
    assert 'id="review-form"' in page and 'data-figure="volume">2<' in page

    response = owner.post(detail_url, {**ALL_YES, "notes": "Läuft stabil.", "outcome": ReviewOutcome.CONTINUE})
    assert response.status_code == 302, response.content.decode()
    review.refresh_from_db()
    use_case.refresh_from_db()
    assert review.state == ReviewState.COMPLETED and review.completed_by == team["department_owner"]
    assert review.checklist == {"stable_benefit": True, "too_much_rework": False, "process_changed": False,
                                "lawful_documented": True}
    # the figures of the period since the use case was documented, computed from the data
    assert review.figures["volume"] == 2 and review.figures["routed"] == 2
    assert review.figures["applied_automatically"] == 1 and review.figures["automation_share"] == 0.5
    assert review.figures["checked"] == 0 and review.figures["correction_rate"] is None
    assert abs(use_case.last_reviewed_at - review.completed_at) < timedelta(seconds=1)
    assert use_case.review_due_at > timezone.now() + timedelta(days=29)
    assert use_case.history.first().history_change_reason.startswith("Regelmäßige Überprüfung")  # the page is German
    assert AuditEvent.objects.get(event_type="use_case_review.completed").details["outcome"] == "continue"

    assert run_on_commit(services.use_case_reviews_schedule) == 0  # the next one is due in 30 days
    home = owner.get(reverse("portal:home")).content.decode()
    assert detail_url not in home
    assert 'id="review-record"' in owner.get(detail_url).content.decode()


def test_the_outcome_needs_what_it_says(tenant, team, use_case, run_on_commit):
    services.use_case_reviews_schedule()
    review = UseCaseReview.objects.get(use_case=use_case)
    answers = {"stable_benefit": False, "too_much_rework": True, "process_changed": True, "lawful_documented": True}
    with pytest.raises(ValidationError):  # an adjustment names its change request
        services.use_case_review_complete(actor=team["department_owner"], review=review, checklist=answers,
                                          notes="", outcome=ReviewOutcome.ADJUST)
    with pytest.raises(ValidationError):  # every question answered
        services.use_case_review_complete(actor=team["department_owner"], review=review,
                                          checklist={"stable_benefit": True}, notes="", outcome="continue")
    with pytest.raises(PermissionDenied):  # a clerk does not review use cases
        services.use_case_review_complete(actor=team["clerk"], review=review, checklist=answers, notes="",
                                          outcome=ReviewOutcome.CONTINUE)
    review = services.use_case_review_complete(actor=team["department_owner"], review=review, checklist=answers,
                                               notes="Prozess geändert, lohnt nicht mehr.",
                                               outcome=ReviewOutcome.RETIRE)
    cr = ChangeRequest.objects.get(kind=ChangeKind.STATUS_CHANGE, payload={"to": UseCaseStatus.RETIRED})
    assert review.change_request == cr and cr.author == team["department_owner"]
    with pytest.raises(ValidationError):  # done is done
        services.use_case_review_complete(actor=team["automation_lead"], review=review, checklist=answers, notes="",
                                          outcome=ReviewOutcome.CONTINUE)


def test_reviews_over_the_api(tenant, team, use_case):
    services.use_case_reviews_schedule()
    review = UseCaseReview.objects.get(use_case=use_case)
    client = access.login(APIClient(), team["automation_lead"], tenant)
    listed = client.get(reverse("api:use-case-review-list"), {"state": "due"}).json()
    assert [row["id"] for row in listed["results"]] == [review.pk]
    response = client.post(reverse("api:use-case-review-complete", args=[review.pk]), {
        "checklist": {"stable_benefit": True, "too_much_rework": False, "process_changed": False,
                      "lawful_documented": True}, "outcome": "continue"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "completed" and response.json()["figures"]["volume"] == 2
    again = client.post(reverse("api:use-case-review-complete", args=[review.pk]), {
        "checklist": {"stable_benefit": True, "too_much_rework": False, "process_changed": False,
                      "lawful_documented": True}, "outcome": "continue"}, format="json")
    assert again.status_code == 409
