"""`/api/v1/work-items/` as DESIGN.md states the contract, through the real HTTP stack with Bearer tokens:
intake as JSON and multipart with idempotency keys, the item, final results pulled by target systems
with their acknowledgements, and who may do what (anonymous, no permission, permission, other tenant).

What a request commits runs as the commit would run it: the pipeline task is sent on commit and runs
in-process (eager), so a GET after the POST shows what a worker made of the item."""
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from audit.models import AuditEvent
from automations.api import urls as work_item_urls
from automations.choices import ChangeKind
from automations.connectors import api as connector_api
from automations.execution.api.serializers import WorkItemSerializer
from automations.execution.api.views import ResultsPagination
from automations.execution.services.results import work_item_finalise
from automations.models import ResultAcknowledgement, Run, WorkItem
from automations.registry.services import changes
from portal import services as portal_services
from portal.choices import Role
from reviews.models import ReviewTask
from tests.automations.factories import approve_all, go_live, make_rules_use_case, make_team, make_use_case
from tests.reviews.factories import join_team

pytestmark = pytest.mark.django_db

INVOICE_TEXT = "Rechnung, Rechnungsnummer 4711"  # the rules engine: invoice, confidence 3/(3+1) = 0.75
REMINDER_TEXT = "Mahnung: Zahlungserinnerung"


class Api:
    """One program calling the API with its own Bearer token; every request commits as a real one
    does, so what it sends on commit (the pipeline task) runs before the next request."""

    def __init__(self, user, tenant, capture, name="ERP"):
        _token, plain = portal_services.api_token_create(actor=user, tenant=tenant, user=user, name=name)
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_ACCEPT_LANGUAGE="en")
        self.capture = capture

    def _call(self, method, path, data=None, *, key=None, fmt="json", **params):
        extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        with self.capture(execute=True):
            if method == "get":
                return self.client.get(path, params or None, **extra)
            return getattr(self.client, method)(path, data, format=fmt, **extra)

    def submit(self, payload=None, *, use_case="belege", key=None, **fields):
        body = {"use_case": use_case, **fields}
        if payload is not None:
            body["payload"] = payload
        return self._call("post", reverse("api:work-item-list"), body, key=key)

    def upload(self, name, content: bytes, *, use_case="belege", key=None, content_type="text/plain"):
        body = {"use_case": use_case, "file": SimpleUploadedFile(name, content, content_type=content_type)}
        return self._call("post", reverse("api:work-item-list"), body, key=key, fmt="multipart")

    def item(self, pk):
        return self._call("get", reverse("api:work-item-detail", args=[pk]))

    def results(self, **params):
        return self._call("get", reverse("api:work-item-list"), **params)

    def pull(self, **params) -> list[dict]:
        """Every page of the results, following the cursor links."""
        page = self.results(**params)
        assert page.status_code == 200, page.content
        items = list(page.json()["results"])
        while page.json()["next"]:
            page = self._call("get", page.json()["next"])
            assert page.status_code == 200, page.content
            items += page.json()["results"]
        return items

    def acknowledge(self, pk, consumer="ERP"):
        return self._call("post", reverse("api:work-item-acknowledge", args=[pk]), {"consumer": consumer})


@pytest.fixture
def belege(tenant, team):
    return make_rules_use_case(tenant, team)


@pytest.fixture
def api_for(django_capture_on_commit_callbacks):
    def make(user, tenant, name="ERP"):
        return Api(user, tenant, django_capture_on_commit_callbacks, name=name)

    return make


@pytest.fixture
def erp(api_for, team, tenant, belege):
    """The ERP's connection: an API token of the IT operator (may send and read work items)."""
    return api_for(team["it_operator"], tenant)


# --- intake -----------------------------------------------------------------------------------------

