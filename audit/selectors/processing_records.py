"""Records of processing activities (GDPR Art. 30(1)(a)-(g)), generated from the registry: one record per use
case that processes personal data (pilot, production or suspended), with a completeness check. Built once as
plain data; shown as an HTML page and written as a PDF the DSB can hand to a supervisory authority."""
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from automations.choices import CatalogueKind, LegalBasis, TransferBasis, UseCaseStatus
from automations.fields import category_label, field_label
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import tenant_policy_get
from portal.models import Tenant
from reviews.models import ReviewQueue

ACTIVE = (UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION, UseCaseStatus.SUSPENDED)
THIRD_COUNTRY = (TransferBasis.ADEQUACY, TransferBasis.SCC, TransferBasis.BCR)


def builtin_measures() -> list[str]:
    """What the portal itself does (Art. 32), listed in every record beside the tenant's own measures."""
    return [
        _("Access by role and tenant; every permission comes from a role in the tenant (least privilege)."),
        _("Append-only, hash-chained audit log; its newest events are signed regularly and kept outside the database."),
        _("Access log of who opened which personal data, when and why."),
        _("Audit records name people only by pseudonym; erasure destroys the pseudonym's key."),
        _("Changes to automations need approvals by different people (four eyes), never by their author."),
        _("Only declared input fields reach a language model; processors outside the catalogue are refused."),
        _("Work items are deleted automatically when their retention period ends, except under a legal hold."),
        _("Processor API keys are stored encrypted."),
    ]


@dataclass
class Transfer:
    processor: str
    location: str
    basis: str


@dataclass
class ProcessingRecord:
    key: str
    title: str
    status: str
    controller: str
    controller_contact: str
    dsb_contact: str
    purposes: str
    automated_decisions: str
    legal_basis: str
    legal_basis_note: str
    data_subjects: list[str]
    data_categories: list[str]
    personal_fields: list[str]
    recipients: list[str]
    processors: list[str]
    transfers: list[Transfer]
    erasure: str
    measures: list[str]
    tenant_measures: str
    missing: list[str] = field(default_factory=list)
    # The catalogue's connectors the use case names: where its data arrives from and where results go (target
    # systems receive the personal data of the results: recipients under (d)).
    connectors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass
class ProcessingRecords:
    tenant: Tenant
    generated_at: datetime
    records: list[ProcessingRecord]
    without_personal_data: list[str]

    @property
    def incomplete(self) -> int:
        return sum(1 for record in self.records if not record.complete)


def _record(use_case, policy, *, reviewed: bool = False) -> ProcessingRecord:
    entries = list(use_case.catalogue_entries.all())
    processors = [e for e in entries if e.kind == CatalogueKind.PROCESSOR]
    categories = sorted(category_label(c) for c in use_case.personal_data_categories())
    fields = [field_label(f) for f in list(use_case.input_fields) + list(use_case.output_fields)
              if f.get("personal_data")]
    transfers = [Transfer(e.name, e.location, e.get_transfer_basis_display()) for e in entries
                 if e.transfer_basis in THIRD_COUNTRY]
    record = ProcessingRecord(
        key=use_case.key, title=use_case.title, status=use_case.get_status_display(),
        controller=policy.controller_name, controller_contact=policy.controller_contact,
        dsb_contact=policy.dsb_contact, purposes=use_case.purpose, automated_decisions=use_case.automated_decisions,
        legal_basis=use_case.get_legal_basis_display(), legal_basis_note=use_case.legal_basis_note,
        data_subjects=list(use_case.data_subjects) + (
            [_("Employees who review its items (decisions, time on task)")] if reviewed else []),
        data_categories=categories, personal_fields=fields,
        recipients=list(use_case.recipients),
        processors=[_("%(name)s (%(vendor)s, data processing agreement: %(dpa)s)")
                    % {"name": e.name, "vendor": e.vendor or "—", "dpa": e.dpa_reference or "—"} for e in processors],
        transfers=transfers,
        erasure=_erasure(use_case),
        measures=builtin_measures(), tenant_measures=policy.technical_measures,
        connectors=[connector_description(e) for e in entries if e.kind == CatalogueKind.CONNECTOR],
    )
    record.missing = _missing(record, use_case, policy, processors, entries)
    return record


def connector_description(entry) -> str:
    """A connector as a record of processing names it: its name, how and which way data goes, and where."""
    return _("%(name)s (connector: %(type)s, %(direction)s; location: %(location)s)") % {
        "name": entry.name, "type": entry.get_connector_type_display() or "—",
        "direction": entry.get_direction_display() or "—", "location": entry.location or "—"}


def _erasure(use_case) -> str:
    if use_case.legal_basis == LegalBasis.LEGAL_OBLIGATION:
        return _("Work items, their files and results: %(years)s years from the end of the calendar year of receipt "
                 "(statutory retention, e.g. § 147 AO, § 257 HGB); audit events: at least %(audit)s days.") % {
            "years": max(1, round(use_case.retention_days / 365)), "audit": settings.AUDIT_RETENTION_DAYS}
    return _("Work items, their files and results: %(days)s days after receipt; audit events: at least "
             "%(audit)s days.") % {"days": use_case.retention_days, "audit": settings.AUDIT_RETENTION_DAYS}


