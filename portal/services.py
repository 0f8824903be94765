"""Writes of the portal's records: tenants, memberships and roles, API tokens, login events.
Each takes the acting user (or the system) and records its audit event in the same transaction."""
import base64
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from axes.utils import reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from audit.actors import SYSTEM, Actor, as_actor
from audit.models import AuditEvent
from audit.services.events import audit_event_record
from audit.services.pseudonyms import pseudonym_for
from portal import field_keys
from portal.choices import Role, TokenScope
from portal.db.prepared import PreparedQuery
from portal.history import stamp
from portal.models import ApiToken, Membership, Tenant, TotpAuthenticator, validate_roles
from portal.permissions import actor_has_perm
from portal.roles import APPROVING_ROLES, CONTROL_ROLES, author_control_conflict, control_roles_granted
from portal.selectors import membership_get, remember_roles, tenant_list_for_user, users_with_role

TOKEN_PREFIX = "lpk"
USERNAME_DIGEST_SALT = "portal.login_failed.username"
ADDRESS_DIGEST_SALT = "portal.login_lockout.address"


def tenant_create(*, actor, slug: str, name: str) -> Tenant:
    with transaction.atomic():
        tenant = Tenant(slug=slug, name=name)
        tenant.full_clean()
        stamp(tenant, actor=actor, reason="tenant created")
        tenant.save()
        audit_event_record(actor=actor, tenant=tenant, event_type="tenant.created", obj=tenant,
                           details={"slug": slug})
    return tenant


def _role_rules_check(*, actor, tenant: Tenant, user, before: list[str], after: list[str], allow_dual_role: bool,
                      via_change_request: bool) -> None:
    """The rules of docs/roles.md for a change a person (or their token) makes. The system — the operator's
    commands and the quick start's seed — is not held to them here; its commands check the first-holder
    rule themselves (grant_first_role, create_user)."""
    if as_actor(actor).user is None:
        return
    granted = control_roles_granted(before, after)
    if granted and not via_change_request:
        raise RoleGrantNeedsApproval(
            _("Granting a control role (%(roles)s) needs the approval of other people: it is proposed as a "
              "change request.") % {"roles": ", ".join(str(Role(r).label) for r in granted)})
    authors, controls = author_control_conflict(after)
    if authors and not allow_dual_role and set(after) - set(before):
        raise ValidationError(
            _("%(author)s and %(control)s are not held by one person: nobody controls what they author. The "
              "tenant's policy may allow two roles (a change request).")
            % {"author": ", ".join(str(Role(r).label) for r in authors),
               "control": ", ".join(str(Role(r).label) for r in controls)})
    removed = set(before) - set(after)
    for role in [r for r in Role.values if r in removed and r in APPROVING_ROLES]:
        if not any(holder.pk != user.pk for holder in users_with_role(tenant=tenant, role=role)):
            raise ValidationError(
                _("%(user)s is the last %(role)s of this tenant and keeps the role until someone else holds it.")
                % {"user": user.get_username(), "role": Role(role).label})


class RoleGrantNeedsApproval(ValidationError):
    """A control role is granted through a change request (kind `membership_roles`), never directly."""


def membership_create(*, actor, tenant: Tenant, user, roles: list[str], reason: str = "",
                      allow_dual_role: bool = False, via_change_request: bool = False,
                      change_request_id: int | None = None) -> Membership:
    validate_roles(roles)
    if as_actor(actor).user is not None and as_actor(actor).user.pk == user.pk:
        raise PermissionDenied(_("Nobody changes their own roles; another member with the right to do so must."))
    _role_rules_check(actor=actor, tenant=tenant, user=user, before=[], after=roles,
                      allow_dual_role=allow_dual_role, via_change_request=via_change_request)
    with transaction.atomic():
        membership = Membership(tenant=tenant, user=user, roles=sorted(set(roles)))
        membership.full_clean()
        stamp(membership, actor=actor, reason=reason or "membership created")
        membership.save()
        details = {"user_id": user.pk, "roles": membership.roles}
        if change_request_id is not None:
            details["change_request"] = change_request_id
        audit_event_record(actor=actor, tenant=tenant, event_type="membership.created", obj=membership,
                           details=details)
    return membership


