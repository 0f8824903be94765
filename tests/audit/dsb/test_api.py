"""The DSB area over the API: the same permissions as the pages (matrix), keyset pages, erasure and access
requests, and an export that verifies offline."""
from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from audit import signing
from audit.actors import SYSTEM
from audit.api import urls as audit_api_urls
from audit.models import AccessEvent, AuditEvent, DataSubjectRequest
from audit.services.events import audit_event_record
from automations.models import MasterRecord
from portal import services
from portal.choices import Role, TokenScope
from tests import access
from tests.audit.dsb.helpers import ERIKA, OTTO
from tests.audit.dsb.test_export import check

pytestmark = pytest.mark.django_db


def bearer(user, tenant) -> APIClient:
    """A client with a token of every scope."""
    return access.bearer(user, tenant, scopes=list(TokenScope))


# route -> (method, url builder, data, roles that get in, status they get)
MATRIX = {
    "audit-event-list": ("get", lambda w: reverse("api:audit-event-list"), {}, {"dsb", "auditor"}, 200),
    "audit-event-detail": ("get", lambda w: reverse("api:audit-event-detail", args=[1]), {}, {"dsb", "auditor"}, 200),
    "access-event-list": ("get", lambda w: reverse("api:access-event-list"), {}, {"dsb", "auditor"}, 200),
    "access-event-detail": ("get", lambda w: reverse("api:access-event-detail", args=[w["access_sequence"]]), {},
                            {"dsb", "auditor"}, 200),
    "audit-export": ("get", lambda w: reverse("api:audit-export"), {"format": "csv"}, {"dsb", "auditor"}, 200),
    "audit-verification": ("get", lambda w: reverse("api:audit-verification"), {}, {"dsb", "auditor"}, 200),
    "subject-request-list": ("get", lambda w: reverse("api:subject-request-list"), {}, {"dsb", "auditor"}, 200),
    "subject-request-detail": ("get", lambda w: reverse("api:subject-request-detail", args=[w["request"].pk]), {},
                               {"dsb", "auditor"}, 200),
    "subject-request-export": ("get", lambda w: reverse("api:subject-request-export", args=[w["request"].pk]), {},
                               {"dsb"}, 200),
    "subject-request-answer-pdf": ("get", lambda w: reverse("api:subject-request-answer-pdf", args=[w["request"].pk]),
                                   {}, {"dsb"}, 200),
    "subject-request-action": ("post", lambda w: reverse("api:subject-request-action",
                                                         args=[w["request"].pk, "verify-identity"]),
                               {"check": "known_contact"}, {"dsb"}, 200),
    "legal-hold-list": ("get", lambda w: reverse("api:legal-hold-list"), {}, {"dsb", "auditor"}, 200),
    "legal-hold-lift": ("post", lambda w: reverse("api:legal-hold-lift", args=[w["hold"].pk]), {"reason": "erledigt"},
                        {"dsb"}, 200),
    "processing-records": ("get", lambda w: reverse("api:processing-records"), {}, {"dsb", "auditor"}, 200),
    "works-council": ("get", lambda w: reverse("api:works-council"), {}, {"dsb", "auditor", "works_council"}, 200),
}


@pytest.fixture
def api(world, make_tenant, make_user, settings, tmp_path):
    from audit.services.access import data_subject_access_request_open

    team, tenant = world["team"], world["tenant"]
    request = data_subject_access_request_open(actor=team["data_protection_officer"], tenant=tenant,
                                               identifier=OTTO["email"])
    other = make_tenant("anderes")
    make_user("fremd", tenant=other, roles=[Role.DATA_PROTECTION_OFFICER])
    from audit.services.legal_holds import legal_hold_place

    hold = legal_hold_place(actor=team["data_protection_officer"], tenant=tenant, scope="use_case",
                            use_case_key="tickets", reason="Klage", reference="AZ-7")
    return {**world, "request": request, "other": other, "hold": hold,
            "access_sequence": AccessEvent.objects.filter(tenant=tenant).order_by("sequence").first().sequence,
            "people": {"dsb": team["data_protection_officer"], "auditor": team["auditor"], "clerk": team["clerk"],
                       "works_council": team["works_council"], "lead": team["automation_lead"]}}


def test_every_audit_api_route_has_a_row_in_the_matrix():
    assert {pattern.name for pattern in audit_api_urls.urlpatterns} == set(MATRIX)


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_access_matrix(api, route):
    method, url_of, data, allowed, ok = MATRIX[route]
    url = url_of(api)
    assert getattr(APIClient(), method)(url, data).status_code == 401
    for who, user in api["people"].items():
        response = getattr(bearer(user, api["tenant"]), method)(url, data)
        expected = ok if who in allowed else 403
        assert response.status_code == expected, (who, response.content[:200])


