"""API tokens in the browser: shown once, usable with Authorization: Bearer, dead after revoking."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from audit.actors import SYSTEM
from portal import services
from portal.choices import Role
from portal.models import ApiToken

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"lpk_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")


def _create(client, name="ERP-Anbindung", days="30") -> str:
    response = client.post(reverse("portal:api-token-create"), {"name": name, "days": days})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "nur dieses eine Mal angezeigt" in page
    (plain,) = set(TOKEN.findall(page))
    return plain


def _api(plain: str):
    return Client().get("/api/schema/", HTTP_AUTHORIZATION=f"Bearer {plain}")


def test_token_is_shown_once_authenticates_and_stops_after_revoke(client, member):
    user = member(Role.IT_OPERATOR, username="betrieb")
    client.force_login(user)
    plain = _create(client)

    listing = client.get(reverse("portal:api-tokens")).content.decode()
    assert "ERP-Anbindung" in listing and plain not in listing
    assert plain.split("_")[1] in listing  # the prefix identifies it
    assert ">nie</td>" in listing  # never used yet

    assert _api(plain).status_code == 200
    listing = client.get(reverse("portal:api-tokens")).content.decode()
    assert ">nie</td>" not in listing  # last use now shown

    token = ApiToken.objects.get(name="ERP-Anbindung")
    response = client.post(reverse("portal:api-token-revoke", args=[token.pk]), follow=True)
    assert "wurde widerrufen" in response.content.decode()
    assert _api(plain).status_code == 401
    listing = client.get(reverse("portal:api-tokens")).content.decode()
    assert "widerrufen am" in listing
    assert reverse("portal:api-token-revoke", args=[token.pk]) not in listing


def test_token_lifetime_is_chosen_on_the_form(client, member):
    client.force_login(member(Role.CLERK))
    _create(client, name="kurz", days="30")
    token = ApiToken.objects.get(name="kurz")
    assert round((token.expires_at - token.created_at).total_seconds() / 86400) == 30


def test_token_acts_in_its_tenant_only(client, tenant, make_tenant, make_user):
    other = make_tenant("andere", "Andere AG")
    user = make_user("zwei", tenant=tenant, roles=[Role.CLERK])
    services.membership_create(actor=SYSTEM, tenant=other, user=user, roles=[Role.CLERK])
    _token_here, _ = services.api_token_create(actor=user, tenant=tenant, user=user, name="hier")
    services.api_token_create(actor=user, tenant=other, user=user, name="dort")
    client.force_login(user)
    client.post(reverse("portal:tenant-switch"), {"tenant": tenant.slug})
    listing = client.get(reverse("portal:api-tokens")).content.decode()
    assert "hier" in listing and "dort" not in listing


def test_token_needs_a_name(client, member):
    client.force_login(member(Role.CLERK))
    response = client.post(reverse("portal:api-token-create"), {"name": "", "days": "90"})
    assert response.status_code == 400
    assert "Dieses Feld ist zwingend erforderlich" in response.content.decode()
    assert not ApiToken.objects.exists()
