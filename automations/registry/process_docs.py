"""The Verfahrensdokumentation of a use case: its documentation standard, the exact versions its
`production` and `pilot` labels point at, and the approvals that put them there — built once as plain
data, shown as a printable HTML page and written as a PDF (reportlab platypus)."""
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from xml.sax.saxutils import escape

from django.db.models import Field
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from automations.choices import ChangeKind, FieldType, IntegrationKind, Label
from automations.fields import category_label, choice_options, field_label, labels_by_name
from automations.registry import selectors
from automations.registry.diffs import render_version
from automations.registry.models.use_cases import UseCase
from automations.registry.readable import reference_label, scalar
from portal.choices import Role


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Item:
    label: str
    text: str = ""
    table: Table | None = None


@dataclass
class Section:
    title: str
    items: list[Item] = field(default_factory=list)


@dataclass
class ApprovalLine:
    approver: str
    role: str
    decision: str
    at: str
    comment: str


@dataclass
class ChangeRecord:
    pk: int
    title: str
    kind: str
    author: str
    proposed_at: str
    applied_at: str
    approvals: list[ApprovalLine]


@dataclass
class VersionPart:
    kind: str
    number: int
    content_hash: str
    author: str
    created_at: str
    submitted_at: str
    change_note: str
    content: Sequence[str]


@dataclass
class LabelSection:
    label: str
    release_number: int | None = None
    release_hash: str = ""
    release_author: str = ""
    release_created_at: str = ""
    release_note: str = ""
    moved_at: str = ""
    parts: list[VersionPart] = field(default_factory=list)
    changes: list[ChangeRecord] = field(default_factory=list)


@dataclass
class ProcedureDocument:
    use_case: UseCase
    tenant_name: str
    generated_at: str
    status: str
    sections: list[Section]
    labels: list[LabelSection]
    status_changes: list[ChangeRecord]


def _when(value) -> str:
    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def _person(user) -> str:
    if user is None:
        return "—"
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _label(name: str) -> str:
    field = UseCase._meta.get_field(name)
    return str(field.verbose_name) if isinstance(field, Field) else name


def _lines(values) -> str:
    return "\n".join(str(v) for v in values) if values else "—"


def _text_de(text) -> str:
    """A text per language ({"de": …, "en": …}) or one text: the German one first."""
    if isinstance(text, dict):
        return str(text.get("de") or next(iter(text.values()), ""))
    return str(text)


def field_table(specs: list[dict]) -> Table:
    rows = []
    for spec in specs:
        rule = spec.get("validation") or {}
        rule_text = ", ".join(f"{k}: {v}" for k, v in sorted(rule.items()))
        try:
            kind = FieldType(spec.get("type", FieldType.TEXT)).label
        except ValueError:
            kind = spec.get("type", "")
        personal = category_label(spec.get("category", "")) if spec.get("personal_data") else _("no")
        rows.append([field_label(spec), str(kind), _yes_no(bool(spec.get("required"))),
                     ", ".join(label for _value, label in choice_options(spec)),
                     rule_text, reference_label(spec["reference"]) if spec.get("reference") else "",
                     _yes_no(spec.get("send_to_model") is not False),
                     personal or _("yes")])
    return Table([_("Name"), _("Type"), _("Required"), _("Choices"), _("Validation"), _("Master data reference"),
                  _("May be sent to a model"), _("Personal data")], rows)