def _refuse_own_membership(actor, membership: Membership) -> None:
    """Nobody changes their own roles or membership: another person in the tenant does (docs/roles.md)."""
    user = as_actor(actor).user
    if user is not None and user.pk == membership.user_id:
        raise PermissionDenied(_("Nobody changes their own roles; another member with the right to do so must."))


def membership_set_roles(*, actor, membership: Membership, roles: list[str], reason: str,
                         allow_dual_role: bool = False, via_change_request: bool = False,
                         change_request_id: int | None = None) -> Membership:
    """Set a member's roles. A person grants a control role only through an approved change request
    (`via_change_request`, from change control); `allow_dual_role` is the tenant policy's setting."""
    validate_roles(roles)
    _refuse_own_membership(actor, membership)
    if not reason.strip():
        raise ValidationError(_("A reason is required to change roles."))
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        before = list(membership.roles)
        _role_rules_check(actor=actor, tenant=membership.tenant, user=membership.user, before=before, after=roles,
                          allow_dual_role=allow_dual_role, via_change_request=via_change_request)
        membership.roles = sorted(set(roles))
        stamp(membership, actor=actor, reason=reason)
        membership.save(update_fields=["roles"])
        details = {"user_id": membership.user_id, "before": before, "after": membership.roles}
        if change_request_id is not None:
            details["change_request"] = change_request_id
        audit_event_record(actor=actor, tenant=membership.tenant, event_type="membership.roles_changed",
                           obj=membership, details=details)
    return membership


def membership_deactivate(*, actor, membership: Membership, reason: str) -> Membership:
    _refuse_own_membership(actor, membership)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        _role_rules_check(actor=actor, tenant=membership.tenant, user=membership.user, before=list(membership.roles),
                          after=[], allow_dual_role=True, via_change_request=False)
        membership.is_active = False
        stamp(membership, actor=actor, reason=reason)
        membership.save(update_fields=["is_active"])
        audit_event_record(actor=actor, tenant=membership.tenant, event_type="membership.deactivated",
                           obj=membership, details={"user_id": membership.user_id})
    return membership


def role_first_holder_grant(*, tenant: Tenant, user, roles: list[str], reason: str,
                            allow_dual_role: bool = False) -> Membership:
    """The bootstrap of a tenant from the shell (grant_first_role, create_user): control roles only while
    nobody in the tenant holds them yet; afterwards every grant is a change request. The rule on author
    and controlling roles holds here too. Recorded as the system's act."""
    validate_roles(roles)
    held = [r for r in Role.values if r in roles and r in CONTROL_ROLES and users_with_role(tenant=tenant, role=r)]
    if held:
        raise ValidationError(
            _("%(roles)s already has a holder in this tenant: further holders are granted through a change "
              "request on the members page.") % {"roles": ", ".join(str(Role(r).label) for r in held)})
    with transaction.atomic():
        membership = Membership.objects.select_for_update().for_tenant(tenant).filter(user=user).first()
        authors, controls = author_control_conflict(set(roles) | set(membership.roles if membership else []))
        if authors and not allow_dual_role:
            raise ValidationError(
                _("%(author)s and %(control)s are not held by one person: nobody controls what they author. The "
                  "tenant's policy may allow two roles (a change request).")
                % {"author": ", ".join(str(Role(r).label) for r in authors),
                   "control": ", ".join(str(Role(r).label) for r in controls)})
        if membership is None:
            return membership_create(actor=SYSTEM, tenant=tenant, user=user, roles=roles, reason=reason)
        if not membership.is_active:
            raise ValidationError(_("The membership of %(user)s is deactivated; it cannot be changed.")
                                  % {"user": user.get_username()})
        if set(roles) <= set(membership.roles):
            return membership
        return membership_set_roles(actor=SYSTEM, membership=membership,
                                    roles=sorted(set(membership.roles) | set(roles)), reason=reason)


def user_create(*, actor, username: str, password: str, email: str = "", is_superuser: bool = False,
                first_name: str = "", last_name: str = ""):
    """A login account. Accounts are global; what they may do comes from their memberships. The password
    must pass the configured validators. Recorded in the system chain, by id only (the user name may
    be a person's name)."""
    user = get_user_model()(username=username, email=email, is_staff=is_superuser, is_superuser=is_superuser,
                            first_name=first_name, last_name=last_name)
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

