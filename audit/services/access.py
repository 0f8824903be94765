"""Access requests (GDPR Art. 15, EU AI Act Art. 86): every automated decision about a person — the item,
the release that decided, each suggestion with its confidence and explanation, how it was routed, and who
reviewed it — with the purposes, legal basis, recipients and retention of the use cases involved.

The request keeps the person's pseudonym; the export is built afresh each time from the identifier the
pseudonym still reveals (so it shows the current state, and nothing identifying is stored with it)."""
from io import BytesIO
from xml.sax.saxutils import escape

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import registry
from audit.actors import as_actor
from audit.choices import IdentifierKind, RequestKind, RequestStatus
from audit.models import AccessEvent, DataSubjectRequest, Pseudonym, SubjectReference
from audit.selectors.processing_records import connector_description
from audit.selectors.pseudonyms import reveal
from audit.selectors.subjects import Subject, subject_find
from audit.services import requests
from audit.services.events import access_event_record, audit_event_record
from automations.choices import CatalogueKind, LegalBasis
from automations.fields import category_label, choice_label, date_shown, engine_label, field_label, moment_shown
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


def _rights() -> list[str]:
    """Art. 15(1)(e) GDPR: the rights the person has."""
    return [
        _("Rectification of inaccurate data (Art. 16 GDPR)."),
        _("Erasure (Art. 17 GDPR), unless a statutory retention duty or a legal claim requires keeping the data."),
        _("Restriction of processing (Art. 18 GDPR)."),
        _("Objection to processing based on legitimate interests (Art. 21 GDPR)."),
        _("Not to be subject to a decision based solely on automated processing (Art. 22 GDPR), and an explanation "
          "of the role of an AI system in a decision about you (Art. 86 EU AI Act)."),
        _("Withdrawal of consent at any time, where processing rests on consent (Art. 7(3) GDPR)."),
    ]


def _build(subject: Subject, request: DataSubjectRequest) -> dict:
    policy = tenant_policy_get(tenant=subject.tenant)
    use_cases: dict[str, dict] = {}
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
        "subject": {"identified_by": subject.kind, "identified_by_label": _identifier_kind_label(subject.kind),
                    "identifier": subject.identifier},
        "master_data": [{"kind": r.kind, "number": r.number, "name": r.name, "vat_id": r.vat_id, "iban": r.iban,
                         "email": r.email,
                         "source": _("kept by the controller as master data (entered, imported or sent by a "
                                     "connected system)")} for r in subject.master_records],
        "use_cases": use_cases,
        "automated_decisions": decisions,
        "documents": [document for decision in decisions for document in decision["documents"]],
        "rights": _rights(),
        "supervisory_authority": _(
            "You may lodge a complaint with a data protection supervisory authority (Art. 77 GDPR), in particular "
            "the one of the federal state where you live or work or where the controller has its seat."),
        "access_log": _access_log(subject),
    }


def _access_log(subject: Subject) -> list[dict]:
    """Who in the controller's organisation opened the person's data, when and why: the access events that
    name one of their pseudonyms."""
    pseudonyms = [p.pseudonym for p in subject.pseudonyms]
    if not pseudonyms:
        return []
    indexed = SubjectReference.objects.filter(tenant=subject.tenant, stream="access", pseudonym__in=pseudonyms)
    events = list(AccessEvent.objects.filter(tenant=subject.tenant)
                  .filter(Q(details__subject__in=pseudonyms)
                          | Q(sequence__in=indexed.values("sequence"), chain__in=indexed.values("chain")))
                  .order_by("occurred_at")[:1000])
    ids = {e.actor_user_id for e in events if e.actor_user_id}
    users = {u.pk: u.get_username() for u in get_user_model().objects.filter(pk__in=ids)} if ids else {}
    # The event type and purpose as stored (keys) and as the person reads them.
    return [{"at": event.occurred_at.isoformat(), "what": event.event_type,
             "what_label": registry.label(event.event_type), "by": users.get(event.actor_user_id, event.actor_kind),
             "purpose": event.details.get("purpose", ""),
             "purpose_label": registry.purpose_label(event.details.get("purpose", ""))}
            for event in events]


