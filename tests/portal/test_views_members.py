"""Members and roles: the automation lead adds, re-roles and deactivates members, each with an audit event."""
import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from automations.registry.models.changes import ChangeRequest
from automations.registry.services.changes import change_request_approve
from portal.choices import Role
from portal.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_factory():
    return Client


@pytest.fixture
def lead_client(client, member):
    client.force_login(member(Role.AUTOMATION_LEAD, username="leitung"))
    return client


def test_members_page_lists_members_with_roles_of_this_tenant_only(lead_client, member, make_tenant, make_user):
    member(Role.CLERK, Role.AUDITOR, username="erika")
    make_user("fremd", tenant=make_tenant(), roles=[Role.CLERK])
    page = lead_client.get(reverse("portal:members")).content.decode()
    assert "erika" in page and "Sachbearbeitung, Auditor (nur lesend)" in page
    assert "fremd" not in page


@pytest.mark.parametrize("count", [2, 12])
def test_members_page_query_count_does_not_grow_with_members(lead_client, member, count,
                                                             django_assert_num_queries):
    for n in range(count):
        member(Role.CLERK, username=f"person{n}")
    lead_client.get(reverse("portal:members"))  # warm the session
    with django_assert_num_queries(7):  # tenant policy and open role grants; membership, tenants once
        response = lead_client.get(reverse("portal:members"))
    assert response.content.decode().count('class="button button-small" href="/members/') == count + 1


def test_change_roles_with_reason(lead_client, member):
    erika = member(Role.CLERK, username="erika")
    membership = erika.memberships.get()
    response = lead_client.post(reverse("portal:member-edit", args=[membership.pk]),
                                {"roles": [Role.CLERK, Role.IT_OPERATOR], "reason": "Vertretung im IT-Betrieb"},
                                follow=True)
    page = response.content.decode()
    assert "Die Rollen von erika wurden geändert." in page
    membership.refresh_from_db()
    assert membership.roles == [Role.CLERK, Role.IT_OPERATOR]
    event = AuditEvent.objects.filter(event_type="membership.roles_changed").get()
    assert event.details["after"] == [Role.CLERK, Role.IT_OPERATOR]
    assert membership.history.first().history_change_reason == "Vertretung im IT-Betrieb"


def test_changing_roles_without_reason_is_refused(lead_client, member):
    membership = member(Role.CLERK).memberships.get()
    response = lead_client.post(reverse("portal:member-edit", args=[membership.pk]),
                                {"roles": [Role.AUDITOR], "reason": ""})
    assert response.status_code == 400
    assert "Dieses Feld ist zwingend erforderlich" in response.content.decode()
    membership.refresh_from_db()
    assert membership.roles == [Role.CLERK]


def test_new_role_takes_effect_for_the_member(lead_client, client_factory, member):
    erika = member(Role.CLERK, username="erika")
    isb = member(Role.SECURITY_OFFICER, username="isb")
    erika_client = client_factory()
    erika_client.force_login(erika)
    assert erika_client.get(reverse("portal:members")).status_code == 403
    lead_client.post(reverse("portal:member-edit", args=[erika.memberships.get().pk]),
                     {"roles": [Role.AUTOMATION_LEAD], "reason": "Vertretung"})
    assert erika_client.get(reverse("portal:members")).status_code == 403  # a grant awaiting approval
    change_request_approve(actor=isb, change_request=ChangeRequest.objects.get(), role=Role.SECURITY_OFFICER)
    assert erika_client.get(reverse("portal:members")).status_code == 200


def test_add_existing_user_by_username(lead_client, make_user, client_factory):
    neu = make_user("neu")
    response = lead_client.post(reverse("portal:member-create"),
                                {"username": "neu", "roles": [Role.CLERK], "reason": "Einstellung"}, follow=True)
    assert "neu ist jetzt Mitglied." in response.content.decode()
    assert Membership.objects.get(user=neu).roles == [Role.CLERK]
    neu_client = client_factory()
    neu_client.force_login(neu)
    assert neu_client.get(reverse("portal:home")).status_code == 200


@pytest.mark.parametrize(("username", "message"), [
    ("niemand", "Es gibt keinen aktiven Benutzer mit diesem Benutzernamen."),
    ("leitung", "Dieser Benutzer ist bereits Mitglied dieses Mandanten."),
])
def test_add_member_refuses_unknown_and_existing(lead_client, username, message):
    response = lead_client.post(reverse("portal:member-create"), {"username": username, "roles": [Role.CLERK]})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_add_member_needs_a_role(lead_client, make_user):
    make_user("neu")
    response = lead_client.post(reverse("portal:member-create"), {"username": "neu", "roles": []})
    assert response.status_code == 400
    assert not Membership.objects.filter(user__username="neu").exists()


def test_deactivate_takes_access_away(lead_client, member, client_factory):
    erika = member(Role.CLERK, username="erika")
    erika_client = client_factory()
    erika_client.force_login(erika)
    assert erika_client.get(reverse("portal:home")).status_code == 200

    membership = erika.memberships.get()
    response = lead_client.post(reverse("portal:member-deactivate", args=[membership.pk]),
                                {"deactivate-reason": "Austritt"}, follow=True)
    assert "Die Mitgliedschaft von erika wurde deaktiviert." in response.content.decode()
    assert AuditEvent.objects.filter(event_type="membership.deactivated").count() == 1
    response = erika_client.get(reverse("portal:home"), follow=True)
    assert "Sie sind in keinem Mandanten Mitglied." in response.content.decode()


def test_deactivate_needs_a_reason(lead_client, member):
    membership = member(Role.CLERK).memberships.get()
    response = lead_client.post(reverse("portal:member-deactivate", args=[membership.pk]), {})
    assert response.status_code == 400
    membership.refresh_from_db()
    assert membership.is_active


def test_a_deactivated_membership_cannot_be_changed_or_deactivated_again(lead_client, member):
    membership = member(Role.CLERK, username="erika").memberships.get()
    lead_client.post(reverse("portal:member-deactivate", args=[membership.pk]), {"deactivate-reason": "Austritt"})
    response = lead_client.post(reverse("portal:member-edit", args=[membership.pk]),
                                {"roles": [Role.AUTOMATION_LEAD], "reason": "Versehen"}, follow=True)
    assert "Die Mitgliedschaft von erika ist deaktiviert" in response.content.decode()
    lead_client.post(reverse("portal:member-deactivate", args=[membership.pk]), {"deactivate-reason": "nochmal"})
    membership.refresh_from_db()
    assert membership.roles == [Role.CLERK] and not membership.is_active
    assert AuditEvent.objects.filter(event_type="membership.deactivated").count() == 1
    assert AuditEvent.objects.filter(event_type="membership.roles_changed").count() == 0