def login_record(*, user, tenants: Sequence[Tenant], event_type: str) -> None:
    """Login and logout go into the chain of every tenant the user belongs to (each tenant's DSB sees
    them), or into the system chain for a user with no tenant."""
    chains: list[Tenant | None] = [*tenants] or [None]
    with transaction.atomic():
        for tenant in chains:
            audit_event_record(actor=user, tenant=tenant, event_type=event_type, obj=user)


def username_digest(username: str) -> str:
    """A keyed digest of a login name that matches no account: repeated attempts with one name can be told
    apart from many names without the name (maybe a person's mistyped identifier) being kept. Django's
    salted HMAC with SECRET_KEY, case-insensitive. Events written before it carry a plain SHA-256 over key
    and name under the same detail: they stay as written (the chain is append-only) and are compared with
    nothing, so the change of digest needs no migration."""
    return salted_hmac(USERNAME_DIGEST_SALT, username.lower()).hexdigest()[:16]


def login_failed_record(*, username: str, user=None, tenants: Sequence[Tenant] = ()) -> None:
    """A failed login. For a known user, each of their tenants records it under the user's id; an unknown
    name goes to the system chain as a keyed digest only (it may be a person's mistyped identifier)."""
    with transaction.atomic():
        if user is None or not tenants:
            digest = username_digest(username)
            audit_event_record(actor=SYSTEM, tenant=None, event_type="user.login_failed",
                               details={"known_user": user is not None, "username_digest": digest})
            return
        for tenant in tenants:
            audit_event_record(actor=SYSTEM, tenant=tenant, event_type="user.login_failed", obj=user,
                               details={"known_user": True,
                                        "username": pseudonym_for(tenant=tenant, kind="username",
                                                                  identifier=username)})


def address_digest(address: str) -> str:
    """A keyed digest of a client address (personal data): repeated attempts from one address can be told
    apart without the address being kept; Django's salted HMAC with SECRET_KEY, as username_digest."""
    return salted_hmac(ADDRESS_DIGEST_SALT, address.lower()).hexdigest()[:16]


def login_lockout_record(*, username: str, ip_address: str, user=None, tenants: Sequence[Tenant] = ()) -> None:
    """Sign-in locked after repeated failures (django-axes), for the user name or for the address. The
    address is kept only as a keyed digest; a known user's tenants each record it under the user's id."""
    details = {"address_digest": address_digest(ip_address or ""), "known_user": user is not None}
    with transaction.atomic():
        if user is None or not tenants:
            audit_event_record(actor=SYSTEM, tenant=None, event_type="user.locked_out",
                               details={**details, "username_digest": username_digest(username)})
            return
        for tenant in tenants:
            audit_event_record(actor=SYSTEM, tenant=tenant, event_type="user.locked_out", obj=user, details=details)


def login_client_name(username, ip_address, user_agent, path_info, request) -> str:
    """How django-axes names a client in its log lines (AXES_CLIENT_STR_CALLABLE): keyed digests of the user
    name and the address, as in the audit log, never the name or the address themselves."""
    return (f"{{username_digest: {username_digest(str(username or ''))}, "
            f"address_digest: {address_digest(str(ip_address or ''))}}}")


def login_lockout_clear(*, actor, username: str = "", ip_address: str = "", tenant: Tenant | None = None) -> int:
    """Lifts a sign-in lock before its cool-off ends (an administrator's act, audited); returns how many
    recorded attempts were cleared. The system (`manage.py unlock_login`) and superusers lift any lock; a
    person with `portal.unlock_login` in `tenant` (the ISB) lifts the locks of that tenant's members and of
    addresses (an address lock keeps everybody behind it out)."""
    if not username and not ip_address:
        raise ValidationError(_("Name a user or an address to unlock."))
    user = get_user_model().objects.filter(username__iexact=username).first() if username else None
    person = as_actor(actor).user
    if person is not None and not person.is_superuser:
        if tenant is None or not actor_has_perm(actor, tenant, "portal.unlock_login"):
            raise PermissionDenied(_("Only an administrator or the information security officer lifts sign-in locks."))
        if username and (user is None or membership_get(user=user, tenant=tenant) is None):
            raise PermissionDenied(_("%(user)s is not a member of this tenant.") % {"user": username})
    with transaction.atomic():
        cleared = reset(username=username or None, ip=ip_address or None)
        details = {"cleared_failures": cleared}
        if ip_address:
            details["address_digest"] = address_digest(ip_address)
        tenants = list(tenant_list_for_user(user=user)) if user is not None else []
        if user is None or not tenants:
            if username:
                details["username_digest"] = username_digest(username)
            audit_event_record(actor=actor, tenant=tenant, event_type="user.unlocked", details=details)
        for member_tenant in tenants:
            audit_event_record(actor=actor, tenant=member_tenant, event_type="user.unlocked", obj=user,
                               details=details)
    return cleared


