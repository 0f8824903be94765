"""Writes of the portal's records: tenants, memberships and roles, API tokens, login events.
Each takes the acting user (or the system) and records its audit event in the same transaction."""
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from audit.actors import Actor, as_actor
from audit.models import AuditEvent
from audit.services.events import audit_event_record
from audit.services.pseudonyms import pseudonym_for
from portal.history import stamp
from portal.models import ApiToken, Membership, Tenant, validate_roles
from portal.selectors import remember_roles, tenant_list_for_user

TOKEN_PREFIX = "lpk"
USERNAME_DIGEST_SALT = "portal.login_failed.username"


def tenant_create(*, actor, slug: str, name: str) -> Tenant:
    with transaction.atomic():
        tenant = Tenant(slug=slug, name=name)
        tenant.full_clean()
        stamp(tenant, actor=actor, reason="tenant created")
        tenant.save()
        audit_event_record(actor=actor, tenant=tenant, event_type="tenant.created", obj=tenant,
                           details={"slug": slug})
    return tenant


def membership_create(*, actor, tenant: Tenant, user, roles: list[str], reason: str = "") -> Membership:
    validate_roles(roles)
    with transaction.atomic():
        membership = Membership(tenant=tenant, user=user, roles=sorted(set(roles)))
        membership.full_clean()
        stamp(membership, actor=actor, reason=reason or "membership created")
        membership.save()
        audit_event_record(actor=actor, tenant=tenant, event_type="membership.created", obj=membership,
                           details={"user_id": user.pk, "roles": membership.roles})
    return membership


def _refuse_own_membership(actor, membership: Membership) -> None:
    """Nobody changes their own roles or membership: another person in the tenant does (docs/roles.md)."""
    user = as_actor(actor).user
    if user is not None and user.pk == membership.user_id:
        raise PermissionDenied(_("Nobody changes their own roles; another member with the right to do so must."))


def membership_set_roles(*, actor, membership: Membership, roles: list[str], reason: str) -> Membership:
    validate_roles(roles)
    _refuse_own_membership(actor, membership)
    if not reason.strip():
        raise ValidationError(_("A reason is required to change roles."))
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        before = list(membership.roles)
        membership.roles = sorted(set(roles))
        stamp(membership, actor=actor, reason=reason)
        membership.save(update_fields=["roles"])
        audit_event_record(actor=actor, tenant=membership.tenant, event_type="membership.roles_changed",
                           obj=membership, details={"user_id": membership.user_id, "before": before,
                                                    "after": membership.roles})
    return membership


def membership_deactivate(*, actor, membership: Membership, reason: str) -> Membership:
    _refuse_own_membership(actor, membership)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        membership.is_active = False
        stamp(membership, actor=actor, reason=reason)
        membership.save(update_fields=["is_active"])
        audit_event_record(actor=actor, tenant=membership.tenant, event_type="membership.deactivated",
                           obj=membership, details={"user_id": membership.user_id})
    return membership


def user_create(*, actor, username: str, password: str, email: str = "", is_superuser: bool = False):
    """A login account. Accounts are global; what they may do comes from their memberships. The password
    must pass the configured validators. Recorded in the system chain, by id only (the user name may
    be a person's name)."""
    user = get_user_model()(username=username, email=email, is_staff=is_superuser, is_superuser=is_superuser)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    with transaction.atomic():
        user.save()
        audit_event_record(actor=actor, tenant=None, event_type="user.created", obj=user,
                           details={"superuser": is_superuser})
    return user


def tenant_switch(*, user, tenant: Tenant) -> Tenant:
    """Explicit switch of the active tenant; refused for a tenant the user has no membership in."""
    if tenant not in tenant_list_for_user(user=user):
        raise PermissionDenied("No membership in this tenant.")
    with transaction.atomic():
        audit_event_record(actor=user, tenant=tenant, event_type="tenant.switched", obj=tenant)
    return tenant


# --- Logins --------------------------------------------------------------------------------------

def login_record(*, user, tenants: list[Tenant], event_type: str) -> None:
    """Login and logout go into the chain of every tenant the user belongs to (each tenant's DSB sees
    them), or into the system chain for a user with no tenant."""
    with transaction.atomic():
        for tenant in tenants or [None]:
            audit_event_record(actor=user, tenant=tenant, event_type=event_type, obj=user)


def username_digest(username: str) -> str:
    """A keyed digest of a login name that matches no account: repeated attempts with one name can be told
    apart from many names without the name (maybe a person's mistyped identifier) being kept. Django's
    salted HMAC with SECRET_KEY, case-insensitive. Events written before it carry a plain SHA-256 over key
    and name under the same detail: they stay as written (the chain is append-only) and are compared with
    nothing, so the change of digest needs no migration."""
    return salted_hmac(USERNAME_DIGEST_SALT, username.lower()).hexdigest()[:16]


