"""Who may change whose roles (docs/roles.md): nobody changes their own roles — on the members page, in the
services, and the API offers no way around it."""
import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from portal import services
from portal.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(member):
    return member(Role.AUTOMATION_LEAD, username="leitung")


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_automation_lead_cannot_make_himself_dsb_works_council_and_isb(lead):
    """The attack of the security review: POST /members/<own id>/ with control roles."""
    membership = lead.memberships.get()
    response = _client(lead).post(reverse("portal:member-edit", args=[membership.pk]), {
        "roles": [Role.AUTOMATION_LEAD, Role.DATA_PROTECTION_OFFICER, Role.WORKS_COUNCIL, Role.SECURITY_OFFICER],
        "reason": "Vertretung"})
    assert response.status_code == 403
    assert "Niemand ändert seine eigenen Rollen" in response.content.decode()
    membership.refresh_from_db()
    assert membership.roles == [Role.AUTOMATION_LEAD]
    assert not AuditEvent.objects.filter(event_type="membership.roles_changed").exists()


def test_nobody_removes_or_adds_a_harmless_role_of_their_own_either(lead):
    membership = lead.memberships.get()
    response = _client(lead).post(reverse("portal:member-edit", args=[membership.pk]), {
        "roles": [Role.AUTOMATION_LEAD, Role.CLERK], "reason": "Mithilfe"})
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.roles == [Role.AUTOMATION_LEAD]


def test_nobody_deactivates_their_own_membership(lead):
    membership = lead.memberships.get()
    response = _client(lead).post(reverse("portal:member-deactivate", args=[membership.pk]),
                                  {"deactivate-reason": "Abschied"}, follow=True)
    assert "Niemand ändert seine eigenen Rollen" in response.content.decode()
    membership.refresh_from_db()
    assert membership.is_active


def test_the_service_refuses_a_change_of_ones_own_roles(lead):
    with pytest.raises(PermissionDenied):
        services.membership_set_roles(actor=lead, membership=lead.memberships.get(),
                                      roles=[Role.AUTOMATION_LEAD, Role.DATA_PROTECTION_OFFICER], reason="x")
    with pytest.raises(PermissionDenied):
        services.membership_deactivate(actor=lead, membership=lead.memberships.get(), reason="x")


def test_the_api_offers_no_way_to_write_memberships(lead, tenant):
    _token, plain = services.api_token_create(actor=lead, tenant=tenant, user=lead, name="Skript")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    membership = lead.memberships.get()
    url = reverse("api:membership-detail", args=[membership.pk])
    body = {"roles": [Role.AUTOMATION_LEAD, Role.DATA_PROTECTION_OFFICER]}
    assert client.patch(url, body, content_type="application/json").status_code == 405
    assert client.put(url, body, content_type="application/json").status_code == 405
    assert client.post(reverse("api:membership-list"), {"user": lead.pk, **body},
                       content_type="application/json").status_code == 405
    membership.refresh_from_db()
    assert membership.roles == [Role.AUTOMATION_LEAD]
