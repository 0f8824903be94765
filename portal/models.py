import secrets
from binascii import unhexlify
from typing import Self, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.util import hex_validator, random_hex
from simple_history.models import HistoricalRecords

from portal import field_keys
from portal.choices import Role


def _new_pseudonym_key() -> str:
    return secrets.token_hex(32)


class Tenant(models.Model):
    """A Mandant: every domain row belongs to exactly one."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Keys the lookup index of pseudonyms (audit.Pseudonym); never shown, never exported.
    pseudonym_key = models.CharField(max_length=64, default=_new_pseudonym_key, editable=False)

    history = HistoricalRecords(excluded_fields=["pseudonym_key"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return self.name


_Row = TypeVar("_Row", bound=models.Model)


class TenantScopedQuerySet(models.QuerySet[_Row]):
    def for_tenant(self, tenant: Tenant) -> Self:
        return self.filter(tenant=tenant)


class TenantOwned(models.Model):
    """Base of every domain model: the row carries its tenant, reads go through for_tenant()."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        abstract = True


def validate_roles(value: list) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("A membership needs at least one role."))
    unknown = sorted(set(value) - set(Role.values))
    if unknown:
        raise ValidationError(_("Unknown roles: %(roles)s") % {"roles": ", ".join(unknown)})


class Membership(TenantOwned):
    """A user's place in one tenant: their roles there decide their model permissions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    roles = models.JSONField(_("roles"), default=list, validators=[validate_roles])
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user_tenant")]
        ordering = ["tenant__name", "user__username"]
        permissions = [("unlock_login", "Can lift sign-in locks"),
                       ("reset_second_factor", "Can reset a member's second factor")]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant}"

    def has_role(self, role: str) -> bool:
        return self.is_active and role in self.roles


class ApiToken(TenantOwned):
    """A bearer token of one user in one tenant; only a SHA-256 digest of the secret is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # portal.choices.TokenScope values; what the token may do on top of its user's permissions.
    scopes = models.JSONField(_("scopes"), default=list)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


def _totp_copy(name: str):
    """django-otp's own TOTP logic (verifying a code with drift, throttling and no code twice; the set-up
    address), used unchanged by the encrypted device below."""
    from django_otp.plugins.otp_totp.models import TOTPDevice as _Plain

    return _Plain.__dict__[name]


def totp_key_new() -> str:
    """A new TOTP secret (20 random bytes, as django-otp makes them), encrypted."""
    return field_keys.encrypt(random_hex(20))


class TotpAuthenticator(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) as django-otp's TOTPDevice, but its secret is stored encrypted
    with the field keys (portal.field_keys, LEITPLANKE_FIELD_KEYS) and re-encrypted by `manage.py
    rotate_secrets`: the table, a dump or a backup hold no secret that creates valid codes. `key` reads and
    sets the hex secret in memory only; `key_ciphertext` is what the database keeps."""

    key_ciphertext = models.TextField(editable=False, default=totp_key_new)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = _("authenticator (TOTP)")
        verbose_name_plural = _("authenticators (TOTP)")

    @property
    def key(self) -> str:
        """The secret, hex-encoded (20 random bytes), decrypted for this use only."""
        return field_keys.decrypt(self.key_ciphertext)

    @key.setter
    def key(self, value: str) -> None:
        hex_validator()(value)
        self.key_ciphertext = field_keys.encrypt(value)

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    verify_token = _totp_copy("verify_token")
    get_throttle_factor = _totp_copy("get_throttle_factor")
    config_url = _totp_copy("config_url")
    _read_str_from_settings = _totp_copy("_read_str_from_settings")
