"""Access to the portal's API as a matrix (anonymous, no permission, permission, other tenant), and
the API token's life cycle: expired and revoked tokens are refused, every use is audited."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.actors import SYSTEM
from audit.models import AuditEvent
from portal import services
from portal.api import urls as portal_api_urls
from portal.choices import Role
from portal.models import ApiToken
from tests.access import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant, make_tenant, make_user):
    """Two tenants; in `muster` an auditor (may view memberships) and a clerk (may not); in the other
    tenant a user the muster people must never see."""
    other = make_tenant("andere", "Andere AG")
    auditor = make_user("auditor", tenant=tenant, roles=[Role.AUDITOR])
    clerk = make_user("clerk", tenant=tenant, roles=[Role.CLERK])
    outsider = make_user("outsider", tenant=other, roles=[Role.AUTOMATION_LEAD])
    return {"tenant": tenant, "other": other, "auditor": auditor, "clerk": clerk, "outsider": outsider}


# route name -> (method, path builder, who gets 200 besides anonymous 401, who gets 403)
MATRIX = {
    "me": ("get", lambda w: reverse("api:me"), {"auditor", "clerk"}, set()),
    "membership-list": ("get", lambda w: reverse("api:membership-list"), {"auditor"}, {"clerk"}),
    "membership-detail": ("get", lambda w: reverse("api:membership-detail", args=[w["clerk"].memberships.get().pk]),
                          {"auditor"}, {"clerk"}),
    "api-token-list": ("get", lambda w: reverse("api:api-token-list"), {"auditor", "clerk"}, set()),
    "api-token-detail": ("get", lambda w: reverse("api:api-token-detail", args=[w["own_token"][w["who"]].pk]),
                         {"auditor", "clerk"}, set()),
    "api-token-revoke": ("post", lambda w: reverse("api:api-token-revoke", args=[w["own_token"][w["who"]].pk]),
                         {"auditor", "clerk"}, set()),
}


def test_every_portal_api_route_has_a_row_in_the_matrix():
    names = {pattern.name for pattern in portal_api_urls.urlpatterns}
    assert names == set(MATRIX)


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_access_matrix(world, route):
    method, path_of, allowed, forbidden = MATRIX[route]
    world["own_token"] = {}
    clients = {}
    for who in ("auditor", "clerk"):
        clients[who] = bearer(world[who], world["tenant"])
        world["own_token"][who] = services.api_token_create(
            actor=world[who], tenant=world["tenant"], user=world[who], name="spare")[0]

    world["who"] = "auditor"
    assert getattr(APIClient(), method)(path_of(world)).status_code == 401
    for who in ("auditor", "clerk"):
        world["who"] = who
        status = getattr(clients[who], method)(path_of(world)).status_code
        expected = 200 if who in allowed else 403 if who in forbidden else None
        assert status == expected, (route, who, status)


def test_memberships_of_another_tenant_are_never_listed_nor_found(world):
    client = bearer(world["auditor"], world["tenant"])
    listed = client.get(reverse("api:membership-list")).json()["results"]
    assert sorted(m["user"]["username"] for m in listed) == ["auditor", "clerk"]
    foreign = world["outsider"].memberships.get()
    assert client.get(reverse("api:membership-detail", args=[foreign.pk])).status_code == 404

    # The same person's token in the other tenant sees only that tenant.
    services.membership_create(actor=SYSTEM, tenant=world["other"], user=world["auditor"], roles=[Role.AUDITOR])
    in_other = bearer(world["auditor"], world["other"])
    listed = in_other.get(reverse("api:membership-list")).json()["results"]
    assert sorted(m["user"]["username"] for m in listed) == ["auditor", "outsider"]
    assert in_other.get(reverse("api:me")).json()["tenant"]["slug"] == "andere"


def test_me_reports_roles_and_permissions_of_the_tokens_tenant(world):
    body = bearer(world["auditor"], world["tenant"]).get(reverse("api:me")).json()
    assert body["user"]["username"] == "auditor"
    assert body["roles"] == ["auditor"]
    assert "portal.view_membership" in body["permissions"]
    assert "portal.change_membership" not in body["permissions"]
    assert body["permissions"] == sorted(body["permissions"])


def test_only_own_tokens_are_listed_and_revocable(world):
    mine, _ = services.api_token_create(actor=world["clerk"], tenant=world["tenant"], user=world["clerk"], name="mine")
    theirs, _ = services.api_token_create(actor=world["auditor"], tenant=world["tenant"], user=world["auditor"],
                                          name="theirs")
    client = bearer(world["clerk"], world["tenant"], name="caller")
    listed = client.get(reverse("api:api-token-list")).json()["results"]
    assert sorted(t["name"] for t in listed) == ["caller", "mine"]
    assert all("digest" not in t for t in listed)

    assert client.get(reverse("api:api-token-detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("api:api-token-revoke", args=[theirs.pk])).status_code == 404
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None

    response = client.post(reverse("api:api-token-revoke", args=[mine.pk]))
    assert response.status_code == 200
    assert response.json()["is_usable"] is False
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    event = AuditEvent.objects.get(event_type="api_token.revoked", object_id=str(mine.pk))
    assert event.actor_kind == "token" and event.actor_user_id == world["clerk"].pk


def test_revoked_token_is_refused(world):
    token, plain = services.api_token_create(actor=world["clerk"], tenant=world["tenant"], user=world["clerk"],
                                             name="kurz")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert client.get(reverse("api:me")).status_code == 200
    services.api_token_revoke(actor=world["clerk"], token=token)
    response = client.get(reverse("api:me"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert AuditEvent.objects.filter(event_type="api_token.refused", object_id=str(token.pk)).count() == 1
    # A client that keeps trying (a sweep) is refused every time and audited once a day, not per request.
    for _ in range(20):
        assert client.get(reverse("api:me")).status_code == 401
    assert AuditEvent.objects.filter(event_type="api_token.refused", object_id=str(token.pk)).count() == 1


def test_revoking_the_calling_token_locks_it_out(world):
    token, plain = services.api_token_create(actor=world["clerk"], tenant=world["tenant"], user=world["clerk"],
                                             name="self")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert client.post(reverse("api:api-token-revoke", args=[token.pk])).status_code == 200
    assert client.get(reverse("api:me")).status_code == 401


def test_expired_token_is_refused(world):
    token, plain = services.api_token_create(actor=world["clerk"], tenant=world["tenant"], user=world["clerk"],
                                             name="alt", days=1)
    # Time passing is the one thing no service does.
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = APIClient().get(reverse("api:me"), HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 401
    assert AuditEvent.objects.filter(event_type="api_token.refused", object_id=str(token.pk)).count() == 1


def test_token_of_a_deactivated_membership_is_refused(world):
    _token, plain = services.api_token_create(actor=world["clerk"], tenant=world["tenant"], user=world["clerk"],
                                             name="x")
    services.membership_deactivate(actor=SYSTEM, membership=world["clerk"].memberships.get(), reason="left")
    assert APIClient().get(reverse("api:me"), HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 401


@pytest.mark.parametrize("header", ["Bearer lpk_nope_nope", "Bearer garbage", "Bearer a b", "Bearer"])
def test_unknown_or_malformed_tokens_are_refused(world, header):
    assert APIClient().get(reverse("api:me"), HTTP_AUTHORIZATION=header).status_code == 401


def test_the_first_use_of_a_token_each_day_is_audited_and_every_use_kept_as_last_use(world):
    token, plain = services.api_token_create(actor=world["auditor"], tenant=world["tenant"], user=world["auditor"],
                                             name="zähler")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    paths = [reverse("api:me"), reverse("api:membership-list"), reverse("api:api-token-list"), reverse("api:me")]
    for path in paths:
        assert client.get(path).status_code == 200

    used = AuditEvent.objects.filter(event_type="api_token.used", actor_token_id=token.pk).order_by("sequence")
    assert [e.details["path"] for e in used] == paths[:1]
    assert all(e.details["method"] == "GET" and e.actor_kind == "token" and e.tenant_id == world["tenant"].pk
               and e.details["day"] == timezone.now().date().isoformat() for e in used)
    token.refresh_from_db()
    assert token.last_used_at is not None

    # Used yesterday last: today's first use is recorded again.
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(days=1))
    assert client.get(paths[1]).status_code == 200
    assert client.get(paths[2]).status_code == 200
    assert [e.details["path"] for e in used.all()] == paths[:2]
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_browser_session_uses_the_active_tenant(world, client):
    client.force_login(world["auditor"])
    response = client.get(reverse("api:me"))
    assert response.status_code == 200
    assert response.json()["tenant"]["slug"] == "muster"
    assert not AuditEvent.objects.filter(event_type="api_token.used").exists()
