"""Connector credentials (a webhook's signing secret, a mailbox's password): stored like processor API keys,
by the one stored-secret service (automations.registry.services.stored_secrets): encrypted at rest with the
field keys, never shown again, replaced by IT, re-encrypted under the newest key by `manage.py rotate_secrets`."""
import base64
import binascii

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automations.choices import CatalogueKind, ConnectorType
from automations.connectors.models import ConnectorSecret
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.services import stored_secrets

MAX_SECRET_LENGTH = stored_secrets.MAX_SECRET_LENGTH
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


def _credential_valid(entry: CatalogueEntry, secret: str) -> str:
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise ValidationError(_("Enter the credential."))
    if entry.connector_type == ConnectorType.WEBHOOK and not webhook_secret_valid(secret):
        raise ValidationError(_("A webhook signing secret is whsec_ followed by the base64 of 24 to 64 bytes."))
    return secret


CONNECTOR_SECRETS = stored_secrets.secret_kind_register(stored_secrets.SecretKind(
    name="connector_secret", model=ConnectorSecret, catalogue_kind=CatalogueKind.CONNECTOR,
    permission="automations.change_connectorsecret", label="connector",
    wrong_entry=gettext_lazy("Only a connector of the catalogue has a credential here."),
    validate=_credential_valid, title=gettext_lazy("connector credentials")))


def connector_secret_set(*, actor, entry: CatalogueEntry, secret: str) -> ConnectorSecret:
    """Store (or replace) a connector's credential, encrypted; the audit trail holds its fingerprint."""
    return stored_secrets.stored_secret_set(kind=CONNECTOR_SECRETS, actor=actor, entry=entry, plain=secret)


def connector_secret_clear(*, actor, entry: CatalogueEntry) -> None:
    stored_secrets.stored_secret_clear(kind=CONNECTOR_SECRETS, actor=actor, entry=entry)


def connector_secrets_rotate(*, actor) -> int:
    """Re-encrypt every stored credential not yet under the first configured field key; returns how many."""
    return stored_secrets.stored_secrets_rotate(actor=actor, kinds=[CONNECTOR_SECRETS]).total_rotated


def connector_secret(*, entry: CatalogueEntry) -> str | None:
    """The decrypted credential for an outgoing call (held in memory only), or None."""
    return stored_secrets.stored_secret_read(kind=CONNECTOR_SECRETS, entry=entry)
