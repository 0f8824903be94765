"""Access matrix of every UI URL of the portal: anonymous, member without permission, permitted member,
another tenant's object. A URL in portal.urls_ui without a row here fails the suite."""
from dataclasses import dataclass

import pytest
from django.urls import reverse

from audit.actors import SYSTEM
from portal import services
from portal.choices import Role
from portal.urls_ui import urlpatterns
from tests import access
from tests.access import assert_sent_to_login, login, row_id

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Row(access.Row):
    """`obj`: "token", "membership" or "user" (a member's account): the URL names one by pk."""

    member: str = "lead"  # who is the permitted member: "lead" (automation lead) or "isb" (security officer)
    anonymous: str = "login"  # "login": redirected to the login page; or an expected status code


MATRIX = [
    Row("portal:home"),
    Row("portal:login", anonymous="200"),
    Row("portal:logout", method="post", ok=302),
    Row("portal:tenant-switch"),
    Row("portal:tenant-switch", method="post", ok=302, data={"tenant": "{tenant}"}),
    Row("portal:api-tokens"),
    Row("portal:api-token-create"),
    Row("portal:api-token-create", method="post", data={"name": "ERP-Anbindung", "days": "30"}),
    Row("portal:api-token-revoke", method="post", obj="token", ok=302),
    Row("portal:members", permission="portal.change_membership"),
    Row("portal:member-create", permission="portal.add_membership"),
    Row("portal:member-create", method="post", permission="portal.add_membership", ok=302,
        data={"username": "neu", "roles": [Role.CLERK], "reason": "Neue Kollegin"}),
    Row("portal:member-edit", permission="portal.change_membership", obj="membership"),
    Row("portal:member-edit", method="post", permission="portal.change_membership", obj="membership", ok=302,
        data={"roles": [Role.AUDITOR], "reason": "Wechsel in die Revision"}),
    Row("portal:member-deactivate", method="post", permission="portal.change_membership", obj="membership",
        ok=302, data={"deactivate-reason": "Austritt"}),
    # One's own second factor: every member (a wrong code is refused with 400; nothing to verify or renew yet).
    Row("portal:two-factor"),
    Row("portal:two-factor-setup"),
    Row("portal:two-factor-setup", method="post", ok=400, data={"code": "000000"}),
    Row("portal:two-factor-verify", ok=302),
    Row("portal:two-factor-verify", method="post", ok=400, data={"code": "000000"}),
    Row("portal:two-factor-recovery-codes", method="post", ok=302),
    # Sign-in security: the ISB (and superusers).
    Row("portal:login-security", permission="portal.unlock_login", member="isb"),
    Row("portal:login-unlock", method="post", permission="portal.unlock_login", member="isb", ok=302,
        data={"address": "10.1.2.3"}),
    Row("portal:second-factor-reset", method="post", permission="portal.reset_second_factor", member="isb",
        obj="user", ok=302),
]
GUARDED = [row for row in MATRIX if row.permission]
WITH_OBJECT = [row for row in MATRIX if row.obj]


@pytest.fixture
def world(tenant, make_tenant, make_user):
    """Two tenants. `lead` leads both, `clerk` works in the first; each tenant has a plain member
    and `lead` has a token in each."""
    other = make_tenant("anderes", "Andere AG")
    lead = make_user("lead", tenant=tenant, roles=[Role.AUTOMATION_LEAD])
    services.membership_create(actor=SYSTEM, tenant=other, user=lead, roles=[Role.AUTOMATION_LEAD])
    make_user("neu")  # an account without membership, for member-create
    isb = make_user("isb", tenant=tenant, roles=[Role.SECURITY_OFFICER])
    services.membership_create(actor=SYSTEM, tenant=other, user=isb, roles=[Role.SECURITY_OFFICER])
    return {
        "tenant": tenant,
        "other": other,
        "lead": lead,
        "isb": isb,
        "clerk": make_user("clerk", tenant=tenant, roles=[Role.CLERK]),
        "target": {
            tenant.pk: make_user("target", tenant=tenant).memberships.get(),
            other.pk: make_user("fremd", tenant=other).memberships.get(),
        },
    }


def _obj_pk(world, row, user, tenant):
    if row.obj == "token":
        token, _plain = services.api_token_create(actor=user, tenant=tenant, user=user, name="t")
        return token.pk
    if row.obj == "membership":
        return world["target"][tenant.pk].pk
    if row.obj == "user":
        return world["target"][tenant.pk].user_id
    return None


def _request(client, row, world, *, obj_tenant=None, user=None):
    obj_tenant = obj_tenant or world["tenant"]
    pk = _obj_pk(world, row, user or world["lead"], obj_tenant) if row.obj else None
    url = reverse(row.url_name, args=[pk] if pk else [])
    data = {key: value.format(tenant=world["tenant"].slug) if isinstance(value, str) else value
            for key, value in row.payload().items()}
    return access.send(client, row, url, data=data)


def test_every_ui_url_has_a_row_in_the_matrix():
    missing = access.urls_without_row((pattern.name for pattern in urlpatterns), MATRIX, "portal")
    assert missing == set(), "UI URLs without an access-matrix row"


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_anonymous(client, world, row):
    response = _request(client, row, world)
    if row.anonymous == "login":
        assert_sent_to_login(response)
    else:
        assert response.status_code == int(row.anonymous)


@pytest.mark.parametrize("row", GUARDED, ids=row_id)
def test_member_without_permission_gets_403(client, world, row):
    login(client, world["clerk"], world["tenant"])
    assert _request(client, row, world).status_code == 403


@pytest.mark.parametrize("row", [row for row in MATRIX if row.url_name != "portal:login"], ids=row_id)
def test_permitted_member(client, world, row):
    login(client, world[row.member], world["tenant"])
    assert _request(client, row, world).status_code == row.ok


@pytest.mark.parametrize("row", WITH_OBJECT, ids=row_id)
def test_object_of_the_other_tenant_is_404(client, world, row):
    """The lead (and the ISB) belong to both tenants, so only the active tenant separates them."""
    login(client, world[row.member], world["tenant"])
    assert _request(client, row, world, obj_tenant=world["other"]).status_code == 404


def test_another_users_token_is_404(client, world):
    login(client, world["clerk"], world["tenant"])
    token, _plain = services.api_token_create(actor=world["lead"], tenant=world["tenant"], user=world["lead"],
                                              name="lead")
    response = client.post(reverse("portal:api-token-revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_switching_to_a_tenant_without_membership_is_404(client, world, make_tenant):
    foreign = make_tenant("fremd", "Fremd KG")
    login(client, world["clerk"], world["tenant"])
    assert client.post(reverse("portal:tenant-switch"), {"tenant": foreign.slug}).status_code == 404


def test_member_of_two_tenants_chooses_one_first(client, world):
    client.force_login(world["lead"])
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:tenant-switch")