def test_json_intake_answers_201_with_the_item_and_the_item_shows_what_the_pipeline_found(erp):
    response = erp.submit({"text": INVOICE_TEXT})
    assert response.status_code == 201, response.content
    body = response.json()
    assert isinstance(body["id"], str) and uuid.UUID(body["id"])
    assert body["use_case"] == "belege"
    assert body["status"] in ("received", "processing")  # the worker takes it after the commit
    assert body["reasons"] == []

    item = erp.item(body["id"])
    assert item.status_code == 200
    data = item.json()
    assert data["id"] == body["id"] and data["use_case"] == "belege"
    assert data["status"] == "applied"
    assert data["fields"] == {"document_class": {"value": "invoice", "confidence": 0.75}}
    assert data["reasons"] == []


def test_multipart_intake_takes_a_file(erp):
    response = erp.upload("lieferschein.txt", b"Lieferschein Nr. 3")
    assert response.status_code == 201, response.content
    item = WorkItem.objects.get(pk=response.json()["id"])
    assert item.files.get().name == "lieferschein.txt"
    data = erp.item(item.pk).json()
    assert data["status"] == "applied"
    assert data["fields"]["document_class"] == {"value": "delivery_note", "confidence": 0.75}


def test_an_uncertain_item_lists_its_reasons_and_keeps_every_value_found(erp):
    data = erp.item(erp.submit({"text": "Rechnung und Mahnung zugleich"}).json()["id"]).json()
    assert data["status"] == "review"  # 3/(3+3+1) = 0.43: above reject (0.3), below auto (0.7)
    assert data["fields"]["document_class"] == {"value": data["fields"]["document_class"]["value"],
                                                "confidence": 0.4286}
    assert data["fields"]["document_class"]["value"] in ("invoice", "reminder")
    assert data["reasons"] == ["Low confidence: document_class"]


def test_same_idempotency_key_and_content_gives_the_same_item_with_200(erp):
    first = erp.submit({"text": INVOICE_TEXT}, key="erp-4711")
    again = erp.submit({"text": INVOICE_TEXT}, key="erp-4711")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "applied"  # the item as it is now
    assert WorkItem.objects.count() == 1 and Run.objects.count() == 1


def test_same_idempotency_key_with_other_content_is_refused_with_422(erp):
    first = erp.submit({"text": INVOICE_TEXT}, key="erp-4711")
    other = erp.submit({"text": REMINDER_TEXT}, key="erp-4711")
    assert other.status_code == 422
    assert "idempotency key" in other.json()["detail"].lower()
    other_use_case = erp.submit({"text": INVOICE_TEXT}, key="erp-4711", use_case="belege-2")
    assert other_use_case.status_code in (400, 422)  # unknown use case, or other content: never the item
    assert WorkItem.objects.count() == 1
    assert erp.item(first.json()["id"]).json()["fields"]["document_class"]["value"] == "invoice"


def test_same_idempotency_key_for_the_same_file_gives_the_same_item(erp):
    first = erp.upload("beleg.txt", b"Lieferschein Nr. 3", key="dms-1")
    again = erp.upload("beleg.txt", b"Lieferschein Nr. 3", key="dms-1")
    changed = erp.upload("beleg.txt", b"Lieferschein Nr. 4", key="dms-1")
    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 422)
    assert again.json()["id"] == first.json()["id"]
    assert WorkItem.objects.count() == 1


def test_draft_and_retired_use_cases_answer_409_with_the_reason(erp, tenant, team):
    make_use_case(tenant, team["automation_lead"], key="entwurf")
    retired = make_use_case(tenant, team["automation_lead"], key="alt")
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, use_case=retired,
                                       kind=ChangeKind.STATUS_CHANGE, title="retire", description="replaced",
                                       payload={"to": "retired"})
    approve_all(cr, team)
    retired.refresh_from_db()
    assert retired.status == "retired"

    for key, status in (("entwurf", "Draft"), ("alt", "Retired")):
        response = erp.submit({"text": INVOICE_TEXT}, use_case=key)
        assert response.status_code == 409, response.content
        assert response.json()["detail"] == f"The use case {key} is in {status} and accepts no work items."
    assert not WorkItem.objects.exists()