def _missing(record: ProcessingRecord, use_case, policy, processors, entries) -> list[str]:
    """Art. 30(1) entries that are missing or inconsistent (a) to (g), in that order."""
    missing = []
    if not policy.controller_name.strip() or not policy.controller_contact.strip():
        missing.append(_("(a) name and contact details of the controller"))
    if not policy.dsb_contact.strip():
        missing.append(_("(a) contact details of the data protection officer"))
    if not use_case.purpose.strip():
        missing.append(_("(b) purposes of the processing"))
    if use_case.legal_basis == LegalBasis.NONE:
        missing.append(_("(b) legal basis: the use case processes personal data but names none"))
    if not record.data_subjects:
        missing.append(_("(c) categories of data subjects"))
    if not record.data_categories:
        missing.append(_("(c) categories of personal data (no field is marked as personal data with a category)"))
    if not record.recipients and not processors and not record.connectors:
        missing.append(_("(d) categories of recipients"))
    for entry in processors:
        if not entry.dpa_reference.strip():
            missing.append(_("(d) data processing agreement of %(name)s") % {"name": entry.name})
    for entry in entries:
        if entry.transfer_basis in THIRD_COUNTRY and not entry.location.strip():
            missing.append(_("(e) third country of %(name)s") % {"name": entry.name})
    if not use_case.retention_days:
        missing.append(_("(f) time limit for erasure"))
    if not policy.technical_measures.strip():
        missing.append(_("(g) the tenant's technical and organisational measures"))
    return missing


def processing_records(*, tenant) -> ProcessingRecords:
    policy = tenant_policy_get(tenant=tenant)
    reviewed = set(ReviewQueue.objects.for_tenant(tenant).values_list("use_cases", flat=True))
    records, without = [], []
    for use_case in (UseCase.objects.for_tenant(tenant).filter(status__in=ACTIVE).order_by("title")
                     .prefetch_related("catalogue_entries")):
        if use_case.processes_personal_data:
            records.append(_record(use_case, policy, reviewed=use_case.pk in reviewed))
        else:
            without.append(use_case.title)
    return ProcessingRecords(tenant=tenant, generated_at=timezone.now(), records=records,
                             without_personal_data=without)


def _p(text: str) -> str:
    return escape(str(text or "—")).replace("\n", "<br/>")


def processing_records_pdf(document: ProcessingRecords) -> bytes:
    # A heavy library, imported on first use so that processes that never need it do not load it.
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=9, leading=12)
    label = ParagraphStyle("label", parent=body, textColor=colors.HexColor("#5b6776"))
    warn = ParagraphStyle("warn", parent=body, textColor=colors.HexColor("#a3312a"))
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=_("Records of processing activities"),
                            author=document.tenant.name)
    generated = timezone.localtime(document.generated_at).strftime("%d.%m.%Y %H:%M")
    story = [Paragraph(_p(_("Records of processing activities (Art. 30(1) GDPR)")), styles["Title"]),
             Paragraph(_p(_("%(tenant)s · generated %(when)s") % {"tenant": document.tenant.name, "when": generated}),
                       body), Spacer(1, 6 * mm)]
    for number, record in enumerate(document.records):
        if number:
            story.append(PageBreak())
        story.append(Paragraph(_p(f"{record.title} ({record.key})"), styles["Heading2"]))
        if record.missing:
            story.append(Paragraph(_p(_("Incomplete:") + " " + "; ".join(record.missing)), warn))
        rows = [
            (_("(a) Controller"), f"{record.controller}\n{record.controller_contact}"),
            (_("(a) Data protection officer"), record.dsb_contact),
            (_("(b) Purposes"), record.purposes + (
                "\n" + _("Automated: %(what)s") % {"what": record.automated_decisions}
                if record.automated_decisions else "")),
            (_("(b) Legal basis"), f"{record.legal_basis}\n{record.legal_basis_note}".strip()),
            (_("(c) Data subjects"), ", ".join(record.data_subjects)),
            (_("(c) Personal data"), ", ".join(record.data_categories)
             + (f" ({', '.join(record.personal_fields)})" if record.personal_fields else "")),
            (_("(d) Recipients"), "\n".join(record.recipients + record.processors + record.connectors)),
            (_("(e) Third countries"), "\n".join(f"{t.processor}: {t.location or '?'} ({t.basis})"
                                                 for t in record.transfers) or _("none")),
            (_("(f) Erasure"), record.erasure),
            (_("(g) Measures"), "\n".join(f"• {m}" for m in record.measures)
             + (f"\n{record.tenant_measures}" if record.tenant_measures else "")),
        ]
        table = Table([[Paragraph(_p(a), label), Paragraph(_p(b), body)] for a, b in rows],
                      colWidths=[45 * mm, 129 * mm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dce2e8"))]))
        story.append(table)
    if document.without_personal_data:
        story += [Spacer(1, 6 * mm), Paragraph(_p(_("Use cases without personal data")), styles["Heading3"]),
                  Paragraph(_p(", ".join(document.without_personal_data)), body)]
    if not document.records:
        story.append(Paragraph(_p(_("No active use case processes personal data.")), body))
    doc.build(story)
    return buffer.getvalue()