def login_failed_record(*, username: str, user=None, tenants: list[Tenant] = ()) -> None:
    """A failed login. For a known user, each of their tenants records it under the user's id; an unknown
    name goes to the system chain as a keyed digest only (it may be a person's mistyped identifier)."""
    with transaction.atomic():
        if user is None or not tenants:
            digest = username_digest(username)
            audit_event_record(actor=None, tenant=None, event_type="user.login_failed",
                               details={"known_user": user is not None, "username_digest": digest})
            return
        for tenant in tenants:
            audit_event_record(actor=None, tenant=tenant, event_type="user.login_failed", obj=user,
                               details={"known_user": True,
                                        "username": pseudonym_for(tenant=tenant, kind="username",
                                                                  identifier=username)})


# --- API tokens ----------------------------------------------------------------------------------

def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, actor, tenant: Tenant, user, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Issue a token; the plain token is returned once and never stored."""
    actor = as_actor(actor)
    if actor.user is not None and actor.user != user and not actor.user.is_superuser:
        raise PermissionDenied("Tokens are issued to oneself.")
    if not tenant_list_for_user(user=user).filter(pk=tenant.pk).exists():
        raise PermissionDenied("The user has no membership in this tenant.")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    plain = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    days = days or settings.API_TOKEN_DEFAULT_DAYS
    with transaction.atomic():
        token = ApiToken.objects.create(
            tenant=tenant, user=user, name=name.strip() or "API", prefix=prefix, digest=_digest(plain),
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_event_record(actor=actor, tenant=tenant, event_type="api_token.created", obj=token,
                           details={"prefix": prefix, "user_id": user.pk, "expires_in_days": days})
    return token, plain


def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    actor = as_actor(actor)
    if actor.user is not None and actor.user.pk != token.user_id and not actor.user.is_superuser:
        raise PermissionDenied("Only the token's owner may revoke it.")
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_event_record(actor=actor, tenant=token.tenant, event_type="api_token.revoked", obj=token,
                               details={"prefix": token.prefix})
    return token


def api_token_authenticate(*, plain: str, method: str, path: str) -> ApiToken | None:
    """Resolve a presented token in one query (token, user, tenant and the user's roles there); expired or
    revoked tokens are refused, and every refusal is audited; an unknown token returns None.

    A request with a usable token writes nothing in the common case: `last_used_at` is moved at most once
    a minute, and the first use of a token on each day (UTC) is recorded as `api_token.used` — the audit
    log shows which tokens were used when, without one chained event per request."""
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = (ApiToken.objects.select_related("user", "tenant").filter(prefix=parts[1])
             .annotate(member_roles=Subquery(Membership.objects.filter(
                 tenant=OuterRef("tenant"), user=OuterRef("user"), is_active=True).values("roles")[:1]))
             .first())
    if token is None or not secrets.compare_digest(token.digest, _digest(plain)):
        return None
    usable = (token.is_usable and token.user.is_active and token.tenant.is_active
              and token.member_roles is not None)
    if not usable:
        _api_token_refusal_record(token, method, path)
        return None
    remember_roles(user=token.user, tenant=token.tenant, roles=token.member_roles)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        _api_token_mark_used(token, now, method, path)
    return token


TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def _api_token_refusal_record(token: ApiToken, method: str, path: str) -> None:
    """The first refusal of a token on each day (UTC) is audited, with the request that showed it; a client
    that keeps presenting a revoked token adds no event per request (one indexed look, no write)."""
    now = timezone.now()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    seen_today = AuditEvent.objects.filter(
        tenant=token.tenant, object_type="portal.apitoken", object_id=str(token.pk), event_type="api_token.refused",
        occurred_at__gte=day_start).exists()
    if not seen_today:
        audit_event_record(actor=Actor(user=token.user, token=token), tenant=token.tenant,
                           event_type="api_token.refused", obj=token,
                           details={"method": method, "path": path[:200], "day": day_start.date().isoformat()})


def _api_token_mark_used(token: ApiToken, now, method: str, path: str) -> None:
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction.atomic():
        first_today = ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=day_start)).update(last_used_at=now)
        if first_today:
            audit_event_record(actor=Actor(user=token.user, token=token), tenant=token.tenant,
                               event_type="api_token.used", obj=token,
                               details={"method": method, "path": path[:200], "day": day_start.date().isoformat()})
        else:
            ApiToken.objects.filter(pk=token.pk, last_used_at__lt=now - TOKEN_USE_RESOLUTION).update(
                last_used_at=now)
    token.last_used_at = now
