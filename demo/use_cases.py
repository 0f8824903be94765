"""Demo registry and execution data for the quick start: the three use cases customers start with,
taken live through real change requests approved by the demo users, so the audit trail shows how.
Idempotent: what exists is left alone."""
from django.conf import settings
from django.db import transaction

from automations.choices import ChangeKind, IntegrationKind, LegalBasis, RiskTier
from automations.execution.services import master_data
from automations.registry.models.use_cases import UseCase
from automations.registry.services import changes, use_cases, versions
from automations.registry.services.use_cases import tenant_policy_ensure
from automations.training.services import threshold_set_propose
from demo.evaluations import evaluate_for_production
from demo.invoices import DEMO_SUPPLIERS, generate_demo_documents, generate_demo_invoices
from demo.training import seed_classifier

INVOICE_FIELDS = [
    ("invoice_number", "text", True, None), ("document_type", "category", True, None),
    ("issue_date", "date", True, None), ("seller_name", "text", True, None),
    ("seller_vat_id", "vat_id", False, "supplier.vat_id"), ("buyer_name", "text", False, None),
    ("net_total", "decimal", False, None), ("tax_total", "decimal", False, None),
    ("gross_total", "decimal", True, None), ("amount_due", "decimal", False, None),
    ("currency", "text", True, None), ("iban", "iban", False, "supplier.iban"),
]
DOCUMENT_TYPES = ["invoice", "credit_note", "correction", "self_billed", "partial", "other"]
DOCUMENT_CLASSES = ["invoice", "credit_note", "delivery_note", "purchase_order", "reminder", "contract", "other"]
TICKET_QUEUES = ["technik", "rechnung", "vertrieb", "reklamation", "lieferung", "konto"]
TICKET_PRIORITIES = ["hoch", "mittel", "niedrig"]

DEMO_CUSTOMERS = [
    ("K-10001", "Bäckerei Schmidt OHG", "info@baeckerei-schmidt.example"),
    ("K-10002", "Metallbau Weber GmbH", "service@metallbau-weber.example"),
    ("K-10003", "Praxis Dr. Yilmaz", "praxis@dr-yilmaz.example"),
    ("K-10004", "Hausverwaltung Nord KG", "kontakt@hv-nord.example"),
]

