"""An item whose processing is restricted (GDPR Art. 18, after an erasure request met a legal hold) is the
data protection officer's alone on every surface — pages, files, review tasks, lists, escalations, the
API, the Django admin — and each of the DSB's looks at it is an access event."""
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.actors import SYSTEM
from audit.models import AccessEvent
from audit.services.erasure import data_subject_erase
from automations.execution.services.escalations import escalation_create
from automations.models import WorkItem
from portal import services as portal_services
from tests.access import login
from tests.reviews.world import attach_file

pytestmark = pytest.mark.django_db

OTHERS = ("auditor", "clerk", "automation_lead")
DSB = "data_protection_officer"


@pytest.fixture
def restricted(world):
    """The first task's item, restricted by the DSB's erasure request for its sender (legal hold), with a
    file and an escalation; the other tasks' items stay as they were."""
    task = world["tasks"][0]
    item = task.item
    item_file = attach_file(item)
    escalation_create(item=item, reason="Beleg unklar", actor=SYSTEM)
    WorkItem.objects.filter(pk=item.pk).update(legal_hold=True)
    report = data_subject_erase(actor=world["team"][DSB], tenant=world["tenant"],
                                identifier=item.payload["sender_email"], kind="email")
    assert report.restricted_ids == [str(item.pk)]
    item.refresh_from_db()
    assert item.restricted
    return {"item": item, "task": task, "file": item_file, "looks": AccessEvent.objects.filter(
        object_id=str(item.pk), details__restricted=True)}


def _pages(restricted) -> dict[str, str]:
    item, task, item_file = restricted["item"], restricted["task"], restricted["file"]
    return {
        "item page": reverse("work:item-detail", args=[item.pk]),
        "item file": reverse("work:item-file", args=[item.pk, item_file.pk]),
        "task page": reverse("reviews:task-detail", args=[task.pk]),
        "task file": reverse("reviews:task-file", args=[task.pk, item_file.pk]),
    }


@pytest.mark.parametrize("role", OTHERS)
def test_nobody_but_the_dsb_opens_the_item_its_files_or_its_task(client, world, restricted, role):
    login(client, world["team"][role], world["tenant"])
    for name, url in _pages(restricted).items():
        assert client.get(url).status_code == 403, name
    assert not restricted["looks"].exists()


def test_the_dsb_opens_each_and_every_look_is_an_access_event(client, world, restricted):
    dsb = world["team"][DSB]
    login(client, dsb, world["tenant"])
    for n, (name, url) in enumerate(_pages(restricted).items(), start=1):
        response = client.get(url)
        assert response.status_code == 200, name
        assert restricted["looks"].filter(actor_user_id=dsb.pk).count() == n, name
    page = client.get(_pages(restricted)["item page"]).content.decode()
    assert "DE89370400440532013000" in page  # the DSB sees the item as it is
    kinds = set(restricted["looks"].values_list("event_type", flat=True))
    assert kinds == {"work_item.viewed", "work_item.file_viewed"}


@pytest.mark.parametrize("role", OTHERS + (DSB,))
def test_lists_queues_and_escalations_show_it_to_nobody(client, world, restricted, role):
    item, task = restricted["item"], restricted["task"]
    login(client, world["team"][role], world["tenant"])
    listing = client.get(reverse("work:item-list"))
    if listing.status_code == 200:
        assert str(item.pk) not in listing.content.decode()
    queue = client.get(reverse("reviews:queue-detail", args=[task.queue_id]))
    if queue.status_code == 200:
        shown = {row["task"].pk for row in queue.context["rows"]}
        assert task.pk not in shown and shown  # the other tasks are there
    escalations = client.get(reverse("work:escalations") + "?all=1")
    if escalations.status_code == 200:
        assert "Beleg unklar" not in escalations.content.decode()


def test_the_dsb_reaches_it_from_the_restricted_items_page(client, world, restricted):
    login(client, world["team"][DSB], world["tenant"])
    page = client.get(reverse("audit:restricted-items")).content.decode()
    assert reverse("work:item-detail", args=[restricted["item"].pk]) in page
    login(client, world["team"]["auditor"], world["tenant"])
    assert client.get(reverse("audit:restricted-items")).status_code == 403


def _api(user, tenant) -> APIClient:
    _token, plain = portal_services.api_token_create(actor=user, tenant=tenant, user=user, name="Prüfung")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return api


@pytest.mark.parametrize("role", OTHERS)
def test_the_api_does_not_find_it_for_anyone_else(world, restricted, role):
    api = _api(world["team"][role], world["tenant"])
    item, task = restricted["item"], restricted["task"]
    assert api.get(reverse("api:work-item-detail", args=[item.pk])).status_code == 404
    ids = [row["id"] for row in api.get(reverse("api:work-item-list")).json()["results"]]
    assert str(item.pk) not in ids
    assert api.get(reverse("api:review-task-detail", args=[task.pk])).status_code == 403
    assert not restricted["looks"].exists()


def test_the_dsb_reads_it_through_the_api_recorded_but_never_in_a_pull(world, restricted):
    dsb = world["team"][DSB]
    api = _api(dsb, world["tenant"])
    item = restricted["item"]
    response = api.get(reverse("api:work-item-detail", args=[item.pk]))
    assert response.status_code == 200 and response.json()["id"] == str(item.pk)
    assert restricted["looks"].filter(actor_user_id=dsb.pk, actor_token_id__isnull=False).count() == 1
    ids = [row["id"] for row in api.get(reverse("api:work-item-list")).json()["results"]]
    assert str(item.pk) not in ids and ids  # results pulls carry the other items only
    assert api.post(reverse("api:work-item-acknowledge", args=[item.pk]), {"consumer": "ERP"},
                    format="json").status_code in (403, 404)
    assert not item.acknowledgements.exists()


@pytest.mark.parametrize("role", OTHERS + (DSB, "superuser"))
def test_the_admin_shows_it_and_its_records_to_nobody(client, world, restricted, role, django_user_model):
    if role == "superuser":
        user = django_user_model.objects.create_superuser("root", password="x-very-long-pass")
    else:
        user = world["team"][role]
        user.is_staff = True
        user.save()
    login(client, user, world["tenant"])
    item, task = restricted["item"], restricted["task"]
    for model, pk, other in (("automations_workitem", item.pk, world["tasks"][1].item_id),
                             ("reviews_reviewtask", task.pk, world["tasks"][1].pk),
                             ("automations_workitemfile", restricted["file"].pk, None),
                             ("automations_escalation", item.escalations.get().pk, None)):
        listing = client.get(reverse(f"admin:{model}_changelist"))
        if listing.status_code != 200:
            continue
        assert reverse(f"admin:{model}_change", args=[pk]) not in listing.content.decode(), model
        if other is not None:
            assert reverse(f"admin:{model}_change", args=[other]) in listing.content.decode(), model
        assert client.get(reverse(f"admin:{model}_change", args=[pk])).status_code in (302, 404), model
