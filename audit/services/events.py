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
from audit.models import GENESIS_HASH, AccessEvent, AuditEvent, SubjectReference, VerificationRun
from audit.selectors.pseudonyms import PSEUDONYM_PATTERN
from audit.services.checkpoints import verification_inputs
from audit.streams import ACCESS, AUDIT, Stream
from audit.verification import audit_verify

# Details carry pseudonyms, ids and codes, never raw identifiers of people. Both patterns take time linear
# in the details' length: an address is looked for only where a run of its characters begins.
_RAW_PERSONAL_DATA = [
    ("e-mail address", re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++\.[\w.-]+")),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b")),
]


class RawPersonalDataInAudit(ValueError):
    pass


def _check_details(details: dict) -> None:
    text = json.dumps(details, ensure_ascii=False, default=str)
    for label, pattern in _RAW_PERSONAL_DATA:
        if pattern.search(text):
            raise RawPersonalDataInAudit(
                f"Audit details must not contain a raw {label}; pass a pseudonym (audit.services.pseudonyms)."
            )


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
    return chain_append(stream=AUDIT, actor=actor, tenant=tenant, event_type=event_type, obj=obj,
                        object_type=object_type, object_id=object_id, details=details)


def access_event_record(
    *,
    actor: Actor | Any,
    tenant,
    purpose: str,
    subject_pseudonym: str = "",
    obj: Any = None,
    event_type: str = "personal_data.viewed",
    details: dict | None = None,
) -> AccessEvent:
    """Record that someone opened personal data: whose (a pseudonym from audit.services.pseudonyms), which record
    (obj) and why (purpose, a short code or text such as "review"). Call it in the request that shows the
    data; it appends to the tenant's access chain. In a transaction that also records audit events,
    record those first (heads are always locked audit first, then access)."""
    if not str(purpose or "").strip():
        raise ValueError("An access event needs its purpose.")
    details = {**(details or {}), "purpose": str(purpose).strip()[:200]}
    if subject_pseudonym:
        details["subject"] = subject_pseudonym
    return chain_append(stream=ACCESS, actor=actor, tenant=tenant, event_type=event_type, obj=obj,
                        details=details)


def chain_append(*, stream: Stream, actor, tenant, event_type: str, obj: Any = None, object_type: str = "",
                 object_id: str = "", details: dict | None = None):
    """Append one event to a chain of `stream`; the one place where links are made."""
    registry.get(event_type)
    actor = as_actor(actor)
    details = details or {}
    _check_details(details)
    if obj is not None:
        object_type, object_id = _object_ref(obj)
    chain = stream.chain_key(tenant)
    with transaction.atomic():
        stream.head_model.objects.bulk_create(
            [stream.head_model(chain=chain, sequence=0, hash=GENESIS_HASH)], ignore_conflicts=True
        )
        head = stream.head_model.objects.select_for_update().get(chain=chain)
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
        event = stream.event_model.objects.create(tenant=tenant, hash=compute_hash(values), **values)
        head.sequence, head.hash = event.sequence, event.hash
        head.save(update_fields=["sequence", "hash"])
        if tenant is not None:
            _index_subjects(stream, tenant, event)
    return event


def _index_subjects(stream: Stream, tenant, event) -> None:
    found = sorted(set(PSEUDONYM_PATTERN.findall(json.dumps(event.details))))
    if found:
        SubjectReference.objects.bulk_create([
            SubjectReference(stream=stream.key, tenant=tenant, chain=event.chain, sequence=event.sequence,
                             pseudonym=pseudonym)
            for pseudonym in found
        ])


def audit_verification_run(*, trigger: str, actor=None, tenant=None):
    """Verify the chains (all, or one tenant's) against the newest signed checkpoints and anchors, and keep
    the result as a VerificationRun (the DSB area shows the last one). Returns (run, result, problems),
    problems being checkpoint files that were ignored."""
    user = as_actor(actor).user
    started_at = timezone.now()
    problems: list = []
    checkpoints, anchors = verification_inputs(problems)
    result = audit_verify(tenant=tenant, checkpoints=checkpoints, anchors=anchors)
    results = [{"chain": chain.chain, "label": chain.label, "stream": chain.stream, "events": chain.events,
                "ok": chain.ok, "line": chain.line, "lines": chain.lines, "failures": chain.failure_count,
                "checkpoint": chain.checkpoint, "anchor": chain.anchor} for chain in result.chains]
    # Written once, when it is done: verification runs are append-only like the chains they judge.
    run = VerificationRun.objects.create(trigger=trigger, actor=user, tenant=tenant, started_at=started_at,
                                         finished_at=timezone.now(), ok=result.ok and not problems, results=results)
    return run, result, problems
