"""JSON the API does not take (DESIGN.md, API errors): a NUL character anywhere (a text, a key; the database
stores none) and nesting deeper than 32 levels get 400 `parse_error` as problem details — in a JSON body of any
endpoint and in a multipart request's payload — never a 500, and nothing is stored. A bulk import line with
either becomes an item in clarification holding the line as text."""
import json

import pytest
from django.urls import reverse

from automations.execution.services.imports import work_items_import
from automations.models import WorkItem
from portal.choices import TokenScope
from portal.problems import MAX_JSON_DEPTH, json_refusal
from tests.access import bearer
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db


def nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


NUL_BODIES = {
    "value": {"use_case": "belege", "payload": {"text": "Rechnung\u0000 4711"}},
    "key": {"use_case": "belege", "payload": {"te\u0000xt": "Rechnung"}},
    "use_case": {"use_case": "bel\u0000ege", "payload": {"text": "Rechnung"}},
}


@pytest.fixture
def api(tenant, team):
    make_rules_use_case(tenant, team, key="belege", status="pilot")
    return bearer(team["it_operator"], tenant)


def assert_parse_error(response, words: str):
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "parse_error" and words in response.json()["detail"]


@pytest.mark.parametrize("where", sorted(NUL_BODIES))
def test_a_nul_character_in_a_json_body_is_a_400(api, where, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("api:work-item-list"), json.dumps(NUL_BODIES[where]),
                            content_type="application/json")
    assert_parse_error(response, "NUL")
    assert not WorkItem.objects.exists()


def test_json_nested_deeper_than_32_levels_is_a_400_at_any_depth(api, tenant, team):
    for levels in (MAX_JSON_DEPTH + 1, 5000):
        deep = '{"a": ' * (levels - 1) + "{}" + "}" * (levels - 1)
        body = '{"use_case": "belege", "payload": {"text": "x", "extra": ' + deep + "}}"
        response = api.post(reverse("api:work-item-list"), body, content_type="application/json")
        assert_parse_error(response, "32")
    deepest_list = "[" * 100_000 + "]" * 100_000  # beyond what Python's own parser can recurse into
    assert_parse_error(api.post(reverse("api:work-item-list"), deepest_list, content_type="application/json"), "32")
    registry = bearer(team["automation_lead"], tenant, scopes=[TokenScope.READ, TokenScope.REGISTRY_WRITE])
    patch = registry.patch(reverse("api:use-case-detail", args=["belege"]),
                      json.dumps({"purpose": "x\u0000", "reason": "r"}), content_type="application/json")
    assert_parse_error(patch, "NUL")
    assert not WorkItem.objects.exists()


def test_json_within_the_limits_is_taken(api, django_capture_on_commit_callbacks):
    body = {"use_case": "belege", "payload": {"text": "Rechnung 4711", "extra": nested(MAX_JSON_DEPTH - 2)}}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(reverse("api:work-item-list"), json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content


def test_a_multipart_payload_with_a_nul_or_too_deep_is_a_400(api):
    for payload in ({"text": "a\u0000b"}, {"text": "x", "extra": nested(MAX_JSON_DEPTH + 1)}):
        response = api.post(reverse("api:work-item-list"), {"use_case": "belege", "payload": json.dumps(payload)})
        assert response.status_code == 400, response.content
        assert response.json()["errors"][0]["field"] == "payload"
    assert not WorkItem.objects.exists()


def test_a_bulk_import_line_with_a_nul_goes_to_clarification_as_text(tenant, team, api,
                                                                     django_capture_on_commit_callbacks):
    lines = ['{"payload": {"text": "Rechnung"}}', '{"payload": {"text": "a\\u0000b"}}']
    with django_capture_on_commit_callbacks(execute=True):
        report = work_items_import(actor=team["it_operator"], tenant=tenant, use_case_key="belege", lines=lines)
    assert (report.created, report.clarification) == (2, 1)
    kept = WorkItem.objects.get(payload__has_key="unreadable_line")
    assert kept.payload["unreadable_line"] == lines[1] and "NUL" in report.problems[0]


def test_the_refusal_names_nothing_in_clean_json():
    assert json_refusal({"a": [1, "b", {"c": None}]}) is None
    assert json_refusal(["x\u0000"]) and json_refusal(nested(MAX_JSON_DEPTH + 1))
