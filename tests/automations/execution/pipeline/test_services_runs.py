import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from automations.choices import ItemStatus, RunStatus, StepStatus
from automations.execution.services import intake, runs
from automations.models import Escalation, Run, StepRun, WorkItem
from automations.registry.services import use_cases
from reviews.choices import QueueKind, TaskState
from reviews.models import ReviewTask
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db


def submit(run_on_commit, team, tenant, text, key="belege", **kwargs):
    item, _created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                   use_case_key=key, payload={"text": text}, **kwargs)
    item.refresh_from_db()
    return item


def test_confident_item_is_applied_in_production_with_every_step_recorded(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    item = submit(run_on_commit, team, tenant, "Rechnung Nr. 4711, Rechnungsnummer steht oben")
    assert item.status == ItemStatus.APPLIED
    assert item.fields["document_class"]["value"] == "invoice"
    run = item.runs.get()
    assert run.status == RunStatus.SUCCEEDED and run.manifest["release"] == 1
    assert list(run.steps.values_list("step", flat=True)) == [
        "read", "extract", "check", "decide", "validate", "guard", "route", "deliver"]
    assert run.input_hash and run.output_hash


def test_pilot_never_applies_automatically(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team, status="pilot")
    item = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 1")
    assert item.status == ItemStatus.REVIEW
    assert any("Pilot" in r for r in item.reasons)
    task = ReviewTask.objects.get(item=item)
    assert task.queue.kind == QueueKind.REVIEW and task.state == TaskState.OPEN


def test_low_confidence_goes_to_review_and_below_reject_to_clarification(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team, auto=0.95, reject=0.5)
    unsure = submit(run_on_commit, team, tenant, "Rechnung und Mahnung zugleich")
    assert unsure.status == ItemStatus.CLARIFICATION  # 3/(6+1) < 0.5
    assert unsure.fields["document_class"]["value"] in ("invoice", "reminder")  # the value is still shown
    review = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 77")
    assert review.status == ItemStatus.REVIEW and any("Low confidence" in r for r in review.reasons)


def test_suspended_use_case_holds_new_items_and_resume_releases_them(tenant, team, run_on_commit):
    from automations.choices import ChangeKind
    from automations.registry.services import changes
    from tests.automations.factories import approve_all

    use_case = make_rules_use_case(tenant, team)
    run_on_commit(use_cases.use_case_suspend, actor=team["data_protection_officer"], use_case=use_case,
                  reason="Prüfung")
    item = submit(run_on_commit, team, tenant, "Rechnung")
    assert item.status == ItemStatus.HELD and not item.runs.exists()
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, use_case=use_case,
                                       kind=ChangeKind.STATUS_CHANGE, title="resume", description="geprüft",
                                       payload={"to": "production"})
    run_on_commit(approve_all, cr, team)
    item.refresh_from_db()
    assert item.status == ItemStatus.APPLIED


def test_suspension_in_flight_applies_nothing(tenant, team, run_on_commit, monkeypatch):
    use_case = make_rules_use_case(tenant, team)
    original = runs._route

    def suspend_then_route(*args):
        use_cases.use_case_suspend(actor=team["security_officer"], use_case=use_case, reason="incident")
        return original(*args)

    monkeypatch.setattr(runs, "_route", suspend_then_route)
    item = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer")
    assert item.status == ItemStatus.HELD
    assert item.finalised_at is None


def test_draft_use_case_refuses_items(tenant, team):
    from tests.automations.factories import make_use_case

    make_use_case(tenant, team["automation_lead"], key="entwurf")
    with pytest.raises(intake.UseCaseNotAccepting):
        intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="entwurf",
                                payload={"text": "x"})


def test_idempotency_key_gives_the_same_item_and_other_content_is_refused(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    first, created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                   use_case_key="belege", payload={"text": "Rechnung"}, idempotency_key="k-1")
    again, created_again = intake.work_item_create(actor=team["it_operator"], tenant=tenant,
                                                   use_case_key="belege", payload={"text": "Rechnung"},
                                                   idempotency_key="k-1")
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(intake.IdempotencyConflict):
        intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                                payload={"text": "Mahnung"}, idempotency_key="k-1")
    assert WorkItem.objects.count() == 1


