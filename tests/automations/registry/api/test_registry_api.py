"""The registry over the API under the same rules as the browser: an access matrix for every route
(anonymous 401, no permission 403, permitted 2xx, another tenant's object 404), the flow a program can
drive (document, version, release, propose), and no way for a token to approve."""
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.actors import SYSTEM
from automations.choices import ChangeKind, ChangeState, UseCaseStatus
from automations.evaluation.services.evaluations import evaluation_execute
from automations.models import ChangeRequest
from automations.registry import selectors
from automations.registry.api import views as registry_api
from automations.registry.services import changes, versions
from automations.registry.services.registry_io import registry_export
from portal import services as portal_services
from portal.choices import Role, TokenScope
from tests import access
from tests.automations.factories import approve_all, go_live, make_use_case

pytestmark = pytest.mark.django_db


def bearer(user, tenant) -> APIClient:
    """A client with a token of every scope."""
    return access.bearer(user, tenant, scopes=list(TokenScope))


def _populate(tenant, team, key):
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead, key=key, department_owner=team["department_owner"])
    go_live(use_case, team)
    cr = changes.change_request_create(actor=lead, tenant=tenant, use_case=use_case, kind=ChangeKind.DOCUMENTATION,
                                       title="Zweck", description="genauer",
                                       payload={"changes": {"purpose": "Belege sortieren"}})
    connector = {"kind": "connector", "connector_type": "webhook", "direction": "delivery", "name": "ERP",
                 "endpoint": "https://erp.example.org/hook"}
    catalogue = changes.change_request_create(actor=lead, tenant=tenant, kind=ChangeKind.CATALOGUE, title="ERP",
                                              description="Anbindung",
                                              payload={"key": f"erp-{key}", "fields": connector})
    approve_all(catalogue, team)
    return {"use_case": use_case, "cr": cr, "release": selectors.release_get(use_case=use_case, number=1),
            "entry": selectors.catalogue_entry_get(tenant=tenant, key=f"erp-{key}")}


@pytest.fixture
def world(tenant, make_tenant, team):
    other = make_tenant("anderes", "Andere AG")
    access.same_team_in(other, team, tenant)
    return {"tenant": tenant, "other": other, "team": team,
            tenant.pk: _populate(tenant, team, "belege"), other.pk: _populate(other, team, "fremd")}


DRAFT_CONTENT = {"threshold_set": {"thresholds": {"category": {"auto": 0.95, "reject": 0.4}}},
                 "engine_config": {"engine": "rules", "fields": ["category"]},
                 "prompt_template": {"template": "Text: {{ text }}", "declared_fields": ["text"]},
                 "guardrail_set": {"forbidden_phrases": ["garantieren"]}}


def _draft(objects, kind):
    """A fresh draft of `kind` by the automation lead (who may submit it)."""
    return versions.version_create(actor=objects["lead"], use_case=objects["use_case"], kind=kind,
                                   content=DRAFT_CONTENT[kind])


def _version_routes(kind, basename):
    # route name -> (method, url builder(objects), data, who succeeds, expected status, who is refused with 403)
    return {
        f"{basename}-list": ("get", lambda o: reverse(f"api:{basename}-list"), None, "auditor", 200, "clerk"),
        f"{basename}-detail": ("get", lambda o: reverse(f"api:{basename}-detail", args=[_draft(o, kind).pk]), None,
                               "auditor", 200, "clerk"),
        f"{basename}-submit": ("post", lambda o: reverse(f"api:{basename}-submit", args=[_draft(o, kind).pk]), {},
                               "automation_lead", 200, "auditor"),
    }


