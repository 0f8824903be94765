"""Every read of personal data is an access event, one per page and not one per row: the work item page
and list, the master data page, the API (detail and list), the item's files and the Django admin. The
events name the people the page showed (pseudonyms), so the DSB finds each look by the person."""
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AccessEvent, SubjectReference
from audit.selectors.pseudonyms import pseudonym_lookup
from automations.execution.services import master_data
from portal import services as portal_services
from tests.access import login
from tests.reviews.world import attach_file, make_review_item

pytestmark = pytest.mark.django_db

LEAD = "automation_lead"


def _looks(**filters):
    return AccessEvent.objects.filter(**filters).order_by("id")


def _person(world, email):
    return pseudonym_lookup(tenant=world["tenant"], kind="email", identifier=email).pseudonym


def test_the_work_item_list_records_one_event_for_the_page_naming_items_and_people(client, world):
    for n in range(3, 8):
        make_review_item(world["use_case"], n)
    lead = world["team"][LEAD]
    login(client, lead, world["tenant"])
    before = AccessEvent.objects.count()
    response = client.get(reverse("work:item-list"))
    assert response.status_code == 200
    events = list(_looks(event_type="work_items.listed"))
    assert AccessEvent.objects.count() == before + 1 and len(events) == 1
    event = events[0]
    assert event.actor_user_id == lead.pk and event.details["purpose"] == "work item list"
    shown = {str(item.pk) for item in response.context["items"]}
    assert set(event.details["items"]) == shown and len(shown) == 8
    # Each person on the page is findable: kunde5@example.org's look is indexed under their pseudonym.
    person = _person(world, "kunde5@example.org")
    assert person in [event.details.get("subject"), *event.details.get("subjects", [])]
    assert SubjectReference.objects.filter(stream="access", pseudonym=person).exists()


def test_the_list_of_items_without_personal_data_records_nothing(client, world, tenant):
    from tests.automations.factories import make_use_case

    plain = make_use_case(tenant, world["team"][LEAD], key="ohne-personen",
                          input_fields=[{"name": "text", "type": "long_text"}],
                          output_fields=[{"name": "kind", "type": "category", "choices": ["a", "b"]}])
    make_review_item(plain, 1, payload={"text": "nichts Persönliches"}, fields={"kind": {"value": "a"}})
    login(client, world["team"][LEAD], tenant)
    assert client.get(reverse("work:item-list") + "?use_case=ohne-personen").status_code == 200
    assert not _looks(event_type="work_items.listed").exists()


def test_the_work_item_page_and_its_file_are_recorded(client, world):
    item = world["tasks"][0].item
    item_file = attach_file(item)
    login(client, world["team"][LEAD], world["tenant"])
    assert client.get(reverse("work:item-detail", args=[item.pk])).status_code == 200
    # The file opened directly (a download, not the page's embedded preview) is a look of its own.
    assert client.get(reverse("work:item-file", args=[item.pk, item_file.pk]) + "?download=1").status_code == 200
    kinds = list(_looks(object_id=str(item.pk)).values_list("event_type", flat=True))
    assert kinds == ["work_item.viewed", "work_item.file_viewed"]
    details = _looks(object_id=str(item.pk)).first().details
    assert _person(world, item.payload["sender_email"]) in [details["subject"], *details.get("subjects", [])]


def test_the_master_data_page_records_one_event_with_the_records_shown(client, world):
    lead = world["team"][LEAD]
    for n in range(4):
        master_data.master_record_save(actor=lead, tenant=world["tenant"], kind="customer", number=f"K-{n}",
                                       name=f"Kundin {n}", vat_id="", iban="", email=f"k{n}@example.org",
                                       reason="Stammdaten")
    login(client, lead, world["tenant"])
    assert client.get(reverse("work:master-data") + "?kind=customer").status_code == 200
    events = list(_looks(event_type="master_data.viewed"))
    assert len(events) == 1
    assert len(events[0].details["records"]) == 4 and events[0].details["purpose"] == "master data page"
    person = pseudonym_lookup(tenant=world["tenant"], kind="customer_number", identifier="K-2").pseudonym
    assert person in [events[0].details.get("subject"), *events[0].details.get("subjects", [])]


