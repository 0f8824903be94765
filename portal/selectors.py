"""Reads of the portal's records; every query is scoped to a tenant."""
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

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
    membership = membership_get(user=user, tenant=tenant)
    return list(membership.roles) if membership else []


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.for_tenant(tenant).select_related("user").order_by("user__username")


def users_with_role(*, tenant: Tenant, role: str) -> list:
    """Active users holding a role in the tenant (roles are few per tenant; filtered in Python so that
    SQLite and PostgreSQL behave alike)."""
    return [m.user for m in membership_list(tenant=tenant).filter(is_active=True) if role in m.roles]


def api_token_list(*, tenant: Tenant, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.for_tenant(tenant).filter(user=user).order_by("-created_at")
