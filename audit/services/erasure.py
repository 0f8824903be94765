"""Erasure requests (GDPR Art. 17), carried out by the data protection officer (`manage.py erase_subject`,
the DSB area, the API).

What happens, in one transaction:
1. The person's work items (with their files, runs, suggestions, review tasks and decisions, escalations, and
   the test cases taken from them), labelled examples and master data records are deleted, master data history
   rows included. Items under a statutory retention duty (GDPR Art. 17(3)(b), e.g. invoices under § 147 AO) or
   a legal hold (the item's flag, or an active LegalHold on the item, the person, its use case or its period:
   Art. 17(3)(e)) are restricted instead (Art. 18: no processing, visible only to the DSB) and listed.
2. Wherever else the person's identifiers stand in stored text — any table, history tables included — they
   are replaced by a placeholder (the restricted items and their records excepted).
3. Their pseudonym keys are destroyed: audit rows name people only by pseudonym, so the chain stays intact
   and verifiable while it refers to no one any more.
4. The request is kept with a keyed hash of the identifier only, with counts and record ids.
"""
import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.choices import RequestKind
from audit.models import AccessEvent, AuditEvent, DataSubjectRequest, Pseudonym
from audit.selectors.legal_holds import hold_matcher
from audit.selectors.mentions import Leaving, mentions
from audit.selectors.subjects import (
    Subject,
    retention_duty_until,
    subject_find,
)
from audit.selectors.text_search import annotate_text, contains_any, text_filter
from audit.services import requests
from audit.services.events import access_event_record, audit_event_record
from audit.services.pseudonyms import erase as pseudonym_erase
from automations.evaluation.models import QualityTestCase
from automations.execution.models.work import MasterRecord, WorkItem
from portal.permissions import actor_holds_role_perm

logger = logging.getLogger(__name__)
PLACEHOLDER = "[gelöscht]"
_AUDIT_TABLES = ("audit_auditevent", "audit_accessevent")


class ErasureRefused(PermissionDenied):
    pass


@dataclass
class ErasureReport:
    dry_run: bool
    kind: str
    identifier: str  # printed for the DSB, never stored
    master_records: list[str] = field(default_factory=list)
    items_erased: list[str] = field(default_factory=list)
    items_restricted: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    replaced: dict[str, int] = field(default_factory=dict)  # "table.column": rows
    audit_mentions: int = 0
    request: DataSubjectRequest | None = None
    item_ids: list[str] = field(default_factory=list)
    restricted_ids: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """What the request keeps: counts and record ids, no identifier and no names."""
        return {"items_erased": self.item_ids, "items_restricted": self.restricted_ids,
                "master_records": len(self.master_records), "counts": self.counts,
                "replaced": self.replaced, "audit_mentions": self.audit_mentions}

    def lines(self) -> list[str]:
        would = self.dry_run
        out = [(_("Would erase %(kind)s %(value)s:") if would else _("Erased %(kind)s %(value)s:"))
               % {"kind": self.kind, "value": self.identifier}]
        master, item = _("master data"), _("work item")
        out += [f"  {master}: {line}" for line in self.master_records] or [f"  {master}: -"]
        out += [f"  {item}: {line}" for line in self.items_erased]
        for name, count in sorted(self.counts.items()):
            out.append(f"  {name}: {count}")
        for column, count in sorted(self.replaced.items()):
            out.append("  " + _("placeholder in %(column)s: %(count)s") % {"column": column, "count": count})
        for line in self.items_restricted:
            out.append("  " + _("RESTRICTED instead of erased: %(item)s") % {"item": line})
        if self.audit_mentions:
            warning = _("WARNING: audit rows mention an identifier: %(count)s")
            out.append("  " + warning % {"count": self.audit_mentions})
        if self.request is not None:
            out.append(_("Request %(id)s kept with a hash of the identifier only.") % {"id": self.request.pk})
        return out


def data_subject_erase(*, actor, tenant, identifier: str, kind: str | None = None, dry_run: bool = False,
                       received_at=None, reason: str = "", channel: str = "") -> ErasureReport:
    """Erase everything about the person in the tenant (see the module's docstring). Only the tenant's data
    protection officer may. Raises AmbiguousSubject (a name of several people) or SubjectNotFound."""
    actor = as_actor(actor)
    if not actor_holds_role_perm(actor, tenant, "audit.erase_subject"):
        raise ErasureRefused(_("Only the data protection officer of this tenant carries out erasure requests."))
    with transaction.atomic():
        subject = subject_find(tenant=tenant, identifier=identifier, kind=kind)
        report = _plan(subject, dry_run=dry_run)
        if dry_run:
            _record_preview(actor, subject)
            return report
        _carry_out(actor, subject, report, received_at=received_at, reason=reason, channel=channel)
    return report