# What clerks read instead of the field names: German and English label and help text, the labels of
# the choices, and the fields that tell items apart in lists ("title").
FIELD_TEXTS = {
    "invoice_number": ("Rechnungsnummer", "Invoice number", "Wie auf der Rechnung gedruckt (BT-1).",
                       "As printed on the invoice (BT-1)."),
    "document_type": ("Belegart", "Document type", "Rechnung, Gutschrift, Korrektur … (BT-3).",
                      "Invoice, credit note, correction … (BT-3)."),
    "issue_date": ("Rechnungsdatum", "Issue date", "Datum der Ausstellung (BT-2).", "Date of issue (BT-2)."),
    "seller_name": ("Lieferant", "Supplier", "Name des Verkäufers, mit den Stammdaten abgeglichen (BT-27).",
                    "Seller's name, matched against master data (BT-27)."),
    "seller_vat_id": ("USt-IdNr. des Lieferanten", "Supplier VAT id", "Umsatzsteuer-Identifikationsnummer (BT-31).",
                      "VAT identification number (BT-31)."),
    "buyer_name": ("Rechnungsempfänger", "Buyer", "Unser Unternehmen, wie auf der Rechnung genannt (BT-44).",
                   "Our company as named on the invoice (BT-44)."),
    "net_total": ("Nettobetrag", "Net total", "Summe ohne Umsatzsteuer (BT-109).", "Total without VAT (BT-109)."),
    "tax_total": ("Umsatzsteuer", "VAT total", "Summe der Umsatzsteuer (BT-110).", "Total VAT (BT-110)."),
    "gross_total": ("Bruttobetrag", "Gross total", "Rechnungsbetrag mit Umsatzsteuer (BT-112).",
                    "Invoice total with VAT (BT-112)."),
    "amount_due": ("Zahlbetrag", "Amount due", "Zu zahlender Betrag nach Abzügen (BT-115).",
                   "Amount payable after deductions (BT-115)."),
    "currency": ("Währung", "Currency", "ISO-Code, z. B. EUR (BT-5).", "ISO code, e.g. EUR (BT-5)."),
    "iban": ("IBAN", "IBAN", "Konto des Lieferanten für die Zahlung (BT-84).",
             "Supplier's account for payment (BT-84)."),
    "document_class": ("Belegart", "Document class", "Wohin der Beleg im DMS gehört.",
                       "Where the document belongs in the DMS."),
    "queue": ("Warteschlange", "Queue", "Team, das die Anfrage bearbeitet.", "Team that handles the request."),
    "priority": ("Priorität", "Priority", "Wie dringend die Anfrage ist.", "How urgent the request is."),
    "reply": ("Antwortvorschlag", "Suggested reply", "KI-generiert; vor dem Versand prüfen.",
              "AI-generated; check before sending."),
    "subject": ("Betreff", "Subject", "", ""), "body": ("Nachricht", "Message", "", ""),
    "sender_email": ("Absender", "Sender", "", ""), "customer_number": ("Kundennummer", "Customer number", "", ""),
    "document": ("Dokument", "Document", "", ""), "text": ("Text", "Text", "", ""),
    "stelle": ("Stelle", "Position", "Ausgeschriebene Stelle, zu der die Bewerbung gehört.",
               "The advertised position the application is for."),
    "anschreiben": ("Anschreiben", "Cover letter", "", ""),
}
CHOICE_TEXTS = {
    "invoice": ("Rechnung", "Invoice"), "credit_note": ("Gutschrift", "Credit note"),
    "correction": ("Rechnungskorrektur", "Corrected invoice"), "self_billed": ("Gutschriftsverfahren", "Self-billed"),
    "partial": ("Abschlagsrechnung", "Partial invoice"), "other": ("Sonstiges", "Other"),
    "delivery_note": ("Lieferschein", "Delivery note"), "purchase_order": ("Bestellung", "Purchase order"),
    "reminder": ("Mahnung", "Reminder"), "contract": ("Vertrag", "Contract"),
    "technik": ("Technik", "Technical"), "rechnung": ("Rechnung", "Billing"), "vertrieb": ("Vertrieb", "Sales"),
    "reklamation": ("Reklamation", "Complaint"), "lieferung": ("Lieferung", "Delivery"), "konto": ("Konto", "Account"),
    "hoch": ("hoch", "high"), "mittel": ("mittel", "medium"), "niedrig": ("niedrig", "low"),
    "buchhaltung": ("Buchhaltung", "Accounting"), "initiativ": ("Initiativbewerbung", "Unsolicited application"),
}
# EU AI Act Art. 50: the line every reply sent to a customer carries (e-mail delivery takes it from here).
REPLY_DISCLOSURE = {"de": "Hinweis: Diese Antwort wurde mit Unterstützung eines KI-Systems erstellt und von unserem "
                          "Kundenservice geprüft (KI-Verordnung Art. 50).",
                    "en": "Note: this reply was drafted with the help of an AI system and checked by our customer "
                          "service (EU AI Act Art. 50)."}
# Whether a use case affects employees (BetrVG § 87 Abs. 1 Nr. 6: a technical system able to monitor their
# conduct or performance — the works council co-determines it and approves its changes), decided per use case
# from what it does, and the worker information that says so. None of the three decides about employees, and
# their data subjects are business partners and customers, not staff; but the clerks who review their items
# are recorded (who decided what, when, with which corrections, time on task, claims), and so is who started a
# language model call. That alone makes each of them a matter for the works council; the worker information
# names who is recorded and that figures about people follow the tenant's works agreement (without one: only
# over groups). Bewerbungseingang (demo/applications.py) affects employees to be besides: a selection
# guideline under § 95 BetrVG.
EMPLOYEES: dict[str, dict] = {
    "eingangsrechnungen": {"affects_employees": True, "worker_information_reference": (
        "Betriebsvereinbarung KI-Einsatz 2026, Anlage 1: Prüfentscheidungen und Bearbeitungszeit der "
        "Finanzbuchhaltung werden erfasst")},
    "belegklassifizierung": {"affects_employees": True, "worker_information_reference": (
        "Betriebsvereinbarung KI-Einsatz 2026, Anlage 2: Prüfentscheidungen und Bearbeitungszeit der Zentralen "
        "Poststelle werden erfasst")},
    "service-tickets": {"affects_employees": True, "worker_information_reference": (
        "Betriebsvereinbarung KI-Einsatz 2026, Anlage 4: Prüfentscheidungen, Bearbeitungszeit und Aufrufe des "
        "Sprachmodells im Kundenservice werden erfasst")},
}
TITLE_FIELDS = {"seller_name", "invoice_number", "gross_total", "subject", "customer_number", "document_class"}


