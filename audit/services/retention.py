"""Retention of work items (daily, CELERY_BEAT_SCHEDULE "work-item-retention"): an item is deleted with its
files, runs, suggestions and review records once its use case's retention period is over (retention_days from
receipt; under a legal obligation such as § 147 AO in whole years from the end of the calendar year of
receipt: UseCase.retention_end) — unless it is under a legal hold (its own flag, or an active LegalHold on the
item, a person it names, its use case or the period it was received in), or still open (not applied, rejected
or failed: a person may still need it). Restricted items (Art. 18 GDPR) go too when their period ends: the
retention duty that kept them has ended. Each deletion is an audit event. Audit events themselves are never
deleted here: only `manage.py purge_audit` removes them, older than AUDIT_RETENTION_DAYS and after a signed
anchor (audit.services.purge)."""
import logging
from dataclasses import dataclass
from functools import partial

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from audit.actors import SYSTEM
from audit.selectors.legal_holds import HoldMatcher, hold_matcher
from audit.services.events import audit_event_record
from automations.execution.models.work import WorkItem
from automations.registry.models.use_cases import UseCase

logger = logging.getLogger(__name__)
CLOSED = ("applied", "rejected", "failed")


@dataclass
class RetentionReport:
    deleted: int = 0
    files: int = 0
    on_hold: int = 0
    still_open: int = 0
    failed: int = 0


def work_items_retention_sweep(*, now=None, batch: int = 500) -> RetentionReport:
    now = now or timezone.now()
    report = RetentionReport()
    matchers: dict[int, HoldMatcher] = {}
    for use_case in UseCase.objects.select_related("tenant").only("pk", "key", "tenant", "retention_days",
                                                                  "legal_basis"):
        matcher = matchers.get(use_case.tenant_id)
        if matcher is None:
            matcher = matchers[use_case.tenant_id] = hold_matcher(tenant=use_case.tenant)
        cutoff = use_case.retention_cutoff(now)
        due = WorkItem.objects.filter(use_case=use_case, created_at__lt=cutoff)
        report.on_hold += due.filter(legal_hold=True).count()
        report.still_open += due.filter(legal_hold=False, restricted=False).exclude(status__in=CLOSED).count()
        deletable = due.filter(legal_hold=False).filter(status__in=CLOSED) | due.filter(legal_hold=False,
                                                                                        restricted=True)
        for pk in list(deletable.values_list("pk", flat=True)[:batch * 100]):
            try:
                files = work_item_retention_delete(item_id=pk, use_case=use_case, cutoff=cutoff, holds=matcher)
            except ProtectedError:
                report.failed += 1
                logger.exception("Work item %s is past its retention but something still refers to it.", pk)
                continue
            if files == ON_HOLD:
                report.on_hold += 1
            elif files is not None:
                report.deleted += 1
                report.files += files
    return report


ON_HOLD = -1


def work_item_retention_delete(*, item_id, use_case, cutoff, holds=None) -> int | None:
    """Delete one item in its own short transaction, re-checked under a lock; returns its file count, None
    when it no longer qualifies, or ON_HOLD when an active legal hold covers it."""
    with transaction.atomic():
        item = WorkItem.objects.select_for_update().filter(pk=item_id, created_at__lt=cutoff,
                                                           legal_hold=False).select_related("use_case").first()
        if item is None or (item.status not in CLOSED and not item.restricted):
            return None
        if (holds if holds is not None else hold_matcher(tenant=use_case.tenant)).for_item(item) is not None:
            return ON_HOLD
        names = [upload.file.name for upload in item.files.all() if upload.file and upload.file.name]
        audit_event_record(actor=SYSTEM, tenant=item.tenant, event_type="work_item.retention_deleted", obj=item,
                           details={"use_case": use_case.key, "received": item.created_at.date().isoformat(),
                                    "retention_days": use_case.retention_days, "files": len(names),
                                    "restricted": item.restricted})
        item.delete()
        transaction.on_commit(partial(_delete_stored, names))
    return len(names)


def _delete_stored(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