def _use_case(use_case) -> dict:
    processors = [{"name": entry.name, "vendor": entry.vendor, "location": entry.location,
                   "transfer_basis": entry.get_transfer_basis_display() if entry.transfer_basis else "",
                   "data_processing_agreement": entry.dpa_reference}
                  for entry in use_case.catalogue_entries.filter(kind=CatalogueKind.PROCESSOR)]
    # Target systems that receive the results, and where the data arrives from: the use case's connectors.
    connectors = [{"name": entry.name, "type": entry.connector_type, "direction": entry.direction,
                   "location": entry.location, "description": connector_description(entry)}
                  for entry in use_case.catalogue_entries.filter(kind=CatalogueKind.CONNECTOR, is_active=True)]
    if use_case.legal_basis == LegalBasis.LEGAL_OBLIGATION:
        # As retention runs (UseCase.retention_end): whole years from the end of the calendar year of receipt.
        retention = _("kept for %(years)s years from the end of the calendar year of receipt (statutory retention, "
                      "e.g. § 147 AO, § 257 HGB)") % {"years": max(1, round(use_case.retention_days / 365))}
    else:
        retention = _("deleted %(days)s days after receipt") % {"days": use_case.retention_days}
    return {
        "title": use_case.title, "purpose": use_case.purpose, "legal_basis": use_case.get_legal_basis_display(),
        "categories": sorted(category_label(c) for c in use_case.personal_data_categories()),
        "automated_decisions": use_case.automated_decisions, "human_decisions": use_case.human_decisions,
        "recipients": list(use_case.recipients), "processors": processors, "connectors": connectors,
        "retention_days": use_case.retention_days, "retention": retention,
        "risk_tier": use_case.get_risk_tier_display(),
    }


def _item(item) -> dict:
    runs = list(item.runs.select_related("release").order_by("created_at"))
    suggestions = list(item.suggestions.order_by("run_id", "field"))
    decisions = list(item.review_decisions.select_related("actor").order_by("created_at"))
    release = item.release or next((run.release for run in reversed(runs) if run.release), None)
    specs = {spec.get("name"): spec for spec in item.use_case.output_fields if isinstance(spec, dict)}
    return {
        "item": str(item.pk),
        "use_case": item.use_case.key,
        "use_case_title": item.use_case.title,
        "received_at": item.created_at.isoformat(),
        # When retention deletes it, unless a legal hold keeps it longer.
        "kept_until": item.use_case.retention_end(item.created_at).date().isoformat(),
        "status": item.status,
        "status_label": item.get_status_display(),
        "source": item.get_source_display(),
        "documents": [{"item": str(item.pk), "name": f.name, "content_type": f.content_type, "size": f.size,
                       "sha256": f.sha256} for f in item.files.all()],
        "logic": _logic(suggestions),
        "restricted": item.restricted,
        "input": item.payload,
        "release": release.number if release else None,
        "runs": [{"release": run.release.number if run.release else None, "label": run.label,
                  "status": run.status, "started_at": run.started_at.isoformat() if run.started_at else None}
                 for run in runs],
        "suggestions": [{"field": s.field, "value": s.value, "confidence": round(s.confidence, 4), "engine": s.engine,
                         "explanation": s.explanation,
                         # The same for people: the field's label, the choice's label, the engine's name.
                         "field_label": field_label(specs.get(s.field), s.field),
                         "value_label": choice_label(specs.get(s.field), s.value) if isinstance(s.value, str)
                         else s.value,
                         "engine_label": engine_label(s.engine)} for s in suggestions],
        "reasons": list(item.reasons),
        "result": {name: {"value": spec.get("value"), "decided_by": spec.get("decided_by")}
                   for name, spec in (item.fields or {}).items() if isinstance(spec, dict)},
        "reviews": [{"reviewer": d.actor.get_full_name() or d.actor.get_username(), "decision": d.action,
                     "decision_label": d.get_action_display(), "decided_at": d.created_at.isoformat(),
                     "changed": d.diff} for d in decisions],
    }


def _identifier_kind_label(kind: str) -> str:
    try:
        return str(IdentifierKind(kind).label)
    except ValueError:
        return kind


def _logic(suggestions) -> str:
    """Art. 15(1)(h) GDPR: the logic involved, in words: which engines suggested, and when a person decides."""
    engines = sorted({engine_label(s.engine) for s in suggestions if s.engine})
    if not engines:
        return ""
    return _("Suggestions by %(engines)s, each with a confidence; below the configured thresholds a person "
             "reviews the item before anything takes effect.") % {"engines": ", ".join(engines)}


def _para(text) -> str:
    return escape(str(text if text not in (None, "") else "—")).replace("\n", "<br/>")


