"""Stored secrets of catalogue entries, one service for every kind: a processor's API key, a connector's
credential (webhook signing secret, mailbox password). Each kind keeps its own table and audit event types
(`<kind>.set`, `<kind>.cleared`, `<kind>.rotated`); what they share is done here once:

- encrypted at rest with the field keys (portal.field_keys), the plain secret neither returned
  nor logged, the audit trail holding its fingerprint only;
- read back only for an outgoing call (held in memory);
- rotated: every stored secret re-encrypted under the newest field key, one row per transaction, so that a
  crash midway leaves each row either under its old key or under the new one, and a second run finishes
  the job (`manage.py rotate_secrets`).

A kind registers itself (`secret_kind_register`) where its service lives; the rotation walks them all."""
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.actors import as_actor
from audit.services.events import audit_event_record
from automations.registry.models.catalogue import CatalogueEntry
from portal import field_keys as secrets
from portal.permissions import require_perm

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

MAX_SECRET_LENGTH = 4096


@dataclass(frozen=True)
class SecretKind:
    """What differs between stored secrets of one kind."""

    name: str  # the audit event types' prefix, e.g. "processor_secret"
    # A TenantOwned model with entry, ciphertext, key_fingerprint, set_at, set_by: the kinds' models share
    # these columns, not a base class.
    model: type[Any]
    catalogue_kind: str  # the CatalogueEntry.kind that may hold it
    permission: str  # to set and clear it
    label: str  # the audit details' key naming the entry: "processor", "connector"
    wrong_entry: "str | _StrPromise"  # the message (lazy) when the entry is of another kind
    # Checks (and may normalise) the plain secret, stripped, for an entry; raises ValidationError. Anything
    # empty or longer than MAX_SECRET_LENGTH must be refused by it.
    validate: Callable[[CatalogueEntry, str], str]
    title: object = ""  # for people (lazy): "processor API keys"

    def details(self, entry: CatalogueEntry, **extra) -> dict:
        return {self.label: entry.key, **extra}


_KINDS: dict[str, SecretKind] = {}


def secret_kind_register(kind: SecretKind) -> SecretKind:
    """Registered once per kind, where its service module is imported (like audit event types)."""
    existing = _KINDS.get(kind.name)
    if existing is not None and existing.model is not kind.model:
        raise ValueError(f"secret kind {kind.name!r} is registered already")
    _KINDS[kind.name] = kind
    return kind


def secret_kinds() -> list[SecretKind]:
    return [_KINDS[name] for name in sorted(_KINDS)]


def stored_secret_set(*, kind: SecretKind, actor, entry: CatalogueEntry, plain: str):
    """Store (or replace) the secret of an entry, encrypted; the audit trail holds its fingerprint."""
    require_perm(actor, entry.tenant, kind.permission)
    if entry.kind != kind.catalogue_kind:
        raise ValidationError(kind.wrong_entry)
    plain = kind.validate(entry, (plain or "").strip())
    ciphertext, fingerprint = secrets.encrypt(plain), secrets.fingerprint(plain)
    with transaction.atomic():
        existing = kind.model.objects.select_for_update().filter(entry=entry).first()
        stored = existing or kind.model(tenant=entry.tenant, entry=entry)
        stored.ciphertext, stored.key_fingerprint = ciphertext, fingerprint
        stored.set_at, stored.set_by = timezone.now(), as_actor(actor).user
        stored.save()
        audit_event_record(actor=actor, tenant=entry.tenant, event_type=f"{kind.name}.set", obj=entry,
                           details=kind.details(entry, fingerprint=fingerprint, replaced=existing is not None))
    return stored


def stored_secret_clear(*, kind: SecretKind, actor, entry: CatalogueEntry) -> None:
    require_perm(actor, entry.tenant, kind.permission)
    with transaction.atomic():
        deleted, _rows = kind.model.objects.filter(entry=entry).delete()
        if deleted:
            audit_event_record(actor=actor, tenant=entry.tenant, event_type=f"{kind.name}.cleared", obj=entry,
                               details=kind.details(entry))


def stored_secret_read(*, kind: SecretKind, entry: CatalogueEntry) -> str | None:
    """The decrypted secret for an outgoing call (held in memory only), or None when none is stored."""
    stored = kind.model.objects.filter(entry=entry).first()
    return secrets.decrypt(stored.ciphertext) if stored else None


@dataclass
class RotationReport:
    """What a rotation did, per kind name: re-encrypted now, already under the newest key, and the rows
    no configured key decrypts (tenant slug, entry key)."""

    key_id: str = ""
    check_only: bool = False
    rotated: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def total_rotated(self) -> int:
        return sum(self.rotated.values())

    @property
    def total_unreadable(self) -> int:
        return sum(len(rows) for rows in self.unreadable.values())


def stored_secrets_rotate(*, actor, kinds: list[SecretKind] | None = None, check_only: bool = False,
                          on_row: Callable[[SecretKind, str], None] | None = None) -> RotationReport:
    """Re-encrypt every stored secret (of `kinds`, default all) under the newest field key, one row per
    transaction; rows already under it are left alone, so a run interrupted midway is finished by the next.
    With `check_only` nothing changes, and `rotated` counts the rows that a run would re-encrypt.
    `on_row(kind, outcome)` is called after each row (progress)."""
    actor = as_actor(actor)
    key_id = secrets.current_key_id()
    report = RotationReport(key_id=key_id, check_only=check_only)
    for kind in kinds or secret_kinds():
        def audit(stored, kind: SecretKind = kind) -> None:
            audit_event_record(actor=actor, tenant=stored.tenant, event_type=f"{kind.name}.rotated", obj=stored.entry,
                               details=kind.details(stored.entry, fingerprint=stored.key_fingerprint, key=key_id))

        def progress(outcome: str, kind: SecretKind = kind) -> None:
            if on_row is not None:
                on_row(kind, outcome)

        done = secrets.rows_rotate(kind.model.objects.select_related("entry", "tenant"), field="ciphertext",
                                   audit=audit, check_only=check_only, on_row=progress)
        report.rotated[kind.name], report.current[kind.name] = done.rotated, done.current
        report.unreadable[kind.name] = list(kind.model.objects.filter(pk__in=done.unreadable).order_by("pk")
                                            .values_list("tenant__slug", "entry__key"))
    return report