def _field(name, kind, required, reference=None, **extra):
    spec = {"name": name, "type": kind, "required": required}
    if reference:
        spec["reference"] = reference
    spec.update(extra)
    if name in FIELD_TEXTS:
        label_de, label_en, help_de, help_en = FIELD_TEXTS[name]
        spec["label"] = {"de": label_de, "en": label_en}
        if help_de:
            spec["help"] = {"de": help_de, "en": help_en}
    if spec.get("choices"):
        spec["choice_labels"] = {c: {"de": CHOICE_TEXTS[c][0], "en": CHOICE_TEXTS[c][1]}
                                 for c in spec["choices"] if c in CHOICE_TEXTS}
    if name in TITLE_FIELDS:
        spec["title"] = True
    return spec


def _live(use_case, users, *, engine_configs, thresholds=None, threshold_draft=None, guardrails=None,
          prompt=None) -> None:
    """Bundle a release, evaluate it on the demo test cases, label it `production` and move the use case
    there: each through a change request that the right demo users approve (the second lead stands in when
    the author is the first)."""
    lead = users["automation_lead"]
    threshold = versions.version_submit(actor=lead, version=threshold_draft or versions.version_create(
        actor=lead, use_case=use_case, kind="threshold_set", content={"thresholds": thresholds},
        change_note="Schwellenwerte für den Start"))
    configs = [versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="engine_config", content=content, change_note="Auslese für den Start"))
        for content in engine_configs]
    release = versions.release_create(actor=lead, use_case=use_case, threshold_set=threshold, engine_configs=configs,
                                      guardrail_set=guardrails, prompt_template=prompt, note="Erstes Release")
    # The production label needs a passing evaluation of exactly this release (automations.evaluation).
    evaluation = evaluate_for_production(release, lead)
    if not evaluation.passed:
        raise RuntimeError(f"{use_case.key}: the demo evaluation misses the quality targets: {evaluation.misses}")
    for kind, payload, title in (
            (ChangeKind.LABEL_MOVE, {"label": "production", "release_id": release.pk}, "Release R1 produktiv setzen"),
            (ChangeKind.STATUS_CHANGE, {"to": "production"}, "In Produktion nehmen")):
        cr = changes.change_request_create(actor=lead, tenant=use_case.tenant, use_case=use_case, kind=kind,
                                           title=title, description="Demo: geprüft im Pilotbetrieb.", payload=payload)
        for role in cr.required_roles:
            approver = users["automation_lead_2"] if role == "automation_lead" else users[role]
            cr = changes.change_request_approve(actor=approver, change_request=cr, role=role,
                                                comment="Demo-Freigabe")


def _invoices(tenant, users) -> UseCase:
    lead = users["automation_lead"]
    outputs = [_field(n, k, r, ref, **({"choices": DOCUMENT_TYPES} if k == "category" else {}))
               for n, k, r, ref in INVOICE_FIELDS]
    for spec in outputs:
        if spec["name"] == "iban":
            spec.update(personal_data=True, category="bank")
    use_case = use_cases.use_case_create(
        actor=lead, tenant=tenant, key="eingangsrechnungen", title="Eingangsrechnungen",
        purpose="Rechnungsdaten aus eingehenden E-Rechnungen (ZUGFeRD, Factur-X, XRechnung) und PDF-Rechnungen "
                "für die Buchung im ERP vorerfassen.",
        department="Finanzbuchhaltung",
        automated_decisions="Vorerfassung der Rechnungsfelder; strukturierte E-Rechnungen bekannter Lieferanten "
                            "werden automatisch übernommen.",
        human_decisions="Freigabe zur Zahlung; Klärung unbekannter Lieferanten und abweichender Summen.",
        integration_points=[{"kind": IntegrationKind.EMAIL, "system": "Rechnungseingang@"},
                            {"kind": IntegrationKind.ERP, "system": "ERP (Abruf über API)"},
                            {"kind": IntegrationKind.UPLOAD, "system": "Portal"}],
        input_fields=[_field("document", "text", False, send_to_model=False)],
        output_fields=outputs, data_subjects=["Lieferanten (Einzelunternehmer)"],
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        legal_basis_note="§ 147 AO, § 257 HGB: Aufbewahrung und Verbuchung von Eingangsrechnungen.",
        recipients=["Finanzbuchhaltung", "Steuerberater"], retention_days=3650, risk_tier=RiskTier.MINIMAL,
        risk_rationale="Vorerfassung mit menschlicher Zahlungsfreigabe; keine Entscheidung über Personen.",
        **EMPLOYEES["eingangsrechnungen"],
        department_owner=users["department_owner"], it_contact=users["it_operator"],
        security_officer=users["security_officer"], data_protection_officer=users["data_protection_officer"],
        escalation_contact=users["department_owner"],
        manual_fallback="Rechnung im ERP manuell erfassen; Original im DMS-Ordner 'Rechnungseingang/Klärung' ablegen.",
        quality_targets={"min_precision": {"gross_total": 0.99}, "max_correction_rate": 0.05,
                         "min_automation_share": 0.5},
    )
    thresholds = {spec["name"]: {"auto": 0.95, "reject": 0.3} for spec in outputs}
    _live(use_case, users, engine_configs=[{"engine": "invoice", "parameters": {},
                                            "fields": [s["name"] for s in outputs]}], thresholds=thresholds)
    return use_case


