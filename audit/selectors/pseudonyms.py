"""People in audit rows are pseudonyms: how one looks and is found from an identifier (a keyed digest), and
reveal(), which turns it back for the DSB while the subject's key exists. Writes: audit.services.pseudonyms."""
import hashlib
import hmac
import re

from cryptography.fernet import Fernet

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


def lookup_digest(tenant, kind: str, identifier: str) -> str:
    message = f"{kind}:{normalise(kind, identifier)}".encode()
    return hmac.new(bytes.fromhex(tenant.pseudonym_key), message, hashlib.sha256).hexdigest()


def pseudonym_lookup(*, tenant, kind: str, identifier: str) -> Pseudonym | None:
    return Pseudonym.objects.filter(tenant=tenant, lookup_digest=lookup_digest(tenant, kind, identifier)).first()


def reveal(pseudonym: Pseudonym) -> str | None:
    if not pseudonym.subject_key or not pseudonym.identifier_encrypted:
        return None
    return Fernet(bytes(pseudonym.subject_key)).decrypt(bytes(pseudonym.identifier_encrypted)).decode()
