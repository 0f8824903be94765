"""Intake: a work item is stored with its payload and files, then handed to the pipeline on commit.
The same idempotency key gives the same item (also under concurrent requests); with other content it
is refused."""
import hashlib
import json
from contextlib import nullcontext

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.services.events import audit_event_record, audit_links_after_commit
from audit.services.pseudonyms import payload_identifiers, payload_pseudonyms
from automations.choices import ItemSource, ItemStatus, UseCaseStatus
from automations.engines import limits
from automations.execution.models.work import WorkItem, WorkItemFile
from automations.execution.services.runs import run_queued, run_send_on_commit
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import file_types_accepted, use_case_may
from portal import dispatch
from portal import files as stored_files
from portal.choices import Role
from portal.db.prepared import PreparedQuery
from portal.permissions import require_perm
from portal.selectors import reads_all_work, roles_of


class UseCaseNotAccepting(ValidationError):
    """The use case is a draft or retired: it accepts no items (HTTP 409)."""

    problem_status, problem_code = 409, "use_case_not_accepting"


# A tenant's use case by its key (unique per tenant), compiled once per process: every intake asks it.
_USE_CASE_BY_KEY = PreparedQuery(UseCase, lambda tenant_id, key: (
    UseCase.objects.filter(tenant_id=tenant_id, key=key).order_by()[:1]), tenant_id=int, key=str)


def use_case_accepting(*, actor, tenant, key: str) -> UseCase:
    """The tenant's use case `key`, which must accept work items from `actor`: an unknown key is a
    ValidationError; a use case the actor does not work is refused (PermissionDenied: a clerk sends work to
    the use cases whose queues they work, a department owner to their own, the automation lead and IT to every
    one; registry.selectors.use_case_restrict, action intake; the system always); a use case in draft or
    retired is refused with UseCaseNotAccepting. Every way in (one item, a bulk import) asks here."""
    actor = as_actor(actor)
    require_perm(actor, tenant, "automations.add_workitem")
    use_case = _USE_CASE_BY_KEY.first(tenant_id=tenant.pk, key=key)
    if use_case is None:
        raise ValidationError(_("Unknown use case %(key)s.") % {"key": key})
    # With add_workitem, a tenant-wide reader of work (the lead, IT) sends to every use case (from the roles the
    # request read already: no statement); anyone else asks the scoped read.
    if actor.kind != "system" and not reads_all_work(user=actor.user, tenant=tenant) \
            and not use_case_may(use_case=use_case, user=actor.user, action="intake"):
        raise PermissionDenied(_("You do not work the use case %(key)s: its work items come from its own team.")
                               % {"key": use_case.key})
    if use_case.status in (UseCaseStatus.DRAFT, UseCaseStatus.RETIRED):
        raise UseCaseNotAccepting(_("The use case %(key)s is in %(status)s and accepts no work items.")
                                  % {"key": use_case.key, "status": use_case.get_status_display()})
    return use_case


class IdempotencyConflict(ValidationError):
    """The idempotency key was used before with other content (HTTP 422)."""

    problem_status, problem_code = 422, "idempotency_conflict"


class UnsupportedFileType(ValidationError):
    """A file whose content is of a type the use case's engines do not read (HTTP 415)."""

    problem_status, problem_code = 415, "unsupported_file_type"


def file_type_label(content_type: str) -> str:
    """A content type as a person names it."""
    f = stored_files
    labels = {f.PDF: "PDF", f.XML: "XML", f.TEXT: _("text"), f.EMAIL: _("e-mail"), f.PNG: "PNG", f.JPEG: "JPEG",
              f.GIF: "GIF", f.WEBP: "WebP", f.TIFF: "TIFF", f.HTML: "HTML", f.SVG: "SVG",
              f.ZIP: _("ZIP archive or Office document"), f.OLE: _("Office document")}
    return labels.get(content_type, _("unknown binary data"))


def _refuse_types(read: list[tuple[str, bytes, str]], accepted: frozenset[str], use_case_key: str) -> None:
    for name, _data, content_type in read:
        if content_type not in accepted:
            raise UnsupportedFileType(
                _("%(name)s was not accepted: its content is %(kind)s; %(use_case)s accepts %(accepted)s.") % {
                    "name": name, "kind": file_type_label(content_type), "use_case": use_case_key,
                    "accepted": ", ".join(sorted({file_type_label(t) for t in accepted}))})


