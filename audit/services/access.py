"""Access requests (GDPR Art. 15, EU AI Act Art. 86): every automated decision about a person — the item,
the release that decided, each suggestion with its confidence and explanation, how it was routed, and who
reviewed it — with the purposes, legal basis, recipients and retention of the use cases involved.

The request keeps the person's pseudonym; the export is built afresh each time from the identifier the
pseudonym still reveals (so it shows the current state, and nothing identifying is stored with it)."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.choices import RequestKind, RequestStatus
from audit.models import DataSubjectRequest, Pseudonym
from audit.selectors.pseudonyms import reveal
from audit.selectors.subjects import Subject, subject_find
from audit.services import requests
from audit.services.events import access_event_record, audit_event_record
from automations.registry.selectors import tenant_policy_get
from portal.permissions import actor_holds_role_perm

EXPORT_FORMAT = "leitplanke-access-export/1"


def _require(actor, tenant) -> None:
    if not actor_holds_role_perm(actor, tenant, "audit.add_datasubjectrequest"):
        raise PermissionDenied(_("Only the data protection officer of this tenant handles data subject requests."))


def data_subject_access_request_open(*, actor, tenant, identifier: str, kind: str | None = None,
                                     received_at=None, channel: str = "", reason: str = "") -> DataSubjectRequest:
    """Record an access request for the person found by the identifier (AmbiguousSubject and
    SubjectNotFound as for erasure); due one month after it was received."""
    _require(actor, tenant)
    with transaction.atomic():
        subject = subject_find(tenant=tenant, identifier=identifier, kind=kind, with_files=False)
        request = requests.data_subject_request_open(
            tenant=tenant, kind=RequestKind.ACCESS, identifier_kind=subject.kind, identifier=subject.identifier,
            actor=as_actor(actor), received_at=received_at, channel=channel, reason=reason)
        audit_event_record(actor=actor, tenant=tenant, event_type="data_subject_request.received", obj=request,
                           details={"kind": request.kind, "subject": request.subject_pseudonym,
                                    "due": request.due_at.date().isoformat(), "channel": request.channel})
        access_event_record(actor=actor, tenant=tenant, purpose="access_request", event_type="data_subject.searched",
                            subject_pseudonym=request.subject_pseudonym, obj=request)
    return request


def request_identifier(request: DataSubjectRequest) -> str | None:
    """The identifier behind the request, while its pseudonym key exists (an erasure destroys it)."""
    pseudonym = Pseudonym.objects.filter(tenant=request.tenant, pseudonym=request.subject_pseudonym).first()
    return reveal(pseudonym) if pseudonym else None


def data_subject_access_export(*, actor, request: DataSubjectRequest) -> dict:
    """The answer for the person (a dict, rendered as JSON, HTML or PDF). Reading it changes nothing about the
    request: completing it is data_subject_access_complete(), an explicit act."""
    tenant = request.tenant
    _require(actor, tenant)
    subject = _subject_of(request)
    with transaction.atomic():
        export = _build(subject, request)
        access_event_record(actor=actor, tenant=tenant, purpose="access_request", event_type="data_subject.exported",
                            subject_pseudonym=request.subject_pseudonym, obj=request)
    export["request"]["answered_at"] = (request.completed_at or timezone.now()).isoformat()
    return export


def data_subject_access_complete(*, actor, request: DataSubjectRequest) -> DataSubjectRequest:
    """The DSB sent the answer: the request is completed (only an open access request whose requester's
    identity was checked), with counts of what the answer held."""
    tenant = request.tenant
    _require(actor, tenant)
    if not request.identity_checked:
        raise ValidationError(_("Check and record the requester's identity before the answer goes out."))
    subject = _subject_of(request)
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != RequestStatus.OPEN:
            raise ValidationError(_("This request is no longer open."))
        export = _build(subject, request)
        requests.data_subject_request_complete(request=request, summary={
            "items": len(export["automated_decisions"]), "master_records": len(export["master_data"])})
        audit_event_record(actor=actor, tenant=tenant, event_type="data_subject_access.answered", obj=request,
                           details={"subject": request.subject_pseudonym, "items": len(export["automated_decisions"])})
    return request


def _subject_of(request: DataSubjectRequest) -> Subject:
    if request.kind != RequestKind.ACCESS:
        raise ValidationError(_("Only access requests have an export."))
    identifier = request_identifier(request)
    if identifier is None:
        raise ValidationError(_("The person of this request was erased since; there is nothing left to export."))
    return subject_find(tenant=request.tenant, identifier=identifier, kind=request.identifier_kind)


def _build(subject: Subject, request: DataSubjectRequest) -> dict:
    policy = tenant_policy_get(tenant=subject.tenant)
    use_cases = {}
    decisions = []
    for item in subject.items:
        use_case = item.use_case
        use_cases.setdefault(use_case.key, _use_case(use_case))
        decisions.append(_item(item))
    return {
        "format": EXPORT_FORMAT,
        "request": {"id": request.pk, "received_at": request.received_at.isoformat(),
                    "due_at": request.due_at.isoformat()},
        "controller": {"name": policy.controller_name, "contact": policy.controller_contact,
                       "data_protection_officer": policy.dsb_contact},
        "subject": {"identified_by": subject.kind, "identifier": subject.identifier},
        "master_data": [{"kind": r.kind, "number": r.number, "name": r.name, "vat_id": r.vat_id, "iban": r.iban,
                         "email": r.email} for r in subject.master_records],
        "use_cases": use_cases,
        "automated_decisions": decisions,
    }


def _use_case(use_case) -> dict:
    return {
        "title": use_case.title, "purpose": use_case.purpose, "legal_basis": use_case.get_legal_basis_display(),
        "automated_decisions": use_case.automated_decisions, "human_decisions": use_case.human_decisions,
        "recipients": list(use_case.recipients), "retention_days": use_case.retention_days,
        "risk_tier": use_case.get_risk_tier_display(),
    }


def _item(item) -> dict:
    runs = list(item.runs.select_related("release").order_by("created_at"))
    suggestions = list(item.suggestions.order_by("run_id", "field"))
    decisions = list(item.review_decisions.select_related("actor").order_by("created_at"))
    release = item.release or next((run.release for run in reversed(runs) if run.release), None)
    return {
        "item": str(item.pk),
        "use_case": item.use_case.key,
        "received_at": item.created_at.isoformat(),
        "status": item.status,
        "status_label": item.get_status_display(),
        "restricted": item.restricted,
        "input": item.payload,
        "release": release.number if release else None,
        "runs": [{"release": run.release.number if run.release else None, "label": run.label,
                  "status": run.status, "started_at": run.started_at.isoformat() if run.started_at else None}
                 for run in runs],
        "suggestions": [{"field": s.field, "value": s.value, "confidence": round(s.confidence, 4), "engine": s.engine,
                         "explanation": s.explanation} for s in suggestions],
        "reasons": list(item.reasons),
        "result": {name: {"value": spec.get("value"), "decided_by": spec.get("decided_by")}
                   for name, spec in (item.fields or {}).items() if isinstance(spec, dict)},
        "reviews": [{"reviewer": d.actor.get_full_name() or d.actor.get_username(), "decision": d.action,
                     "decision_label": d.get_action_display(), "decided_at": d.created_at.isoformat(),
                     "changed": d.diff} for d in decisions],
    }