def test_duplicate_content_goes_to_clarification_with_its_values(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 5")
    twin = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 5")
    assert twin.status == ItemStatus.CLARIFICATION
    assert any("duplicate" in r for r in twin.reasons)
    assert twin.fields["document_class"]["value"] == "invoice"


def test_the_same_external_id_is_a_duplicate_and_the_first_item_is_none(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    first = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 6", external_id="ERP-6")
    twin = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 7", external_id="ERP-6")
    other = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer 8")
    assert first.status == other.status == ItemStatus.APPLIED
    assert twin.status == ItemStatus.CLARIFICATION
    assert any(str(first.pk)[:8] in r for r in twin.reasons)
    assert StepRun.objects.get(run__item=twin, step="check").details["duplicates"] == 1


def test_unknown_and_inconsistent_references_go_to_clarification(tenant, team, run_on_commit):
    from automations.execution.services import master_data

    master_data.master_record_save(actor=team["automation_lead"], tenant=tenant, kind="customer", number="K-1",
                                   name="Bäckerei Schmidt", email="info@baeckerei-schmidt.example")
    master_data.master_record_save(actor=team["automation_lead"], tenant=tenant, kind="customer", number="K-2",
                                   name="Metallbau Weber", email="kontakt@weber.example")
    make_rules_use_case(tenant, team, input_fields=[
        {"name": "text", "type": "long_text"},
        {"name": "customer_number", "type": "text", "reference": "customer.number"},
        {"name": "sender_email", "type": "email", "reference": "customer.email", "personal_data": True,
         "category": "contact"}])

    def send(number, sender):
        item, _ = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                use_case_key="belege",
                                payload={"text": "Rechnung", "customer_number": number, "sender_email": sender})
        item.refresh_from_db()
        return item

    unknown = send("K-99", "info@baeckerei-schmidt.example")
    assert unknown.status == ItemStatus.CLARIFICATION
    assert any("K-99" in r for r in unknown.reasons)
    inconsistent = send("K-1", "kontakt@weber.example")
    assert inconsistent.status == ItemStatus.CLARIFICATION
    assert any("Inconsistent" in r for r in inconsistent.reasons)
    assert ReviewTask.objects.filter(item=inconsistent, queue__kind=QueueKind.CLARIFICATION).exists()


def test_engine_failure_is_retried_then_escalated(tenant, team, run_on_commit, monkeypatch, settings):
    from automations.engines.rules import RulesEngine

    settings.RUN_MAX_ATTEMPTS = 2
    make_rules_use_case(tenant, team)

    def broken(self, item, *, parameters, artifact_ref=""):
        raise RuntimeError("engine down")

    monkeypatch.setattr(RulesEngine, "suggest", broken)
    monkeypatch.setattr(runs, "_backoff", lambda attempt: 0)
    item = submit(run_on_commit, team, tenant, "Rechnung")
    assert item.status == ItemStatus.ESCALATED
    run = item.runs.get()
    assert run.status == RunStatus.FAILED and run.attempt == 2
    assert run.steps.filter(step="extract", status=StepStatus.FAILED).count() == 2
    escalation = Escalation.objects.get(item=item)
    assert escalation.contact == team["department_owner"]
    assert "Beleg manuell" in escalation.manual_fallback
    assert ReviewTask.objects.filter(item=item, queue__kind=QueueKind.CLARIFICATION).exists()


def test_reaper_resends_a_run_stuck_past_its_lease(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    from portal.celery import app

    app.conf.task_always_eager = False  # the message is "lost": nothing runs it
    try:
        item, _ = intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                                          payload={"text": "Rechnung Rechnungsnummer"})
    finally:
        app.conf.task_always_eager = True
    run = Run.objects.get(item=item)
    assert run.status == RunStatus.QUEUED
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timezone.timedelta(seconds=1))
    assert run_on_commit(runs.runs_reap) == 1
    item.refresh_from_db()
    run.refresh_from_db()
    # never started, so re-sending it cost no attempt (waiting must not run into escalation)
    assert item.status == ItemStatus.APPLIED and run.attempt == 1 and run.trigger == "reaper"


def test_a_repeated_run_never_applies_twice(tenant, team, run_on_commit):
    make_rules_use_case(tenant, team)
    item = submit(run_on_commit, team, tenant, "Rechnung Rechnungsnummer")
    run = item.runs.get()
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, task_id="lost")
    runs.run_execute(run_id=run.pk, task_id="lost")
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(event_type="work_item.routed", object_id=str(item.pk)).count() == 1


def test_files_are_stored_outside_the_web_root(tenant, team, run_on_commit, settings):
    make_rules_use_case(tenant, team)
    upload = SimpleUploadedFile("beleg.txt", b"Lieferschein Nr. 3", content_type="text/plain")
    item, _ = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                            files=[upload], source="upload")
    item.refresh_from_db()
    stored = item.files.get()
    assert str(settings.MEDIA_ROOT) in stored.file.path and "static" not in stored.file.path
    assert item.fields["document_class"]["value"] == "delivery_note"


def test_missing_input_is_a_clear_error(tenant, team):
    make_rules_use_case(tenant, team)
    with pytest.raises(ValidationError):
        intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege", payload={})
