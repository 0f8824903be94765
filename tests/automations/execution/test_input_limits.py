"""How much an item may bring in: every text input field has a limit (100,000 characters unless its declaration
says otherwise), the request body and each file have one. Too much is refused with the reason — 413 for a body
or file, 422 naming the field — and never answered with 500; an item that was accepted and turns out too large
(the text of its files, a limit lowered since) is kept and goes to clarification without reaching an engine."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from automations.choices import ItemStatus
from automations.engines import limits, rules
from automations.execution.services import intake
from automations.models import WorkItem
from automations.registry.services import use_cases
from portal import services as portal_services
from tests.access import login
from tests.automations.factories import make_rules_use_case
from tests.reviews.factories import join_team

pytestmark = pytest.mark.django_db

INVOICE_TEXT = "Rechnung, Rechnungsnummer 4711 "


@pytest.fixture
def belege(tenant, team, eager_tasks):
    use_case = make_rules_use_case(tenant, team, input_fields=[
        {"name": "text", "type": "long_text"},
        {"name": "reference", "type": "text", "validation": {"max_length": 50}}])
    join_team(team["clerk"], use_case, team["automation_lead"])  # the clerk sends work for their department
    return use_case


@pytest.fixture
def api(team, tenant, belege):
    _token, plain = portal_services.api_token_create(actor=team["it_operator"], tenant=tenant,
                                                     user=team["it_operator"], name="ERP")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def _submit(api, payload, capture):
    with capture(execute=True):
        return api.post(reverse("api:work-item-list"), {"use_case": "belege", "payload": payload}, format="json")


def test_a_text_field_over_the_default_limit_is_refused_with_422_naming_the_field(
        api, django_capture_on_commit_callbacks):
    text = INVOICE_TEXT * (limits.DEFAULT_FIELD_MAX_CHARS // len(INVOICE_TEXT) + 1)
    response = _submit(api, {"text": text}, django_capture_on_commit_callbacks)
    assert response.status_code == 422, response.content
    body = response.json()
    assert "text has" in body["detail"] and "at most 100.000" in body["detail"]
    assert body["code"] == "input_too_large"
    assert [error["field"] for error in body["errors"]] == ["payload.text"]
    assert not WorkItem.objects.exists()

    fits = _submit(api, {"text": text[:limits.DEFAULT_FIELD_MAX_CHARS]}, django_capture_on_commit_callbacks)
    assert fits.status_code == 201, fits.content


def test_a_declared_limit_counts_and_undeclared_fields_have_the_default(api, django_capture_on_commit_callbacks):
    refused = _submit(api, {"text": INVOICE_TEXT, "reference": "R" * 51}, django_capture_on_commit_callbacks)
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["payload.reference"]
    assert "at most 50 are accepted" in refused.json()["detail"]
    accepted = _submit(api, {"text": INVOICE_TEXT, "reference": "R" * 50}, django_capture_on_commit_callbacks)
    assert accepted.status_code == 201, accepted.content
    undeclared = _submit(api, {"text": INVOICE_TEXT, "extra": ["x" * 60_000, "y" * 60_000]},
                         django_capture_on_commit_callbacks)
    assert undeclared.status_code == 422
    assert [error["field"] for error in undeclared.json()["errors"]] == ["payload.extra"]


def test_a_json_body_over_the_data_limit_is_refused_with_413_before_it_is_read(api, settings):
    body = json.dumps({"use_case": "belege", "payload": {"text": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}})
    response = api.post(reverse("api:work-item-list"), body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "request_too_large"
    assert "at most 5.0 MB" in response.json()["detail"]
    assert not WorkItem.objects.exists()


def test_a_file_over_the_file_limit_is_refused_with_413(api, settings, django_capture_on_commit_callbacks):
    settings.UPLOAD_MAX_FILE_BYTES = 1024 * 1024
    big = SimpleUploadedFile("beleg.txt", b"a" * (1024 * 1024 + 1), content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("api:work-item-list"), {"use_case": "belege", "file": big}, format="multipart")
    assert response.status_code == 413, response.content
    assert response.json()["detail"] == "beleg.txt is larger than 1 MB."
    assert response.json()["code"] == "file_too_large"
    assert not WorkItem.objects.exists()


def test_a_multipart_body_over_the_request_limit_is_refused_with_413(api, settings):
    settings.REQUEST_MAX_BODY_BYTES = 64 * 1024
    big = SimpleUploadedFile("beleg.txt", b"a" * (65 * 1024), content_type="text/plain")
    response = api.post(reverse("api:work-item-list"), {"use_case": "belege", "file": big}, format="multipart")
    assert response.status_code == 413 and "at most 0.1 MB" in response.json()["detail"]


def test_the_browser_upload_shows_a_file_over_the_limit_as_an_error(client, tenant, team, belege, settings,
                                                                    django_capture_on_commit_callbacks):
    settings.UPLOAD_MAX_FILE_BYTES = 1024 * 1024
    login(client, team["clerk"], tenant)
    files = [SimpleUploadedFile("gross.txt", b"a" * (1024 * 1024 + 1), content_type="text/plain"),
             SimpleUploadedFile("klein.txt", INVOICE_TEXT.encode(), content_type="text/plain")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("work:upload"), {"use_case": "belege", "files": files}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "gross.txt" in page and "1 MB" in page
    assert list(WorkItem.objects.values_list("files__name", flat=True)) == ["klein.txt"]


def test_the_browser_gets_a_page_with_the_reason_for_a_body_over_the_request_limit(client, tenant, team, belege,
                                                                                  settings):
    settings.REQUEST_MAX_BODY_BYTES = 64 * 1024
    login(client, team["clerk"], tenant)
    big = SimpleUploadedFile("gross.txt", b"a" * (65 * 1024), content_type="text/plain")
    response = client.post(reverse("work:upload"), {"use_case": "belege", "files": [big]},
                           HTTP_REFERER="http://testserver/work/upload/")
    assert response.status_code == 413
    page = response.content.decode()
    assert "Anfrage zu groß" in page and "angenommen werden höchstens 0,1 MB" in page  # the page speaks German
    assert 'href="http://testserver/work/upload/"' in page
    assert not WorkItem.objects.exists()


def test_an_item_over_a_limit_lowered_after_intake_goes_to_clarification_without_an_engine(
        tenant, team, belege, monkeypatch, django_capture_on_commit_callbacks):
    called = []
    monkeypatch.setattr(rules.RulesEngine, "suggest", lambda *args, **kwargs: called.append(args))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        item, _created = intake.work_item_create(actor=team["clerk"], tenant=tenant, use_case_key="belege",
                                                 payload={"text": INVOICE_TEXT * 100})
    monkeypatch.setattr(limits, "DEFAULT_FIELD_MAX_CHARS", 1000)
    for callback in callbacks:
        callback()
    item.refresh_from_db()
    assert item.status == ItemStatus.CLARIFICATION
    assert "text has 3.100 characters; at most 1.000 are accepted for this field." in item.reasons
    assert called == []
    assert item.review_tasks.get().queue.kind == "clarification"


def test_file_text_over_the_engines_limit_goes_to_clarification_with_the_reason(tenant, team, belege, settings,
                                                                               django_capture_on_commit_callbacks):
    settings.PIPELINE_MAX_TEXT_CHARS = 1000
    upload = SimpleUploadedFile("lang.txt", (INVOICE_TEXT * 40).encode(), content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        item, _created = intake.work_item_create(actor=team["clerk"], tenant=tenant, use_case_key="belege",
                                                 files=[upload])
    item.refresh_from_db()
    assert item.status == ItemStatus.CLARIFICATION
    assert any("lang.txt has 1.240 characters, more than the 1.000" in reason for reason in item.reasons)


def test_the_field_schema_takes_a_maximum_length_within_bounds():
    for bad in (0, -1, "100", limits.FIELD_MAX_CHARS_CEILING + 1, True):
        with pytest.raises(use_cases.ValidationError, match="maximum length"):
            use_cases.validate_field_specs([{"name": "t", "type": "text", "validation": {"max_length": bad}}],
                                           label="input_fields", categories=[])
    use_cases.validate_field_specs([{"name": "t", "type": "text", "validation": {"max_length": 1_000_000}}],
                                   label="input_fields", categories=[])
    assert limits.field_max_chars({"name": "t", "validation": {"max_length": 50}}) == 50
    assert limits.field_max_chars({"name": "t"}) == limits.DEFAULT_FIELD_MAX_CHARS


def test_the_field_form_reads_and_writes_the_maximum_length():
    from automations.registry.forms import FieldSpecForm

    form = FieldSpecForm(data={"name": "betreff", "type": "text", "max_length": "200", "send_to_model": "on"},
                         categories=[])
    assert form.is_valid(), form.errors
    assert form.spec()["validation"] == {"max_length": 200}
    assert FieldSpecForm.initial_from(form.spec())["max_length"] == 200
    too_long = FieldSpecForm(data={"name": "b", "type": "text", "max_length": "1000001"}, categories=[])
    assert not too_long.is_valid() and "max_length" in too_long.errors
