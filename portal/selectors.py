"""Reads of the portal's records; every query is scoped to a tenant."""
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from audit.models import AuditEvent
from audit.streams import chain_key
from portal.models import ApiToken, Membership, Tenant

User = get_user_model()


def tenant_list_for_user(*, user) -> QuerySet[Tenant]:
    if not user.is_authenticated:
        return Tenant.objects.none()
    return Tenant.objects.filter(
        is_active=True, pk__in=Membership.objects.filter(user=user, is_active=True).values("tenant_id")
    ).order_by("name")


def tenant_get_by_slug(*, slug: str) -> Tenant:
    return Tenant.objects.get(slug=slug, is_active=True)


def membership_get(*, user, tenant: Tenant) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.for_tenant(tenant).filter(user=user, is_active=True).first()


def roles_of(*, user, tenant: Tenant) -> list[str]:
    remembered = getattr(user, "_tenant_roles", None)
    if remembered is not None and remembered[0] == tenant.pk:
        return list(remembered[1])
    membership = membership_get(user=user, tenant=tenant)
    return list(membership.roles) if membership else []


def remember_roles(*, user, tenant: Tenant, roles: list[str]) -> None:
    """The user's roles in the tenant as the request's authentication read them (with the token, in the same
    query): roles_of() and the permission backend answer from them for the rest of the request."""
    user._tenant_roles = (tenant.pk, list(roles or []))


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.for_tenant(tenant).select_related("user").order_by("user__username")


def users_with_role(*, tenant: Tenant, role: str) -> list:
    """Active users holding a role in the tenant (roles are few per tenant; filtered in Python so that
    SQLite and PostgreSQL behave alike)."""
    return [m.user for m in membership_list(tenant=tenant).filter(is_active=True) if role in m.roles]


def api_token_list(*, tenant: Tenant, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.for_tenant(tenant).filter(user=user).order_by("-created_at")


def user_get_by_username(*, username: str):
    """An active user account by its exact user name, or None; accounts are global, memberships are
    per tenant."""
    return User.objects.filter(username=username.strip(), is_active=True).first()


def api_token_get(*, tenant: Tenant, user, pk: int) -> ApiToken:
    """One of the user's own tokens in the tenant; anyone else's raises DoesNotExist."""
    return api_token_list(tenant=tenant, user=user).get(pk=pk)


def membership_get_in_tenant(*, tenant: Tenant, pk: int) -> Membership:
    """A membership of the tenant (active or not); another tenant's raises DoesNotExist."""
    return membership_list(tenant=tenant).get(pk=pk)


# --- Home panels ---------------------------------------------------------------------------------

def audit_event_list_recent(*, tenant: Tenant, limit: int = 10) -> list:
    """The newest events of the tenant's chain, each with `actor_name` set (one query for the names)."""
    events = list(AuditEvent.objects.filter(chain=chain_key(tenant)).order_by("-sequence")[:limit])
    names = dict(
        User.objects.filter(pk__in={e.actor_user_id for e in events if e.actor_user_id}).values_list(
            "pk", "username"
        )
    )
    for event in events:
        event.actor_name = names.get(event.actor_user_id, "")
    return events


def audit_chain_length(*, tenant: Tenant) -> int:
    return AuditEvent.objects.filter(chain=chain_key(tenant)).count()
