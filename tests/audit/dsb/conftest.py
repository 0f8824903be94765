"""State for the DSB-area tests, built through the real services: a tenant with a ticket use case (customers'
personal data), an invoice use case under a statutory retention duty, master data and work items of two
customers and one supplier."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from automations.choices import LegalBasis
from automations.execution.services import intake, master_data
from automations.registry.services import use_cases
from reviews import services as reviews
from tests.audit.dsb.helpers import ERIKA, OTTO, SUPPLIER, TICKET_INPUTS
from tests.automations.factories import make_rules_use_case, make_use_case
from tests.reviews.factories import clear


@pytest.fixture
def eager(settings, tmp_path):
    """Tasks run in-process (the pipeline on commit), files go to a folder of the test's own."""
    from portal.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


def submit(tenant, team, key, payload, files=None, **kwargs):
    item, _created = intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key=key,
                                             payload=payload, files=files, **kwargs)
    item.refresh_from_db()
    return item


@pytest.fixture
def world(tenant, team, eager, django_capture_on_commit_callbacks):
    """Muster GmbH with tickets (pilot: items wait for review) and invoices (legal obligation, 10 years)."""
    lead = team["automation_lead"]
    use_cases.tenant_policy_ensure(tenant=tenant)
    tickets = make_rules_use_case(
        tenant, team, key="tickets", status="pilot", input_fields=TICKET_INPUTS, legal_basis=LegalBasis.CONTRACT,
        data_subjects=["Kunden"], retention_days=365, data_protection_officer=team["data_protection_officer"])
    invoices = make_rules_use_case(
        tenant, team, key="rechnungen", legal_basis=LegalBasis.LEGAL_OBLIGATION, retention_days=3650,
        data_subjects=["Lieferanten"], data_protection_officer=team["data_protection_officer"],
        input_fields=TICKET_INPUTS)
    for person in (ERIKA, OTTO):
        master_data.master_record_save(actor=lead, tenant=tenant, kind="customer", number=person["number"],
                                       name=person["name"], email=person["email"], iban=person.get("iban", ""))
    # A second version of Erika's record: her data is in the history table twice.
    master_data.master_record_save(actor=lead, tenant=tenant, kind="customer", number=ERIKA["number"],
                                   name=ERIKA["name"], email=ERIKA["email"], iban=ERIKA["iban"], reason="IBAN")
    master_data.master_record_save(actor=lead, tenant=tenant, kind="supplier", number=SUPPLIER["number"],
                                   name=SUPPLIER["name"], email=SUPPLIER["email"], iban=SUPPLIER["iban"],
                                   vat_id=SUPPLIER["vat_id"])
    with django_capture_on_commit_callbacks(execute=True):
        items = {
            "erika_ticket": submit(tenant, team, "tickets", {
                "text": f"Rechnung falsch, meine Kundennummer ist {ERIKA['number']}",
                "sender_email": ERIKA["email"], "customer_number": ERIKA["number"]}),
            "erika_letter": submit(tenant, team, "tickets", {"text": "Brief anbei"}, files=[SimpleUploadedFile(
                "brief.txt", f"Mit freundlichen Grüßen\n{ERIKA['name']}\n{ERIKA['email']}".encode(), "text/plain")]),
            "otto_ticket": submit(tenant, team, "tickets", {
                "text": f"Frau {ERIKA['name']} hat mir Ihre Adresse gegeben. Rechnung fehlt.",
                "sender_email": OTTO["email"], "customer_number": OTTO["number"]}),
            "otto_plain": submit(tenant, team, "tickets", {
                "text": "Lieferung kam nicht an", "sender_email": OTTO["email"]}),
            "invoice": submit(tenant, team, "rechnungen", {
                "text": f"Rechnung Nr. 4711 von {SUPPLIER['name']}, IBAN {SUPPLIER['iban']}"}),
        }
    # A clerk decides Erika's ticket, with a comment naming her.
    clerk = team["clerk"]
    clear(clerk, tickets, lead)
    task = items["erika_ticket"].review_tasks.get()
    reviews.review_task_claim(actor=clerk, task=task)
    reviews.review_task_decide(actor=clerk, task=task, action="correct",
                               final_values={"document_class": "reminder"},
                               comment=f"Rückruf bei {ERIKA['name']} erledigt")
    # A draft's documentation names her too (the use case and both of its history rows).
    draft = make_use_case(tenant, lead, key="entwurf", manual_fallback=f"Sonderfall: {ERIKA['email']} anrufen")
    use_cases.use_case_update(actor=lead, use_case=draft, reason="Kontakt",
                              values={"manual_fallback": f"Sonderfall: {ERIKA['email']} nur telefonisch"})
    for item in items.values():
        item.refresh_from_db()
    return {"tickets": tickets, "invoices": invoices, "items": items, "tenant": tenant, "team": team}