def test_unknown_use_case_and_empty_bodies_answer_400_with_a_clear_message(erp):
    unknown = erp.submit({"text": INVOICE_TEXT}, use_case="gibt-es-nicht")
    assert unknown.status_code == 400
    assert unknown.json()["detail"] == "Unknown use case gibt-es-nicht."

    empty = erp._call("post", reverse("api:work-item-list"), {})
    assert empty.status_code == 400
    assert empty.json()["errors"] == [{"field": "use_case", "code": "required", "detail": "This field is required."}]

    nothing = erp.submit(None)
    assert nothing.status_code == 400
    assert nothing.json()["detail"] == "Send a file or a payload of input fields."

    not_an_object = erp.submit(["Rechnung"])
    assert not_an_object.status_code == 400
    assert "object" in not_an_object.json()["detail"]
    assert not WorkItem.objects.exists()


def test_a_suspended_use_case_keeps_new_items_as_held(erp, belege, team):
    from automations.registry.services.use_cases import use_case_suspend

    use_case_suspend(actor=team["security_officer"], use_case=belege, reason="Vorfall")
    response = erp.submit({"text": INVOICE_TEXT})
    assert response.status_code == 201
    assert response.json()["status"] == "held"
    assert erp.item(response.json()["id"]).json()["status"] == "held"
    assert not Run.objects.exists()


def test_a_clerks_decision_shows_the_final_value_and_who_decided(api_for, tenant, team):
    make_rules_use_case(tenant, team, key="pilotbelege", status="pilot")
    erp = api_for(team["it_operator"], tenant)
    pk = erp.submit({"text": INVOICE_TEXT}, use_case="pilotbelege").json()["id"]
    assert erp.item(pk).json()["status"] == "review"
    assert ReviewTask.objects.filter(item_id=pk).exists()
    # What the clerk's decision does to the item (the review workplace calls it in its deciding transaction).
    with transaction.atomic():
        work_item_finalise(actor=team["clerk"], item=WorkItem.objects.get(pk=pk), approved=True,
                           final_values={"document_class": "reminder"})
    data = erp.item(pk).json()
    assert data["status"] == "applied"
    assert data["fields"]["document_class"] == {"value": "reminder", "confidence": 0.75, "decided_by": "clerk"}


def test_the_items_answer_is_what_its_declared_fields_give(api_for, tenant, team):
    """The serializer writes the answer out (no per-item field building); the schema comes from the declared
    fields, so both must give the same answer: a new item, a final one with a release, a decision and reasons."""
    make_rules_use_case(tenant, team, key="pilotbelege", status="pilot")
    erp = api_for(team["it_operator"], tenant)
    created = erp.submit({"text": INVOICE_TEXT}, use_case="pilotbelege", external_id="ERP-7")
    pk = created.json()["id"]
    with transaction.atomic():
        work_item_finalise(actor=team["clerk"], item=WorkItem.objects.get(pk=pk), approved=True,
                           final_values={"document_class": "reminder"})
    held = erp.submit({"text": REMINDER_TEXT}, use_case="pilotbelege").json()["id"]
    WorkItem.objects.filter(pk=held).update(reasons=["Konfidenz zu niedrig"], status="review")
    for item_pk, context in ((pk, {}), (pk, {"created": True}), (held, {})):
        item = WorkItem.objects.select_related("release", "use_case").get(pk=item_pk)
        answer = WorkItemSerializer(item, context=context)
        assert answer.data == serializers.ModelSerializer.to_representation(answer, item)
    final = WorkItem.objects.get(pk=pk)
    assert final.finalised_at is not None and final.release_id is not None
    assert erp.item(pk).json()["external_id"] == "ERP-7"


# --- results for target systems ---------------------------------------------------------------------

