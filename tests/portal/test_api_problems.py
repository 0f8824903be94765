"""Every error under /api/ is a problem document (RFC 9457, `application/problem+json`) with a stable
`code`, field errors under `errors`, and its text in the language the client asks for — also for paths no
route matches, path parameters of the wrong form, bodies over the limit and unreachable databases."""
import pytest
from django.db import OperationalError
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from portal import services
from portal.choices import Role

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"urn:leitplanke:problem:{code}"
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def lead(tenant, make_user):
    user = make_user("lead", tenant=tenant, roles=[Role.AUTOMATION_LEAD])
    _, plain = services.api_token_create(actor=user, tenant=tenant, user=user, name="erp")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_anonymous_gets_401_with_the_bearer_challenge():
    response = APIClient().get(reverse("api:me"), HTTP_ACCEPT_LANGUAGE="en")
    body = assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"
    assert body["detail"] == "Authentication credentials were not provided."


def test_a_wrong_token_gets_401_authentication_failed():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer lp_nothing")
    assert_problem(client.get(reverse("api:me")), 401, "authentication_failed")


def test_missing_permission_is_403(tenant, make_user):
    clerk = make_user("clerk", tenant=tenant, roles=[Role.CLERK])
    _, plain = services.api_token_create(actor=clerk, tenant=tenant, user=clerk, name="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert_problem(client.get(reverse("api:membership-list")), 403, "permission_denied")


def test_field_errors_are_listed_with_field_code_and_detail(lead):
    response = lead.post(reverse("api:work-item-list"), {"use_case": 5, "external_id": "x" * 201}, format="json")
    body = assert_problem(response, 400, "invalid")
    errors = {error["field"]: error for error in body["errors"]}
    assert set(errors) == {"use_case", "external_id"}
    assert errors["use_case"]["code"] == "invalid"
    assert errors["external_id"]["code"] == "max_length"
    assert "use_case: A valid string is required." in body["detail"]


def test_a_service_refusal_is_400_refused_without_field_errors(lead):
    response = lead.post(reverse("api:work-item-list"), {"use_case": "gibt-es-nicht", "payload": {"a": "b"}},
                         format="json")
    body = assert_problem(response, 400, "refused")
    assert body["detail"] == "Unknown use case gibt-es-nicht."
    assert "errors" not in body


def test_invalid_json_is_a_parse_error(lead):
    response = lead.generic("POST", reverse("api:work-item-list"), b'{"use_case": ', content_type="application/json")
    assert_problem(response, 400, "parse_error")


def test_unsupported_media_type_is_415(lead):
    response = lead.generic("POST", reverse("api:work-item-list"), b"<x/>", content_type="application/xml")
    assert_problem(response, 415, "unsupported_media_type")


def test_method_not_allowed_is_405(lead):
    assert_problem(lead.delete(reverse("api:me")), 405, "method_not_allowed")


def test_unknown_paths_and_malformed_path_parameters_are_json_404(lead):
    for path in ("/api/v1/gibt-es-nicht/", "/api/v1/audit/events/abc/", "/api/v1/threshold-set-versions/1.5/",
                 "/api/v2/me/"):
        body = assert_problem(lead.get(path), 404, "not_found")
        assert path in body["detail"]


def test_writes_to_malformed_paths_are_json_404_not_a_csrf_page(tenant, make_user):
    user = make_user("session", tenant=tenant, roles=[Role.AUTOMATION_LEAD])
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(user)
    for path in ("/api/v1/review-tasks/1.5/claim/", "/api/v1/use-cases/%C3%88L%5B/"):
        assert_problem(browser.post(path, {}, format="json"), 404, "not_found")


@override_settings(DEBUG=True)
def test_unknown_paths_are_json_also_in_development(lead):
    response = lead.get("/api/v1/audit/events/abc/")
    assert_problem(response, 404, "not_found")
    assert b"<html" not in response.content.lower()


def test_an_object_of_another_tenant_or_none_is_404(lead):
    assert_problem(lead.get(reverse("api:work-item-detail", args=[999999])), 404, "not_found")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_body_over_the_limit_is_413(lead):
    response = lead.post(reverse("api:work-item-list"), {"use_case": "x", "payload": {"text": "x" * 500}},
                         format="json")
    assert_problem(response, 413, "request_too_large")


def test_messages_follow_accept_language(tenant, make_user):
    german = APIClient().get(reverse("api:me"), HTTP_ACCEPT_LANGUAGE="de")
    english = APIClient().get(reverse("api:me"), HTTP_ACCEPT_LANGUAGE="en")
    assert german.json()["code"] == english.json()["code"] == "not_authenticated"
    assert english.json()["title"] == "Not authenticated"
    assert german.json()["title"] == "Nicht angemeldet"
    assert german.json()["detail"] != english.json()["detail"]


def test_an_unreachable_database_is_503_with_retry_after(lead, monkeypatch):
    from portal.api import views

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.selectors, "roles_of", down)
    lead.raise_request_exception = False
    response = lead.get(reverse("api:me"))
    assert_problem(response, 503, "database_unavailable")
    assert response["Retry-After"]
