"""Evaluations run the release's engines as a dry run does (no work item, no delivery, no review task), record
one result per test case with its version, and decide against the use case's quality targets; taking a reviewed
item as a test case; the gate on the production label (service level; the pages and the API in
test_views.py and test_api.py)."""
import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from automations.choices import ChangeKind, ChangeState, ItemStatus
from automations.evaluation.models import EvaluationRun
from automations.evaluation.selectors import evaluation_passing
from automations.evaluation.services import evaluations, test_cases
from automations.models import Run, WorkItem
from automations.registry.selectors import label_map
from automations.registry.services import changes
from reviews import services as review_services
from reviews.choices import DecisionAction
from tests.automations.evaluation.conftest import pilot_release, set_targets
from tests.automations.factories import approve_all
from tests.reviews.factories import clear, make_tasks

pytestmark = pytest.mark.django_db

CASES = [  # (text, expected class): one rule each gives 0.75 (applied at auto 0.7); two rules tie at 0.43
    ("Rechnung Nr. 4711", "invoice"), ("Rechnungsnummer 12, bitte zahlen", "invoice"),
    ("Mahnung: Zahlungserinnerung zu RE-3", "reminder"), ("Mahnung zur Rechnung 7", "reminder"),
    ("Kurze Notiz ohne Stichwort", "other"),
]


def _cases(use_case, lead, cases=CASES):
    for text, expected in cases:
        test_cases.test_case_create(actor=lead, use_case=use_case, payload={"text": text},
                                    expected={"document_class": expected})


def test_an_evaluation_runs_every_case_through_the_release_and_keeps_no_work(belege, lead):
    _cases(belege, lead)
    release = pilot_release(belege)
    items, runs = WorkItem.objects.count(), Run.objects.count()
    evaluation = evaluations.evaluation_run_now(actor=lead, release=release)
    assert (WorkItem.objects.count(), Run.objects.count()) == (items, runs)
    assert evaluation.status == "succeeded" and (evaluation.done, evaluation.total) == (5, 5)
    metrics = evaluation.metrics
    assert metrics["cases"] == 5 and all(r.case_version for r in evaluation.results.all())
    invoice = evaluation.results.get(title="Rechnung Nr. 4711")
    assert invoice.correct and invoice.outcome == "applied"
    assert invoice.predicted["document_class"] == {"value": "invoice", "confidence": 0.75, "engine": "rules"}
    tie = evaluation.results.get(title="Mahnung zur Rechnung 7")
    assert not tie.correct and tie.outcome == "review" and tie.field_correct == {"document_class": False}
    # The unmatched note gets the default "other" at confidence 0.2: right, but below the reject threshold.
    note = evaluation.results.get(title="Kurze Notiz ohne Stichwort")
    assert note.correct and note.outcome == "clarification"
    assert metrics["fields"]["document_class"]["accuracy"] == 0.8
    assert metrics["correction_rate"] == 0.2 and metrics["automation"]["share"] == 0.6
    assert evaluation.passed is True and evaluation.misses == []
    assert AuditEvent.objects.filter(event_type="evaluation.finished", object_id=str(evaluation.pk)).exists()


def test_a_release_missing_the_targets_cannot_go_to_production(belege, team, lead):
    _cases(belege, lead)
    set_targets(belege, team, {"max_correction_rate": 0.1})
    release = pilot_release(belege)
    evaluation = evaluations.evaluation_run_now(actor=lead, release=release)
    assert evaluation.passed is False
    assert evaluation.misses == ["Correction rate 20.0 % is above the target of at most 10.0 %."]
    with pytest.raises(ValidationError) as error:
        changes.change_request_create(actor=lead, tenant=belege.tenant, use_case=belege, kind=ChangeKind.LABEL_MOVE,
                                      title="live", description="live",
                                      payload={"label": "production", "release_id": release.pk})
    assert "misses the use case's quality targets" in error.value.messages[0]
    assert "Correction rate 20.0 %" in error.value.messages[0]


