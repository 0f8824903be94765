"""IT's connector page and the connectors API: state, backlog and dead letters per connector; a dead letter
sent again by IT (not by a clerk), with the same webhook id; another tenant's delivery is not found."""
import pytest
from django.urls import reverse

from automations.choices import DeliveryStatus
from automations.connectors.models import Delivery
from automations.execution.services import intake
from portal.choices import Role
from portal.services import api_token_create
from tests.automations.connectors.conftest import webhook_connector
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_celery(eager_tasks):
    """In-process tasks (tests/conftest.py)."""


@pytest.fixture
def dead_letter(tenant, team, receiver, run_on_commit):
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"])
    webhook_connector(tenant, team, use_case, receiver, max_attempts=1)
    receiver.answer = 500
    run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                  payload={"text": "Rechnung Rechnungsnummer 5"})
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.DEAD
    receiver.answer = 200
    return delivery


def bearer(tenant, user) -> dict:
    _token, plain = api_token_create(actor=user, tenant=tenant, user=user, name="it")
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def test_it_sees_the_dead_letter_and_sends_it_again(client, tenant, team, dead_letter, receiver, run_on_commit):
    client.force_login(team["it_operator"])
    page = client.get(reverse("automations:connectors")).content.decode()
    assert 'data-connector="erp" data-state="closed"' in page
    assert f'data-delivery="{dead_letter.pk}" data-status="dead"' in page
    run_on_commit(client.post, reverse("automations:delivery-redeliver", args=[dead_letter.pk]))
    dead_letter.refresh_from_db()
    assert dead_letter.status == DeliveryStatus.DELIVERED
    assert [r["id"] for r in receiver.requests] == [dead_letter.webhook_id] * 2


def test_a_clerk_neither_sends_again_nor_sees_the_page(client, tenant, team, dead_letter):
    client.force_login(team["clerk"])
    assert client.post(reverse("automations:delivery-redeliver", args=[dead_letter.pk])).status_code == 403
    assert client.get(reverse("automations:connectors")).status_code == 403
    dead_letter.refresh_from_db()
    assert dead_letter.status == DeliveryStatus.DEAD


def test_the_api_lists_connectors_and_deliveries_and_redelivers(client, tenant, team, dead_letter, member,
                                                                make_tenant, make_user, run_on_commit):
    it = bearer(tenant, team["it_operator"])
    page = client.get("/api/v1/connectors/", **it).json()
    (row,) = page["results"]
    assert page["next"] is None
    assert (row["key"], row["state"], row["dead"], row["backlog"]) == ("erp", "closed", 1, 0)
    (listed,) = client.get("/api/v1/deliveries/?status=dead", **it).json()["results"]
    assert listed["webhook_id"] == dead_letter.webhook_id and listed["receipts"][0]["status_code"] == 500
    assert client.get("/api/v1/deliveries/?status=dead&connector=erp", **it).json()["results"] == [listed]
    assert client.get("/api/v1/deliveries/?connector=nowhere", **it).json()["results"] == []
    refused = client.get("/api/v1/deliveries/?status=lost", **it)
    assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "status"
    assert client.get("/api/v1/deliveries/?cursor=bogus", **it).status_code == 400
    clerk = bearer(tenant, team["clerk"])
    assert client.post(f"/api/v1/deliveries/{dead_letter.pk}/redeliver/", **clerk).status_code == 403
    other = make_tenant()
    stranger = make_user(tenant=other, roles=[Role.IT_OPERATOR])
    assert client.post(f"/api/v1/deliveries/{dead_letter.pk}/redeliver/", **bearer(other, stranger)).status_code == 404
    answer = run_on_commit(client.post, f"/api/v1/deliveries/{dead_letter.pk}/redeliver/", **it)
    assert answer.status_code == 200 and answer.json()["status"] == "pending"
    dead_letter.refresh_from_db()
    assert dead_letter.status == DeliveryStatus.DELIVERED
    assert client.post(f"/api/v1/deliveries/{dead_letter.pk}/redeliver/", **it).status_code == 409


def test_the_item_page_shows_its_deliveries_with_receipts_and_it_sends_a_dead_one_again(
        client, tenant, team, dead_letter, receiver, run_on_commit):
    client.force_login(team["it_operator"])
    item_page = reverse("work:item-detail", args=[dead_letter.item_id])
    page = client.get(item_page).content.decode()
    assert f'data-delivery="{dead_letter.pk}" data-status="dead"' in page and dead_letter.webhook_id in page
    assert 'data-receipt="1"' in page and "HTTP 500" in page
    assert reverse("automations:delivery-redeliver", args=[dead_letter.pk]) in page

    response = run_on_commit(client.post, reverse("automations:delivery-redeliver", args=[dead_letter.pk]),
                             {"back": "item"})
    assert response.status_code == 302 and response["Location"].startswith(item_page)
    page = client.get(item_page).content.decode()
    assert f'data-delivery="{dead_letter.pk}" data-status="delivered"' in page
    assert 'data-receipt="2"' in page and "HTTP 200" in page
    assert reverse("automations:delivery-redeliver", args=[dead_letter.pk]) not in page  # delivered: no button


def test_a_clerk_sees_the_items_deliveries_without_the_button(client, tenant, team, dead_letter):
    from tests.reviews.factories import join_team

    join_team(team["clerk"], dead_letter.item.use_case, team["automation_lead"])  # the clerk of its department
    client.force_login(team["clerk"])
    page = client.get(reverse("work:item-detail", args=[dead_letter.item_id])).content.decode()
    assert f'data-delivery="{dead_letter.pk}" data-status="dead"' in page
    assert reverse("automations:delivery-redeliver", args=[dead_letter.pk]) not in page


def test_the_api_gives_an_items_deliveries_with_receipts_and_where_to_send_one_again(
        client, tenant, team, dead_letter, make_tenant, make_user, run_on_commit):
    url = f"/api/v1/work-items/{dead_letter.item_id}/deliveries/"
    it = bearer(tenant, team["it_operator"])
    (row,) = client.get(url, **it).json()["results"]
    assert (row["webhook_id"], row["status"], row["attempts"], row["test"]) == (dead_letter.webhook_id, "dead", 1,
                                                                                 False)
    assert [(r["attempt"], r["ok"], r["status_code"]) for r in row["receipts"]] == [(1, False, 500)]
    assert row["redeliver"] == f"/api/v1/deliveries/{dead_letter.pk}/redeliver/"
    # The item's own representation keeps the contract's short form.
    (short,) = client.get(f"/api/v1/work-items/{dead_letter.item_id}/", **it).json()["deliveries"]
    assert short == {"connector": "ERP erp", "status": "dead", "attempts": 1, "delivered_at": None}

    assert run_on_commit(client.post, row["redeliver"], **it).status_code == 200
    (row,) = client.get(url, **it).json()["results"]
    assert row["status"] == "delivered" and len(row["receipts"]) == 2 and row["redeliver"] is None

    other = make_tenant()
    stranger = make_user(tenant=other, roles=[Role.IT_OPERATOR])
    assert client.get(url, **bearer(other, stranger)).status_code == 404
    assert client.get(url).status_code in (401, 403)
