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


def work_item_identifiers(item) -> list[tuple[str, str]]:
    """The (kind, identifier) pairs of the people an item names through its personal data fields (e-mail,
    IBAN, customer or supplier number), input and output alike."""
    kinds = {"email": "email", "iban": "iban"}
    found = []
    specs = [(s, (item.payload or {}).get(s.get("name"))) for s in item.use_case.input_fields or []] + [
        (s, ((item.fields or {}).get(s.get("name")) or {}).get("value")) for s in item.use_case.output_fields or []]
    for spec, value in specs:
        if not spec.get("personal_data") or value in (None, "") or isinstance(value, dict | list):
            continue
        reference = spec.get("reference", "")
        kind = kinds.get(spec.get("type")) or ("customer_number" if "customer" in reference
                                                 else "supplier_number" if "supplier" in reference else None)
        if kind:
            found.append((kind, str(value)))
    return found
