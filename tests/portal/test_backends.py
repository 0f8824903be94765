import pytest

from audit.actors import SYSTEM
from portal.choices import Role
from tests.conftest import in_tenant

pytestmark = pytest.mark.django_db


def test_permissions_come_from_roles_in_the_active_tenant(tenant, make_tenant, make_user):
    other = make_tenant()
    user = make_user(tenant=tenant, roles=[Role.DATA_PROTECTION_OFFICER])
    from portal import services

    services.membership_create(actor=SYSTEM, tenant=other, user=user, roles=[Role.CLERK])

    assert in_tenant(user, tenant).has_perm("audit.view_auditevent")
    assert not in_tenant(user, other).has_perm("audit.view_auditevent")


def test_no_active_tenant_means_no_permission(tenant, make_user):
    user = make_user(tenant=tenant, roles=[Role.AUTOMATION_LEAD])
    assert not user.has_perm("portal.change_membership")
    assert in_tenant(user, tenant).has_perm("portal.change_membership")


def test_object_of_another_tenant_is_refused(tenant, make_tenant, make_user):
    other = make_tenant()
    user = in_tenant(make_user(tenant=tenant, roles=[Role.AUTOMATION_LEAD]), tenant)
    foreign = make_user(tenant=other).memberships.get()
    own = user.memberships.get()
    assert user.has_perm("portal.view_membership", own)
    assert not user.has_perm("portal.view_membership", foreign)


def test_global_django_permissions_are_ignored(tenant, make_user):
    from django.contrib.auth.models import Permission

    user = make_user(tenant=tenant, roles=[Role.CLERK])
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    assert not in_tenant(user, tenant).has_perm("audit.view_auditevent")


def test_deactivated_membership_grants_nothing(tenant, make_user):
    from portal import services

    user = make_user(tenant=tenant, roles=[Role.AUDITOR])
    services.membership_deactivate(actor=SYSTEM, membership=user.memberships.get(), reason="left the company")
    assert not in_tenant(user, tenant).has_perm("audit.view_auditevent")