def _describe_item(item) -> str:
    return f"{item.use_case.key}/{item.pk} ({timezone.localtime(item.created_at):%Y-%m-%d})"


def _plan(subject: Subject, *, dry_run: bool) -> ErasureReport:
    report = ErasureReport(dry_run=dry_run, kind=subject.kind, identifier=subject.identifier)
    report.master_records = [f"{r.get_kind_display()} {r.number}: {r.name}" for r in subject.master_records]
    holds = hold_matcher(tenant=subject.tenant)
    person_hold = holds.for_identifiers([(i.kind, i.value) for i in subject.identifiers])
    for item in subject.items:
        until = retention_duty_until(item)
        hold = person_hold or holds.for_item(item)
        if item.legal_hold or hold is not None or until is not None:
            reason = (_("legal hold %(reference)s") % {"reference": hold.reference} if hold is not None
                      else _("legal hold") if item.legal_hold
                      else _("statutory retention until %(date)s") % {"date": f"{until:%Y-%m-%d}"})
            report.items_restricted.append(f"{_describe_item(item)}: {reason}")
            report.restricted_ids.append(str(item.pk))
        else:
            report.items_erased.append(_describe_item(item))
            report.item_ids.append(str(item.pk))
    erased = [item for item in subject.items if str(item.pk) in report.item_ids]
    report.counts = {
        "files": sum(item.files.count() for item in erased),
        "review_decisions": sum(item.review_decisions.count() for item in erased),
        "escalations": sum(item.escalations.count() for item in erased),
        "labelled_examples": len(subject.examples),
        "pseudonyms": len(subject.pseudonyms),
    }
    if dry_run:
        report.replaced = dict(_mention_counts(subject, Leaving.of(subject)))
    report.audit_mentions = _audit_mentions(subject)
    return report


def _record_preview(actor, subject: Subject) -> None:
    shown: list[Pseudonym | None] = [*subject.pseudonyms[:1]] or [None]
    for pseudonym in shown:
        access_event_record(actor=actor, tenant=subject.tenant, purpose="erasure_request_preview",
                            subject_pseudonym=pseudonym.pseudonym if pseudonym else "",
                            event_type="data_subject.searched")


def _carry_out(actor, subject: Subject, report: ErasureReport, *, received_at=None, reason: str = "",
               channel: str = "") -> None:
    tenant = subject.tenant
    request = requests.data_subject_request_open(
        tenant=tenant, kind=RequestKind.ERASURE, identifier_kind=subject.kind, identifier=subject.identifier,
        actor=actor, received_at=received_at, reason=reason, channel=channel)
    # 1. the person's records
    files: list[str] = []
    # Test cases taken from the person's items hold the same input (and file): they go with the items.
    cases = list(QualityTestCase.objects.filter(tenant=tenant, item_id__in=[UUID(pk) for pk in report.item_ids]))
    case_ids = [case.pk for case in cases]
    for case in cases:
        if case.file and case.file.name:
            files.append(case.file.name)
        case.delete()
    if case_ids:
        report.counts["test_cases"] = len(case_ids)
        QualityTestCase.history.model.objects.filter(id__in=case_ids).delete()  # after the delete's own row
    for item in WorkItem.objects.filter(pk__in=report.item_ids).prefetch_related("files"):
        files += [upload.file.name for upload in item.files.all() if upload.file and upload.file.name]
        item.delete()
    for example in subject.examples:
        example.delete()
    record_ids = [record.pk for record in subject.master_records]
    MasterRecord.objects.filter(pk__in=record_ids).delete()
    # After the delete, which adds a history row of its own.
    history = MasterRecord.history.model
    report.counts["master_data_history_rows"] = history.objects.filter(id__in=record_ids).delete()[0]
    _delete_files_on_commit(files)
    restricted = list(WorkItem.objects.filter(pk__in=report.restricted_ids))
    for item in restricted:
        item.restricted = True
        item.save(update_fields=["restricted"])
    # 2. mentions elsewhere
    report.replaced = dict(_replace_mentions(subject, Leaving(items=report.restricted_ids)))
    report.audit_mentions = _audit_mentions(subject)
    # 3. pseudonyms and 4. the request, audited in the same transaction
    for item in restricted:
        audit_event_record(actor=actor, tenant=tenant, event_type="work_item.restricted", obj=item,
                           details={"request": request.pk, "legal_hold": item.legal_hold})
    pseudonyms = {pseudonym.pk: pseudonym for pseudonym in subject.pseudonyms}
    own = Pseudonym.objects.get(pseudonym=request.subject_pseudonym)  # the request's own reference
    pseudonyms.setdefault(own.pk, own)
    report.counts["pseudonyms"] = len(pseudonyms)
    for pseudonym in pseudonyms.values():
        pseudonym_erase(pseudonym)
        audit_event_record(actor=actor, tenant=tenant, event_type="pseudonym.erased",
                           details={"pseudonym": pseudonym.pseudonym, "request": request.pk})
    report.request = request
    _scrub_database_on_commit()
    requests.data_subject_request_complete(request=request, summary=report.summary())
    audit_event_record(actor=actor, tenant=tenant, event_type="data_subject.erased", obj=request,
                       details={"subject": request.subject_pseudonym, "items_erased": len(report.item_ids),
                                "items_restricted": report.restricted_ids, "counts": report.counts,
                                "placeholders": sum(report.replaced.values())})


