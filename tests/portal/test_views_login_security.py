"""The sign-in security page: administrators and the ISB see current sign-in locks (user names and addresses)
and lift them before the cool-off ends, audited; the ISB only for the members of their tenant."""
import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from audit.models import AuditEvent
from portal.choices import Role

pytestmark = pytest.mark.django_db


def fail(client, username, address, times):
    for _attempt in range(times):
        client.post(reverse("portal:login"), {"username": username, "password": "falsch-falsch"},
                    REMOTE_ADDR=address)


def test_the_isb_sees_and_lifts_a_members_lock_and_an_address_lock(client, tenant, member, settings, make_user,
                                                                    make_tenant):
    officer = member(Role.SECURITY_OFFICER, username="p.neumann")
    member(Role.CLERK, username="k.klein")
    make_user("fremd.person", tenant=make_tenant(), roles=[Role.CLERK])
    fail(client, "k.klein", "10.0.0.8", settings.AXES_FAILURE_LIMIT)
    fail(client, "fremd.person", "10.0.0.9", settings.AXES_FAILURE_LIMIT)
    fail(client, "niemand", "10.7.7.7", settings.AXES_FAILURE_LIMIT)

    client.force_login(officer)
    page = client.get(reverse("portal:login-security")).content.decode()
    assert "Gesperrte Benutzernamen" in page and "k.klein" in page and "10.7.7.7" in page
    assert "fremd.person" not in page  # another tenant's member
    assert "niemand" not in page  # a name that is no member here

    response = client.post(reverse("portal:login-unlock"), {"username": "k.klein"}, follow=True)
    assert response.status_code == 200 and "wurde aufgehoben" in response.content.decode()
    assert not AccessAttempt.objects.filter(username="k.klein").exists()
    unlocked = AuditEvent.objects.get(tenant=tenant, event_type="user.unlocked")
    assert unlocked.actor_user_id == officer.pk and "k.klein" not in str(unlocked.details)

    client.post(reverse("portal:login-unlock"), {"address": "10.7.7.7"})
    assert not AccessAttempt.objects.filter(ip_address="10.7.7.7").exists()
    assert AuditEvent.objects.filter(tenant=tenant, event_type="user.unlocked").count() == 2

    # another tenant's member stays locked for this ISB
    client.post(reverse("portal:login-unlock"), {"username": "fremd.person"})
    assert AccessAttempt.objects.filter(username="fremd.person").exists()


def test_a_superuser_sees_every_lock(client, make_user, settings, db):
    admin = make_user("root")
    admin.is_superuser = True
    admin.save()
    fail(client, "niemand", "10.7.7.7", settings.AXES_FAILURE_LIMIT)
    client.force_login(admin)
    page = client.get(reverse("portal:login-security")).content.decode()
    assert "niemand" in page and "10.7.7.7" in page
    client.post(reverse("portal:login-unlock"), {"username": "niemand"})
    assert not AccessAttempt.objects.filter(username="niemand").exists()
    assert AuditEvent.objects.filter(tenant=None, event_type="user.unlocked", actor_user_id=admin.pk).exists()


def test_other_roles_may_not_unlock(client, tenant, member, settings):
    member(Role.CLERK, username="k.klein")
    fail(client, "k.klein", "10.0.0.8", settings.AXES_FAILURE_LIMIT)
    client.force_login(member(Role.AUTOMATION_LEAD))
    assert client.get(reverse("portal:login-security")).status_code == 403
    assert client.post(reverse("portal:login-unlock"), {"username": "k.klein"}).status_code == 403
    assert AccessAttempt.objects.filter(username="k.klein").exists()


def test_unlocking_needs_a_name_or_an_address(client, tenant, member):
    client.force_login(member(Role.SECURITY_OFFICER))
    response = client.post(reverse("portal:login-unlock"), {}, follow=True)
    assert "Benutzer oder eine Adresse" in response.content.decode()
