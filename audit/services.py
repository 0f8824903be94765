"""Writing to the audit log. Every service of the portal calls audit_event_record() inside its own
transaction, as its last write, so that the per-chain lock is held only until commit."""
import json
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import registry
from audit.actors import Actor, as_actor
from audit.chain import compute_hash
from audit.models import GENESIS_HASH, SYSTEM_CHAIN, AuditChainHead, AuditEvent

# Details carry pseudonyms, ids and codes, never raw identifiers of people.
_RAW_PERSONAL_DATA = [
    ("e-mail address", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b")),
]


class RawPersonalDataInAudit(ValueError):
    pass


def _check_details(details: dict) -> None:
    text = json.dumps(details, ensure_ascii=False, default=str)
    for label, pattern in _RAW_PERSONAL_DATA:
        if pattern.search(text):
            raise RawPersonalDataInAudit(
                f"Audit details must not contain a raw {label}; pass a pseudonym (audit.pseudonyms)."
            )


def chain_key(tenant) -> str:
    return str(tenant.pk) if tenant is not None else SYSTEM_CHAIN


def _object_ref(obj: Any) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return f"{obj._meta.app_label}.{obj._meta.model_name}", str(obj.pk)


def audit_event_record(
    *,
    actor: Actor | Any,
    tenant,
    event_type: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the tenant's chain (or the system chain for tenant=None).

    Runs inside the caller's transaction (or opens one): the event commits or rolls back with the
    change it describes. Appends to one chain are serialised by a row lock on its head."""
    registry.get(event_type)
    actor = as_actor(actor)
    details = details or {}
    _check_details(details)
    if obj is not None:
        object_type, object_id = _object_ref(obj)
    chain = chain_key(tenant)
    with transaction.atomic():
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(chain=chain, sequence=0, hash=GENESIS_HASH)], ignore_conflicts=True
        )
        head = AuditChainHead.objects.select_for_update().get(chain=chain)
        values = {
            "chain": chain,
            "sequence": head.sequence + 1,
            "occurred_at": timezone.now(),
            "actor_kind": actor.kind,
            "actor_user_id": actor.user_id,
            "actor_token_id": getattr(actor.token, "pk", None),
            "event_type": event_type,
            "object_type": object_type,
            "object_id": str(object_id),
            "details": json.loads(json.dumps(details, default=str)),
            "prev_hash": head.hash,
        }
        event = AuditEvent.objects.create(tenant=tenant, hash=compute_hash(values), **values)
        head.sequence, head.hash = event.sequence, event.hash
        head.save(update_fields=["sequence", "hash"])
    return event
