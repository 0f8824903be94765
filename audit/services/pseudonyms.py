"""Writing pseudonyms: pseudonym_for() turns an identifier into one (created on first use), erase() destroys
the subject's key (reading them back: audit.selectors.pseudonyms)."""
import secrets

from cryptography.fernet import Fernet
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from audit.choices import IdentifierKind
from audit.models import Pseudonym
from audit.selectors.pseudonyms import KINDS, lookup_digest, normalise


def pseudonym_for(*, tenant, kind: str, identifier: str) -> str:
    """The subject's pseudonym in this tenant, created on first use (on PostgreSQL found or created in one
    statement)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown identifier kind {kind!r}.")
    digest = lookup_digest(tenant, kind, identifier)
    key = Fernet.generate_key()
    fields = {"tenant": tenant, "kind": kind, "pseudonym": f"ps_{secrets.token_hex(10)}", "lookup_digest": digest,
              "subject_key": key, "identifier_encrypted": Fernet(key).encrypt(normalise(kind, identifier).encode())}
    using = router.db_for_write(Pseudonym)
    if connections[using].vendor == "postgresql":
        found = _pseudonym_upsert(using, fields)
        if found is not None:
            return found
    else:
        existing = Pseudonym.objects.filter(tenant=tenant, lookup_digest=digest).values_list(
            "pseudonym", flat=True).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                return Pseudonym.objects.create(**fields).pseudonym
        except IntegrityError:  # a concurrent writer created it first
            pass
    return Pseudonym.objects.get(tenant=tenant, lookup_digest=digest).pseudonym


def pseudonyms_for_many(*, tenant, identifiers) -> dict[tuple[str, str], str]:
    """Pseudonyms of many (kind, identifier) pairs at once, created where missing: a page that shows many
    people, an item's input or a bulk import's batch records them with one statement (PostgreSQL), not one
    per person."""
    digests = {}
    for kind, identifier in identifiers:
        if kind not in KINDS:
            raise ValueError(f"Unknown identifier kind {kind!r}.")
        if str(identifier or "").strip():
            digests[(kind, identifier)] = lookup_digest(tenant, kind, identifier)
    if not digests:
        return {}
    rows = {}
    for (kind, identifier), digest in digests.items():
        if digest not in rows:
            key = Fernet.generate_key()
            rows[digest] = (kind, f"ps_{secrets.token_hex(10)}", digest, key,
                            Fernet(key).encrypt(normalise(kind, identifier).encode()))
    using = router.db_for_write(Pseudonym)

    def found(wanted) -> dict[str, str]:
        return {digest: pseudonym for digest, pseudonym in Pseudonym.objects.using(using).filter(
            tenant=tenant, lookup_digest__in=set(wanted)).values_list("lookup_digest", "pseudonym")
            if digest is not None}

    if connections[using].vendor == "postgresql":
        known = _pseudonyms_upsert(using, tenant, list(rows.values()))
    else:
        known = found(rows)
        missing = [Pseudonym(tenant=tenant, kind=kind, pseudonym=pseudonym, lookup_digest=digest, subject_key=key,
                             identifier_encrypted=encrypted)
                   for kind, pseudonym, digest, key, encrypted in rows.values() if digest not in known]
        if missing:
            with transaction.atomic(using=using):  # a concurrent writer's pseudonym wins; read back either way
                Pseudonym.objects.using(using).bulk_create(missing, ignore_conflicts=True)
            known = {}
    if len(known) < len(rows):  # created by a concurrent writer after the statement began (or SQLite)
        known |= found(digest for digest in rows if digest not in known)
    return {pair: known[digest] for pair, digest in digests.items() if digest in known}


def _pseudonyms_upsert(using: str, tenant, rows: list[tuple]) -> dict[str, str]:
    """One statement: insert the pseudonyms of subjects that have none, and return {digest: pseudonym} of all
    of them — the inserted ones from the INSERT, the existing ones from the table as the statement found it."""
    table = Pseudonym._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s::bytea, %s::bytea)"] * len(rows))
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"WITH input (kind, pseudonym, lookup_digest, subject_key, identifier_encrypted) AS (VALUES {values}), "
            f"created AS (INSERT INTO {table} (tenant_id, kind, pseudonym, lookup_digest, subject_key, "
            f"identifier_encrypted, created_at) SELECT %s, kind, pseudonym, lookup_digest, subject_key, "
            f"identifier_encrypted, now() FROM input "
            f"ON CONFLICT (tenant_id, lookup_digest) DO NOTHING RETURNING lookup_digest, pseudonym) "
            f"SELECT lookup_digest, pseudonym FROM created UNION ALL "
            f"SELECT lookup_digest, pseudonym FROM {table} "
            f"WHERE tenant_id = %s AND lookup_digest IN (SELECT lookup_digest FROM input)",
            [value for row in rows for value in row] + [tenant.pk, tenant.pk])
        return dict(cursor.fetchall())


def _pseudonym_upsert(using: str, fields: dict) -> str | None:
    """Insert the pseudonym unless the subject has one; either way return theirs (None only when a concurrent
    writer created it after this statement began)."""
    table = Pseudonym._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"WITH created AS (INSERT INTO {table} (tenant_id, kind, pseudonym, lookup_digest, subject_key, "
            f"identifier_encrypted, created_at) VALUES (%s, %s, %s, %s, %s, %s, now()) "
            f"ON CONFLICT (tenant_id, lookup_digest) DO NOTHING RETURNING pseudonym) "
            f"SELECT pseudonym FROM created UNION ALL "
            f"(SELECT pseudonym FROM {table} WHERE tenant_id = %s AND lookup_digest = %s LIMIT 1)",
            [fields["tenant"].pk, fields["kind"], fields["pseudonym"], fields["lookup_digest"], fields["subject_key"],
             fields["identifier_encrypted"], fields["tenant"].pk, fields["lookup_digest"]])
        row = cursor.fetchone()
    return row[0] if row else None


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
    return sorted(set(pseudonyms_for_many(tenant=tenant, identifiers=payload_identifiers(use_case=use_case,
                                                                                        payload=payload)).values()))


def payload_identifiers(*, use_case, payload: dict) -> set[tuple[str, str]]:
    """(kind, identifier) of the people an item's input names (its personal-data fields that identify someone),
    with no statement: a bulk import gathers them over a batch and asks pseudonyms_for_many() once."""
    found: set[tuple[str, str]] = set()
    for spec in use_case.input_fields or []:
        value = payload.get(spec.get("name")) if isinstance(payload, dict) else None
        if not spec.get("personal_data") or not isinstance(value, str) or not value.strip():
            continue
        kind = _KIND_BY_REFERENCE.get(spec.get("reference", "")) or _KIND_BY_TYPE.get(spec.get("type", ""))
        if kind:
            found.add((kind, value))
    return found
