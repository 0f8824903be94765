"""`manage.py create_api_token USERNAME --tenant SLUG` (DESIGN.md, "Contracts")."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from audit.actors import SYSTEM
from audit.models import AuditEvent
from portal import services
from portal.choices import Role
from portal.models import ApiToken

pytestmark = pytest.mark.django_db


def create_api_token(*args) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue().rstrip("\n").splitlines()[-1]


def test_the_printed_token_authenticates_the_api(tenant, member):
    member(Role.AUDITOR, username="pruefer")
    plain = create_api_token("pruefer", "--tenant", "muster", "--name", "Prüfskript")

    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {plain}")

    assert response.status_code == 200
    assert response.json()["user"]["username"] == "pruefer"
    assert response.json()["tenant"] == {"slug": "muster", "name": "Muster GmbH"}
    assert response.json()["roles"] == [Role.AUDITOR]
    token = ApiToken.objects.get()
    assert token.name == "Prüfskript"
    assert plain not in token.digest  # stored hashed only
    assert AuditEvent.objects.filter(event_type="api_token.created", object_id=str(token.pk),
                                     actor_kind="system").count() == 1


def test_tenant_may_be_left_out_when_there_is_exactly_one(tenant, member):
    member(Role.CLERK, username="sachbearbeitung")
    plain = create_api_token("sachbearbeitung", "--days", "3")
    token = ApiToken.objects.get()
    assert token.tenant == tenant
    assert abs(token.expires_at - (timezone.now() + timedelta(days=3))) < timedelta(minutes=1)
    assert APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 200


def test_several_tenants_need_the_option(tenant, make_tenant, member):
    make_tenant("zweite")
    member(Role.CLERK, username="sachbearbeitung")
    with pytest.raises(CommandError, match=r"several tenants.*--tenant.*muster, zweite"):
        create_api_token("sachbearbeitung")
    assert not ApiToken.objects.exists()


def test_no_tenant_at_all(make_user):
    make_user("einsam")
    with pytest.raises(CommandError, match="no tenant yet"):
        create_api_token("einsam")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["niemand", "--tenant", "muster"], "No active user named 'niemand'"),
        (["fremd", "--tenant", "muster"], "fremd has no active membership in muster"),
        (["sachbearbeitung", "--tenant", "gibtsnicht"], "No active tenant with the slug 'gibtsnicht'"),
        (["sachbearbeitung", "--tenant", "muster", "--days", "0"], "--days must be at least 1"),
    ],
)
def test_clear_errors(tenant, make_tenant, make_user, member, args, message):
    member(Role.CLERK, username="sachbearbeitung")
    make_user("fremd", tenant=make_tenant("andere"))
    with pytest.raises(CommandError, match=message):
        create_api_token(*args)
    assert not ApiToken.objects.exists()


def test_a_deactivated_membership_gets_no_token(tenant, member):
    user = member(Role.CLERK, username="ehemalig")
    services.membership_deactivate(actor=SYSTEM, membership=user.memberships.get(), reason="left")
    with pytest.raises(CommandError, match="no active membership"):
        create_api_token("ehemalig", "--tenant", "muster")


def test_a_lifetime_beyond_the_cap_is_refused(tenant, member, settings):
    member(Role.AUDITOR, username="pruefer")
    with pytest.raises(CommandError, match="366"):
        create_api_token("pruefer", "--tenant", "muster", "--days", "100000")
    user = ApiToken.objects.model._meta.get_field("user").related_model.objects.get(username="pruefer")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.api_token_create(actor=user, tenant=tenant, user=user, name="x", days=settings.API_TOKEN_MAX_DAYS + 1)
    assert not ApiToken.objects.exists()
    create_api_token("pruefer", "--tenant", "muster", "--days", str(settings.API_TOKEN_MAX_DAYS))
    assert ApiToken.objects.count() == 1