def data_subject_access_pdf(export: dict, files=()) -> bytes:
    """The answer as a PDF (reportlab, as the records of processing), with the person's stored documents attached
    to it as copies (Art. 15(3) GDPR, embedded files written by pypdf)."""
    # Heavy libraries, imported on first use.
    from pypdf import PdfReader, PdfWriter
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    body, h2, h3 = styles["BodyText"], styles["Heading2"], styles["Heading3"]
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=_("Access to personal data (Art. 15 GDPR)"),
                            author=export["controller"]["name"] or "")
    story = [Paragraph(_para(_("Access to personal data (Art. 15 GDPR, Art. 86 EU AI Act)")), styles["Title"])]

    def line(text, style=body):
        story.append(Paragraph(_para(text), style))

    controller = export["controller"]
    line(_("Controller: %(name)s, %(contact)s") % {"name": controller["name"] or "—",
                                                    "contact": controller["contact"] or "—"})
    line(_("Data protection officer: %(contact)s") % {"contact": controller["data_protection_officer"] or "—"})
    line(_("Request no. %(id)s, received %(received)s") % {"id": export["request"]["id"],
                                                           "received": date_shown(export["request"]["received_at"])})
    line(_("Concerning: %(identifier)s") % {"identifier": export["subject"]["identifier"]})
    story.append(Spacer(1, 4 * mm))
    line(_("Purposes, categories, recipients and retention"), h2)
    for use_case in export["use_cases"].values():
        line(use_case["title"], h3)
        line(_("(a) Purpose: %(v)s") % {"v": use_case["purpose"]})
        line(_("Legal basis: %(v)s") % {"v": use_case["legal_basis"]})
        line(_("(b) Categories of personal data: %(v)s") % {"v": ", ".join(use_case["categories"]) or "—"})
        recipients = list(use_case["recipients"]) + [
            _("%(name)s (processor, %(location)s)") % {"name": p["name"], "location": p["location"] or "—"}
            for p in use_case["processors"]] + [c["description"] for c in use_case["connectors"]]
        line(_("(c) Recipients and processors: %(v)s") % {"v": "; ".join(recipients) or "—"})
        line(_("(d) Retention: %(v)s") % {"v": use_case["retention"]})
        if use_case["automated_decisions"]:
            line(_("(h) Automated: %(v)s") % {"v": use_case["automated_decisions"]})
        if use_case["human_decisions"]:
            line(_("Decided by people: %(v)s") % {"v": use_case["human_decisions"]})
    line(_("Data about you and automated decisions"), h2)
    for record in export["master_data"]:
        line(" · ".join(v for v in (record["number"], record["name"], record["email"], record["iban"]) if v))
        line(_("(g) Source: %(v)s") % {"v": record["source"]})
    for decision in export["automated_decisions"]:
        line(f"{decision['use_case_title']} · {date_shown(decision['received_at'])} · {decision['status_label']}", h3)
        line(_("(g) Source: %(v)s") % {"v": decision["source"]})
        line(_("(d) Kept until: %(v)s") % {"v": date_shown(decision["kept_until"])})
        for name, value in (decision["input"] or {}).items():
            line(f"{name}: {value}")
        if decision["logic"]:
            line(_("(h) Logic: %(v)s") % {"v": decision["logic"]})
        for suggestion in decision["suggestions"]:
            line(_("%(field)s: %(value)s (confidence %(confidence)s, %(engine)s): %(explanation)s") % {
                **suggestion, "field": suggestion["field_label"], "value": suggestion["value_label"],
                "engine": suggestion["engine_label"]})
        for review in decision["reviews"]:
            line(_("Reviewed by %(reviewer)s on %(at)s: %(decision)s") % {
                "reviewer": review["reviewer"], "at": date_shown(review["decided_at"]),
                "decision": review["decision_label"]})
    line(_("Copies of your documents (Art. 15(3) GDPR)"), h2)
    for document in export["documents"]:
        line(_("%(name)s (%(size)s bytes), attached to this PDF") % document)
    if not export["documents"]:
        line(_("No documents are stored about you."))
    line(_("Who opened your data"), h2)
    for entry in export["access_log"]:
        line(f"{moment_shown(entry['at'])} · {entry['by']} · {entry['what_label']} · {entry['purpose_label']}")
    if not export["access_log"]:
        line(_("No access is recorded."))
    line(_("Your rights"), h2)
    for right in export["rights"]:
        line(f"• {right}")
    line(export["supervisory_authority"])
    doc.build(story)
    if not files:
        return buffer.getvalue()
    writer = PdfWriter(clone_from=PdfReader(BytesIO(buffer.getvalue())))
    for stored in files:
        try:
            with stored.file.open("rb") as handle:
                writer.add_attachment(stored.name, handle.read())
        except OSError:
            continue
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def data_subject_access_answer_pdf(*, actor, request: DataSubjectRequest) -> bytes:
    """The answer as a PDF with the copies of the person's documents; recorded like every export."""
    export = data_subject_access_export(actor=actor, request=request)
    subject = _subject_of(request)
    return data_subject_access_pdf(export, files=[stored for item in subject.items for stored in item.files.all()])