def documentation_sections(use_case: UseCase) -> list[Section]:
    """Every field of the documentation standard, readable, in the order an auditor reads them."""
    targets = use_case.quality_targets or {}
    precision = targets.get("min_precision") or {}
    labels = labels_by_name([*use_case.input_fields, *use_case.output_fields])
    entries = list(use_case.catalogue_entries.all())
    points = []
    for point in use_case.integration_points:
        try:
            kind = IntegrationKind(point.get("kind")).label
        except ValueError:
            kind = point.get("kind", "")
        points.append([str(kind), point.get("system", "")])
    return [
        Section(_("What it does"), [
            Item(_label("key"), use_case.key), Item(_label("title"), use_case.title),
            Item(_label("department"), use_case.department or "—"), Item(_label("purpose"), use_case.purpose),
            Item(_label("automated_decisions"), use_case.automated_decisions or "—"),
            Item(_label("human_decisions"), use_case.human_decisions or "—"),
            Item(_label("integration_points"), "" if points else "—",
                 Table([_("Kind"), _("System")], points) if points else None),
        ]),
        Section(_("Fields"), [
            Item(_label("input_fields"), "" if use_case.input_fields else "—",
                 field_table(use_case.input_fields) if use_case.input_fields else None),
            Item(_label("output_fields"), "" if use_case.output_fields else "—",
                 field_table(use_case.output_fields) if use_case.output_fields else None),
        ]),
        Section(_("Personal data"), [
            Item(_label("data_subjects"), _lines(use_case.data_subjects)),
            Item(_label("legal_basis"), str(use_case.get_legal_basis_display())),
            Item(_label("legal_basis_note"), use_case.legal_basis_note or "—"),
            Item(_label("recipients"), _lines(use_case.recipients)),
            Item(_label("retention_days"), str(use_case.retention_days)),
            Item(_("Personal data categories"), ", ".join(
                sorted(category_label(c) for c in use_case.personal_data_categories())) or "—"),
            Item(_label("training_reuse_allowed"), _yes_no(use_case.training_reuse_allowed)),
            Item(_label("store_masked_prompts"), _yes_no(use_case.store_masked_prompts)),
        ]),
        Section(_("Processors and connectors"), [
            Item(_label("catalogue_entries"), "" if entries else "—", Table(
                [_("Name"), _("Kind"), _("Location"), _("Transfer basis"), _("Data processing agreement"),
                 _("Approved data categories")],
                [[e.name, str(e.get_kind_display()), e.location or "—", str(e.get_transfer_basis_display()),
                  e.dpa_reference or "—", ", ".join(category_label(c) for c in e.approved_categories) or "—"]
                 for e in entries])
             if entries else None),
        ]),
        Section(_("Risk"), [
            Item(_label("risk_tier"), str(use_case.get_risk_tier_display())),
            Item(_label("risk_rationale"), use_case.risk_rationale or "—"),
            Item(_("AI disclosure (EU AI Act Art. 50)"), "\n".join(
                f"{field_label(spec)}: {_text_de(spec['disclosure'])}" for spec in use_case.output_fields
                if isinstance(spec, dict) and spec.get("name") and spec.get("disclosure")) or "—"),
            Item(_label("dpia_reference"), use_case.dpia_reference or "—"),
            Item(_label("worker_information_reference"), use_case.worker_information_reference or "—"),
            Item(_label("affects_employees"), _yes_no(use_case.affects_employees)),
        ]),
        Section(_("Responsibilities"), [
            Item(_label("department_owner"), _person(use_case.department_owner)),
            Item(_label("it_contact"), _person(use_case.it_contact)),
            Item(_label("security_officer"), _person(use_case.security_officer)),
            Item(_label("data_protection_officer"), _person(use_case.data_protection_officer)),
            Item(_label("escalation_contact"), _person(use_case.escalation_contact)),
            Item(_label("manual_fallback"), use_case.manual_fallback or "—"),
        ]),
        Section(_("Quality and review"), [
            Item(_("Minimum precision per output field"),
                 "\n".join(f"{labels.get(name, name)}: {scalar(share)}" for name, share in precision.items()) or "—"),
            Item(_("Maximum correction rate"), scalar(targets.get("max_correction_rate"))),
            Item(_("Minimum share handled automatically"), scalar(targets.get("min_automation_share"))),
            Item(_label("review_interval_days"), str(use_case.review_interval_days)),
            Item(_label("last_reviewed_at"), _when(use_case.last_reviewed_at)),
            Item(_("Next review due"), _when(use_case.review_due_at)),
        ]),
    ]


