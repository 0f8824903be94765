"""The anchored purge of old audit and access events (`manage.py purge_audit --before DATE`).

Only the owner role may remove audit rows (audit.services.maintenance; DATABASE_ADMIN_URL when configured), only
events older than AUDIT_RETENTION_DAYS (at least six months, EU AI Act Art. 19, 26(6)), and only from a
chain that verifies. Before anything is removed, a signed anchor — the last removed event's sequence and
hash — is written to the checkpoint folder and, in the purging transaction, to AuditAnchor: verification
(and an exported chain) then starts at the anchor, and the rest of the chain stays provable."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from audit.models import AuditAnchor, SubjectReference
from audit.services import checkpoints
from audit.services.db_roles import admin_alias
from audit.services.events import audit_event_record
from audit.services.maintenance import audit_maintenance
from audit.streams import ACCESS, AUDIT, Stream
from audit.verification import Anchor, Checkpoint, audit_chain_verify
from portal.models import Tenant


class PurgeRefused(ValueError):
    pass


@dataclass
class PurgedChain:
    label: str
    chain: str
    up_to: int | None  # the anchor's sequence, or None when nothing was old enough
    events: int
    refused: str = ""


def earliest_allowed_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)


def _chains(tenant) -> list[tuple[Stream, str, str, object]]:
    """(stream, chain, label, tenant) of the audit and access chains to purge."""
    tenants = [tenant] if tenant is not None else list(Tenant.objects.order_by("slug"))
    found = [(AUDIT, AUDIT.chain_key(t), t.slug, t) for t in tenants]
    found += [(ACCESS, ACCESS.chain_key(t), ACCESS.label(t.slug), t) for t in tenants]
    if tenant is None:
        found.append((AUDIT, AUDIT.chain_key(None), "system", None))
    return found


def audit_purge(*, before: datetime, tenant=None, using: str | None = None) -> list[PurgedChain]:
    """Remove every event older than `before` from the chains (one tenant's, or all), each after its anchor."""
    if before > earliest_allowed_cutoff():
        raise PurgeRefused(_("Audit events are kept at least %(days)s days: choose a date before %(date)s.")
                           % {"days": settings.AUDIT_RETENTION_DAYS,
                              "date": f"{timezone.localtime(earliest_allowed_cutoff()):%Y-%m-%d}"})
    using = using or admin_alias()
    latest = checkpoints.checkpoints_latest()
    anchors = checkpoints.anchors_latest()
    results = []
    for stream, chain, label, owner in _chains(tenant):
        results.append(_purge_chain(stream, chain, label, owner, before, using, latest.get(chain),
                                    anchors.get(chain)))
    return results


def _purge_chain(stream, chain, label, owner, before, using, checkpoint, anchor) -> PurgedChain:
    events = stream.event_model.objects.using(using).filter(chain=chain)
    last = events.filter(occurred_at__lt=before).order_by("-sequence").values_list("sequence", "hash").first()
    start = anchor.sequence if anchor else 0
    if last is None or last[0] <= start:
        return PurgedChain(label, chain, None, 0)
    # The kept part must not begin with an event younger than the cut (time runs with the sequence).
    if events.filter(sequence__lte=last[0], occurred_at__gte=before).exists():
        return PurgedChain(label, chain, None, 0, _("events before the cut are not in time order"))
    verified = audit_chain_verify(chain=chain, label=label, stream=stream,
                                  checkpoint=Checkpoint(checkpoint.sequence, checkpoint.hash) if checkpoint else None,
                                  anchor=Anchor(anchor.sequence, anchor.hash) if anchor else None)
    if not verified.ok:
        return PurgedChain(label, chain, None, 0, _("the chain does not verify (%(line)s); nothing removed")
                           % {"line": verified.line})
    sequence, digest = last
    statement = checkpoints.statement_build(kind=checkpoints.ANCHOR, chain=chain, label=label, sequence=sequence,
                                            hash=digest, stream=stream.key, purged_before=before.isoformat())
    checkpoints.statement_write(statement)  # first: outside the database, before a row is gone
    with transaction.atomic(using=using):
        AuditAnchor.objects.using(using).create(chain=chain, sequence=sequence, hash=digest, purged_before=before,
                                                statement=statement)
        with audit_maintenance(using=using):
            SubjectReference.objects.using(using).filter(stream=stream.key, chain=chain,
                                                         sequence__lte=sequence).delete()
            removed, _by_model = events.filter(sequence__lte=sequence).delete()
    audit_event_record(actor=SYSTEM, tenant=owner, event_type="audit.purged",
                       details={"chain": label, "up_to": sequence, "events": removed, "before": before.isoformat()})
    return PurgedChain(label, chain, sequence, removed)
