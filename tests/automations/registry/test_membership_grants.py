"""Granting roles (docs/roles.md): a control role is granted through a change request that other people
approve; the other roles and taking a control role away are direct; author and controlling roles are not
combined unless the tenant allows it; the last holder of an approving role keeps it. UI, API, services."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from automations.choices import ChangeKind, ChangeState
from automations.registry.selectors import change_request_inbox
from automations.registry.services import changes
from automations.registry.services.memberships import membership_roles_request
from portal import services
from portal.choices import Role, TokenScope
from portal.models import Membership
from tests.automations.factories import approve_all

pytestmark = pytest.mark.django_db

ISB, DSB, WC = Role.SECURITY_OFFICER, Role.DATA_PROTECTION_OFFICER, Role.WORKS_COUNCIL


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _edit(client, membership, roles, reason="Neue Aufgabe"):
    return client.post(reverse("portal:member-edit", args=[membership.pk]), {"roles": roles, "reason": reason})


def _grant(team, user, roles, author="automation_lead"):
    membership = Membership.objects.filter(user=user).first()
    return membership_roles_request(actor=team[author], tenant=team[author].memberships.get().tenant, user=user,
                                    membership=membership, roles=roles, reason="Neue Aufgabe")


# --- the grant is a change request ------------------------------------------------------------------

def test_granting_the_dsb_role_on_the_members_page_proposes_a_change_request(team, member):
    erika = member(Role.CLERK, username="erika")
    membership = erika.memberships.get()
    response = _edit(_client(team["automation_lead"]), membership, [Role.CLERK, DSB])
    cr = changes.ChangeRequest.objects.get(kind=ChangeKind.MEMBERSHIP_ROLES)
    assert response.status_code == 302
    assert response["Location"] == reverse("automations:change-request-detail", args=[cr.pk])
    membership.refresh_from_db()
    assert membership.roles == [Role.CLERK]  # nothing applied yet
    assert cr.payload == {"user_id": erika.pk, "roles": [Role.CLERK, DSB]}
    assert cr.required_roles == [ISB, WC]
    assert cr.diff == [{"item": "roles: erika", "before": "clerk", "after": "clerk, data_protection_officer"}]
    edit_page = _client(team["automation_lead"]).get(reverse("portal:member-edit", args=[membership.pk]))
    assert "über einen Änderungsantrag vergeben, dem andere zustimmen" in edit_page.content.decode()
    page = _client(team["automation_lead"]).get(reverse("automations:change-request-detail", args=[cr.pk]))
    assert "Datenschutzbeauftragte" in page.content.decode()

    changes.change_request_approve(actor=team[ISB], change_request=cr, role=ISB)
    membership.refresh_from_db()
    assert membership.roles == [Role.CLERK]
    wc_client = _client(team[WC])
    response = wc_client.post(reverse("automations:change-request-decide", args=[cr.pk]),
                              {"role": WC, "decision": "approve", "comment": ""})
    assert response.status_code == 302
    membership.refresh_from_db()
    cr.refresh_from_db()
    assert membership.roles == [Role.CLERK, DSB] and cr.state == ChangeState.APPLIED
    event = AuditEvent.objects.filter(event_type="membership.roles_changed").get()
    assert event.details["change_request"] == cr.pk and event.actor_user_id == team[WC].pk


@pytest.mark.parametrize(("role", "approvers"), [
    (Role.AUTOMATION_LEAD, [ISB, DSB]),
    (DSB, [ISB, WC]),
    (ISB, [DSB, WC]),
    (WC, [WC]),
    (Role.AUDITOR, [DSB, WC]),
])
def test_each_control_role_needs_its_approvers(team, member, role, approvers):
    erika = member(Role.CLERK, username="erika")
    cr = _grant(team, erika, [Role.CLERK, role] if role != Role.AUTOMATION_LEAD else [role])
    assert cr.kind == ChangeKind.MEMBERSHIP_ROLES and cr.required_roles == approvers
    for approver in approvers[:-1]:
        changes.change_request_approve(actor=team[approver], change_request=cr, role=approver)
    assert role not in Membership.objects.get(user=erika).roles
    changes.change_request_approve(actor=team[approvers[-1]], change_request=cr, role=approvers[-1])
    assert role in Membership.objects.get(user=erika).roles


@pytest.mark.parametrize("role", [Role.CLERK, Role.DEPARTMENT_OWNER, Role.IT_OPERATOR])
def test_other_roles_are_granted_directly(team, member, role):
    erika = member(Role.CLERK, username="erika")
    response = _edit(_client(team["automation_lead"]), erika.memberships.get(), [Role.CLERK, role])
    assert response.status_code == 302 and response["Location"] == reverse("portal:members")
    assert role in Membership.objects.get(user=erika).roles
    assert not changes.ChangeRequest.objects.exists()


def test_a_new_member_with_a_control_role_is_a_change_request_too(team, make_user):
    neu = make_user("neu")
    response = _client(team["automation_lead"]).post(reverse("portal:member-create"),
                                                     {"username": "neu", "roles": [WC], "reason": "Wahl"})
    cr = changes.ChangeRequest.objects.get(kind=ChangeKind.MEMBERSHIP_ROLES)
    assert response.status_code == 302 and not Membership.objects.filter(user=neu).exists()
    changes.change_request_approve(actor=team[WC], change_request=cr, role=WC)
    assert Membership.objects.get(user=neu).roles == [WC]
    assert "Was gemessen wird" in _client(neu).get(reverse("portal:home")).content.decode()


def test_a_vacant_approving_role_is_not_waited_for(member):
    lead = member(Role.AUTOMATION_LEAD, username="leitung")
    isb = member(ISB, username="isb")
    erika = member(Role.CLERK, username="erika")
    cr = membership_roles_request(actor=lead, tenant=lead.memberships.get().tenant, user=erika,
                                  membership=erika.memberships.get(), roles=[Role.AUTOMATION_LEAD], reason="x")
    assert cr.required_roles == [ISB]  # no DSB in this tenant
    changes.change_request_approve(actor=isb, change_request=cr, role=ISB)
    assert Membership.objects.get(user=erika).roles == [Role.AUTOMATION_LEAD]


def test_with_every_approver_vacant_another_automation_lead_approves(member):
    lead = member(Role.AUTOMATION_LEAD, username="leitung")
    erika = member(Role.CLERK, username="erika")
    tenant = lead.memberships.get().tenant
    cr = membership_roles_request(actor=lead, tenant=tenant, user=erika, membership=erika.memberships.get(),
                                  roles=[Role.AUDITOR], reason="Revision")
    assert cr.required_roles == [Role.AUTOMATION_LEAD]
    with pytest.raises(PermissionDenied):  # the requester never approves their own
        changes.change_request_approve(actor=lead, change_request=cr, role=Role.AUTOMATION_LEAD)
    second = member(Role.AUTOMATION_LEAD, username="leitung2")
    changes.change_request_approve(actor=second, change_request=cr, role=Role.AUTOMATION_LEAD)
    assert Membership.objects.get(user=erika).roles == [Role.AUDITOR]


def test_the_grantee_never_approves_their_own_grant(team, member):
    wc2 = member(WC, username="betriebsrat2")
    cr = _grant(team, wc2, [WC, Role.AUDITOR])
    assert cr.required_roles == [DSB, WC]
    assert cr not in change_request_inbox(tenant=cr.tenant, user=wc2)
    with pytest.raises(PermissionDenied):
        changes.change_request_approve(actor=wc2, change_request=cr, role=WC)
    page = _client(wc2).get(reverse("automations:change-request-detail", args=[cr.pk])).content.decode()
    assert 'name="decision"' not in page


def test_nobody_proposes_a_grant_for_themselves(team):
    lead = team["automation_lead"]
    with pytest.raises(PermissionDenied):
        changes.change_request_create(actor=lead, tenant=lead.memberships.get().tenant,
                                      kind=ChangeKind.MEMBERSHIP_ROLES, title="ich", description="ich",
                                      payload={"user_id": lead.pk, "roles": [Role.AUTOMATION_LEAD, DSB]})


def test_only_who_manages_members_proposes_a_grant(team):
    with pytest.raises(PermissionDenied):
        changes.change_request_create(actor=team[ISB], tenant=team[ISB].memberships.get().tenant,
                                      kind=ChangeKind.MEMBERSHIP_ROLES, title="x", description="x",
                                      payload={"user_id": team["clerk"].pk, "roles": [Role.CLERK, Role.AUDITOR]})


# --- taking roles away -------------------------------------------------------------------------------

def test_removing_a_control_role_is_direct(team, member):
    second_dsb = member(DSB, Role.AUDITOR, username="dsb2")
    response = _edit(_client(team["automation_lead"]), second_dsb.memberships.get(), [DSB])
    assert response.status_code == 302
    assert Membership.objects.get(user=second_dsb).roles == [DSB]


@pytest.mark.parametrize("role", [DSB, ISB, WC])
def test_the_last_holder_of_an_approving_role_keeps_it_until_a_successor(team, member, role):
    holder = team[role]
    client = _client(team["automation_lead"])
    response = _edit(client, holder.memberships.get(), [Role.CLERK])
    assert response.status_code == 400
    assert "behält die Rolle" in response.content.decode()
    assert Membership.objects.get(user=holder).roles == [role]
    response = client.post(reverse("portal:member-deactivate", args=[holder.memberships.get().pk]),
                           {"deactivate-reason": "Austritt"})
    assert Membership.objects.get(user=holder).is_active
    member(role, username="nachfolge")
    assert _edit(client, holder.memberships.get(), [Role.CLERK]).status_code == 302
    assert Membership.objects.get(user=holder).roles == [Role.CLERK]


# --- author and controlling roles ---------------------------------------------------------------------

@pytest.mark.parametrize(("holder", "added"), [
    (DSB, Role.DEPARTMENT_OWNER), (ISB, Role.DEPARTMENT_OWNER), (WC, Role.DEPARTMENT_OWNER),
    (Role.AUDITOR, Role.DEPARTMENT_OWNER),
])
def test_an_author_role_is_not_added_to_a_controlling_one(team, holder, added):
    response = _edit(_client(team["automation_lead"]), team[holder].memberships.get(), [holder, added])
    assert response.status_code == 400
    assert "nicht von einer Person gehalten" in response.content.decode()
    assert Membership.objects.get(user=team[holder]).roles == [holder]


@pytest.mark.parametrize(("holder", "added"), [
    (Role.DEPARTMENT_OWNER, DSB), (Role.DEPARTMENT_OWNER, ISB), (Role.DEPARTMENT_OWNER, WC),
    (Role.DEPARTMENT_OWNER, Role.AUDITOR), (DSB, Role.AUTOMATION_LEAD), (Role.AUDITOR, Role.AUTOMATION_LEAD),
])
def test_a_controlling_role_is_not_granted_to_an_author(team, holder, added):
    membership = team[holder].memberships.get()
    response = _edit(_client(team["automation_lead"]), membership, [holder, added])
    assert response.status_code == 400
    assert "nicht von einer Person gehalten" in response.content.decode()
    assert not changes.ChangeRequest.objects.exists()


def test_the_tenant_may_allow_two_roles_through_a_change_request(team):
    tenant = team["automation_lead"].memberships.get().tenant
    policy_cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant,
                                              kind=ChangeKind.TENANT_POLICY, title="Doppelrolle",
                                              description="kleines Team", payload={"allow_dual_role": True})
    approve_all(policy_cr, team)
    owner = team[Role.DEPARTMENT_OWNER]
    cr = _grant(team, owner, [Role.DEPARTMENT_OWNER, Role.AUDITOR])
    approve_all(cr, team)
    assert Membership.objects.get(user=owner).roles == [Role.AUDITOR, Role.DEPARTMENT_OWNER]
    response = _edit(_client(team["automation_lead"]), team[DSB].memberships.get(), [DSB, Role.DEPARTMENT_OWNER])
    assert response.status_code == 302


# --- the API -----------------------------------------------------------------------------------------

def _api(user):
    tenant = user.memberships.get().tenant
    _token, plain = services.api_token_create(actor=user, tenant=tenant, user=user, name="Skript",
                                              scopes=[TokenScope.READ, TokenScope.REGISTRY_WRITE])
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def _propose_api(client, user, roles):
    return client.post(reverse("api:change-request-list"), {
        "kind": "membership_roles", "title": "Rolle", "description": "Vertretung",
        "payload": {"user_id": user.pk, "roles": roles}}, content_type="application/json")


def test_the_api_cannot_grant_oneself_a_control_role(team):
    lead = team["automation_lead"]
    response = _propose_api(_api(lead), lead, [Role.AUTOMATION_LEAD, DSB, WC, ISB])
    assert response.status_code == 403
    assert Membership.objects.get(user=lead).roles == [Role.AUTOMATION_LEAD]


def test_the_api_proposes_a_grant_that_people_approve(team, member):
    erika = member(Role.CLERK, username="erika")
    response = _propose_api(_api(team["automation_lead"]), erika, [Role.CLERK, Role.AUDITOR])
    assert response.status_code == 201
    assert response.json()["required_roles"] == [DSB, WC]
    assert Membership.objects.get(user=erika).roles == [Role.CLERK]


@pytest.mark.parametrize(("holder", "roles"), [
    (Role.DEPARTMENT_OWNER, [Role.DEPARTMENT_OWNER, DSB]), (Role.CLERK, [Role.CLERK]),
])
def test_the_api_refuses_a_dual_role_and_a_grant_without_a_control_role(team, holder, roles):
    response = _propose_api(_api(team["automation_lead"]), team[holder], roles)
    assert response.status_code in (400, 422)
    assert not changes.ChangeRequest.objects.exists()


def test_the_api_of_a_clerk_cannot_propose_grants(team):
    response = _propose_api(_api(team["clerk"]), team["auditor"], [Role.AUDITOR, DSB])
    assert response.status_code == 403


def test_a_direct_role_change_by_a_person_never_grants_a_control_role(team, member):
    erika = member(Role.CLERK, username="erika")
    with pytest.raises(ValidationError):
        services.membership_set_roles(actor=team["automation_lead"], membership=erika.memberships.get(),
                                      roles=[Role.CLERK, DSB], reason="direkt")
    assert Membership.objects.get(user=erika).roles == [Role.CLERK]


# --- the members page shows the rule -------------------------------------------------------------------

def test_the_members_page_shows_who_grants_which_role_and_the_open_grants(member):
    lead = member(Role.AUTOMATION_LEAD, username="leitung")
    member(ISB, username="isb-person")
    erika = member(Role.CLERK, username="erika")
    client = _client(lead)
    page = client.get(reverse("portal:members")).content.decode()
    assert "Wer welche Rolle vergibt" in page
    assert "Niemand ändert seine eigenen Rollen" in page
    rows = {row.split("</td>")[0].rsplit(">", 1)[-1]: row for row in page.split("<tr>")[1:]}
    dsb_row = rows["Datenschutzbeauftragte/r (DSB)"]
    assert "Informationssicherheitsbeauftragte/r (ISB)" in dsb_row and "Betriebsrat" in dsb_row
    assert dsb_row.count("nicht abgewartet") == 1  # the works council is vacant, the ISB is not
    assert "isb-person" in rows["Informationssicherheitsbeauftragte/r (ISB)"]
    _edit(client, erika.memberships.get(), [Role.CLERK, DSB])
    page = client.get(reverse("portal:members")).content.decode()
    assert "Rollenvergaben, die auf Zustimmung warten" in page and "für erika" in page
