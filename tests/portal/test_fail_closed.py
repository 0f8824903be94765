"""Fail closed: nobody becomes the system by accident, anonymous requests stop before any view code runs,
and asking whether someone may do something changes nothing about them."""
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import include, path, reverse
from django.views import View

from audit.actors import SYSTEM, Actor, MissingActor, actor_from_request, as_actor
from audit.models import AuditEvent
from audit.services.events import audit_event_record
from portal import services
from portal.choices import Role
from portal.permissions import actor_has_perm, require_perm
from tests.conftest import in_tenant

pytestmark = pytest.mark.django_db

CALLS = []


class ForgotItsMixinView(View):
    """A page whose author forgot LoginRequiredMixin: the portal must refuse anonymous requests anyway."""

    def get(self, request):
        CALLS.append(request.path)
        return HttpResponse("inside")


urlpatterns = [path("forgot/", ForgotItsMixinView.as_view(), name="forgot"), path("", include("portal.urls"))]


def test_no_actor_is_refused_rather_than_made_the_system():
    with pytest.raises(MissingActor):
        as_actor(None)
    with pytest.raises(MissingActor):
        as_actor(AnonymousUser())
    assert as_actor(SYSTEM).kind == "system"


def test_a_service_called_without_an_actor_writes_nothing(tenant):
    before = AuditEvent.objects.count()
    with pytest.raises(MissingActor):
        audit_event_record(actor=None, tenant=tenant, event_type="tenant.switched", obj=tenant)
    with pytest.raises(MissingActor):
        services.tenant_create(actor=None, slug="nobody", name="Nobody GmbH")
    assert AuditEvent.objects.count() == before


def test_an_anonymous_request_is_refused_not_turned_into_the_system():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        actor_from_request(request)


def test_a_signed_in_request_acts_as_its_user(member):
    user = member(Role.CLERK)
    request = RequestFactory().get("/")
    request.user = user
    assert actor_from_request(request) == Actor(user=user)


@override_settings(ROOT_URLCONF=__name__)
def test_a_page_without_a_login_mixin_still_refuses_anonymous_requests(client, member):
    CALLS.clear()
    response = client.get("/forgot/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert CALLS == []  # the view never ran
    client.force_login(member(Role.CLERK))
    assert client.get("/forgot/").content == b"inside"


def test_public_endpoints_stay_reachable_without_a_session(client):
    assert client.get(reverse("portal:login")).status_code == 200
    assert client.get(reverse("operations:health-live")).status_code == 200
    # health and metrics refuse with their own token check (401), not a redirect to the login page
    assert client.get(reverse("operations:health")).status_code == 401
    assert client.get(reverse("operations:metrics")).status_code == 401
    response = client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"


@pytest.mark.parametrize("name", ["portal:home", "portal:api-tokens", "portal:members", "audit:home"])
def test_pages_send_anonymous_visitors_to_the_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_api_refuses_anonymous_requests(client):
    assert client.get(reverse("api:me")).status_code in (401, 403)


def test_a_permission_check_does_not_change_the_users_active_tenant(tenant, make_tenant, make_user):
    other = make_tenant()
    user = make_user(tenant=tenant, roles=[Role.CLERK])
    services.membership_create(actor=SYSTEM, tenant=other, user=user, roles=[Role.DATA_PROTECTION_OFFICER])
    in_tenant(user, tenant)

    assert actor_has_perm(user, other, "audit.view_auditevent")
    assert user.active_tenant == tenant
    assert not user.has_perm("audit.view_auditevent")  # still the clerk of the active tenant
    assert not actor_has_perm(user, tenant, "audit.view_auditevent")
    with pytest.raises(PermissionDenied):
        require_perm(user, tenant, "audit.view_auditevent")
    assert user.active_tenant == tenant


def test_a_permission_check_without_an_active_tenant_leaves_none_behind(tenant, make_user):
    user = make_user(tenant=tenant, roles=[Role.AUTOMATION_LEAD])
    assert actor_has_perm(user, tenant, "portal.change_membership")
    assert getattr(user, "active_tenant", None) is None


def test_an_object_of_another_tenant_is_refused_even_to_a_superuser(tenant, make_tenant, make_user):
    other = make_tenant()
    admin = make_user(tenant=tenant, roles=[Role.AUTOMATION_LEAD])
    admin.is_superuser = True
    foreign = make_user(tenant=other).memberships.get()
    assert not actor_has_perm(admin, tenant, "portal.view_membership", foreign)
    assert actor_has_perm(admin, other, "portal.view_membership", foreign)


def test_an_inactive_user_holds_no_permission(tenant, make_user):
    user = make_user(tenant=tenant, roles=[Role.AUTOMATION_LEAD])
    user.is_active = False
    assert not actor_has_perm(user, tenant, "portal.change_membership")
