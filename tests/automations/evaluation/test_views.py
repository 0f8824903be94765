"""The evaluation pages in the browser (German, the default language): test cases by hand and imported, “Als
Testfall übernehmen” on a reviewed item's page, an evaluation started from the release's page with its figures,
two evaluations side by side, and the production label refused in the proposal form while the evaluation misses
the targets — and shown to every approver once it passes."""
import pytest
from django.urls import reverse

from automations.choices import ChangeKind
from automations.evaluation.models import EvaluationRun, QualityTestCase
from automations.evaluation.services import evaluations, test_cases
from automations.models import ChangeRequest, WorkItem
from automations.registry.services import changes
from reviews import services as review_services
from reviews.choices import DecisionAction
from tests.automations.evaluation.conftest import pilot_release, set_targets
from tests.reviews.factories import clear, make_tasks

pytestmark = pytest.mark.django_db


def _cases(use_case, lead):
    for text, expected in (("Rechnung Nr. 1", "invoice"), ("Mahnung zur Rechnung 7", "reminder")):
        test_cases.test_case_create(actor=lead, use_case=use_case, payload={"text": text},
                                    expected={"document_class": expected})


def test_a_test_case_is_created_in_the_german_form(belege, lead, login, tenant):
    client = login(lead, tenant)
    page = client.get(reverse("automations:test-case-create", args=["belege"])).content.decode()
    assert "Neuer Testfall" in page and "Erwartet: document_class" in page and "Grenzfall" in page
    response = client.post(reverse("automations:test-case-create", args=["belege"]), {
        "title": "Mahnung", "input__text": "Letzte Mahnung", "expected__document_class": "reminder",
        "tags": ["critical"]})
    assert response.status_code == 302
    case = QualityTestCase.objects.get()
    assert (case.payload, case.expected, case.tags) == ({"text": "Letzte Mahnung"}, {"document_class": "reminder"},
                                                        ["critical"])
    response = client.post(reverse("automations:test-case-create", args=["belege"]), {"title": "leer"})
    assert response.status_code == 400 and "mindestens eines Ausgabefelds" in response.content.decode()


def test_an_import_shows_its_bad_rows_on_the_page(belege, lead, login, tenant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login(lead, tenant)
    upload = SimpleUploadedFile("faelle.csv", b"text,document_class\nRechnung 1,invoice\nMahnung 2,unbekannt\n")
    page = client.post(reverse("automations:test-case-import", args=["belege"]), {"file": upload}).content.decode()
    assert "2 Zeilen gelesen, 1 Testfälle importiert, 1 fehlerhafte Zeilen nicht importiert" in page
    assert "faelle.csv:3" in page


def test_a_reviewed_item_is_taken_as_a_test_case_with_one_click(belege, team, lead, login, tenant):
    clear(team["clerk"], belege, lead)
    task = review_services.review_task_claim_next(actor=team["clerk"], queue=make_tasks(belege, 1)[0].queue)
    review_services.review_task_decide(actor=team["clerk"], task=task, action=DecisionAction.APPROVE)
    client = login(lead, tenant)
    page = client.get(reverse("work:item-detail", args=[task.item_id])).content.decode()
    assert "Als Testfall übernehmen" in page
    response = client.post(reverse("automations:test-case-from-item", args=[task.item_id]))
    case = QualityTestCase.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("automations:test-case-detail",
                                                                           args=["belege", case.pk])
    assert case.expected == {"document_class": "invoice"} and case.item == WorkItem.objects.get(pk=task.item_id)
    # A clerk sees no such button and may not take it.
    clerk = login(team["clerk"], tenant)
    assert "Als Testfall übernehmen" not in clerk.get(reverse("work:item-detail", args=[task.item_id])).content.decode()
    assert clerk.post(reverse("automations:test-case-from-item", args=[task.item_id])).status_code == 403


def test_an_evaluation_started_on_the_release_page_shows_its_figures(belege, lead, login, tenant, eager_tasks,
                                                                     django_capture_on_commit_callbacks):
    _cases(belege, lead)
    client = login(lead, tenant)
    page = client.get(reverse("automations:release-detail", args=["belege", 1])).content.decode()
    assert "Auf den Testfällen auswerten" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("automations:evaluation-start", args=["belege", 1]))
    evaluation = EvaluationRun.objects.get()
    assert response["Location"] == reverse("automations:evaluation-detail", args=["belege", evaluation.pk])
    page = client.get(response["Location"]).content.decode()
    assert evaluation.status == "succeeded" and (evaluation.done, evaluation.total) == (2, 2)
    for text in ("Kalibrierung je Konfidenzband", "Konfusionsmatrix", "Korrekturquote", "50 %",
                 "Automatischer Anteil", "1 fehlschlagender Testfall", "Mahnung zur Rechnung 7"):
        assert text in page, text
    progress = client.get(reverse("automations:evaluation-progress", args=["belege", evaluation.pk]),
                          HTTP_HX_REQUEST="true")
    assert "2 von 2 Testfällen" in progress.content.decode() and progress["HX-Refresh"] == "true"


