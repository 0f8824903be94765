"""Answers while the database or the broker cannot be reached: 503 with Retry-After, JSON on /api/."""
from unittest import mock

import kombu.exceptions
import pytest
from django import db

from portal.choices import Role


@pytest.fixture
def token(tenant, member):
    from portal.services import api_token_create

    user = member(Role.IT_OPERATOR)
    return api_token_create(actor=user, user=user, tenant=tenant, name="ops")[1]


@pytest.fixture
def api(client):
    client.raise_request_exception = False  # what a real server does: the handler answers
    return client


def test_a_database_error_on_the_api_is_a_json_503_with_retry_after(api, token):
    with mock.patch("portal.api.authentication.api_token_authenticate",
                    side_effect=db.OperationalError("connection refused")):
        response = api.get("/api/v1/me/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "30"
    assert response.json()["code"] == "database_unavailable"


def test_a_broker_error_on_the_api_is_a_json_503(api, token):
    with mock.patch("portal.api.authentication.api_token_authenticate",
                    side_effect=kombu.exceptions.OperationalError("Error 111 connecting")):
        response = api.get("/api/v1/me/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.json()["code"] == "broker_unavailable"


def test_a_database_error_on_a_page_is_a_503_not_a_500(api, tenant, member):
    api.force_login(member(Role.CLERK))
    gone = db.InterfaceError("connection already closed")
    with mock.patch("portal.middleware.tenant_list_for_user", side_effect=gone):
        response = api.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_other_errors_on_the_api_stay_json_500s(api, token):
    with mock.patch("portal.api.authentication.api_token_authenticate", side_effect=RuntimeError("bug")):
        response = api.get("/api/v1/me/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert "Retry-After" not in response