@pytest.mark.parametrize("route", ["subject-request-detail", "subject-request-export", "subject-request-answer-pdf"])
def test_another_tenants_request_is_not_found(api, route):
    from audit.services.access import data_subject_access_request_open
    from automations.execution.services import master_data

    outsider = api["other"]
    from portal.selectors import membership_list

    dsb = membership_list(tenant=outsider).first().user
    lead = api["people"]["lead"]
    services.membership_create(actor=SYSTEM, tenant=outsider, user=lead, roles=[Role.AUTOMATION_LEAD])
    lead.active_tenant = outsider
    master_data.master_record_save(actor=lead, tenant=outsider, kind="customer", number="X-1", name="X",
                                   email="x@example.org")
    dsb.active_tenant = outsider
    foreign = data_subject_access_request_open(actor=dsb, tenant=outsider, identifier="x@example.org")
    client = bearer(api["people"]["dsb"], api["tenant"])
    assert client.get(reverse(f"api:{route}", args=[foreign.pk])).status_code == 404


def test_events_come_in_keyset_pages_with_a_next_link(api):
    client = bearer(api["people"]["auditor"], api["tenant"])
    seen, url = [], reverse("api:audit-event-list")
    while url:
        body = client.get(url).json()
        seen += [event["sequence"] for event in body["results"]]
        url = body["next"]
        # an event appended between two pages is newer than the first page: no gaps, no repeats
        audit_event_record(actor=SYSTEM, tenant=api["tenant"], event_type="tenant.switched", obj=api["tenant"])
    assert seen == list(range(seen[0], 0, -1))
    assert AuditEvent.objects.filter(chain=str(api["tenant"].pk)).count() > seen[0]
    assert "count" not in body


def test_searching_a_person_over_the_api_is_recorded(api):
    client = bearer(api["people"]["dsb"], api["tenant"])
    body = client.get(reverse("api:audit-event-list"), {"subject": ERIKA["email"]}).json()
    # her master data (by number, through master data) and her ticket (by the e-mail it came from)
    assert {event["event_type"] for event in body["results"]} == {"master_record.changed", "work_item.received"}
    searched = AccessEvent.objects.filter(event_type="data_subject.searched").latest("sequence")
    assert searched.actor_kind == "token"


def test_erasure_over_the_api_dry_run_then_for_real(api):
    client = bearer(api["people"]["dsb"], api["tenant"])
    url = reverse("api:subject-request-list")
    preview = client.post(url, {"kind": "erasure", "identifier": ERIKA["number"], "dry_run": True}, format="json")
    assert preview.status_code == 200 and preview.json()["dry_run"] is True
    assert MasterRecord.objects.filter(number=ERIKA["number"]).exists()

    done = client.post(url, {"kind": "erasure", "identifier": ERIKA["number"]}, format="json")

    assert done.status_code == 201, done.content
    assert done.json()["request"] == DataSubjectRequest.objects.get(kind="erasure").pk
    assert not MasterRecord.objects.filter(number=ERIKA["number"]).exists()
    refused = bearer(api["people"]["auditor"], api["tenant"]).post(
        url, {"kind": "erasure", "identifier": OTTO["email"]}, format="json")
    assert refused.status_code == 403


def test_an_access_request_over_the_api(api):
    client = bearer(api["people"]["dsb"], api["tenant"])
    created = client.post(reverse("api:subject-request-list"), {"kind": "access", "identifier": ERIKA["email"]},
                          format="json")
    assert created.status_code == 201 and created.json()["status"] == "open"
    export = client.get(reverse("api:subject-request-export", args=[created.json()["id"]])).json()
    assert len(export["automated_decisions"]) == 2
    answer = client.get(reverse("api:subject-request-answer-pdf", args=[created.json()["id"]]))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"] == f'attachment; filename="auskunft-{created.json()["id"]}.pdf"'
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(answer.content)).pages)
    assert "Art. 15" in text and ERIKA["email"] in text
    assert DataSubjectRequest.objects.get(pk=created.json()["id"]).status == "open"  # reading changes nothing
    unknown = client.post(reverse("api:subject-request-list"), {"kind": "access", "identifier": "nie@example.org"},
                          format="json")
    assert unknown.status_code == 404


def test_an_api_export_verifies_offline(api, tmp_path):
    client = bearer(api["people"]["auditor"], api["tenant"])
    response = client.get(reverse("api:audit-export"), {"format": "jsonl", "event_type": "work_item."})
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(response.streaming_content))
    code, output = check(path, "--public-key", signing.public_key_b64())
    assert code == 0, output
    verification = client.get(reverse("api:audit-verification")).json()
    assert verification["public_key"] == signing.public_key_b64()