def test_the_api_records_the_item_and_each_list_page(world):
    lead = world["team"][LEAD]
    _token, plain = portal_services.api_token_create(actor=lead, tenant=world["tenant"], user=lead, name="erp")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    item = world["tasks"][1].item
    assert api.get(reverse("api:work-item-detail", args=[item.pk])).status_code == 200
    viewed = _looks(event_type="work_item.viewed", object_id=str(item.pk)).get()
    assert viewed.actor_kind == "token" and viewed.details["purpose"] == "work item (API)"
    listing = api.get(reverse("api:work-item-list"))
    assert listing.status_code == 200
    listed = _looks(event_type="work_items.listed").get()
    assert listed.actor_kind == "token"
    assert set(listed.details["items"]) == {row["id"] for row in listing.json()["results"]}


def test_the_admin_records_its_list_and_record_pages(client, world, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x-very-long-pass")
    client.force_login(root)
    item = world["tasks"][0].item
    assert client.get(reverse("admin:automations_workitem_changelist")).status_code == 200
    assert client.get(reverse("admin:automations_workitem_change", args=[item.pk])).status_code == 200
    events = list(_looks(event_type="personal_data.viewed", actor_user_id=root.pk))
    # One event per tenant on the list (the superuser's list spans both tenants), one for the record.
    assert len(events) == 3
    by_tenant = {e.tenant_id: e for e in events[:2]}
    assert set(by_tenant) == {world["tenant"].pk, world["other"].pk}
    assert set(by_tenant[world["tenant"].pk].details["ids"]) == {str(t.item.pk) for t in world["tasks"]}
    assert events[2].details["ids"] == [str(item.pk)] and events[2].details["purpose"] == "administration"
    # Records without personal data (use cases) record nothing.
    assert client.get(reverse("admin:automations_usecase_changelist")).status_code == 200
    assert _looks(actor_user_id=root.pk).count() == 3


def test_the_review_queue_page_records_one_event_naming_the_items_and_people_on_it(client, world):
    """The queue's rows show each item's title fields (a customer number, a sender): a look at personal data."""
    clerk = world["team"]["clerk"]
    login(client, clerk, world["tenant"])
    response = client.get(reverse("reviews:queue-detail", args=[world["queue"].pk]))
    assert response.status_code == 200
    event = _looks(event_type="work_items.listed").get()
    assert event.actor_user_id == clerk.pk and event.details["purpose"] == "review queue"
    assert set(event.details["items"]) == {str(row["task"].item_id) for row in response.context["rows"]}
    person = _person(world, world["tasks"][0].item.payload["sender_email"])
    assert person in [event.details.get("subject"), *event.details.get("subjects", [])]


def test_the_escalations_page_records_one_event_naming_the_items_and_people_on_it(client, world):
    from audit.actors import SYSTEM
    from automations.execution.services.escalations import escalation_create

    item = world["tasks"][0].item
    escalation_create(actor=SYSTEM, item=item, reason="Kunde droht mit Kündigung")
    lead = world["team"][LEAD]
    login(client, lead, world["tenant"])
    assert client.get(reverse("work:escalations")).status_code == 200
    event = _looks(event_type="work_items.listed").get()
    assert event.actor_user_id == lead.pk and event.details["purpose"] == "escalations"
    assert event.details["items"] == [str(item.pk)]
    person = _person(world, item.payload["sender_email"])
    assert person in [event.details.get("subject"), *event.details.get("subjects", [])]


def test_the_admin_of_review_decisions_and_tasks_records_what_it_showed(client, world, django_user_model):
    """A decision holds the corrected values (before and after) and the clerk's comment, a task its reasons:
    the admin's pages of them are looks at personal data like the work items'."""
    from reviews import services as reviews

    clerk = world["team"]["clerk"]
    task = world["tasks"][0]
    reviews.review_task_claim(actor=clerk, task=task)
    reviews.review_task_decide(actor=clerk, task=task, action="correct", final_values={"document_class": "reminder"},
                               comment="Rückruf bei der Kundin erledigt")
    decision = task.decisions.get()
    root = django_user_model.objects.create_superuser("root", password="x-very-long-pass")
    client.force_login(root)
    assert client.get(reverse("admin:reviews_reviewdecision_change", args=[decision.pk])).status_code == 200
    assert client.get(reverse("admin:reviews_reviewtask_changelist")).status_code == 200
    decision_event, *task_events = _looks(actor_user_id=root.pk)
    assert (decision_event.object_type, decision_event.details["ids"]) == ("reviews.reviewdecision", [str(decision.pk)])
    assert decision_event.details["purpose"] == "administration"
    assert {e.object_type for e in task_events} == {"reviews.reviewtask"} and len(task_events) == 2  # two tenants
    assert client.get(reverse("admin:reviews_reviewqueue_changelist")).status_code == 200  # no personal data
    assert _looks(actor_user_id=root.pk).count() == 3