def change_record(cr) -> ChangeRecord:
    return ChangeRecord(
        pk=cr.pk, title=cr.title, kind=str(cr.get_kind_display()), author=_person(cr.author),
        proposed_at=_when(cr.created_at), applied_at=_when(cr.decided_at),
        approvals=[ApprovalLine(_person(a.approver), str(Role(a.role).label), str(a.get_decision_display()),
                                _when(a.created_at), a.comment) for a in cr.approvals.all()])


def _parts(release) -> list[VersionPart]:
    versions = [release.prompt_template, release.threshold_set, release.guardrail_set,
                *sorted(release.engine_configs.all(), key=lambda c: c.number)]
    return [VersionPart(kind=str(v._meta.verbose_name), number=v.number, content_hash=v.content_hash,
                        author=_person(v.author), created_at=_when(v.created_at), submitted_at=_when(v.submitted_at),
                        change_note=v.change_note, content=render_version(v)) for v in versions if v is not None]


def procedure_document(*, use_case: UseCase) -> ProcedureDocument:
    """Everything the page and the PDF show, read once."""
    label_rows = {label.name: label for label in selectors.release_labels_with_versions(use_case=use_case)}
    moves = selectors.change_request_applied_list(use_case=use_case, kind=ChangeKind.LABEL_MOVE)
    labels = []
    for name in (Label.PRODUCTION, Label.PILOT):
        section = LabelSection(label=str(Label(name).label))
        row = label_rows.get(name)
        if row is not None:
            release = row.release
            section.release_number = release.number
            section.release_hash = release.content_hash
            section.release_author = _person(release.author)
            section.release_created_at = _when(release.created_at)
            section.release_note = release.note
            section.moved_at = _when(row.moved_at)
            section.parts = _parts(release)
            # The request that moved this label to this release (the latest, after a rollback and back).
            section.changes = [change_record(cr) for cr in moves
                               if cr.payload.get("label") == name and cr.payload.get("release_id") == release.pk][:1]
        labels.append(section)
    status_changes = [change_record(cr) for cr in
                      selectors.change_request_applied_list(use_case=use_case, kind=ChangeKind.STATUS_CHANGE)]
    return ProcedureDocument(
        use_case=use_case, tenant_name=use_case.tenant.name, generated_at=_when(timezone.now()),
        status=str(use_case.get_status_display()), sections=documentation_sections(use_case), labels=labels,
        status_changes=status_changes)


# --- PDF ----------------------------------------------------------------------------------------------

def _pdf_text(value: str) -> str:
    """Paragraph markup: escaped, line breaks kept."""
    return escape(value or "—").replace("\n", "<br/>")


