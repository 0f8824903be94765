"""List filters are FilterSets: an unknown enum value, a malformed date-time, an unknown use case or a
missing required parameter is a 400 naming the parameter; the filters narrow lists and nothing else."""
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from automations.choices import UseCaseStatus
from portal import services
from portal.api.pagination import CursorPagination
from portal.choices import Role
from tests.automations.factories import make_use_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(tenant, member):
    user = member(Role.AUTOMATION_LEAD, username="lead")
    _, plain = services.api_token_create(actor=user, tenant=tenant, user=user, name="erp")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_ACCEPT_LANGUAGE="en")
    client.user = user
    return client


def fields_of(response) -> list[str]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize("route,params,field", [
    ("api:use-case-list", {"status": "bogus"}, "status"),
    ("api:use-case-list", {"risk_tier": "huge"}, "risk_tier"),
    ("api:use-case-list", {"review_due": "vielleicht"}, "review_due"),
    ("api:change-request-list", {"state": "AAA"}, "state"),
    ("api:change-request-list", {"use_case": "gibt-es-nicht"}, "use_case"),
    ("api:work-item-list", {"status": "done"}, "status"),
    ("api:work-item-list", {"since": "gestern"}, "since"),
    ("api:work-item-list", {"use_case": "gibt-es-nicht"}, "use_case"),
    ("api:release-list", {"use_case": "gibt-es-nicht"}, "use_case"),
    ("api:threshold-set-version-list", {"use_case": "gibt-es-nicht"}, "use_case"),
    ("api:classifier-version-list", {"use_case": "gibt-es-nicht"}, "use_case"),
    ("api:review-task-list", {}, "queue"),
    ("api:review-task-list", {"queue": "abc"}, "queue"),
])
def test_invalid_filter_values_are_400_naming_the_parameter(lead, route, params, field):
    assert fields_of(lead.get(reverse(route), params)) == [field]


def test_filters_narrow_the_list(lead, tenant):
    make_use_case(tenant, lead.user, key="eins")
    make_use_case(tenant, lead.user, key="zwei")
    everything = lead.get(reverse("api:use-case-list")).json()["results"]
    assert {u["key"] for u in everything} == {"eins", "zwei"}
    assert lead.get(reverse("api:use-case-list"), {"status": UseCaseStatus.PILOT}).json()["results"] == []
    drafts = lead.get(reverse("api:use-case-list"), {"status": UseCaseStatus.DRAFT}).json()["results"]
    assert {u["key"] for u in drafts} == {"eins", "zwei"}
    since = lead.get(reverse("api:work-item-list"), {"since": "2026-01-01T00:00:00Z", "status": "applied"})
    assert since.status_code == 200 and since.json()["results"] == []


def test_list_filters_do_not_apply_to_a_single_object(lead, tenant):
    make_use_case(tenant, lead.user, key="eins")
    response = lead.get(reverse("api:use-case-detail", args=["eins"]), {"status": "bogus"})
    assert response.status_code == 200 and response.json()["key"] == "eins"


# --- one pagination ------------------------------------------------------------------------------------

def test_every_list_has_the_cursor_envelope_and_a_bad_cursor_is_400(lead, tenant):
    for key in ("eins", "zwei", "drei"):
        make_use_case(tenant, lead.user, key=key)
    for route in ("api:use-case-list", "api:work-item-list", "api:review-queue-list", "api:change-request-list",
                  "api:membership-list"):
        body = lead.get(reverse(route)).json()
        assert set(body) == {"next", "previous", "results"}, route
        bad = lead.get(reverse(route), {"cursor": "kaputt"})
        assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor", route
        assert bad.json()["errors"][0]["field"] == "cursor"


def test_pages_follow_the_next_link(lead, tenant, monkeypatch):
    for key in ("eins", "zwei", "drei"):
        make_use_case(tenant, lead.user, key=key)
    monkeypatch.setattr(CursorPagination, "page_size", 2)
    first = lead.get(reverse("api:use-case-list")).json()
    second = lead.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1 and second["next"] is None
    assert second["previous"]
    assert {u["key"] for u in first["results"] + second["results"]} == {"eins", "zwei", "drei"}
