"""Examples, training and classifier versions over the API, under the same permissions as the pages: an
access matrix for every route (anonymous 401, no permission 403, permitted 2xx, another tenant's 404) and
the flow a program drives (import with the report, statistics, start a run and follow it, read the
versions, propose thresholds)."""
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from automations.models import ThresholdSetVersion
from automations.training import api as training_api
from automations.training.services import classifier_train, examples_import
from portal.choices import Role, TokenScope
from tests import access
from tests.automations.factories import make_team, make_use_case

from .conftest import demo_rows, quick_parameters
from .test_views import TICKETS

pytestmark = pytest.mark.django_db


def bearer(user, tenant) -> APIClient:
    """A client with a token of every scope."""
    return access.bearer(user, tenant, scopes=list(TokenScope))


@pytest.fixture
def world(tenant, make_tenant, member):
    team = make_team(member)
    other = make_tenant("anderes", "Andere AG")
    access.same_team_in(other, team, tenant)
    lead = team["automation_lead"]
    versions = {}
    for t, key in ((tenant, "tickets"), (other, "fremd")):
        use_case = make_use_case(t, lead, key=key, **TICKETS)
        examples_import(actor=lead, use_case=use_case, rows_iter=demo_rows("service_tickets.csv", 40),
                        text_columns="subject,body", label_columns="queue")
        versions[key] = classifier_train(actor=lead, use_case=use_case, parameters=quick_parameters())
    return {"tenant": tenant, "other": other, "team": team, "versions": versions}


@pytest.fixture(autouse=True)
def no_worker(monkeypatch):
    from automations.training import tasks

    sent = []
    monkeypatch.setattr(tasks.train_classifier_task, "delay", lambda *args: sent.append(args))
    return sent


def _examples_file(world):
    return {"file": SimpleUploadedFile("t.csv", b"subject,body,queue\nDrucker,Papierstau,technik\n"),
            "text_columns": "subject,body", "label_columns": "queue"}


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    permission: str
    ok: int
    by: str = "key"  # the use case's key or the version's id
    data: object = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.name}"


ROUTES = [
    Route("use-case-examples", "get", "automations.view_labelledexample", 200),
    Route("use-case-examples", "post", "automations.add_labelledexample", 201, data=_examples_file),
    Route("use-case-training", "get", "automations.view_classifierversion", 200),
    Route("use-case-training", "post", "automations.add_classifierversion", 202),
    Route("classifier-version-list", "get", "automations.view_classifierversion", 200, by=""),
    Route("classifier-version-detail", "get", "automations.view_classifierversion", 200, by="id"),
    Route("classifier-version-propose-thresholds", "post", "automations.add_thresholdsetversion", 201, by="id"),
]


def _call(client, world, route, tenant_key="tickets"):
    args = {"key": [tenant_key], "id": [world["versions"][tenant_key].pk], "": []}[route.by]
    url = reverse(f"api:{route.name}", args=args)
    data = route.data(world) if callable(route.data) else route.data
    return getattr(client, route.method)(url, data, format="multipart" if data else None)


def test_every_training_route_has_a_row():
    names = {p.name for p in training_api.urlpatterns}
    assert names == {route.name for route in ROUTES}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_anonymous_is_401(world, route):
    assert _call(APIClient(), world, route).status_code == 401


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_member_without_the_permission_is_403(world, route):
    assert _call(bearer(world["team"][Role.CLERK], world["tenant"]), world, route).status_code == 403


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_permitted_member(world, route):
    response = _call(bearer(world["team"]["automation_lead"], world["tenant"]), world, route)
    assert response.status_code == route.ok, response.content[:1000]


@pytest.mark.parametrize("route", [r for r in ROUTES if r.by], ids=lambda r: r.id)
def test_the_other_tenants_use_case_or_version_is_404(world, route, no_worker):
    response = _call(bearer(world["team"]["automation_lead"], world["tenant"]), world, route, tenant_key="fremd")
    assert response.status_code == 404
    assert not no_worker and not ThresholdSetVersion.objects.exists()


def test_the_flow_a_program_drives(world, no_worker, django_capture_on_commit_callbacks):
    lead = world["team"]["automation_lead"]
    api = bearer(lead, world["tenant"])
    text = b"subject;body;queue\nDrucker;Papierstau;technik\n;;technik\nRechnung;Betrag falsch;\n"
    report = api.post(reverse("api:use-case-examples", args=["tickets"]),
                      {"file": SimpleUploadedFile("x.csv", text), "text_columns": "subject,body",
                       "label_columns": "queue"}, format="multipart").json()
    assert report["rows"] == 3 and report["created"] == 1
    assert [bad["line"] for bad in report["bad"]] == [3, 4] and all(bad["reason"] for bad in report["bad"])

    stats = api.get(reverse("api:use-case-examples", args=["tickets"])).json()
    assert stats["total"] == 41 and stats["fields"]["priority"] == {"values": {}, "missing": 41}
    assert sum(stats["fields"]["queue"]["values"].values()) == 41

    assert api.get(reverse("api:use-case-training", args=["tickets"])).json()["state"] == "none"
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(reverse("api:use-case-training", args=["tickets"]))
    assert started.status_code == 202 and started.json()["state"] == "queued" and started.json()["active"]
    assert no_worker == [(world["versions"]["tickets"].use_case_id, lead.pk)]
    again = api.post(reverse("api:use-case-training", args=["tickets"]))
    assert again.status_code == 409 and len(no_worker) == 1

    listed = api.get(reverse("api:classifier-version-list"), {"use_case": "tickets"}).json()
    assert [v["number"] for v in listed["results"]] == [1]
    detail = api.get(reverse("api:classifier-version-detail", args=[listed["results"][0]["id"]])).json()
    queue = detail["evaluation"]["fields"]["queue"]
    assert "points" not in queue and {"accuracy", "macro_f1", "confusion", "calibration", "automation"} <= set(queue)

    proposal = api.post(reverse("api:classifier-version-propose-thresholds", args=[detail["id"]])).json()
    assert proposal["use_case"] == "tickets" and not proposal["is_frozen"] and "queue" in proposal["thresholds"]


def test_registry_readers_read_versions_but_neither_examples_nor_training(world):
    api = bearer(world["team"][Role.WORKS_COUNCIL], world["tenant"])
    assert api.get(reverse("api:classifier-version-list")).status_code == 200
    assert api.get(reverse("api:use-case-examples", args=["tickets"])).status_code == 403
    assert api.post(reverse("api:use-case-training", args=["tickets"])).status_code == 403