MATRIX = {
    "use-case-list": ("get", lambda o: reverse("api:use-case-list"), None, "clerk", 200, None),
    "use-case-detail": ("get", lambda o: reverse("api:use-case-detail", args=[o["use_case"].key]), None,
                        "clerk", 200, None),
    "use-case-suspend": ("post", lambda o: reverse("api:use-case-suspend", args=[o["use_case"].key]),
                         {"reason": "Fehler"}, "security_officer", 200, "it_operator"),
    "release-list": ("get", lambda o: reverse("api:release-list"), None, "auditor", 200, "clerk"),
    "release-detail": ("get", lambda o: reverse("api:release-detail", args=[o["release"].pk]), None, "auditor", 200,
                       "clerk"),
    "change-request-list": ("get", lambda o: reverse("api:change-request-list"), None, "auditor", 200, "clerk"),
    "change-request-detail": ("get", lambda o: reverse("api:change-request-detail", args=[o["cr"].pk]), None,
                              "auditor", 200, "clerk"),
    "change-request-withdraw": ("post", lambda o: reverse("api:change-request-withdraw", args=[o["cr"].pk]), {},
                                "automation_lead", 200, "auditor"),
    "catalogue-entry-list": ("get", lambda o: reverse("api:catalogue-entry-list"), None, "auditor", 200, "clerk"),
    "registry-export": ("get", lambda o: reverse("api:registry-export"), None, "auditor", 200, "clerk"),
    "registry-import": ("post", lambda o: reverse("api:registry-import"), "export", "automation_lead", 200,
                        "security_officer"),
    "catalogue-entry-detail": ("get", lambda o: reverse("api:catalogue-entry-detail", args=[o["entry"].key]), None,
                               "auditor", 200, "clerk"),
    **_version_routes("threshold_set", "threshold-set-version"),
    **_version_routes("engine_config", "engine-config-version"),
    **_version_routes("prompt_template", "prompt-template-version"),
    **_version_routes("guardrail_set", "guardrail-set-version"),
}
# Routes that need a body to succeed are exercised by the flow tests below; here: who may reach them.
WRITE_ROUTES = {
    "use-case-list:post": ("post", lambda o: reverse("api:use-case-list"), "automation_lead", "it_operator"),
    "use-case-detail:patch": ("patch", lambda o: reverse("api:use-case-detail", args=[o["use_case"].key]),
                              "department_owner", "security_officer"),
    "release-list:post": ("post", lambda o: reverse("api:release-list"), "automation_lead", "department_owner"),
    "change-request-list:post": ("post", lambda o: reverse("api:change-request-list"), "it_operator", "clerk"),
}
OBJECT_ROUTES = [name for name in MATRIX if not name.endswith("-list") and not name.startswith("registry")]


def test_every_registry_api_route_has_a_row_in_the_matrix():
    names = {pattern.name for pattern in registry_api.urlpatterns}
    assert names == set(MATRIX)


def _objects(world, tenant):
    return {**world[tenant.pk], "lead": world["team"]["automation_lead"]}