def _documents(tenant, users) -> UseCase:
    lead = users["automation_lead"]
    use_case = use_cases.use_case_create(
        actor=lead, tenant=tenant, key="belegklassifizierung", title="Belegklassifizierung",
        purpose="Eingehende Belege nach Art (Rechnung, Gutschrift, Lieferschein, Bestellung, Mahnung, Vertrag) "
                "vorsortieren, damit sie im richtigen DMS-Workflow landen.",
        department="Zentrale Poststelle",
        automated_decisions="Zuordnung der Belegart.", human_decisions="Unsichere Zuordnungen; Sonderfälle.",
        integration_points=[{"kind": IntegrationKind.DMS, "system": "DMS Posteingang"},
                            {"kind": IntegrationKind.UPLOAD, "system": "Portal"}],
        # The whole text of a document: invoices, delivery notes, reminders and contracts name the business
        # partner's contact people with their addresses and contact details (sole traders are people too).
        input_fields=[_field("text", "long_text", False, personal_data=True, category="contact")],
        output_fields=[_field("document_class", "category", True, choices=DOCUMENT_CLASSES)],
        data_subjects=["Ansprechpartner von Lieferanten und Kunden", "Lieferanten und Kunden (Einzelunternehmer)",
                       "Unterzeichnende von Verträgen"],
        legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
        legal_basis_note="Art. 6 Abs. 1 lit. f DSGVO: berechtigtes Interesse an der geordneten und schnellen "
                         "Weiterleitung eingehender Geschäftspost. Gelesen wird der ganze Belegtext (Namen, "
                         "Anschriften, Kontakt- und Bankdaten der Geschäftspartner); bestimmt wird nur die "
                         "Belegart. Die Belege selbst bewahrt das DMS nach § 147 AO und § 257 HGB auf.",
        recipients=["Zentrale Poststelle", "Fachabteilungen (über den DMS-Workflow)"], retention_days=180,
        risk_tier=RiskTier.MINIMAL,
        risk_rationale="Sortierung von Geschäftsbelegen; keine Entscheidung über Personen. Unsichere Zuordnungen "
                       "prüft die Poststelle.",
        **EMPLOYEES["belegklassifizierung"],
        department_owner=users["department_owner"], it_contact=users["it_operator"],
        security_officer=users["security_officer"], data_protection_officer=users["data_protection_officer"],
        escalation_contact=users["department_owner"],
        manual_fallback="Beleg in den DMS-Ordner 'Posteingang/unsortiert' legen; die Poststelle sortiert von Hand.",
        quality_targets={"min_precision": {"document_class": 0.95}},
    )
    _live_with_classifier(use_case, users, ["document_class"])
    return use_case


def _live_with_classifier(use_case, users, fields: list[str]) -> None:
    """Train on the demo examples, take the thresholds the evaluation supports at the use case's target
    precision, and go live with the classifier (the rules engine stays available for other use cases)."""
    lead = users["automation_lead"]
    version = seed_classifier(use_case.tenant, use_case, lead)
    proposal = threshold_set_propose(actor=lead, classifier_version=version,
                                     change_note="Aus der Auswertung der Klassifikator-Version abgeleitet")
    _live(use_case, users, threshold_draft=proposal, engine_configs=[
        {"engine": "classifier", "artifact_ref": str(version.pk), "fields": fields, "parameters": {}}])