def test_without_an_evaluation_the_production_label_is_refused_and_the_pilot_label_is_not(belege, team, lead):
    release = pilot_release(belege)
    with pytest.raises(ValidationError, match="R1 has no evaluation"):
        changes.change_request_create(actor=lead, tenant=belege.tenant, use_case=belege, kind=ChangeKind.LABEL_MOVE,
                                      title="live", description="live",
                                      payload={"label": "production", "release_id": release.pk})


def test_a_passing_evaluation_is_attached_and_rechecked_when_the_last_approval_applies(belege, team, lead):
    _cases(belege, lead)
    release = pilot_release(belege)
    evaluation = evaluations.evaluation_run_now(actor=lead, release=release)
    cr = changes.change_request_create(actor=lead, tenant=belege.tenant, use_case=belege, kind=ChangeKind.LABEL_MOVE,
                                       title="live", description="live",
                                       payload={"label": "production", "release_id": release.pk})
    assert cr.evaluation == evaluation and cr.diff[0]["evaluation"]["id"] == evaluation.pk
    # Meanwhile the targets were tightened: the evidence no longer holds and nothing is applied.
    set_targets(belege, team, {"min_automation_share": 0.9})
    with pytest.raises(ValidationError, match="misses the use case's quality targets"):
        approve_all(cr, team)
    cr.refresh_from_db()
    assert cr.state == ChangeState.OPEN and "production" not in label_map(use_case=belege)
    set_targets(belege, team, {})
    cr = approve_all(cr, team, skip=("department_owner",))  # approved before the refused last approval
    assert cr.state == ChangeState.APPLIED and label_map(use_case=belege)["production"] == release


def test_an_evaluation_needs_test_cases_and_runs_once_at_a_time(belege, lead):
    release = pilot_release(belege)
    with pytest.raises(ValidationError, match="no active test case"):
        evaluations.evaluation_start(actor=lead, release=release)
    _cases(belege, lead, CASES[:1])
    evaluations.evaluation_start(actor=lead, release=release)
    with pytest.raises(ValidationError, match="already queued or running"):
        evaluations.evaluation_start(actor=lead, release=release)
    assert evaluation_passing(release=release) is None
    assert EvaluationRun.objects.get().status == "queued"


def test_a_reviewed_item_becomes_a_test_case_with_the_clerks_values(belege, team, lead):
    clear(team["clerk"], belege, lead)
    task = review_services.review_task_claim_next(actor=team["clerk"], queue=make_tasks(belege, 1)[0].queue)
    review_services.review_task_decide(actor=team["clerk"], task=task, action=DecisionAction.CORRECT,
                                       final_values={"document_class": "reminder"})
    item = WorkItem.objects.get(pk=task.item_id)
    assert item.status == ItemStatus.APPLIED
    case = test_cases.test_case_from_item(actor=lead, item=item)
    assert case.expected == {"document_class": "reminder"} and case.payload == {"text": "Beleg 0"}
    assert case.source == "reviewed_item" and case.item == item
    with pytest.raises(ValidationError, match="already test case"):
        test_cases.test_case_from_item(actor=lead, item=item)
    waiting = make_tasks(belege, 1)[0].item
    with pytest.raises(ValidationError, match="reviewed and applied"):
        test_cases.test_case_from_item(actor=lead, item=waiting)


def test_an_older_passing_evaluation_does_not_count_once_a_newer_one_misses(belege, team, lead):
    set_targets(belege, team, {"max_correction_rate": 0.1})
    release = pilot_release(belege)
    _cases(belege, lead, CASES[:1])
    assert evaluations.evaluation_run_now(actor=lead, release=release).passed
    _cases(belege, lead, CASES[3:4])  # a critical case the release gets wrong
    assert not evaluations.evaluation_run_now(actor=lead, release=release).passed
    assert evaluation_passing(release=release) is None
    with pytest.raises(ValidationError, match=r"Correction rate 50\.0 %"):
        changes.change_request_create(actor=lead, tenant=belege.tenant, use_case=belege, kind=ChangeKind.LABEL_MOVE,
                                      title="live", description="live",
                                      payload={"label": "production", "release_id": release.pk})
