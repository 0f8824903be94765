"""The quality circuit breaker: it trips on a constructed correction rate (decisions through the review services,
evaluated after each decision) or a low automatic share (the beat's evaluation), after which a real pipeline run
routes a sure item to review; owner and escalation contact are told, the use case's page and the home page say
why, and an approved change request switches automatic application back on."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from automations.choices import ChangeKind, ChangeState, ItemStatus
from automations.execution.services import intake
from automations.models import ChangeRequest, QualityBreaker
from automations.quality import services
from reviews.choices import DecisionAction
from reviews.models import ReviewTask
from reviews.services import review_task_claim, review_task_decide
from tests.automations.factories import approve_all, make_rules_use_case
from tests.reviews.factories import clear

pytestmark = pytest.mark.django_db


def submit(run_on_commit, team, tenant, text):
    item, _created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                   use_case_key="belege", payload={"text": text})
    item.refresh_from_db()
    return item


def decide(run_on_commit, clerk, item, action, final_values=None):
    task = ReviewTask.objects.get(item=item)
    task = review_task_claim(actor=clerk, task=task)
    run_on_commit(review_task_decide, actor=clerk, task=task, action=action, final_values=final_values or {})


@pytest.fixture
def use_case(tenant, team):
    use_case = make_rules_use_case(tenant, team, department_owner=team["department_owner"],
                                   escalation_contact=team["it_operator"],
                                   quality_targets={"max_correction_rate": 0.25, "breaker_min_checked": 4})
    clear(team["clerk"], use_case, team["automation_lead"])
    return use_case


def test_the_breaker_trips_on_the_correction_rate_and_everything_goes_to_review_until_a_change_request(
        tenant, team, use_case, run_on_commit, mailoutbox, login):
    clerk = team["clerk"]
    unsure = [submit(run_on_commit, team, tenant, f"Rechnung und Mahnung Nr. {n}") for n in range(4)]
    assert {item.status for item in unsure} == {ItemStatus.REVIEW}
    sure = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 98")
    assert sure.status == ItemStatus.APPLIED

    decide(run_on_commit, clerk, unsure[0], DecisionAction.APPROVE)
    decide(run_on_commit, clerk, unsure[1], DecisionAction.CORRECT, {"document_class": "delivery_note"})
    decide(run_on_commit, clerk, unsure[2], DecisionAction.CORRECT, {"document_class": "delivery_note"})
    # 2 of 3 corrected is above 25 %, but three decisions are too few to judge by (breaker_min_checked: 4)
    assert not QualityBreaker.objects.filter(use_case=use_case, tripped=True).exists()
    decide(run_on_commit, clerk, unsure[3], DecisionAction.CORRECT, {"document_class": "delivery_note"})

    breaker = QualityBreaker.objects.get(use_case=use_case)
    assert breaker.tripped and breaker.tripped_at is not None
    assert breaker.figures["checked"] == 4 and breaker.figures["corrected"] == 3
    assert breaker.figures["correction_rate"] == 0.75
    assert "Correction rate 75 %" in breaker.reason and "25 %" in breaker.reason
    event = AuditEvent.objects.get(event_type="quality_breaker.tripped")
    assert event.details["use_case"] == "belege" and event.details["targets"]["max_correction_rate"] == 0.25
    told = [sorted(m.to) for m in mailoutbox if "switched off" in m.subject]
    assert told == [["department_owner@muster.example", "it_operator@muster.example"]]

    # A real pipeline run: the sure item that was applied before now goes to a person, with the reason.
    again = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 99")
    assert again.status == ItemStatus.REVIEW and again.finalised_at is None
    assert any("quality circuit breaker" in reason for reason in again.reasons)
    assert ReviewTask.objects.filter(item=again).exists()

    # The use case's page and the owner's home page say why.
    owner = login(team["department_owner"], tenant)
    page = owner.get(reverse("automations:use-case-detail", args=["belege"])).content.decode()
    assert 'id="quality-breaker-reason"' in page and "75 %" in page
    home = owner.get(reverse("portal:home")).content.decode()
    assert 'id="panel-quality"' in home and use_case.title in home
    leitstand = login(team["automation_lead"], tenant)
    page = leitstand.get(reverse("leitstand:use-case", args=["belege"])).content.decode()
    assert 'id="quality-breaker-reason"' in page
    assert 'id="quality-breakers"' in leitstand.get(reverse("leitstand:home")).content.decode()

    # Switching it back on is a change request, approved as the use case requires.
    response = login(team["automation_lead"], tenant).post(
        reverse("automations:quality-breaker-reset", args=["belege"]),
        {"description": "Regeln für Mahnungen geschärft, Stichprobe geprüft."})
    cr = ChangeRequest.objects.get(kind=ChangeKind.QUALITY_BREAKER_RESET)
    assert response.status_code == 302 and response["Location"].endswith(f"/changes/{cr.pk}/")
    assert set(cr.required_roles) == {"department_owner", "automation_lead"}
    approver_page = login(team["department_owner"], tenant).get(
        reverse("automations:change-request-detail", args=[cr.pk])).content.decode()
    assert "Automatische Übernahme" in approver_page and "75 %" in approver_page  # what changes, and why
    with pytest.raises(ValidationError):  # one open request at a time
        services.quality_breaker_reset_request(actor=team["automation_lead"], use_case=use_case, description="noch")
    assert QualityBreaker.objects.get(use_case=use_case).tripped  # nothing changes before the approvals
    cr = run_on_commit(approve_all, cr, team)
    assert cr.state == ChangeState.APPLIED
    breaker.refresh_from_db()
    assert not breaker.tripped and breaker.reset_change_request == cr and breaker.reset_at is not None
    assert AuditEvent.objects.filter(event_type="quality_breaker.reset").count() == 1

    # Automatic application runs again; the corrections from before the reset no longer count.
    after = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 100")
    assert after.status == ItemStatus.APPLIED
    assert not QualityBreaker.objects.get(use_case=use_case).tripped


def test_the_beat_trips_the_breaker_on_a_low_automatic_share(tenant, team, run_on_commit, mailoutbox):
    use_case = make_rules_use_case(tenant, team, department_owner=team["department_owner"],
                                   quality_targets={"min_automation_share": 0.5, "breaker_min_routed": 3})
    assert services.quality_breakers_evaluate() == 0  # nothing routed yet: too few to judge
    for n in range(3):
        submit(run_on_commit, team, tenant, f"Rechnung und Mahnung Nr. {n}")
    submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 1")
    # 1 of 4 applied automatically: 25 % is below the target of 50 %
    assert run_on_commit(services.quality_breakers_evaluate) == 1
    breaker = QualityBreaker.objects.get(use_case=use_case)
    assert breaker.tripped and "Automatic share 25 %" in breaker.reason
    assert breaker.figures["routed"] == 4 and breaker.figures["applied_automatically"] == 1
    assert run_on_commit(services.quality_breakers_evaluate) == 0  # tripped once, told once
    assert len([m for m in mailoutbox if "switched off" in m.subject]) == 1


def test_no_change_request_switches_on_what_is_not_switched_off(tenant, team, use_case):
    with pytest.raises(ValidationError):
        services.quality_breaker_reset_request(actor=team["automation_lead"], use_case=use_case,
                                               description="vorsorglich")
    from automations.registry.services import changes

    with pytest.raises(ValidationError):
        changes.change_request_create(actor=team["automation_lead"], tenant=tenant, use_case=use_case,
                                      kind=ChangeKind.QUALITY_BREAKER_RESET, title="an", description="an",
                                      payload={})


def test_a_new_release_in_production_is_judged_on_its_own(tenant, team, use_case, run_on_commit):
    from automations.registry.services import changes, versions
    from tests.automations.factories import evaluate_release

    unsure = [submit(run_on_commit, team, tenant, f"Rechnung und Mahnung Nr. {n}") for n in range(4)]
    for item in unsure:  # corrected, but the breaker's evaluation after each decision is left out here
        task = review_task_claim(actor=team["clerk"], task=ReviewTask.objects.get(item=item))
        review_task_decide(actor=team["clerk"], task=task, action=DecisionAction.CORRECT,
                           final_values={"document_class": "delivery_note"})
    lead = team["automation_lead"]
    current = use_case.labels.get(name="production").release
    threshold = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="threshold_set",
        content={"thresholds": {"document_class": {"auto": 0.8, "reject": 0.3}}}))
    release = versions.release_create(actor=lead, use_case=use_case, threshold_set=threshold,
                                      engine_configs=list(current.engine_configs.all()))
    evaluate_release(release, lead)  # the production label needs a passing evaluation of the new release
    approve_all(changes.change_request_create(
        actor=team["automation_lead"], tenant=tenant, use_case=use_case, kind=ChangeKind.LABEL_MOVE,
        title="neue Schwellen", description="strenger", payload={"label": "production", "release_id": release.pk}),
        team)
    breaker = services.quality_breaker_evaluate(use_case=use_case)
    assert not breaker.tripped and breaker.last_figures["checked"] == 0  # the corrections judged the old release