def _tickets(tenant, users) -> UseCase:
    lead = users["automation_lead"]
    use_case = use_cases.use_case_create(
        actor=lead, tenant=tenant, key="service-tickets", title="Service-Tickets",
        purpose="Kundenanfragen der richtigen Warteschlange mit einer Priorität zuordnen; mit einem freigegebenen "
                "Sprachmodell zusätzlich einen Antwortvorschlag erstellen.",
        department="Kundenservice",
        automated_decisions="Warteschlange und Priorität als Vorschlag.",
        human_decisions="Antworten an Kunden werden immer von Menschen gesendet.",
        integration_points=[{"kind": IntegrationKind.EMAIL, "system": "service@"},
                            {"kind": IntegrationKind.CRM, "system": "CRM Tickets"}],
        input_fields=[_field("subject", "text", True), _field("body", "long_text", True),
                      _field("sender_email", "email", False, "customer.email", personal_data=True,
                             category="contact", send_to_model=False),
                      _field("customer_number", "text", False, "customer.number", personal_data=True,
                             category="customer_history", send_to_model=False)],
        output_fields=[_field("queue", "category", True, choices=TICKET_QUEUES),
                       _field("priority", "category", True, choices=TICKET_PRIORITIES),
                       _field("reply", "long_text", False, disclosure=REPLY_DISCLOSURE)],
        data_subjects=["Kunden", "Ansprechpartner der Kunden"], legal_basis=LegalBasis.CONTRACT,
        legal_basis_note="Art. 6 Abs. 1 lit. b DSGVO: Bearbeitung von Kundenanfragen aus dem Vertrag.",
        recipients=["Kundenservice"], retention_days=365, risk_tier=RiskTier.LIMITED,
        risk_rationale="Vorschläge für Mitarbeitende; generierte Antworten sind als KI-generiert gekennzeichnet "
                       "(KI-Verordnung Art. 50) und werden vor dem Versand geprüft.",
        **EMPLOYEES["service-tickets"],
        department_owner=users["department_owner"], it_contact=users["it_operator"],
        security_officer=users["security_officer"], data_protection_officer=users["data_protection_officer"],
        escalation_contact=users["department_owner"],
        manual_fallback="Tickets in der Sammel-Warteschlange des CRM manuell zuordnen.",
        quality_targets={"min_precision": {"queue": 0.9, "priority": 0.85}}, training_reuse_allowed=True,
    )
    _live_with_classifier(use_case, users, ["queue", "priority"])
    return use_case


def _policy(tenant, users) -> None:
    use_cases.tenant_policy_update_details(
        actor=users["data_protection_officer"], tenant=tenant, reason="Demo-Stammdaten",
        values={"controller_name": "Muster GmbH",
                "controller_contact": "Muster GmbH, Industriestraße 1, 70565 Stuttgart, info@muster.example",
                "dsb_contact": "Datenschutzbeauftragte, Muster GmbH, datenschutz@muster.example",
                "technical_measures": "Rollen- und Rechtekonzept; Verschlüsselung der Übertragung (TLS); "
                                      "Protokollierung mit Hash-Kette; Löschkonzept nach Aufbewahrungsfristen."})


def _master_data(tenant, users) -> None:
    actor = users["automation_lead"]
    for supplier in DEMO_SUPPLIERS:
        master_data.master_record_save(actor=actor, tenant=tenant, kind="supplier", reason="Demo-Stammdaten",
                                       number=supplier["number"], name=supplier["name"], vat_id=supplier["vat_id"],
                                       iban=supplier["iban"], email=supplier.get("email", ""))
    for number, name, email in DEMO_CUSTOMERS:
        master_data.master_record_save(actor=actor, tenant=tenant, kind="customer", number=number, name=name,
                                       email=email, reason="Demo-Stammdaten")


INVOICE_USE_CASE = "eingangsrechnungen"


def demo_files_folder():
    return settings.VAR_DIR / "demo" / "eingangsrechnungen"


def seed(tenant, users) -> None:
    with transaction.atomic():
        tenant_policy_ensure(tenant=tenant)
        if UseCase.objects.for_tenant(tenant).exists():
            return
        _policy(tenant, users)
        _master_data(tenant, users)
        _invoices(tenant, users)
        _documents(tenant, users)
        _tickets(tenant, users)

    folder = demo_files_folder()
    if not folder.exists() or not any(folder.iterdir()):
        folder.mkdir(parents=True, exist_ok=True)
        generate_demo_invoices(folder)
        generate_demo_documents(folder)