# --- Second factor (django-otp) --------------------------------------------------------------------
# A TOTP device (an authenticator app) and a static device holding the recovery codes. Of a recovery code
# only a digest is stored (StaticToken.token): it is shown once, at issue, and works once.

RECOVERY_CODE_BYTES = 10  # 80 random bits: 16 base32 characters, shown in groups of four


def _person(actor):
    """The person acting on their own second factor: neither the system nor a token does that."""
    actor = as_actor(actor)
    if actor.kind != "user":
        raise PermissionDenied(_("Only the person themselves sets up and uses their second factor."))
    return actor.user


def _code_normalised(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def recovery_code_digest(code: str) -> str:
    """What is stored of a recovery code: the first 16 hex digits of its SHA-256 (StaticToken keeps 16
    characters). With 80 random bits in the code, the digest cannot be turned back by trying codes."""
    return hashlib.sha256(_code_normalised(code).encode()).hexdigest()[:16]


def _recovery_code_new() -> str:
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().lower()
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _second_factor_audit(*, actor, user, event_type: str, details: dict | None = None) -> None:
    """In the chain of every tenant the user belongs to (each tenant's DSB and ISB see it), or the system's."""
    chains: list[Tenant | None] = [*tenant_list_for_user(user=user)] or [None]
    for tenant in chains:
        audit_event_record(actor=actor, tenant=tenant, event_type=event_type, obj=user, details=details or {})


def _recovery_codes_replace(user) -> list[str]:
    device = StaticDevice.objects.filter(user=user).order_by("pk").first() \
        or StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    device.token_set.all().delete()
    codes = [_recovery_code_new() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=recovery_code_digest(code)) for code in codes])
    return codes


def totp_device_prepare(*, actor) -> TotpAuthenticator:
    """The authenticator the person is about to set up: a new secret, or the one already shown to them and not
    yet confirmed (reloading the page keeps the QR code they may have scanned). Nothing is enabled yet."""
    user = _person(actor)
    if TotpAuthenticator.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError(_("A second factor is already set up. An administrator or the information security "
                                "officer can reset it if the device is lost."))
    device = TotpAuthenticator.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TotpAuthenticator.objects.create(user=user, name="authenticator", confirmed=False)


def second_factor_enrol(*, actor, code: str) -> tuple[TotpAuthenticator, list[str]]:
    """Confirms the prepared authenticator with a first code from it and issues the recovery codes (returned
    once, never stored in clear). A wrong code is audited and refused."""
    user = _person(actor)
    with transaction.atomic():
        if TotpAuthenticator.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError(_("A second factor is already set up."))
        device = TotpAuthenticator.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            raise ValidationError(_("Start the set-up again: no authenticator is waiting for confirmation."))
        accepted = device.verify_token(_code_normalised(code))
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TotpAuthenticator.objects.filter(user=user, confirmed=False).delete()
            codes = _recovery_codes_replace(user)
            _second_factor_audit(actor=actor, user=user, event_type="second_factor.enrolled",
                                 details={"method": "totp", "recovery_codes": len(codes)})
        else:
            # Committed with the device's failure count (its throttle), not rolled back with an error.
            _second_factor_audit(actor=actor, user=user, event_type="second_factor.refused",
                                 details={"stage": "enrolment", "method": "totp"})
    if not accepted:
        raise ValidationError(_("The code was not accepted. Check the time on your phone and enter the code the app "
                                "shows now."))
    return device, codes


