"""Test cases and evaluations over the API, and the production label refused to a program as to a person
while the release has no passing evaluation; the request carries the evaluation once it has one."""
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from automations.evaluation.models import EvaluationRun
from automations.evaluation.services import evaluations, test_cases
from portal import services as portal_services
from portal.choices import Role, TokenScope
from tests.automations.evaluation.conftest import pilot_release, set_targets

pytestmark = pytest.mark.django_db


def bearer(user, tenant, scopes=tuple(TokenScope)) -> APIClient:
    _token, plain = portal_services.api_token_create(actor=user, tenant=tenant, user=user, name="test",
                                                     scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def _propose_production(client, release):
    return client.post(reverse("api:change-request-list"), {
        "use_case": "belege", "kind": "label_move", "title": "R1 produktiv", "description": "Auswertung liegt vor",
        "payload": {"label": "production", "release": release.number}}, format="json")


def test_the_api_refuses_the_production_label_while_the_evaluation_misses_the_targets(belege, team, lead, tenant):
    client = bearer(lead, tenant)
    release = pilot_release(belege)
    refused = _propose_production(client, release)
    assert refused.status_code == 400 and "R1 has no evaluation" in str(refused.json()), refused.json()

    for text, expected in (("Rechnung Nr. 1", "invoice"), ("Mahnung zur Rechnung 7", "reminder")):
        test_cases.test_case_create(actor=lead, use_case=belege, payload={"text": text},
                                    expected={"document_class": expected})
    set_targets(belege, team, {"min_automation_share": 0.8})
    evaluation = evaluations.evaluation_run_now(actor=lead, release=release)
    refused = _propose_production(client, release)
    assert refused.status_code == 400
    assert "Automatic share 50.0 % is below the target of at least 80.0 %" in str(refused.json())
    shown = client.get(reverse("api:evaluation-detail", args=[evaluation.pk])).json()
    assert shown["passes"] is False and shown["release"] == 1 and shown["metrics"]["automation"]["share"] == 0.5

    set_targets(belege, team, {"min_automation_share": 0.5})
    accepted = _propose_production(client, release)
    assert accepted.status_code == 201 and accepted.json()["evaluation"] == evaluation.pk


def test_test_cases_and_an_evaluation_through_the_api(belege, lead, tenant, member):
    client = bearer(lead, tenant)
    created = client.post(reverse("api:test-case-list"), {
        "use_case": "belege", "payload": {"text": "Rechnung 4"}, "expected": {"document_class": "invoice"},
        "tags": ["critical"]}, format="json")
    assert created.status_code == 201 and created.json()["tags"] == ["critical"]
    bad = client.post(reverse("api:test-case-list"), {"use_case": "belege", "payload": {"text": "x"},
                                                      "expected": {"document_class": "nope"}}, format="json")
    assert bad.status_code == 400 and "not one of the allowed values" in str(bad.json())
    upload = io.BytesIO(b'{"text": "Mahnung 3", "expected.document_class": "reminder"}\n{"text": 1\n')
    upload.name = "faelle.jsonl"
    report = client.post(reverse("api:use-case-test-case-import", args=["belege"]), {"file": upload},
                         format="multipart")
    assert report.status_code == 201 and report.json()["created"] == 1
    assert report.json()["bad"][0]["line"] == "faelle.jsonl:2"
    listed = client.get(reverse("api:test-case-list"), {"use_case": "belege"}).json()["results"]
    assert len(listed) == 2

    started = client.post(reverse("api:release-evaluation-start", args=["belege", 1]))
    assert started.status_code == 202 and started.json()["status"] == "queued"
    again = client.post(reverse("api:release-evaluation-start", args=["belege", 1]))
    assert again.status_code == 409
    assert EvaluationRun.objects.count() == 1
    # A read-only token reads evaluations but starts none; a clerk reads neither.
    reader = bearer(lead, tenant, [TokenScope.READ])
    assert reader.get(reverse("api:evaluation-list")).status_code == 200
    assert reader.post(reverse("api:release-evaluation-start", args=["belege", 1])).status_code == 403
    clerk = bearer(member(Role.CLERK), tenant)
    assert clerk.get(reverse("api:evaluation-list")).status_code == 403
    assert clerk.get(reverse("api:test-case-list")).status_code == 403


def test_the_api_records_who_read_test_cases_with_personal_data(belege, team, lead, tenant):
    """The list and a case over the API are looks at the cases' inputs like the pages: one access event per page
    (and use case with personal data), naming the cases and the people; a use case without personal data
    records nothing."""
    from audit.models import AccessEvent
    from audit.selectors.pseudonyms import pseudonym_lookup
    from tests.automations.factories import make_use_case

    tickets = make_use_case(tenant, lead, key="anfragen", input_fields=[
        {"name": "sender_email", "type": "email", "personal_data": True, "category": "contact"}],
        data_subjects=["Kunden"], legal_basis="art6_1_b")
    case = test_cases.test_case_create(actor=lead, use_case=tickets, payload={"sender_email": "anna@kunde.example"},
                                       expected={"category": "a"})
    test_cases.test_case_create(actor=lead, use_case=belege, payload={"text": "Rechnung"},
                                expected={"document_class": "invoice"})
    client = bearer(lead, tenant)
    before = AccessEvent.objects.count()
    listing = client.get(reverse("api:test-case-list"))
    assert listing.status_code == 200
    assert client.get(reverse("api:test-case-detail", args=[case.pk])).status_code == 200
    events = list(AccessEvent.objects.order_by("id")[before:])
    anna = pseudonym_lookup(tenant=tenant, kind="email", identifier="anna@kunde.example").pseudonym
    assert [(e.details["purpose"], e.details["ids"], e.details["subject"], e.actor_kind) for e in events] == [
        ("test cases (API)", [str(case.pk)], anna, "token"), ("test case (API)", [str(case.pk)], anna, "token")]