def test_a_test_case_is_retired_with_a_reason_only(belege, lead, login, tenant):
    _cases(belege, lead)
    case = QualityTestCase.objects.order_by("pk").first()
    client = login(lead, tenant)
    retire = reverse("automations:test-case-retire", args=["belege", case.pk])
    response = client.post(retire, {"reason": ""}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("automations:test-case-detail", args=["belege", case.pk])
    assert "Sagen Sie, warum der Testfall ausgemustert wird." in response.content.decode()
    case.refresh_from_db()
    assert case.is_active
    response = client.post(retire, {"reason": "Beleg gehört nicht mehr dazu"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("automations:test-case-list", args=["belege"])
    assert f"Testfall T{case.pk} wurde ausgemustert." in response.content.decode()
    case.refresh_from_db()
    assert not case.is_active


def test_an_evaluation_without_test_cases_is_refused_on_the_release_page(belege, lead, login, tenant):
    response = login(lead, tenant).post(reverse("automations:evaluation-start", args=["belege", 1]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("automations:release-detail", args=["belege", 1])
    assert "hat noch keinen aktiven Testfall" in response.content.decode()
    assert not EvaluationRun.objects.exists()


def test_two_evaluations_side_by_side(belege, lead, login, tenant):
    _cases(belege, lead)
    first = evaluations.evaluation_run_now(actor=lead, release=pilot_release(belege))
    test_cases.test_case_create(actor=lead, use_case=belege, payload={"text": "Lieferschein 4"},
                                expected={"document_class": "delivery_note"})
    second = evaluations.evaluation_run_now(actor=lead, release=pilot_release(belege))
    page = login(lead, tenant).get(reverse("automations:evaluation-compare", args=["belege"]),
                                   {"a": first.pk, "b": second.pk}).content.decode()
    assert f"E{first.pk} · R1" in page and f"E{second.pk} · R1" in page
    assert "Richtig bei Konfidenz 0.70–0.80" in page


def test_the_production_label_is_refused_in_the_form_while_the_evaluation_misses_the_targets(
        belege, team, lead, login, tenant):
    _cases(belege, lead)
    set_targets(belege, team, {"max_correction_rate": 0.1})
    evaluations.evaluation_run_now(actor=lead, release=pilot_release(belege))
    client = login(lead, tenant)
    response = client.post(reverse("automations:label-move-create", args=["belege"]), {
        "label": "production", "release": 1, "title": "R1 produktiv", "description": "Auswertung liegt vor"})
    body = response.content.decode()
    assert response.status_code == 400 and not ChangeRequest.objects.filter(kind=ChangeKind.LABEL_MOVE,
                                                                            payload__label="production").exists()
    assert "verfehlt die Qualitätsziele" in body and "Korrekturquote 50,0 %" in body


def test_every_approver_sees_the_evaluation_the_request_carries(belege, team, lead, login, tenant):
    _cases(belege, lead)
    evaluation = evaluations.evaluation_run_now(actor=lead, release=pilot_release(belege))
    cr = changes.change_request_create(actor=lead, tenant=tenant, use_case=belege, kind=ChangeKind.LABEL_MOVE,
                                       title="R1 produktiv", description="Auswertung liegt vor",
                                       payload={"label": "production", "release_id": pilot_release(belege).pk})
    for role in cr.required_roles:
        person = team["automation_lead_2"] if role == "automation_lead" else team[role]
        page = login(person, tenant).get(reverse("automations:change-request-detail", args=[cr.pk])).content.decode()
        assert f"Auswertung E{evaluation.pk} von R1 (angehängt)" in page, role
        assert "Korrekturquote" in page and "Automatischer Anteil" in page


def test_the_test_case_pages_record_who_saw_the_personal_data_of_a_case(belege, team, lead, login, tenant):
    """A case holds an input like an item's (a case taken from a reviewed item holds that item's): its list and
    its page are each one look in the access log, naming the cases and the people; a use case without personal
    data records nothing."""
    from audit.models import AccessEvent
    from audit.selectors.pseudonyms import pseudonym_lookup
    from tests.automations.factories import make_use_case

    tickets = make_use_case(tenant, lead, key="anfragen", input_fields=[
        {"name": "text", "type": "long_text", "personal_data": True, "category": "contact"},
        {"name": "sender_email", "type": "email", "personal_data": True, "category": "contact"}],
        data_subjects=["Kunden"], legal_basis="art6_1_b")
    case = test_cases.test_case_create(actor=lead, use_case=tickets, title="Anfrage",
                                       payload={"text": "Bitte um Rückruf", "sender_email": "anna@kunde.example"},
                                       expected={"category": "a"})
    _cases(belege, lead)
    client = login(lead, tenant)
    assert client.get(reverse("automations:test-case-list", args=["belege"])).status_code == 200
    assert not AccessEvent.objects.exists()
    assert client.get(reverse("automations:test-case-list", args=["anfragen"])).status_code == 200
    assert client.get(reverse("automations:test-case-detail", args=["anfragen", case.pk])).status_code == 200
    events = list(AccessEvent.objects.order_by("id"))
    assert [(e.event_type, e.details["purpose"], e.details["ids"]) for e in events] == [
        ("personal_data.viewed", "test cases", [str(case.pk)]),
        ("personal_data.viewed", "test case page", [str(case.pk)])]
    anna = pseudonym_lookup(tenant=tenant, kind="email", identifier="anna@kunde.example").pseudonym
    assert all(e.details["subject"] == anna and e.actor_user_id == lead.pk for e in events)


def test_the_evaluation_page_records_who_saw_the_failing_cases(team, lead, login, tenant, media):
    """The failing cases show expected and suggested values of inputs like an item's: the page is one look in
    the access log, naming the results shown and the people their cases identify; the side-by-side page shows
    no case and records nothing."""
    from audit.models import AccessEvent
    from audit.selectors.pseudonyms import pseudonym_lookup
    from tests.automations.factories import make_rules_use_case

    post = make_rules_use_case(tenant, team, key="post", status="pilot", data_subjects=["Kunden"],
                               legal_basis="art6_1_b", input_fields=[
                                   {"name": "text", "type": "long_text", "personal_data": True, "category": "contact"},
                                   {"name": "sender_email", "type": "email", "personal_data": True,
                                    "category": "contact"}])
    for text, email, expected in (("Rechnung Nr. 1", "bob@kunde.example", "invoice"),
                                  ("Mahnung zur Rechnung 7", "anna@kunde.example", "reminder")):
        test_cases.test_case_create(actor=lead, use_case=post, payload={"text": text, "sender_email": email},
                                    expected={"document_class": expected})
    evaluation = evaluations.evaluation_run_now(actor=lead, release=pilot_release(post))
    before = AccessEvent.objects.count()
    client = login(lead, tenant)
    page = client.get(reverse("automations:evaluation-detail", args=["post", evaluation.pk])).content.decode()
    assert "1 fehlschlagender Testfall" in page
    event, = AccessEvent.objects.order_by("id")[before:]
    failing = evaluation.results.get(correct=False)
    anna = pseudonym_lookup(tenant=tenant, kind="email", identifier="anna@kunde.example").pseudonym
    assert (event.event_type, event.details["purpose"], event.details["ids"], event.details["evaluation"]) == (
        "personal_data.viewed", "evaluation page", [str(failing.pk)], str(evaluation.pk))
    assert event.details["subject"] == anna and "subjects" not in event.details and event.actor_user_id == lead.pk
    assert client.get(reverse("automations:evaluation-compare", args=["post"]), {"a": evaluation.pk}).status_code == 200
    assert AccessEvent.objects.count() == before + 1