def second_factor_verify(*, actor, code: str):
    """The second step of a sign-in: a code of the person's authenticator (six digits) or one of their recovery
    codes (used up with it). Returns the device that accepted it. A refused code and every recovery code used
    are audited; repeated wrong codes make the device wait longer and longer (django-otp's throttling)."""
    user = _person(actor)
    normalised = _code_normalised(code)
    method = "totp" if normalised.isdigit() else "recovery_code"
    accepted = None
    throttled = False
    with transaction.atomic():
        if method == "totp":
            candidates, presented = TotpAuthenticator.objects.filter(user=user, confirmed=True), normalised
        else:
            candidates, presented = StaticDevice.objects.filter(user=user, confirmed=True), \
                recovery_code_digest(normalised)
        for device in candidates.select_for_update().order_by("pk"):
            throttled = throttled or not device.verify_is_allowed()[0]
            if device.verify_token(presented):
                accepted = device
                break
        if accepted is None:
            _second_factor_audit(actor=actor, user=user, event_type="second_factor.refused",
                                 details={"stage": "sign_in", "method": method, "throttled": throttled})
        elif method == "recovery_code":
            _second_factor_audit(actor=actor, user=user, event_type="recovery_code.used",
                                 details={"remaining": StaticToken.objects.filter(device=accepted).count()})
    if accepted is None:
        if throttled:
            raise ValidationError(_("Too many wrong codes: wait a moment, then enter the code your app shows now."))
        raise ValidationError(_("The code was not accepted."))
    return accepted


def recovery_codes_generate(*, actor) -> list[str]:
    """New recovery codes for the person's own second factor; the earlier ones stop working. Audited."""
    user = _person(actor)
    with transaction.atomic():
        if not TotpAuthenticator.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError(_("Set up the authenticator app first."))
        codes = _recovery_codes_replace(user)
        _second_factor_audit(actor=actor, user=user, event_type="recovery_codes.generated",
                             details={"count": len(codes)})
    return codes


def second_factor_reset(*, actor, user, tenant: Tenant | None = None) -> int:
    """Removes a user's second factor (authenticator and recovery codes), e.g. after a lost phone: they set it
    up again at their next sign-in. The system (`manage.py reset_second_factor`) and superusers reset anyone's;
    a person with `portal.reset_second_factor` in `tenant` (the ISB) resets a member's of that tenant. Nobody
    resets their own. Audited in every tenant of the user; returns how many devices were removed."""
    person = as_actor(actor).user
    if person is not None:
        if person.pk == user.pk:
            raise PermissionDenied(_("Nobody resets their own second factor; an administrator or the information "
                                     "security officer does."))
        if not person.is_superuser and (
                tenant is None or not actor_has_perm(actor, tenant, "portal.reset_second_factor")
                or membership_get(user=user, tenant=tenant) is None):
            raise PermissionDenied(_("Only an administrator or the information security officer of the user's "
                                     "tenant resets a second factor."))
    with transaction.atomic():
        removed = TotpAuthenticator.objects.filter(user=user).delete()[1].get(TotpAuthenticator._meta.label, 0)
        removed += StaticDevice.objects.filter(user=user).delete()[1].get(StaticDevice._meta.label, 0)
        _second_factor_audit(actor=actor, user=user, event_type="second_factor.reset", details={"devices": removed})
    return removed


@dataclass
class TotpRotation:
    """What re-encrypting the authenticators' secrets did: re-encrypted now (with `check_only`: would be),
    already under the newest field key, and the user names whose secret no configured key decrypts."""

    rotated: int = 0
    current: int = 0
    unreadable: list[str] = field(default_factory=list)


