"""Reads of the portal's records; every query is scoped to a tenant."""
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken

from audit.models import AuditEvent
from audit.streams import chain_key
from portal.models import ApiToken, Membership, Tenant, TotpAuthenticator
from portal.roles import TENANT_WIDE_WORK_READERS

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
    loading = getattr(user, "_tenant_membership", None)  # the request's membership (portal.middleware)
    if loading is not None and loading[0] == tenant.pk:
        return list(loading[1].roles) if loading[1] else []
    membership = membership_get(user=user, tenant=tenant)
    return list(membership.roles) if membership else []


def reads_all_work(*, user, tenant: Tenant) -> bool:
    """Whether the user's reads of work records (items, queues, tasks) reach the whole tenant: a superuser,
    or a role of portal.roles.TENANT_WIDE_WORK_READERS. Everyone else reads through object permissions."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(set(roles_of(user=user, tenant=tenant)) & TENANT_WIDE_WORK_READERS)


def members_active(*, tenant: Tenant) -> QuerySet[Membership]:
    return membership_list(tenant=tenant).filter(is_active=True)


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


def user_get_active(*, pk: int):
    """An active account by id (accounts are global; what may be done to it is the service's question)."""
    return User.objects.get(pk=pk, is_active=True)


def member_user_get(*, tenant: Tenant, pk: int):
    """The account of an active member of the tenant; anyone else's raises DoesNotExist."""
    return User.objects.get(pk=pk, is_active=True, memberships__tenant=tenant, memberships__is_active=True)


def user_list_active() -> QuerySet:
    """Every active account, for superusers' pages outside a tenant."""
    return User.objects.filter(is_active=True).order_by("username")


def api_token_get(*, tenant: Tenant, user, pk: int) -> ApiToken:
    """One of the user's own tokens in the tenant; anyone else's raises DoesNotExist."""
    return api_token_list(tenant=tenant, user=user).get(pk=pk)


def membership_get_in_tenant(*, tenant: Tenant, pk: int) -> Membership:
    """A membership of the tenant (active or not); another tenant's raises DoesNotExist."""
    return membership_list(tenant=tenant).get(pk=pk)


# --- Second factor ---------------------------------------------------------------------------------

def second_factor_exists(*, user) -> bool:
    """Whether the user has set up an authenticator (a confirmed TOTP device)."""
    return TotpAuthenticator.objects.filter(user=user, confirmed=True).exists()


def totp_device_confirmed(*, user) -> TotpAuthenticator | None:
    return TotpAuthenticator.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_codes_left(*, user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_overview(*, users) -> dict[int, dict]:
    """{user id: {"enrolled": bool, "last_used_at": datetime or None, "recovery_codes": n}} for the given users,
    in two queries."""
    ids = [user.pk for user in users]
    overview: dict[int, dict[str, Any]] = {pk: {"enrolled": False, "last_used_at": None, "recovery_codes": 0}
                                           for pk in ids}
    for user_id, last_used_at in TotpAuthenticator.objects.filter(user_id__in=ids, confirmed=True).values_list(
            "user_id", "last_used_at"):
        overview[user_id].update(enrolled=True, last_used_at=last_used_at)
    for user_id in StaticToken.objects.filter(device__user_id__in=ids, device__confirmed=True).values_list(
            "device__user_id", flat=True):
        overview[user_id]["recovery_codes"] += 1
    return overview


def login_lock_list(*, usernames: set[str] | None = None) -> dict[str, list[dict]]:
    """Current sign-in locks (django-axes): user names and addresses with at least AXES_FAILURE_LIMIT failed
    logins within the cool-off, each with its failures and when the lock ends by itself. `usernames` (lower
    case) limits the user names to those (a tenant's members); addresses are listed whole."""
    now = timezone.now()
    attempts = AccessAttempt.objects.filter(attempt_time__gte=now - settings.AXES_COOLOFF_TIME)
    locks: dict[str, list[dict]] = {"users": [], "addresses": []}
    for kind, field in (("users", "username"), ("addresses", "ip_address")):
        # (no comparison of the address field with "": Django makes that NULL, which would exclude every row)
        present = attempts.exclude(**{f"{field}__isnull": True})
        if field == "username":
            present = present.exclude(username="")
        rows = (present.values(field)
                .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
                .filter(failures__gte=settings.AXES_FAILURE_LIMIT).order_by(field))
        for row in rows:
            if kind == "users" and usernames is not None and row[field].lower() not in usernames:
                continue
            locks[kind].append({"value": row[field], "failures": row["failures"],
                                "last_attempt": row["last_attempt"],
                                "until": row["last_attempt"] + settings.AXES_COOLOFF_TIME})
    return locks


# --- Home panels ---------------------------------------------------------------------------------

def audit_event_list_recent(*, tenant: Tenant, limit: int = 10) -> list:
    """The newest events of the tenant's chain, each with `actor_name` (the acting user's name, or "")."""
    name = User.objects.filter(pk=OuterRef("actor_user_id")).values("username")[:1]
    return list(AuditEvent.objects.filter(chain=chain_key(tenant)).annotate(
        actor_name=Coalesce(Subquery(name), Value(""))).order_by("-sequence")[:limit])


def audit_chain_length(*, tenant: Tenant) -> int:
    return AuditEvent.objects.filter(chain=chain_key(tenant)).count()