def test_results_are_pulled_page_by_page_since_a_moment_and_each_consumer_takes_each_item_once(
        erp, tenant, team, monkeypatch):
    monkeypatch.setattr(ResultsPagination, "page_size", 2)
    early = erp.submit({"text": INVOICE_TEXT + " früh"}).json()["id"]
    WorkItem.objects.filter(pk=early).update(updated_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    applied = [erp.submit({"text": f"{INVOICE_TEXT} Nr. {n}"}).json()["id"] for n in range(5)]
    unsure = erp.submit({"text": "Rechnung und Mahnung zugleich"}).json()["id"]
    assert erp.item(unsure).json()["status"] != "applied"

    pulled = erp.pull(use_case="belege", status="applied", since=since)
    assert [item["id"] for item in pulled] == applied  # oldest change first, no item twice, none missing
    assert all(item["status"] == "applied" and item["fields"]["document_class"]["value"] == "invoice"
               for item in pulled)
    every_applied = erp.pull(use_case="belege", status="applied")
    assert {item["id"] for item in every_applied} == {early, *applied}

    # The ERP takes three, then asks again for what it has not taken.
    for pk in applied[:3]:
        response = erp.acknowledge(pk)
        assert response.status_code == 200, response.content
        assert response.json() == {"id": pk, "consumer": "ERP", "first": True}
    assert erp.acknowledge(applied[0]).json()["first"] is False  # a repeat is harmless and says so
    left = erp.pull(use_case="belege", status="applied", since=since, not_acknowledged_by="ERP")
    assert [item["id"] for item in left] == applied[3:]
    # Another consumer has taken nothing yet; acknowledgements are per consumer.
    dms = erp.pull(use_case="belege", status="applied", since=since, not_acknowledged_by="DMS")
    assert [item["id"] for item in dms] == applied
    assert ResultAcknowledgement.objects.filter(consumer="ERP").count() == 3
    assert AuditEvent.objects.filter(event_type="work_item.acknowledged").count() == 3


def test_an_item_that_is_not_final_cannot_be_acknowledged(erp):
    pk = erp.submit({"text": "Rechnung und Mahnung zugleich"}).json()["id"]
    response = erp.acknowledge(pk)
    assert response.status_code == 409
    assert response.json()["detail"] == "Only final items are acknowledged."
    assert not ResultAcknowledgement.objects.exists()


def test_a_malformed_since_is_a_400(erp):
    response = erp.results(use_case="belege", status="applied", since="gestern")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["since"]


# --- who may do what ----------------------------------------------------------------------------------

@pytest.fixture
def world(tenant, make_tenant, make_user, team, belege, api_for):
    """Muster GmbH with an applied item, and another tenant with a use case of the same key and an
    item of its own."""
    join_team(team["clerk"], belege, team["automation_lead"])  # the clerk works the use case's department
    other = make_tenant("andere", "Andere AG")
    other_team = make_team(lambda role, username: make_user(f"andere-{username}", tenant=other, roles=[role]))
    make_rules_use_case(other, other_team)
    own = api_for(team["it_operator"], tenant).submit({"text": INVOICE_TEXT}).json()["id"]
    foreign = api_for(other_team["it_operator"], other).submit({"text": INVOICE_TEXT}).json()["id"]
    return {"tenant": tenant, "other": other, "team": team, "other_team": other_team, "own": own,
            "foreign": foreign}


# route name -> requests as (method, path of the world, body); who may: it_operator (sends and reads),
# clerk (sends and reads), auditor (reads only); works_council holds no work item permission.
MATRIX = {
    "work-item-list": [
        ("get", lambda w: reverse("api:work-item-list"), None, {"it_operator", "clerk", "auditor"}),
        ("post", lambda w: reverse("api:work-item-list"), {"use_case": "belege", "payload": {"text": "Lieferschein"}},
         {"it_operator", "clerk"}),
    ],
    "work-item-detail": [
        ("get", lambda w: reverse("api:work-item-detail", args=[w["own"]]), None, {"it_operator", "clerk", "auditor"}),
    ],
    "work-item-acknowledge": [
        ("post", lambda w: reverse("api:work-item-acknowledge", args=[w["own"]]), {"consumer": "ERP"},
         {"it_operator", "clerk"}),
    ],
    "work-item-deliveries": [
        ("get", lambda w: reverse("api:work-item-deliveries", args=[w["own"]]), None,
         {"it_operator", "clerk", "auditor"}),
    ],
}


def test_every_work_item_route_has_a_row_in_the_matrix():
    # automations/api/urls.py also carries the registry's routes; those have their own matrix.
    names = {pattern.name for urls in (work_item_urls, connector_api) for pattern in urls.urlpatterns
             if (pattern.name or "").startswith("work-item")}
    assert names == set(MATRIX)


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_access_matrix(world, route, api_for, django_capture_on_commit_callbacks):
    clients = {who: api_for(world["team"][who], world["tenant"]) for who in
               ("it_operator", "clerk", "auditor", "works_council")}
    for method, path_of, body, allowed in MATRIX[route]:
        anonymous = getattr(APIClient(), method)(path_of(world), body, format="json")
        assert anonymous.status_code == 401, (route, method)
        for who, api in clients.items():
            with django_capture_on_commit_callbacks(execute=True):
                response = getattr(api.client, method)(path_of(world), body, format="json")
            expected = (200, 201) if who in allowed else (403,)
            assert response.status_code in expected, (route, method, who, response.status_code, response.content)


def test_a_token_never_reaches_another_tenants_items(world, api_for):
    erp = api_for(world["team"]["it_operator"], world["tenant"])
    foreign = world["foreign"]
    assert erp.item(foreign).status_code == 404
    assert erp.acknowledge(foreign).status_code == 404
    listed = erp.pull()
    assert [item["id"] for item in listed] == [world["own"]]
    assert erp.pull(use_case="belege", status="applied") == listed
    assert not ResultAcknowledgement.objects.exists()

    # The other tenant's token sees only its own item, though the use case key is the same.
    andere = api_for(world["other_team"]["it_operator"], world["other"])
    assert [item["id"] for item in andere.pull()] == [foreign]
    assert andere.item(world["own"]).status_code == 404


def test_idempotency_keys_are_per_tenant(world, api_for):
    muster = api_for(world["team"]["it_operator"], world["tenant"])
    andere = api_for(world["other_team"]["it_operator"], world["other"])
    mine = muster.submit({"text": INVOICE_TEXT}, key="beleg-1")
    theirs = andere.submit({"text": REMINDER_TEXT}, key="beleg-1")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert andere.item(theirs.json()["id"]).json()["fields"]["document_class"]["value"] == "reminder"


def test_a_works_council_token_is_refused_and_nothing_is_stored(api_for, tenant, team, belege):
    council = api_for(team["works_council"], tenant)
    response = council.submit({"text": INVOICE_TEXT})
    assert response.status_code == 403
    assert not WorkItem.objects.exists()


def test_a_revoked_token_is_refused(api_for, tenant, team, belege):
    from portal.models import ApiToken

    erp = api_for(team["it_operator"], tenant)
    token = ApiToken.objects.get(user=team["it_operator"])
    portal_services.api_token_revoke(actor=team["it_operator"], token=token)
    assert erp.submit({"text": INVOICE_TEXT}).status_code == 401
    assert not WorkItem.objects.exists()


def test_roles_that_may_send_and_read_work_items_are_the_documented_ones():
    """The matrix above picks its people by these permissions; if the roles change, so must the matrix."""
    from portal.roles import ROLE_PERMISSIONS

    senders = {role for role, perms in ROLE_PERMISSIONS.items() if "automations.add_workitem" in perms}
    readers = {role for role, perms in ROLE_PERMISSIONS.items() if "automations.view_workitem" in perms}
    assert {Role.IT_OPERATOR, Role.CLERK} <= senders and Role.AUDITOR not in senders
    assert {Role.IT_OPERATOR, Role.CLERK, Role.AUDITOR} <= readers
    assert Role.WORKS_COUNCIL not in senders | readers


@pytest.mark.parametrize("body", [
    {"use_case": {"key": "belege"}, "payload": {"text": INVOICE_TEXT}},
    {"use_case": ["belege"], "payload": {"text": INVOICE_TEXT}},
    {"use_case": 42, "payload": {"text": INVOICE_TEXT}},
    {"use_case": "belege", "payload": 42},
    {"use_case": "belege", "payload": "Rechnung"},
    {"use_case": "belege", "payload": {"text": INVOICE_TEXT}, "external_id": 4711},
    {"use_case": "belege", "payload": {"text": INVOICE_TEXT}, "external_id": {"erp": 1}},
    ["belege", {"text": INVOICE_TEXT}],
    "belege",
])
def test_malformed_requests_get_a_400_never_a_server_error(erp, body):
    response = erp._call("post", reverse("api:work-item-list"), body)
    assert response.status_code == 400, response.content
    assert not WorkItem.objects.exists()


def test_an_overlong_idempotency_key_gets_a_400(erp):
    response = erp.submit({"text": INVOICE_TEXT}, key="k" * 201)
    assert response.status_code == 400, response.content
    assert "Idempotency-Key" in response.json()["detail"]
    assert erp.submit({"text": INVOICE_TEXT}, key="k" * 200).status_code == 201


# --- file types ---------------------------------------------------------------------------------------

HTML_PAGE = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me/')</script></body></html>"
SVG_IMAGE = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


@pytest.fixture
def invoices(tenant, team):
    """Eingangsrechnungen as the demo has it: the e-invoice extractor reads PDF and XML (and scans)."""
    use_case = make_use_case(tenant, team["automation_lead"], key="eingangsrechnungen", output_fields=[
        {"name": "invoice_number", "type": "text"},
        {"name": "iban", "type": "iban", "personal_data": True, "category": "bank"}])
    go_live(use_case, team, engine="invoice")
    return use_case


@pytest.mark.parametrize("name,content,declared", [
    ("evil.html", HTML_PAGE, "text/html"),
    ("rechnung.pdf", HTML_PAGE, "application/pdf"),
    ("logo.svg", SVG_IMAGE, "image/svg+xml"),
    ("rechnung.txt", b"Rechnung 4711, bitte zahlen", "text/plain"),
])
def test_a_file_the_use_case_cannot_read_is_refused_with_415_and_nothing_is_stored(erp, invoices, name, content,
                                                                                    declared):
    response = erp.upload(name, content, use_case="eingangsrechnungen", content_type=declared)
    assert response.status_code == 415, response.content
    detail = response.json()["detail"]
    assert name in detail and "eingangsrechnungen" in detail and "PDF" in detail and "XML" in detail
    assert not WorkItem.objects.filter(use_case=invoices).exists()


def test_pdf_and_xml_invoices_are_accepted_and_stored_with_the_type_of_their_content(erp, invoices):
    from tests.reviews.world import small_pdf

    pdf = small_pdf()
    response = erp.upload("upload.bin", pdf, use_case="eingangsrechnungen", content_type="text/html")
    assert response.status_code == 201, response.content
    assert WorkItem.objects.get(pk=response.json()["id"]).files.get().content_type == "application/pdf"
    xml = b'<?xml version="1.0"?><rsm:CrossIndustryInvoice xmlns:rsm="urn:x"/>'
    response = erp.upload("rechnung.xml", xml, use_case="eingangsrechnungen", content_type="text/html")
    assert response.status_code == 201, response.content
    assert WorkItem.objects.get(pk=response.json()["id"]).files.get().content_type == "application/xml"


def test_a_text_use_case_refuses_html_and_svg_but_takes_text(erp):
    assert erp.upload("notiz.txt", b"<html><script>alert(1)</script>", content_type="text/plain").status_code == 415
    assert erp.upload("bild.svg", SVG_IMAGE, content_type="image/svg+xml").status_code == 415
    assert erp.upload("lieferschein.txt", b"Lieferschein Nr. 3").status_code == 201