def totp_devices_rotate(*, actor, check_only: bool = False) -> TotpRotation:
    """Re-encrypt every authenticator's secret under the newest field key (`manage.py rotate_secrets`), one
    device per transaction, each audited in the user's tenants; devices already under it are left alone, so an
    interrupted run is finished by the next. The operator's command only (the system)."""
    if as_actor(actor).kind != "system":
        raise PermissionDenied(_("Only the operator's command re-encrypts stored secrets."))
    key_id = field_keys.current_key_id()
    done = field_keys.rows_rotate(
        TotpAuthenticator.objects.select_related("user"), field="key_ciphertext", check_only=check_only,
        audit=lambda device: _second_factor_audit(actor=actor, user=device.user, event_type="second_factor.rotated",
                                                  details={"method": "totp", "key": key_id}))
    return TotpRotation(rotated=done.rotated, current=done.current, unreadable=list(
        TotpAuthenticator.objects.filter(pk__in=done.unreadable).order_by("pk").values_list("user__username",
                                                                                           flat=True)))


# --- API tokens ----------------------------------------------------------------------------------

# Unless others are named: what a program feeding and reading the portal needs; registry writes are asked for.
DEFAULT_TOKEN_SCOPES = (TokenScope.READ, TokenScope.INTAKE, TokenScope.RESULTS)

def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, actor, tenant: Tenant, user, name: str, days: int | None = None,
                     scopes=DEFAULT_TOKEN_SCOPES) -> tuple[ApiToken, str]:
    """Issue a token; the plain token is returned once and never stored. It lives `days` days (at most
    API_TOKEN_MAX_DAYS) and may do what its scopes name, within its user's permissions in the tenant."""
    scopes = sorted(set(scopes))
    unknown = set(scopes) - set(TokenScope.values)
    if unknown or not scopes:
        raise ValidationError(_("Choose at least one of the scopes %(scopes)s.")
                              % {"scopes": ", ".join(TokenScope.values)})
    actor = as_actor(actor)
    if actor.user is not None and actor.user != user and not actor.user.is_superuser:
        raise PermissionDenied("Tokens are issued to oneself.")
    if not tenant_list_for_user(user=user).filter(pk=tenant.pk).exists():
        raise PermissionDenied("The user has no membership in this tenant.")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    plain = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    days = days or settings.API_TOKEN_DEFAULT_DAYS
    if days > settings.API_TOKEN_MAX_DAYS:
        raise ValidationError(_("A token may be valid for at most %(max)s days.")
                              % {"max": settings.API_TOKEN_MAX_DAYS})
    with transaction.atomic():
        token = ApiToken.objects.create(
            tenant=tenant, user=user, name=name.strip() or "API", prefix=prefix, digest=_digest(plain),
            expires_at=timezone.now() + timedelta(days=days), scopes=scopes,
        )
        audit_event_record(actor=actor, tenant=tenant, event_type="api_token.created", obj=token,
                           details={"prefix": prefix, "user_id": user.pk, "expires_in_days": days,
                                    "scopes": scopes})
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


# The token with its user, its tenant and the user's roles there: one statement, compiled once per process (the
# ORM would build the same SQL anew for every request). Nothing is cached but the SQL: a token revoked or expired,
# a user or tenant deactivated, a membership ended is refused on the very next request.
_TOKEN_BY_PREFIX = PreparedQuery(ApiToken, lambda prefix: (
    ApiToken.objects.select_related("user", "tenant").filter(prefix=prefix)
    .annotate(member_roles=Subquery(Membership.objects.filter(
        tenant=OuterRef("tenant"), user=OuterRef("user"), is_active=True).order_by().values("roles")[:1]))
    .order_by()[:1]), prefix=str)


def api_token_authenticate(*, plain: str, method: str, path: str) -> ApiToken | None:
    """Resolve a presented token in one query (token, user, tenant and the user's roles there); expired or
    revoked tokens are refused, and every refusal is audited; an unknown token returns None.

    A request with a usable token writes nothing in the common case: `last_used_at` is moved at most once
    a minute, and the first use of a token on each day (UTC) is recorded as `api_token.used` — the audit
    log shows which tokens were used when, without one chained event per request."""
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = _TOKEN_BY_PREFIX.first(prefix=parts[1])
    if token is None or not secrets.compare_digest(token.digest, _digest(plain)):
        return None
    roles = token.member_roles  # type: ignore[attr-defined]  # the query's annotation
    usable = token.is_usable and token.user.is_active and token.tenant.is_active and roles is not None
    if not usable:
        _api_token_refusal_record(token, method, path)
        return None
    remember_roles(user=token.user, tenant=token.tenant, roles=roles)
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