def procedure_document_pdf(document: ProcedureDocument, *, policy=None) -> bytes:
    # A heavy library, imported on first use so that processes that never need it do not load it.
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Preformatted, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=9, leading=11.5)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9)
    code = ParagraphStyle("code", parent=styles["Code"], fontSize=7, leading=8.5)
    h1, h2, h3 = styles["Title"], styles["Heading2"], styles["Heading3"]
    use_case = document.use_case
    width = A4[0] - 36 * mm

    def table(headers, rows, widths=None, style=small):
        data = [[Paragraph(f"<b>{_pdf_text(h)}</b>", style) for h in headers]]
        data += [[Paragraph(_pdf_text(str(cell)), style) for cell in row] for row in rows]
        result = PdfTable(data, colWidths=widths, repeatRows=1)
        result.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c3ccd6")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6f0f5")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        return result

    story = [
        Paragraph(_pdf_text(_("Process documentation (Verfahrensdokumentation)")), styles["Heading4"]),
        Paragraph(_pdf_text(use_case.title), h1),
        Paragraph(_pdf_text(_("%(tenant)s · status: %(status)s · generated %(when)s")
                            % {"tenant": document.tenant_name, "status": document.status,
                               "when": document.generated_at}), body),
        Spacer(1, 4 * mm),
    ]
    if policy is not None:
        story.append(Paragraph(_pdf_text(_("Controller")), h2))
        story.append(table([_("Item"), _("Details")], [
            [_("Controller"), policy.controller_name or "—"], [_("Contact"), policy.controller_contact or "—"],
            [_("Data protection officer"), policy.dsb_contact or "—"],
            [_("Technical and organisational measures"), policy.technical_measures or "—"],
        ], widths=[45 * mm, width - 45 * mm], style=body))
    for section in document.sections:
        story.append(Paragraph(_pdf_text(section.title), h2))
        plain = [[item.label, item.text] for item in section.items if item.table is None]
        if plain:
            story.append(table([_("Item"), _("Details")], plain, widths=[45 * mm, width - 45 * mm], style=body))
        for item in section.items:
            if item.table is not None:
                story.append(Paragraph(_pdf_text(item.label), h3))
                story.append(table(item.table.headers, item.table.rows))
    for label in document.labels:
        story.append(Paragraph(_pdf_text(_("Label %(label)s") % {"label": label.label}), h2))
        if label.release_number is None:
            story.append(Paragraph(_pdf_text(_("This label points at no release.")), body))
            continue
        story.append(table([_("Item"), _("Details")], [
            [_("Release"), f"R{label.release_number}"], [_("Content hash"), label.release_hash],
            [_("Bundled by"), f"{label.release_author}, {label.release_created_at}"],
            [_("Label moved"), label.moved_at], [_("Release note"), label.release_note or "—"],
        ], widths=[45 * mm, width - 45 * mm], style=body))
        story.append(Paragraph(_pdf_text(_("Versions")), h3))
        story.append(table([_("Version"), _("Author"), _("Submitted"), _("Content hash"), _("Change note")],
                           [[f"{p.kind} v{p.number}", f"{p.author}, {p.created_at}", p.submitted_at,
                             p.content_hash[:16] + "…", p.change_note or "—"] for p in label.parts],
                           widths=[38 * mm, 40 * mm, 27 * mm, 30 * mm, width - 135 * mm]))
        for part in label.parts:
            story.append(Paragraph(_pdf_text(f"{part.kind} v{part.number}"), styles["Heading5"]))
            story.append(Preformatted("\n".join(part.content), code, maxLineLength=110))
        story.append(Paragraph(_pdf_text(_("Approval")), h3))
        if not label.changes:
            story.append(Paragraph(_pdf_text(_("No approved change request found for this label.")), body))
        for change in label.changes:
            story.extend(_change_flowables(change, table, body, width, mm))
    story.append(Paragraph(_pdf_text(_("Status changes")), h2))
    if not document.status_changes:
        story.append(Paragraph(_pdf_text(_("No status change was approved yet.")), body))
    for change in document.status_changes:
        story.extend(_change_flowables(change, table, body, width, mm))

    buffer = BytesIO()

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(18 * mm, 10 * mm, f"Leitplanke · {document.tenant_name} · {use_case.key}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, str(doc.page))
        canvas.restoreState()

    pdf = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"{_('Process documentation')}: {use_case.title}",
                            author=document.tenant_name, subject=use_case.key)
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _change_flowables(change: ChangeRecord, table, body, width, mm) -> list:
    # A heavy library, imported on first use so that processes that never need it do not load it.
    from reportlab.platypus import Paragraph, Spacer

    rows = [[a.approver, a.role, a.decision, a.at, a.comment or "—"] for a in change.approvals]
    return [
        Paragraph(_pdf_text(_("CR-%(pk)s: %(title)s — proposed by %(author)s on %(proposed)s, applied %(applied)s")
                            % {"pk": change.pk, "title": change.title, "author": change.author,
                               "proposed": change.proposed_at, "applied": change.applied_at}), body),
        table([_("Approver"), _("Role"), _("Decision"), _("Time"), _("Comment")], rows,
              widths=[40 * mm, 35 * mm, 22 * mm, 28 * mm, width - 125 * mm]),
        Spacer(1, 3 * mm),
    ]
