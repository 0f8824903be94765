"""Invoices as they arrive: a scan (PNG, JPEG, TIFF or an image-only PDF rendered from a generated
invoice, with no text layer at all) and an e-mail with the invoice PDF attached yield the invoice's
fields through the pipeline; what was read is stored page by page for the review page."""
import random

import pytest

from automations.choices import Engine
from automations.documents.selectors import item_document_list
from automations.execution.services import intake
from automations.registry.services import versions
from tests.automations.documents.helpers import mail, scan_of
from tests.automations.engines import invoice_layouts
from tests.automations.factories import make_team, make_use_case, put_live

pytestmark = pytest.mark.django_db

FIELDS = ["invoice_number", "document_type", "issue_date", "seller_name", "seller_vat_id", "buyer_name",
          "net_total", "tax_total", "gross_total", "amount_due", "currency", "iban"]


@pytest.fixture
def invoices(tenant, member, eager_tasks):
    team = make_team(member)
    lead = team["automation_lead"]
    use_case = make_use_case(
        tenant, lead, key="eingangsrechnungen", input_fields=[{"name": "document", "type": "text"}],
        output_fields=[{"name": name, "type": "text"} for name in FIELDS],
        escalation_contact=team["department_owner"], manual_fallback="Rechnung von Hand erfassen.")
    threshold = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="threshold_set",
        content={"thresholds": {name: {"auto": 0.95, "reject": 0.3} for name in FIELDS}}))
    config = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="engine_config",
        content={"engine": Engine.INVOICE, "fields": FIELDS, "parameters": {}}))
    release = versions.release_create(actor=lead, use_case=use_case, threshold_set=threshold, engine_configs=[config])
    put_live(use_case, team, release)
    return team


def _submit(run_on_commit, tenant, team, name, data, content_type):
    from django.core.files.uploadedfile import SimpleUploadedFile

    item, _created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                   use_case_key="eingangsrechnungen",
                                   files=[SimpleUploadedFile(name, data, content_type=content_type)])
    item.refresh_from_db()
    return item


def _values(item) -> dict:
    return {name: field["value"] for name, field in item.fields.items()}


@pytest.mark.parametrize("fmt,name,content_type", [
    ("PNG", "scan.png", "image/png"), ("JPEG", "scan.jpg", "image/jpeg"), ("TIFF", "scan.tif", "image/tiff"),
    ("PDF", "scan.pdf", "application/pdf")])
def test_a_scanned_invoice_yields_its_fields_by_ocr(invoices, tenant, run_on_commit, fmt, name, content_type):
    case = invoice_layouts.din_table(random.Random(3))
    item = _submit(run_on_commit, tenant, invoices, name, scan_of(case.pdf, fmt=fmt, dpi=150), content_type)
    assert _values(item) == case.expected
    assert any("OCR" in reason for reason in item.reasons)
    # Read by OCR, never auto-applied at a confidence the scan does not support; the pages are stored.
    [document] = item_document_list(item=item)
    [page] = document.pages.all()
    assert page.method == "ocr" and page.ocr_confidence > 80 and len(page.words) > 50
    read = item.runs.get().steps.get(step="read").details["documents"][0]
    assert read["pages"][0]["method"] == "ocr"


def test_an_email_with_the_invoice_attached_yields_the_invoices_fields(invoices, tenant, run_on_commit):
    case = invoice_layouts.english(random.Random(5))
    data = mail("Invoice " + case.expected["invoice_number"], "Please find our invoice attached.",
                attachments=[("invoice.pdf", case.pdf, "application", "pdf")])
    item = _submit(run_on_commit, tenant, invoices, "rechnung.eml", data, "message/rfc822")
    assert _values(item) == case.expected
    documents = item_document_list(item=item)
    assert [(d.kind, d.parent_id) for d in documents] == [("email", None), ("pdf", documents[0].pk)]
    assert documents[0].mail["subject"] == "Invoice " + case.expected["invoice_number"]
    assert documents[1].pages.get().method == "text_layer"


def test_an_email_without_an_invoice_goes_to_clarification_with_the_reason(invoices, tenant, run_on_commit):
    item = _submit(run_on_commit, tenant, invoices, "frage.eml", mail("Frage", "Wann kommt die Rechnung?"),
                   "message/rfc822")
    assert item.status == "clarification" and item.fields == {}
    assert any("no invoice" in reason for reason in item.reasons)
