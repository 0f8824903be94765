"""A data subject request in a real browser, as the DSB handles it: intake with the day received picked in the
date widget, the identity check recorded, the deadline extended with a reason, the Art. 15 answer as a PDF
(its text extracted and read), and completion by an explicit POST."""
from io import BytesIO

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from audit.models import DataSubjectRequest
from automations.execution.services import master_data
from portal.choices import Role
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(member, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    lead = member(Role.AUTOMATION_LEAD, username="lead")
    lead.active_tenant = lead.memberships.get().tenant
    master_data.master_record_save(actor=lead, tenant=lead.active_tenant, kind="customer", number="K-1",
                                   name="Erika Mustermann", email="erika@example.de", iban="DE89370400440532013000")
    return {"dsb": member(Role.DATA_PROTECTION_OFFICER, username="dsb")}


def test_a_request_from_intake_to_completion(browser_page, people):
    page = browser_page
    log_in(page, "dsb")
    page.goto(f"{page.base_url}/audit/requests/access/")
    page.locator("#id_identifier").fill("erika@example.de")
    page.locator("#id_received_on").fill("2026-12-01")  # the browser's date widget
    page.locator("#id_channel").select_option("letter")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("#identity")).to_be_visible()
    request = DataSubjectRequest.objects.get()
    assert request.received_at.date().isoformat() in ("2026-11-30", "2026-12-01")  # local midnight in UTC
    assert request.status == "open"

    # Completing needs the identity check first: the button is disabled until then.
    expect(page.locator("#complete-form button")).to_be_disabled()
    page.locator("#id_check").select_option("id_document")
    page.locator("#id_note").fill("Personalausweis vorgelegt")
    page.locator("#identity-form button").click()
    expect(page.locator("#identity")).to_contain_text("Personalausweis vorgelegt")

    page.locator("#id_months").select_option("2")
    page.locator("#extension-form textarea[name=reason]").fill("Unterlagen aus drei Systemen")
    page.locator("#extension-form button").click()
    expect(page.locator("#extension")).to_contain_text("Unterlagen aus drei Systemen")
    request.refresh_from_db()
    assert request.extended_at is not None and request.due_at.date().isoformat() in ("2027-02-28", "2027-03-01")

    # The Art. 15 answer as a PDF, fetched with the DSB's session, read back as text.
    href = page.locator("#export-pdf").get_attribute("href")
    answer = page.request.get(f"{page.base_url}{href}")
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(answer.body())).pages)
    for expected in ("erika@example.de", "Art. 15", "Erika Mustermann", "DE89370400440532013000", "77"):
        assert expected in text, expected
    request.refresh_from_db()
    assert request.status == "open"  # reading the answer changed nothing

    page.locator("#complete-form button").click()
    expect(page.locator(".message-success")).to_be_visible()
    expect(page.locator("#handling")).to_have_count(0)
    request.refresh_from_db()
    assert request.status == "completed" and request.completed_at is not None
