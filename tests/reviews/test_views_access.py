"""Access matrix of every review page and API route: anonymous, a member without the permission, a
permitted member, and another tenant's object. A URL without a row here fails the suite."""
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from automations.documents.reading import read_file
from automations.documents.selectors import item_document_list
from automations.documents.services import item_documents_store
from reviews.api.urls import urlpatterns as api_patterns
from reviews.models import BriefingChange, BriefingNotice
from reviews.urls import urlpatterns
from tests import access
from tests.access import assert_sent_to_login, login, row_id
from tests.automations.documents.helpers import mail
from tests.reviews.world import attach_file, small_pdf

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Row(access.Row):
    """`obj`: "queue", "task", "file", "page", "attachment_page", "use_case", which object the URL names."""

    allowed: str = "clerk"  # the team member who may
    denied: str | None = "works_council"  # a member without the permission (None: every member may)


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
    Row("reviews:task-document-page", obj="attachment_page"),
    Row("reviews:briefing", obj="use_case", denied=None),
    Row("reviews:briefing-confirm", method="post", obj="use_case", denied=None, ok=302),
    # a clerk's own notice of a changed briefing (another person's is not found)
    Row("reviews:briefing-notice-read", method="post", obj="notice", denied=None, ok=302),
    Row("reviews:trainings", allowed="automation_lead", denied="clerk"),
    Row("reviews:trainings", method="post", allowed="automation_lead", denied="clerk", ok=400),
    Row("reviews:oversight", allowed="works_council", denied="clerk"),
    Row("reviews:grants", allowed="automation_lead", denied="clerk"),
    Row("reviews:grants", method="post", allowed="automation_lead", denied="clerk", ok=400),
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
    if row.obj == "attachment_page":
        data = mail("Rechnung", "Anbei.", attachments=[("rechnung.pdf", small_pdf(), "application", "pdf")])
        item_file = attach_file(task.item, name="mail.eml", data=data, content_type="message/rfc822")
        item_documents_store(item=task.item, documents=[read_file(item_file.name, data, "message/rfc822")],
                             item_files=[item_file])
        attachment = next(d for d in item_document_list(item=task.item) if d.parent_id)
        return [task.pk, item_file.pk, attachment.pk, 1]
    if row.obj == "use_case":
        return [(world["other_use_case"] if other else world["use_case"]).key]
    if row.obj == "notice":
        use_case = world["other_use_case"] if other else world["use_case"]
        change = BriefingChange.objects.create(tenant=use_case.tenant, use_case=use_case, reconfirm_required=False)
        user = get_user_model().objects.get(username="lead_anders") if other else world["team"][row.allowed]
        return [BriefingNotice.objects.create(tenant=use_case.tenant, change=change, user=user).pk]
    return []


def _request(client, world, row, *, other=False):
    return access.send(client, row, reverse(row.url_name, args=_args(world, row, other=other)))


def test_every_review_url_has_a_row():
    assert access.urls_without_row((pattern.name for pattern in urlpatterns), MATRIX, "reviews") == set()


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_anonymous_goes_to_the_login(client, world, row):
    assert_sent_to_login(_request(client, world, row))


@pytest.mark.parametrize("row", GUARDED, ids=row_id)
def test_member_without_permission_gets_403(client, world, row):
    login(client, world["team"][row.denied], world["tenant"])
    assert _request(client, world, row).status_code == 403


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_permitted_member(client, world, row):
    login(client, world["team"][row.allowed], world["tenant"])
    assert _request(client, world, row).status_code == row.ok


@pytest.mark.parametrize("row", WITH_OBJECT, ids=row_id)
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
class ApiRow(access.Row):
    """`url_name`: the route's name under the api namespace."""

    allowed: str = "clerk"  # whose token may
    denied: str = "works_council"  # whose token may not

    answers: tuple = (200,)
    query: str = ""


API = [
    ApiRow("review-queue-list"),
    ApiRow("review-queue-detail", obj="queue"),
    ApiRow("review-queue-next", method="post", obj="queue", answers=(200, 204)),
    ApiRow("review-task-list", query="?queue={queue}"),
    ApiRow("review-task-detail", obj="task"),
    ApiRow("review-task-claim", method="post", obj="task"),
    ApiRow("review-task-release", method="post", obj="task", answers=(403,)),  # held by nobody: refused
    ApiRow("grant-list", allowed="automation_lead", denied="clerk"),
    # A token made without the registry:write scope changes no grant (tests/reviews/test_views_grants.py).
    ApiRow("grant-list", method="post", allowed="automation_lead", answers=(403,), denied="clerk"),
    ApiRow("grant-revoke", method="post", allowed="automation_lead", answers=(403,), denied="clerk"),
]


def _api(client, world, row, *, other=False):
    task = world["other_task"] if other else world["tasks"][1]
    args = [] if row.obj is None else [task.queue_id if row.obj == "queue" else task.pk]
    return access.send(client, row, reverse(f"api:{row.url_name}", args=args) + row.query.format(queue=task.queue_id))


def test_every_review_api_route_has_a_row():
    assert access.urls_without_row((pattern.name for pattern in api_patterns), API) == set()


@pytest.mark.parametrize("row", API, ids=row_id)
def test_api_anonymous_is_refused(client, world, row):
    assert _api(client, world, row).status_code in (401, 403)


@pytest.mark.parametrize("row", API, ids=row_id)
def test_api_without_permission_is_refused(world, row):
    client = access.bearer(world["team"][row.denied], world["tenant"], name="wc")
    assert _api(client, world, row).status_code == 403


@pytest.mark.parametrize("row", API, ids=row_id)
def test_api_with_a_permitted_token(world, row):
    client = access.bearer(world["team"][row.allowed], world["tenant"], name="erp")
    assert _api(client, world, row).status_code in row.answers


@pytest.mark.parametrize("row", [r for r in API if r.obj or r.query], ids=row_id)
def test_api_another_tenants_object_is_not_found(world, row):
    client = access.bearer(world["team"]["clerk"], world["tenant"], name="erp")
    expected = (400,) if row.url_name == "review-task-list" else (404,)
    assert _api(client, world, row, other=True).status_code in expected
