"""Access matrix of every review page and API route: anonymous, a member without the permission, a
permitted member, and another tenant's object. A URL without a row here fails the suite."""
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from portal.services import api_token_create
from reviews.api.urls import urlpatterns as api_patterns
from reviews.urls import urlpatterns
from tests.reviews.world import attach_file, login

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Row:
    url_name: str
    method: str = "get"
    obj: str | None = None  # "queue", "task", "file", "page", "use_case": which object the URL names
    allowed: str = "clerk"  # the team member who may
    denied: str | None = "works_council"  # a member without the permission (None: every member may)
    ok: int = 200
    data: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.url_name}"


MATRIX = [
    Row("reviews:queue-list"),
    Row("reviews:queue-detail", obj="queue"),
    Row("reviews:queue-next", method="post", obj="queue", ok=302),
    Row("reviews:queue-bulk-approve", method="post", obj="queue", ok=302, data={"tasks": ["1"]}),
    Row("reviews:task-detail", obj="task"),
    Row("reviews:task-claim", method="post", obj="task", ok=302),
    Row("reviews:task-release", method="post", obj="task", ok=302),
    # "As suggested" with the suggested values as the page sends them (world.make_review_item).
    Row("reviews:task-decide", method="post", obj="task", ok=302,
        data={"action": "approve", "f_document_class": "invoice", "f_iban": "DE89370400440532013000"}),
    Row("reviews:task-file", obj="file"),
    Row("reviews:task-file-page", obj="page"),
    Row("reviews:briefing", obj="use_case", denied=None),
    Row("reviews:briefing-confirm", method="post", obj="use_case", denied=None, ok=302),
    Row("reviews:trainings", allowed="automation_lead", denied="clerk"),
    Row("reviews:trainings", method="post", allowed="automation_lead", denied="clerk", ok=400),
    Row("reviews:oversight", allowed="works_council", denied="clerk"),
]
GUARDED = [row for row in MATRIX if row.denied]
WITH_OBJECT = [row for row in MATRIX if row.obj]


def _args(world, row, *, other=False) -> list:
    task = world["other_task"] if other else world["tasks"][1]
    if row.obj == "queue":
        return [task.queue_id]
    if row.obj == "task":
        return [task.pk]
    if row.obj in ("file", "page"):
        item_file = attach_file(task.item)
        return [task.pk, item_file.pk] + ([1] if row.obj == "page" else [])
    if row.obj == "use_case":
        return [(world["other_use_case"] if other else world["use_case"]).key]
    return []


def _request(client, world, row, *, other=False):
    return getattr(client, row.method)(reverse(row.url_name, args=_args(world, row, other=other)), row.data)


def test_every_review_url_has_a_row():
    named = {f"reviews:{p.name}" for p in urlpatterns}
    assert named - {row.url_name for row in MATRIX} == set()


@pytest.mark.parametrize("row", MATRIX, ids=lambda row: row.id)
def test_anonymous_goes_to_the_login(client, world, row):
    response = _request(client, world, row)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("portal:login")


@pytest.mark.parametrize("row", GUARDED, ids=lambda row: row.id)
def test_member_without_permission_gets_403(client, world, row):
    login(client, world["team"][row.denied], world["tenant"])
    assert _request(client, world, row).status_code == 403


@pytest.mark.parametrize("row", MATRIX, ids=lambda row: row.id)
def test_permitted_member(client, world, row):
    login(client, world["team"][row.allowed], world["tenant"])
    assert _request(client, world, row).status_code == row.ok


@pytest.mark.parametrize("row", WITH_OBJECT, ids=lambda row: row.id)
def test_another_tenants_object_is_not_found(client, world, row):
    login(client, world["team"][row.allowed], world["tenant"])
    assert _request(client, world, row, other=True).status_code == 404


def test_a_restricted_item_is_refused(client, world):
    item = world["tasks"][0].item
    item.restricted = True
    item.save(update_fields=["restricted"])
    login(client, world["team"]["clerk"], world["tenant"])
    assert client.get(reverse("reviews:task-detail", args=[world["tasks"][0].pk])).status_code == 403


# --- API ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ApiRow:
    route: str  # name under the api namespace
    method: str = "get"
    obj: str | None = None
    ok: tuple = (200,)
    query: str = ""

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.route}"


API = [
    ApiRow("review-queue-list"),
    ApiRow("review-queue-detail", obj="queue"),
    ApiRow("review-queue-next", method="post", obj="queue", ok=(200, 204)),
    ApiRow("review-task-list", query="?queue={queue}"),
    ApiRow("review-task-detail", obj="task"),
    ApiRow("review-task-claim", method="post", obj="task"),
    ApiRow("review-task-release", method="post", obj="task", ok=(403,)),  # held by nobody: refused
]


def _api(client, world, row, *, other=False, token=None):
    task = world["other_task"] if other else world["tasks"][1]
    args = [] if row.obj is None else [task.queue_id if row.obj == "queue" else task.pk]
    url = reverse(f"api:{row.route}", args=args) + row.query.format(queue=task.queue_id)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return getattr(client, row.method)(url, **headers)


def test_every_review_api_route_has_a_row():
    assert {p.name for p in api_patterns} - {row.route for row in API} == set()


@pytest.mark.parametrize("row", API, ids=lambda row: row.id)
def test_api_anonymous_is_refused(client, world, row):
    assert _api(client, world, row).status_code in (401, 403)


@pytest.mark.parametrize("row", API, ids=lambda row: row.id)
def test_api_without_permission_is_refused(client, world, row):
    _plain = api_token_create(actor=world["team"]["works_council"], tenant=world["tenant"],
                              user=world["team"]["works_council"], name="wc")[1]
    assert _api(client, world, row, token=_plain).status_code == 403


@pytest.mark.parametrize("row", API, ids=lambda row: row.id)
def test_api_with_a_clerks_token(client, world, row):
    _plain = api_token_create(actor=world["team"]["clerk"], tenant=world["tenant"], user=world["team"]["clerk"],
                              name="erp")[1]
    assert _api(client, world, row, token=_plain).status_code in row.ok


@pytest.mark.parametrize("row", [r for r in API if r.obj or r.query], ids=lambda row: row.id)
def test_api_another_tenants_object_is_not_found(client, world, row):
    _plain = api_token_create(actor=world["team"]["clerk"], tenant=world["tenant"], user=world["team"]["clerk"],
                              name="erp")[1]
    expected = (400,) if row.route == "review-task-list" else (404,)
    assert _api(client, world, row, other=True, token=_plain).status_code in expected