def _body(world, data):
    return registry_export(tenant=world["tenant"]) if data == "export" else data


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_access_matrix(world, route):
    method, url_of, data, allowed, expected, refused = MATRIX[route]
    tenant = world["tenant"]
    objects = _objects(world, tenant)
    assert getattr(APIClient(), method)(url_of(objects), _body(world, data), format="json").status_code == 401
    if refused:
        client = bearer(world["team"][refused], tenant)
        assert getattr(client, method)(url_of(objects), _body(world, data), format="json").status_code == 403
    client = bearer(world["team"][allowed], tenant)
    response = getattr(client, method)(url_of(objects), _body(world, data), format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("route", sorted(WRITE_ROUTES))
def test_write_routes_need_their_permission(world, route):
    method, url_of, allowed, refused = WRITE_ROUTES[route]
    objects = _objects(world, world["tenant"])
    assert getattr(APIClient(), method)(url_of(objects), {}, format="json").status_code == 401
    assert getattr(bearer(world["team"][refused], world["tenant"]), method)(
        url_of(objects), {}, format="json").status_code == 403
    assert getattr(bearer(world["team"][allowed], world["tenant"]), method)(
        url_of(objects), {}, format="json").status_code == 400  # permitted; the empty body is refused


@pytest.mark.parametrize("route", sorted(OBJECT_ROUTES))
def test_objects_of_another_tenant_are_404(world, route):
    method, url_of, data, allowed, _expected, _refused = MATRIX[route]
    client = bearer(world["team"][allowed], world["tenant"])
    response = getattr(client, method)(url_of(_objects(world, world["other"])), _body(world, data), format="json")
    assert response.status_code == 404
    other = world[world["other"].pk]
    assert ChangeRequest.objects.get(pk=other["cr"].pk).state == ChangeState.OPEN
    other["use_case"].refresh_from_db()
    assert other["use_case"].status == UseCaseStatus.PRODUCTION


def test_lists_show_only_the_tokens_tenant(world):
    client = bearer(world["team"]["auditor"], world["tenant"])
    assert [u["key"] for u in client.get(reverse("api:use-case-list")).json()["results"]] == ["belege"]
    assert {r["use_case"] for r in client.get(reverse("api:release-list")).json()["results"]} == {"belege"}
    listed = client.get(reverse("api:change-request-list")).json()["results"]
    assert {c["use_case"] for c in listed} == {"belege", None}  # None: the catalogue change
    assert {c["id"] for c in listed} == set(
        ChangeRequest.objects.filter(tenant=world["tenant"]).values_list("pk", flat=True))


# --- what a program does ------------------------------------------------------------------------------------

def test_a_program_documents_versions_bundles_and_proposes(tenant, team):
    client = bearer(team["automation_lead"], tenant)
    response = client.post(reverse("api:use-case-list"), {
        "key": "tickets", "title": "Service-Tickets", "purpose": "Tickets vorsortieren",
        "input_fields": [{"name": "body", "type": "long_text"}],
        "output_fields": [{"name": "queue", "type": "category", "choices": ["a", "b"]}],
        "department_owner": "department_owner", "risk_tier": "limited"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "draft" and response.json()["department_owner"] == "department_owner"

    response = client.patch(reverse("api:use-case-detail", args=["tickets"]),
                            {"department": "Kundenservice", "reason": "zugeordnet"}, format="json")
    assert response.status_code == 200 and response.json()["department"] == "Kundenservice"
    for without_reason in ({"department": "Einkauf"}, {"department": "Einkauf", "reason": "  "}):
        refused = client.patch(reverse("api:use-case-detail", args=["tickets"]), without_reason, format="json")
        assert refused.status_code == 400 and [e["field"] for e in refused.json()["errors"]] == ["reason"]
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    body = schema["paths"]["/api/v1/use-cases/{key}/"]["patch"]["requestBody"]
    component = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert body["required"] and schema["components"]["schemas"][component]["required"] == ["reason"]

    threshold = client.post(reverse("api:threshold-set-version-list"), {
        "use_case": "tickets", "thresholds": {"queue": {"auto": 0.9, "reject": 0.2}}, "submit": True}, format="json")
    assert threshold.status_code == 201 and threshold.json()["is_frozen"]
    engine = client.post(reverse("api:engine-config-version-list"), {
        "use_case": "tickets", "engine": "rules", "fields": ["queue"], "change_note": "Regeln"}, format="json")
    assert engine.status_code == 201 and not engine.json()["is_frozen"]
    refused = client.post(reverse("api:release-list"), {"use_case": "tickets", "threshold_set": 1,
                                                        "engine_configs": [1]}, format="json")
    assert refused.status_code == 400 and "v1" in str(refused.json())  # the engine configuration is a draft
    assert client.post(reverse("api:engine-config-version-submit", args=[engine.json()["id"]])).status_code == 200
    release = client.post(reverse("api:release-list"), {"use_case": "tickets", "threshold_set": 1,
                                                        "engine_configs": [1], "note": "R1"}, format="json")
    assert release.status_code == 201 and release.json()["number"] == 1

    bad = client.post(reverse("api:threshold-set-version-list"), {
        "use_case": "tickets", "thresholds": {"nope": {"auto": 0.9, "reject": 0.2}}}, format="json")
    assert bad.status_code == 400

    # The production label needs a passing evaluation of R1: a test case and an evaluation, started through the
    # API and carried out as the worker does.
    case = client.post(reverse("api:test-case-list"), {"use_case": "tickets", "payload": {"body": "Drucker defekt"},
                                                      "expected": {"queue": "a"}}, format="json")
    assert case.status_code == 201, case.content
    started = client.post(reverse("api:release-evaluation-start", args=["tickets", 1]))
    assert started.status_code == 202
    evaluation_execute(evaluation_id=started.json()["id"])
    proposal = client.post(reverse("api:change-request-list"), {
        "kind": "label_move", "use_case": "tickets", "title": "R1 produktiv", "description": "getestet",
        "payload": {"label": "production", "release": 1}}, format="json")
    assert proposal.status_code == 201, proposal.content
    body = proposal.json()
    assert body["proposed_via_token"] and body["state"] == "open"
    assert set(body["open_roles"]) == {"department_owner", "automation_lead"}
    assert body["evaluation"] == started.json()["id"]


def test_editing_a_running_use_case_through_the_api_answers_409(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", department_owner=team["department_owner"])
    go_live(use_case, team)
    response = bearer(team["automation_lead"], tenant).patch(
        reverse("api:use-case-detail", args=["belege"]), {"department": "X", "reason": "r"}, format="json")
    assert response.status_code == 409


def test_there_is_no_approve_endpoint_and_tokens_never_approve(world):
    team, tenant = world["team"], world["tenant"]
    cr = world[tenant.pk]["cr"]
    client = bearer(team["automation_lead_2"], tenant)
    for path in (f"/api/v1/change-requests/{cr.pk}/approve/", f"/api/v1/change-requests/{cr.pk}/decide/"):
        assert client.post(path, {"role": "automation_lead"}, format="json").status_code == 404
    assert client.patch(reverse("api:change-request-detail", args=[cr.pk]), {"state": "applied"},
                        format="json").status_code in (403, 405)
    assert ChangeRequest.objects.get(pk=cr.pk).approvals.count() == 0
    paths = APIClient().get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "/api/v1/change-requests/{id}/withdraw/" in paths
    assert not [path for path in paths if "approve" in path or "decide" in path]


def test_suspend_through_the_api_takes_effect_at_once(world):
    tenant = world["tenant"]
    response = bearer(world["team"]["data_protection_officer"], tenant).post(
        reverse("api:use-case-suspend", args=["belege"]), {"reason": "Beschwerde"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    assert selectors.active_release_label(tenant=tenant, use_case_key="belege") is None


def test_export_and_import_through_the_api(world, make_tenant):
    team = world["team"]
    empty = make_tenant("leer", "Leer GmbH")
    for user in team.values():
        portal_services.membership_create(actor=SYSTEM, tenant=empty, user=user,
                                          roles=list(user.memberships.get(tenant=world["tenant"]).roles))
    data = bearer(team["auditor"], world["tenant"]).get(reverse("api:registry-export")).json()
    assert data["format"] == "leitplanke.registry/1"
    response = bearer(team["automation_lead"], empty).post(reverse("api:registry-import"), data, format="json")
    assert response.status_code == 200
    report = response.json()
    assert not report["in_sync"] and report["proposed"]
    assert all(cr.proposed_via_token_id for cr in ChangeRequest.objects.filter(tenant=empty))
    assert selectors.use_case_get(tenant=empty, key="belege").status == UseCaseStatus.DRAFT
    assert bearer(team["automation_lead"], empty).post(reverse("api:registry-import"), {"format": "x"},
                                                       format="json").status_code == 400


def test_clerk_may_read_use_cases_but_not_propose(world):
    client = bearer(world["team"][Role.CLERK], world["tenant"])
    assert client.get(reverse("api:use-case-list")).status_code == 200
    assert client.post(reverse("api:change-request-list"), {}, format="json").status_code == 403
