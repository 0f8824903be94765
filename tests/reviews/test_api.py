"""The review API: queues and tasks to read, claiming and releasing with tokens; deciding is not there."""
import pytest
from django.urls import reverse

from audit.models import AccessEvent
from portal.services import api_token_create
from reviews.choices import TaskState
from reviews.models import ReviewTask
from tests.reviews.world import make_review_tasks

pytestmark = pytest.mark.django_db


def bearer(world, name):
    user = world["team"][name]
    token = api_token_create(actor=user, tenant=world["tenant"], user=user, name="t")[1]
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_queues_with_figures(client, world):
    response = client.get(reverse("api:review-queue-list"), **bearer(world, "clerk"))
    queue = next(q for q in response.json()["results"] if q["id"] == world["queue"].pk)
    assert queue["use_cases"] == ["belege"] and queue["kind"] == "review"
    assert queue["figures"]["open"] == {"count": 3, "capped": False} and queue["figures"]["sla_status"] == "ok"


def test_two_tokens_never_get_the_same_task_and_an_empty_queue_answers_204(client, world):
    url = reverse("api:review-queue-next", args=[world["queue"].pk])
    got = [client.post(url, **bearer(world, name)).json()["id"] for name in ("clerk", "clerk_2", "clerk")]
    assert len(set(got)) == 3
    assert client.post(url, **bearer(world, "clerk_2")).status_code == 204
    assert set(ReviewTask.objects.filter(state=TaskState.CLAIMED).values_list("pk", flat=True)) == set(got)


def test_a_clerk_without_briefing_gets_nothing(client, world):
    url = reverse("api:review-queue-next", args=[world["queue"].pk])
    assert client.post(url, **bearer(world, "uncleared")).status_code == 204


def test_task_pages_follow_the_cursor(client, world):
    make_review_tasks(world["use_case"], 60, start=500)
    headers = bearer(world, "clerk")
    url = reverse("api:review-task-list") + f"?queue={world['queue'].pk}"
    first = client.get(url, **headers).json()
    second = client.get(first["next"], **headers).json()
    assert len(first["results"]) == 50 and len(second["results"]) == 13 and second["next"] is None
    assert first["previous"] is None and "cursor=" in first["next"]
    bad = client.get(url + "&cursor=kaputt", **headers)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"
    assert not {t["id"] for t in first["results"]} & {t["id"] for t in second["results"]}
    assert client.get(reverse("api:review-task-list"), **headers).status_code == 400  # a queue is required
    assert "Deprecation" not in client.get(url, **headers)


def test_the_former_cursor_name_still_pages_and_announces_its_end(client, world):
    make_review_tasks(world["use_case"], 60, start=500)
    headers = bearer(world, "clerk")
    url = reverse("api:review-task-list") + f"?queue={world['queue'].pk}"
    first = client.get(url, **headers).json()
    cursor = first["next"].split("cursor=")[1].split("&")[0]
    legacy = client.get(url + f"&after={cursor}", **headers)
    assert legacy.json()["results"] == client.get(first["next"], **headers).json()["results"]
    assert legacy["Deprecation"] == "@1796083200"  # 2026-12-01
    assert legacy["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert legacy["Link"].endswith('/api/docs/>; rel="deprecation"; type="text/html"')


def test_task_detail_has_the_suggestions_and_is_logged(client, world):
    task = world["tasks"][0]
    body = client.get(reverse("api:review-task-detail", args=[task.pk]), **bearer(world, "clerk")).json()
    assert body["fields"]["document_class"]["confidence"] == 0.62 and body["item"] == str(task.item_id)
    event = AccessEvent.objects.get(object_id=str(task.item_id))
    assert event.actor_token_id is not None and event.details["purpose"] == "review (API)"


def test_claim_release_and_conflicts(client, world):
    task = world["tasks"][0]
    claim = reverse("api:review-task-claim", args=[task.pk])
    release = reverse("api:review-task-release", args=[task.pk])
    assert client.post(claim, **bearer(world, "clerk")).json()["claimed_by"] == "clerk"
    assert client.post(claim, **bearer(world, "clerk_2")).status_code == 409
    assert client.post(release, **bearer(world, "clerk_2")).status_code == 403
    assert client.post(release, **bearer(world, "clerk")).json()["state"] == TaskState.OPEN


def test_there_is_no_way_to_decide_through_the_api(client, world):
    task = world["tasks"][0]
    client.post(reverse("api:review-task-claim", args=[task.pk]), **bearer(world, "clerk"))
    response = client.post(f"/api/v1/review-tasks/{task.pk}/decide/", {"action": "approve"}, **bearer(world, "clerk"))
    assert response.status_code == 404
    assert client.get(reverse("api:review-task-detail", args=[task.pk]), **bearer(world, "clerk")).json()[
        "state"] == TaskState.CLAIMED
