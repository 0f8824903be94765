"""Writing pseudonyms: pseudonym_for() turns an identifier into one (created on first use), erase() destroys
the subject's key (reading them back: audit.selectors.pseudonyms)."""
import secrets

from cryptography.fernet import Fernet
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.choices import IdentifierKind
from audit.models import Pseudonym
from audit.selectors.pseudonyms import KINDS, lookup_digest, normalise


def pseudonym_for(*, tenant, kind: str, identifier: str) -> str:
    """The subject's pseudonym in this tenant, created on first use."""
    if kind not in KINDS:
        raise ValueError(f"Unknown identifier kind {kind!r}.")
    digest = lookup_digest(tenant, kind, identifier)
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


def erase(pseudonym: Pseudonym) -> None:
    """Unlink the pseudonym from the person for good (GDPR Art. 17); the chain stays verifiable."""
    pseudonym.subject_key = None
    pseudonym.identifier_encrypted = None
    pseudonym.lookup_digest = None
    pseudonym.erased_at = timezone.now()
    pseudonym.save(update_fields=["subject_key", "identifier_encrypted", "lookup_digest", "erased_at"])


# What identifies someone in an item's input: the field's master data reference, else its type.
_KIND_BY_REFERENCE = {"customer.email": IdentifierKind.EMAIL, "supplier.email": IdentifierKind.EMAIL,
                      "customer.number": IdentifierKind.CUSTOMER_NUMBER,
                      "supplier.number": IdentifierKind.SUPPLIER_NUMBER,
                      "customer.iban": IdentifierKind.IBAN, "supplier.iban": IdentifierKind.IBAN}
_KIND_BY_TYPE = {"email": IdentifierKind.EMAIL, "iban": IdentifierKind.IBAN}


def payload_pseudonyms(*, tenant, use_case, payload: dict) -> list[str]:
    """Pseudonyms of the people an item's input names (its personal-data fields that identify someone), for
    the audit event of its arrival: the DSB finds the item's events by the person, erasure finds their keys."""
    found = set()
    for spec in use_case.input_fields or []:
        value = payload.get(spec.get("name")) if isinstance(payload, dict) else None
        if not spec.get("personal_data") or not isinstance(value, str) or not value.strip():
            continue
        kind = _KIND_BY_REFERENCE.get(spec.get("reference", "")) or _KIND_BY_TYPE.get(spec.get("type", ""))
        if kind:
            found.add(pseudonym_for(tenant=tenant, kind=kind, identifier=value))
    return sorted(found)
