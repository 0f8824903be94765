"""People in audit rows are pseudonyms: pseudonym_for() turns an identifier into one, reveal() turns it
back for the DSB while the subject's key exists, erase() destroys the key."""
import hashlib
import hmac
import re
import secrets

from cryptography.fernet import Fernet
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Pseudonym

# How a pseudonym looks (pseudonym_for): found in event details by the subject index (audit.services.events).
PSEUDONYM_PATTERN = re.compile(r"\bps_[0-9a-f]{20}\b")
KINDS = ("email", "iban", "customer_number", "supplier_number", "name", "username", "phone", "other")


def normalise(kind: str, identifier: str) -> str:
    value = " ".join(str(identifier).split())
    if kind in ("email", "username"):
        return value.lower()
    if kind == "iban":
        return value.replace(" ", "").upper()
    if kind == "name":
        return value.casefold()
    return value


def _digest(tenant, kind: str, identifier: str) -> str:
    message = f"{kind}:{normalise(kind, identifier)}".encode()
    return hmac.new(bytes.fromhex(tenant.pseudonym_key), message, hashlib.sha256).hexdigest()


def pseudonym_lookup(*, tenant, kind: str, identifier: str) -> Pseudonym | None:
    return Pseudonym.objects.filter(tenant=tenant, lookup_digest=_digest(tenant, kind, identifier)).first()


def pseudonym_for(*, tenant, kind: str, identifier: str) -> str:
    """The subject's pseudonym in this tenant, created on first use."""
    if kind not in KINDS:
        raise ValueError(f"Unknown identifier kind {kind!r}.")
    digest = _digest(tenant, kind, identifier)
    existing = Pseudonym.objects.filter(tenant=tenant, lookup_digest=digest).first()
    if existing:
        return existing.pseudonym
    key = Fernet.generate_key()
    try:
        with transaction.atomic():
            created = Pseudonym.objects.create(
                tenant=tenant,
                kind=kind,
                pseudonym=f"ps_{secrets.token_hex(10)}",
                lookup_digest=digest,
                subject_key=key,
                identifier_encrypted=Fernet(key).encrypt(normalise(kind, identifier).encode()),
            )
        return created.pseudonym
    except IntegrityError:  # a concurrent writer created it first
        return Pseudonym.objects.get(tenant=tenant, lookup_digest=digest).pseudonym


def reveal(pseudonym: Pseudonym) -> str | None:
    if not pseudonym.subject_key or not pseudonym.identifier_encrypted:
        return None
    return Fernet(bytes(pseudonym.subject_key)).decrypt(bytes(pseudonym.identifier_encrypted)).decode()


def erase(pseudonym: Pseudonym) -> None:
    """Unlink the pseudonym from the person for good (GDPR Art. 17); the chain stays verifiable."""
    pseudonym.subject_key = None
    pseudonym.identifier_encrypted = None
    pseudonym.lookup_digest = None
    pseudonym.erased_at = timezone.now()
    pseudonym.save(update_fields=["subject_key", "identifier_encrypted", "lookup_digest", "erased_at"])