def _delete_files_on_commit(names: list[str]) -> None:
    def delete() -> None:
        for name in names:
            _overwrite(name)
            default_storage.delete(name)

    if names:
        transaction.on_commit(delete)


def _overwrite(name: str) -> None:
    """Overwrite a stored file with zeros before it is deleted, where the storage is a local folder: the
    blocks of an unlinked file are otherwise left as they were."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:  # remote storage: deleting is all it offers
        return
    try:
        with open(path, "r+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(0)
            while size > 0:
                chunk = min(size, 1 << 20)
                handle.write(b"\0" * chunk)
                size -= chunk
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        logger.warning("Could not overwrite %s before deleting it.", name)


def _scrub_database_on_commit() -> None:
    """On the embedded SQLite default, after the erasure commits: copy the write-ahead log into the database
    and truncate it, then rebuild the file, so that neither the WAL nor free pages keep the erased bytes
    (secure_delete, set on every connection, zeroes what the transaction itself freed). PostgreSQL reuses
    dead row space through VACUUM on its own schedule; its files are not the embedded default's."""
    if connection.vendor != "sqlite":
        return

    def scrub() -> None:
        with connection.cursor() as cursor:
            for statement in ("PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"):
                for _attempt in range(50):  # a reader of another process may hold the log for a moment
                    cursor.execute(statement)
                    row = cursor.fetchone() if statement.startswith("PRAGMA") else None
                    if row is None or not row[0]:
                        break
                    time.sleep(0.1)
                else:
                    logger.warning("SQLite %s stayed busy after the erasure; run it again later.", statement)

    transaction.on_commit(scrub)


def _mention_counts(subject: Subject, leaving: Leaving) -> Iterator[tuple[str, int]]:
    counts: dict[str, int] = {}
    for model, _pk, column, _value in mentions(subject, leaving):
        key = f"{model._meta.db_table}.{column}"
        counts[key] = counts.get(key, 0) + 1
    return iter(counts.items())


def _replace_mentions(subject: Subject, leaving: Leaving) -> Iterator[tuple[str, int]]:
    pattern = re.compile("|".join(re.escape(needle) for needle in subject.needles()), re.IGNORECASE)
    counts: dict[str, int] = {}
    for model, pk, column, value in list(mentions(subject, leaving)):
        model_field = model._meta.get_field(column)
        replaced = _replace(value, pattern, model_field, pk)
        if replaced != value:
            # update(): no save() signals, no new history row carrying the old value.
            model._base_manager.filter(pk=pk).update(**{column: replaced})
            key = f"{model._meta.db_table}.{column}"
            counts[key] = counts.get(key, 0) + 1
    return iter(counts.items())


def _replace(value, pattern: re.Pattern, model_field, pk):
    if isinstance(value, str):
        if _is_unique(model_field) and pattern.fullmatch(value.strip()):
            new = f"{PLACEHOLDER}-{pk}"
        else:
            new = pattern.sub(PLACEHOLDER, value)
        max_length = getattr(model_field, "max_length", None)
        return new[:max_length] if max_length else new
    if isinstance(value, dict):
        return {_replace(key, pattern, None, pk): _replace(item, pattern, None, pk) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, pattern, None, pk) for item in value]
    return value


def _is_unique(model_field) -> bool:
    if model_field is None:
        return False
    if model_field.unique:
        return True
    model = model_field.model
    return any(model_field.name in getattr(constraint, "fields", ())
               for constraint in model._meta.constraints if isinstance(constraint, models.UniqueConstraint))


def _audit_mentions(subject: Subject) -> int:
    """Audit and access rows are immutable; they must never hold an identifier (audit.services.events refuses
    e-mail addresses and IBANs). Counted so that a leak would show in the report."""
    needles = subject.needles()
    total = 0
    for model in (AuditEvent, AccessEvent):
        columns = ["details", "object_id"]
        queryset = annotate_text(model.objects.filter(tenant=subject.tenant), columns)
        total += sum(1 for details, object_id in queryset.filter(text_filter(columns, needles)).values_list(
            "details", "object_id") if contains_any([details, object_id], needles))
    return total

