from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from portal.roles import permissions_for_roles
from portal.selectors import roles_of


def client_address(request) -> str:
    """The client's address for lockouts and throttling: the peer, or behind the configured reverse proxy
    the last address it appended to X-Forwarded-For (earlier entries come from the client and prove nothing)."""
    if settings.CLIENT_ADDRESS_FROM_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "") or ""


class SignInLockoutBackend(AxesStandaloneBackend):
    """Refuses sign-in while django-axes holds a lock on the user name or the address (first in
    AUTHENTICATION_BACKENDS). Sign-ins from the web (portal and admin) always carry a request; a check
    of a password on the command line has none and no address to lock, so it passes on to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class TenantRoleBackend(ModelBackend):
    """Authenticates by user name and password; grants permissions only from the user's roles in the
    active tenant (set on the user by TenantMiddleware or the API token). Global user and group
    permissions are deliberately ignored: a permission always belongs to a tenant."""

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        return self.permissions_in(user_obj, getattr(user_obj, "active_tenant", None), obj)

    def permissions_in(self, user_obj, tenant, obj=None) -> set[str]:
        """The user's permissions in `tenant` (on `obj`, which must belong to it), whatever tenant is
        active on the user: asking about another tenant changes nothing on the user."""
        if not user_obj.is_active or user_obj.is_anonymous or tenant is None:
            return set()
        if obj is not None and getattr(obj, "tenant_id", tenant.pk) != tenant.pk:
            return set()
        cache = getattr(user_obj, "_tenant_role_perm_cache", None)
        if cache is None or cache[0] != tenant.pk:
            cache = (tenant.pk, permissions_for_roles(roles_of(user=user_obj, tenant=tenant)))
            user_obj._tenant_role_perm_cache = cache
        return set(cache[1])

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)
