"""Use cases per department owner: a department owner changes only the use cases granted to them (their
department's), in the service, the page and the API; the automation lead changes every one by role. A
department owner who documents a use case, and the one it names, may change it."""
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import AuditEvent
from automations.registry.selectors import use_case_list, use_case_may
from automations.registry.services import use_cases
from portal.choices import Role, TokenScope
from portal.services import api_token_create
from tests.access import login
from tests.automations.factories import make_team, make_use_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def departments(tenant, member):
    team = make_team(member)
    team["owner_service"] = member(Role.DEPARTMENT_OWNER, username="owner_service")
    lead = team["automation_lead"]
    invoices = make_use_case(tenant, lead, key="rechnungen", department="Buchhaltung",
                             department_owner=team["department_owner"], data_subjects=["Lieferanten"])
    tickets = make_use_case(tenant, lead, key="tickets", department="Kundenservice",
                            department_owner=team["owner_service"])
    return {"team": team, "invoices": invoices, "tickets": tickets}


def test_a_department_owner_changes_only_their_own_use_cases(tenant, departments):
    owner = departments["team"]["department_owner"]
    use_cases.use_case_update(actor=owner, use_case=departments["invoices"], values={"purpose": "Rechnungen"},
                              reason="genauer")
    with pytest.raises(PermissionDenied):
        use_cases.use_case_update(actor=owner, use_case=departments["tickets"], values={"purpose": "x"}, reason="y")
    assert list(use_case_list(tenant=tenant, user=owner, action="change")) == [departments["invoices"]]
    lead = departments["team"]["automation_lead"]
    assert use_case_list(tenant=tenant, user=lead, action="change").count() == 2
    assert use_case_list(tenant=tenant, user=owner, action="view").count() == 2  # the registry stays readable


def test_the_edit_page_and_the_api_follow_the_grant(client, tenant, departments):
    owner = departments["team"]["department_owner"]
    login(client, owner, tenant)
    assert client.get(reverse("automations:use-case-update", args=["rechnungen"])).status_code == 200
    assert client.get(reverse("automations:use-case-update", args=["tickets"])).status_code == 403
    detail = client.get(reverse("automations:use-case-detail", args=["tickets"])).content.decode()
    assert 'id="edit-use-case"' not in detail
    token = api_token_create(actor=owner, tenant=tenant, user=owner, name="t", scopes=[TokenScope.REGISTRY_WRITE])[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = {"purpose": "Neu beschrieben.", "reason": "genauer"}
    assert client.patch(reverse("api:use-case-detail", args=["tickets"]), body, content_type="application/json",
                        **headers).status_code == 403
    assert client.patch(reverse("api:use-case-detail", args=["rechnungen"]), body, content_type="application/json",
                        **headers).status_code == 200


def test_a_department_owner_documenting_a_use_case_may_change_it(tenant, departments):
    owner = departments["team"]["owner_service"]
    mine = make_use_case(tenant, owner, key="retouren", department="Kundenservice")
    assert use_case_may(use_case=mine, user=owner, action="change")
    assert not use_case_may(use_case=mine, user=departments["team"]["department_owner"], action="change")
    created = AuditEvent.objects.get(event_type="use_case.created", object_id=str(mine.pk))
    assert created.details["owners_granted"] == [owner.pk]


def test_granting_a_use_case_is_audited_with_whether_it_opens_personal_data(tenant, departments):
    lead, other = departments["team"]["automation_lead"], departments["team"]["owner_service"]
    assert use_cases.use_case_owner_grant(actor=lead, use_case=departments["invoices"], user=other) is True
    assert use_cases.use_case_owner_grant(actor=lead, use_case=departments["invoices"], user=other) is False
    event = AuditEvent.objects.get(event_type="use_case.owner_granted", details__user_id=other.pk)
    assert event.details["personal_data"] is True
    with pytest.raises(PermissionDenied):
        use_cases.use_case_owner_grant(actor=other, use_case=departments["tickets"],
                                       user=departments["team"]["department_owner"])
    assert use_cases.use_case_owner_revoke(actor=lead, use_case=departments["invoices"], user=other) is True
    assert not use_case_may(use_case=departments["invoices"], user=other, action="change")


def test_a_department_owner_reads_the_items_of_their_use_cases_only(tenant, departments):
    from automations.execution.selectors import work_item_list
    from tests.reviews.factories import make_item

    mine, theirs = make_item(departments["invoices"], n=1), make_item(departments["tickets"], n=2)
    owner = departments["team"]["department_owner"]
    assert list(work_item_list(tenant=tenant, user=owner)) == [mine]
    assert set(work_item_list(tenant=tenant, user=departments["team"]["auditor"])) == {mine, theirs}
