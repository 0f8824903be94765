"""Connector credentials (a webhook's signing secret, a mailbox's password): encrypted at rest with the
field keys like processor API keys, never shown again, replaced or re-encrypted (rotated) by IT."""
import base64
import binascii

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.services.events import audit_event_record
from automations.choices import CatalogueKind, ConnectorType
from automations.connectors.models import ConnectorSecret
from automations.registry import secrets
from automations.registry.models.catalogue import CatalogueEntry
from portal.permissions import require_perm

MAX_SECRET_LENGTH = 4096
WEBHOOK_SECRET_PREFIX = "whsec_"


def webhook_secret_valid(value: str) -> bool:
    """A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes."""
    if not value.startswith(WEBHOOK_SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(value[len(WEBHOOK_SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        return False
    return 24 <= len(key) <= 64


def connector_secret_set(*, actor, entry: CatalogueEntry, secret: str) -> ConnectorSecret:
    """Store (or replace) a connector's credential, encrypted; the audit trail holds its fingerprint."""
    require_perm(actor, entry.tenant, "automations.change_connectorsecret")
    if entry.kind != CatalogueKind.CONNECTOR:
        raise ValidationError(_("Only a connector of the catalogue has a credential here."))
    secret = (secret or "").strip()
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise ValidationError(_("Enter the credential."))
    if entry.connector_type == ConnectorType.WEBHOOK and not webhook_secret_valid(secret):
        raise ValidationError(_("A webhook signing secret is whsec_ followed by the base64 of 24 to 64 bytes."))
    ciphertext, fingerprint = secrets.encrypt(secret), secrets.fingerprint(secret)
    with transaction.atomic():
        existing = ConnectorSecret.objects.select_for_update().filter(entry=entry).first()
        stored = existing or ConnectorSecret(tenant=entry.tenant, entry=entry)
        stored.ciphertext, stored.key_fingerprint = ciphertext, fingerprint
        stored.set_at, stored.set_by = timezone.now(), as_actor(actor).user
        stored.save()
        audit_event_record(actor=actor, tenant=entry.tenant, event_type="connector_secret.set", obj=entry,
                           details={"connector": entry.key, "fingerprint": fingerprint,
                                    "replaced": existing is not None})
    return stored


def connector_secret_clear(*, actor, entry: CatalogueEntry) -> None:
    require_perm(actor, entry.tenant, "automations.change_connectorsecret")
    with transaction.atomic():
        deleted, _rows = ConnectorSecret.objects.filter(entry=entry).delete()
        if deleted:
            audit_event_record(actor=actor, tenant=entry.tenant, event_type="connector_secret.cleared", obj=entry,
                               details={"connector": entry.key})


def connector_secrets_rotate(*, actor) -> int:
    """Re-encrypt every stored credential with the first configured field key."""
    rotated = 0
    for pk in ConnectorSecret.objects.values_list("pk", flat=True):
        with transaction.atomic():
            stored = ConnectorSecret.objects.select_for_update().select_related("entry").get(pk=pk)
            stored.ciphertext = secrets.rotate(stored.ciphertext)
            stored.save(update_fields=["ciphertext"])
            audit_event_record(actor=actor, tenant=stored.tenant, event_type="connector_secret.rotated",
                               obj=stored.entry, details={"connector": stored.entry.key,
                                                          "fingerprint": stored.key_fingerprint})
            rotated += 1
    return rotated


def connector_secret(*, entry: CatalogueEntry) -> str | None:
    """The decrypted credential for an outgoing call (held in memory only), or None."""
    stored = ConnectorSecret.objects.filter(entry=entry).first()
    return secrets.decrypt(stored.ciphertext) if stored else None
