"""The grants page and API: the automation lead adds clerks to teams, grants queues and use cases, and takes
them away (German UI, audited); others read at most; tokens change grants only with registry:write."""
import pytest
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from portal.choices import Role, TokenScope
from portal.services import api_token_create
from reviews import selectors
from tests.access import login
from tests.automations.factories import make_team, make_use_case
from tests.reviews.world import make_review_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tenant, member):
    team = make_team(member)
    lead = team["automation_lead"]
    invoices = make_use_case(tenant, lead, key="rechnungen", department="Buchhaltung", data_subjects=["Kunden"])
    tickets = make_use_case(tenant, lead, key="tickets", department="Kundenservice")
    make_review_tasks(invoices, 1)
    make_review_tasks(tickets, 1, start=5)
    return {"team": team, "invoices": invoices, "tickets": tickets}


def test_the_lead_adds_a_clerk_to_a_team_on_the_german_page_and_takes_them_out_again(client, tenant, setup):
    lead, clerk = setup["team"]["automation_lead"], setup["team"]["clerk"]
    login(client, lead, tenant)
    with translation.override("de"):
        page = client.get(reverse("reviews:grants"), HTTP_ACCEPT_LANGUAGE="de")
    body = page.content.decode()
    assert page.status_code == 200 and "Zuständigkeiten" in body and "Teams und ihre Sachbearbeitung" in body
    assert "Buchhaltung" in body and "Kundenservice" in body
    response = client.post(reverse("reviews:grants"), {"kind": "team", "target": "Kundenservice",
                                                       "user": clerk.username, "action": "grant"})
    assert response.status_code == 302
    queues = set(selectors.review_queue_list(tenant=tenant, user=clerk).values_list("team", flat=True))
    assert queues == {"Kundenservice"}
    event = AuditEvent.objects.get(event_type="review_team.granted", details__user_id=clerk.pk)
    assert event.actor_user_id == lead.pk and event.details["personal_data"] is False
    assert clerk.username in client.get(reverse("reviews:grants")).content.decode()
    client.post(reverse("reviews:grants"), {"kind": "team", "target": "Kundenservice", "user": clerk.username,
                                            "action": "revoke"})
    assert not selectors.review_queue_list(tenant=tenant, user=clerk).exists()


@pytest.mark.parametrize(("language", "rule"), [
    ("de", ["Ihre Fachbereiche sind die der Anwendungsfälle, die sie verantworten", "aussetzen",
            "Änderungen daran beantragen", "als Fachbereichsverantwortliche frei",
            "Anwendungsfälle anderer Fachbereiche lesen sie nur"]),
    ("en", ["Their departments are those of the use cases they own", "suspend", "propose changes to",
            "approve its changes as department owner", "Use cases of other departments they only read"]),
])
def test_the_page_tells_department_owners_what_they_may_do_within_their_departments(client, tenant, setup,
                                                                                      language, rule):
    """docs/roles.md: department owners suspend, propose and approve within their own departments only."""
    login(client, setup["team"]["department_owner"], tenant, language=language)
    body = client.get(reverse("reviews:grants")).content.decode()
    assert all(part in body for part in rule), [part for part in rule if part not in body]


def test_a_grant_to_an_unknown_team_is_refused_with_the_reason_on_the_form(client, tenant, setup):
    login(client, setup["team"]["automation_lead"], tenant)
    response = client.post(reverse("reviews:grants"), {"kind": "team", "target": "Einkauf",
                                                       "user": "clerk", "action": "grant"})
    assert response.status_code == 400 and "Einkauf" in response.content.decode()


@pytest.mark.parametrize("role", [Role.DEPARTMENT_OWNER, Role.AUDITOR, Role.CLERK])
def test_other_roles_change_no_grant(client, tenant, setup, role):
    login(client, setup["team"][str(role)], tenant)
    response = client.post(reverse("reviews:grants"), {"kind": "team", "target": "Kundenservice",
                                                       "user": "clerk", "action": "grant"})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(event_type="review_team.granted").exists()
    expected = 403 if role == Role.CLERK else 200  # the clerk does not read the members list either
    assert client.get(reverse("reviews:grants")).status_code == expected


def test_the_api_lists_grants_and_changes_them_with_the_registry_write_scope(client, tenant, setup):
    lead, owner = setup["team"]["automation_lead"], setup["team"]["department_owner"]
    write = api_token_create(actor=lead, tenant=tenant, user=lead, name="w", scopes=[TokenScope.REGISTRY_WRITE])[1]
    read = api_token_create(actor=lead, tenant=tenant, user=lead, name="r", scopes=[TokenScope.READ])[1]
    body = {"kind": "department", "target": "Kundenservice", "user": owner.username}
    refused = client.post(reverse("api:grant-list"), body, content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {read}")
    assert refused.status_code == 403
    done = client.post(reverse("api:grant-list"), body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {write}")
    assert done.status_code == 200 and done.json() == {"changed": 1}
    listed = client.get(reverse("api:grant-list"), HTTP_AUTHORIZATION=f"Bearer {read}").json()
    owners = {u["key"]: u["owners"] for u in listed["use_cases"]}
    assert owner.username in owners["tickets"]
    assert {t["name"] for t in listed["teams"]} == {"Buchhaltung", "Kundenservice"}
    unknown = client.post(reverse("api:grant-list"), {**body, "user": "niemand"}, content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {write}")
    assert unknown.status_code == 400 and "No active member" in unknown.json()["detail"]
    taken = client.post(reverse("api:grant-revoke"), {**body, "kind": "use_case", "target": "tickets"},
                        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {write}")
    assert taken.json() == {"changed": 1}
    assert AuditEvent.objects.filter(event_type="use_case.owner_revoked", details__user_id=owner.pk).count() == 1