class InputTooLarge(ValidationError):
    """Input fields over their limits (automations.engines.limits); `fields` names each with the reason (HTTP 422)."""

    problem_status, problem_code = 422, "input_too_large"

    def __init__(self, fields: dict[str, str]):
        super().__init__(list(fields.values()))
        self.fields = fields


class FileTooLarge(ValidationError):
    """A file over UPLOAD_MAX_FILE_BYTES (HTTP 413)."""

    problem_status, problem_code = 413, "file_too_large"


def check_payload_size(use_case: UseCase, payload) -> None:
    """Before any transaction: a payload over its fields' limits is refused with the reasons."""
    problems = limits.payload_problems(use_case, payload)
    if problems:
        raise InputTooLarge(problems)


def canonical_payload(payload: dict) -> str:
    """The payload as the content hash reads it (sorted keys, UTF-8 text); also valid JSON for the database."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)


def content_hash_of(use_case: UseCase, payload: dict, files: list[tuple[str, bytes, str]], *,
                    canonical: str | None = None) -> str:
    """What an Idempotency-Key's repeat and the duplicate check compare; `canonical` when the caller has
    canonical_payload(payload) already."""
    digest = hashlib.sha256()
    digest.update(use_case.key.encode())
    digest.update((canonical if canonical is not None else canonical_payload(payload)).encode())
    for _name, data, _type in files:
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def read_uploads(files, *, accepted: frozenset[str] | None = None,
                 use_case_key: str = "") -> list[tuple[str, bytes, str]]:
    """(name, content, content type) per upload. The content type is judged by the content (never the
    uploader's declared type or the file name); with `accepted`, a file of any other type is refused."""
    read = []
    limit = settings.UPLOAD_MAX_FILE_BYTES
    for upload in files or []:
        if (getattr(upload, "size", None) or 0) > limit:
            raise FileTooLarge(_("%(name)s is larger than %(limit)s MB.") % {"name": upload.name,
                                                                          "limit": limit // (1024 * 1024)})
        data = upload.read(limit + 1)
        if len(data) > limit:
            raise FileTooLarge(_("%(name)s is larger than %(limit)s MB.") % {"name": upload.name,
                                                                          "limit": limit // (1024 * 1024)})
        read.append((upload.name or "upload", data, stored_files.sniff(data)))
    if accepted is not None:
        _refuse_types(read, accepted, use_case_key)
    return read


def work_item_create(*, actor, tenant, use_case_key: str, payload: dict | None = None, files=None,
                     idempotency_key: str | None = None, external_id: str = "",
                     source: str = ItemSource.API, clarification: str = "") -> tuple[WorkItem, bool]:
    """Returns (item, created). Items of a suspended use case are kept as `held`. With `clarification` (why
    the input cannot be processed, e.g. an unreadable e-mail), the item goes straight to the clarification
    queue instead of the pipeline."""
    actor = as_actor(actor)
    require_perm(actor, tenant, "automations.add_workitem")
    use_case = use_case_accepting(actor=actor, tenant=tenant, key=use_case_key)
    payload = payload or {}
    if not isinstance(payload, dict):
        raise ValidationError(_("The payload must be an object of input fields."))
    check_payload_size(use_case, payload)
    data = read_uploads(files, accepted=file_types_accepted(use_case=use_case) if files else None,
                        use_case_key=use_case.key)
    if not payload and not data:
        raise ValidationError(_("Send a file or a payload of input fields."))
    digest = content_hash_of(use_case, payload, data)
    key = (idempotency_key or "").strip() or None
    longest = WorkItem._meta.get_field("idempotency_key").max_length
    if key and longest is not None and len(key) > longest:
        raise ValidationError(_("The Idempotency-Key may be at most 200 characters long."))

    if key:
        existing = WorkItem.objects.for_tenant(tenant).filter(idempotency_key=key).first()
        if existing is not None:
            return _same_or_conflict(existing, digest, use_case), False
    item = WorkItem(tenant=tenant, use_case=use_case, source=source, external_id=external_id[:200],
                    idempotency_key=key, content_hash=digest, payload=payload,
                    status=ItemStatus.HELD if use_case.status == UseCaseStatus.SUSPENDED else ItemStatus.RECEIVED,
                    created_by=actor.user)
    held = item.status == ItemStatus.HELD
    if clarification and item.status == ItemStatus.RECEIVED:
        item.status, item.reasons = ItemStatus.CLARIFICATION, [clarification[:1000]]
    run = run_queued(item=item) if item.status == ItemStatus.RECEIVED else None
    people = payload_identifiers(use_case=use_case, payload=payload)
    # The item, its run and its event are one INSERT. Where that is all (no files, nobody to pseudonymise, the
    # chain linked after commit), it needs no transaction of its own: it commits by itself, or with the caller's.
    alone = not data and not people and item.status != ItemStatus.CLARIFICATION and audit_links_after_commit()
    try:
        with nullcontext() if alone and not transaction.get_connection().in_atomic_block else transaction.atomic():
            audit_event_record(actor=actor, tenant=tenant, event_type="work_item.received", obj=item,
                               details={"use_case": use_case.key, "source": source, "files": len(data),
                                        "content_hash": digest, "held": held,
                                        "subjects": payload_pseudonyms(tenant=tenant, use_case=use_case,
                                                                       payload=payload) if people else []},
                               write_with=[item, run] if run is not None else [item])
            store_files(item, data)
            if item.status == ItemStatus.CLARIFICATION:
                dispatch.emit("work_item.routed", item=item, outcome=ItemStatus.CLARIFICATION, reasons=item.reasons)
            elif run is not None:
                run_send_on_commit(run)
    except IntegrityError:
        # A concurrent request with the same key won the insert; answer as the repeat it is.
        existing = WorkItem.objects.for_tenant(tenant).filter(idempotency_key=key).first()
        if key is None or existing is None:
            raise
        return _same_or_conflict(existing, digest, use_case), False
    return item, True


def store_files(item: WorkItem, data: list[tuple[str, bytes, str]]) -> None:
    """Files go under MEDIA_ROOT (outside the web root) and are served only by permission-checked views."""
    for name, content, content_type in data:
        WorkItemFile(tenant=item.tenant, item=item, name=name[:255], content_type=content_type[:120],
                     size=len(content), sha256=hashlib.sha256(content).hexdigest()
                     ).file.save(name, ContentFile(content), save=True)


def _same_or_conflict(existing: WorkItem, digest: str, use_case: UseCase) -> WorkItem:
    if existing.content_hash != digest or existing.use_case_id != use_case.pk:
        raise IdempotencyConflict(_("This idempotency key was used before with other content."))
    existing.use_case = use_case  # the same row, read already: the answer names it without reading it again
    return existing


def may_read_restricted(actor, tenant) -> bool:
    """Only the tenant's data protection officer sees an item whose processing is restricted (Art. 18
    GDPR) — not an auditor, not the automation lead, not the system."""
    actor = as_actor(actor)
    return actor.kind != "system" and Role.DATA_PROTECTION_OFFICER in roles_of(user=actor.user, tenant=tenant)


def ensure_may_read(actor, item: WorkItem) -> None:
    """The one read gate of a work item, its files and its tasks, for pages, API and files alike: the
    view permission, the item's use case within the user's reach (registry.selectors.use_case_restrict,
    action "work": a clerk the items of the queues granted to them, a department owner those of their use
    cases), and for a restricted item the DSB role. A look that passes is recorded by the caller
    (reviews.services.work_item_view_record); a restricted item's always is."""
    if not as_actor(actor).kind == "system":
        require_perm(actor, item.tenant, "automations.view_workitem", item)
        if not use_case_may(use_case=item.use_case, user=as_actor(actor).user, action="work"):
            raise PermissionDenied(_("This item belongs to a use case whose work you do not see."))
    if item.restricted and not may_read_restricted(actor, item.tenant):
        raise PermissionDenied(_("Processing of this item is restricted (Art. 18 GDPR); only the data protection "
                                 "officer may see it."))
