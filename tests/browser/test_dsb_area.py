"""The DSB area in a real browser: from the home panel to the log, a search by person, revealing a pseudonym
for a purpose, and an erasure in two steps."""
import re

import pytest
from playwright.sync_api import expect

from audit import signing
from audit.models import AccessEvent
from automations.execution.services import master_data
from automations.models import MasterRecord
from portal.choices import Role
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(member, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    lead = member(Role.AUTOMATION_LEAD, username="lead")
    lead.active_tenant = lead.memberships.get().tenant
    for number, name, email in (("K-1", "Erika Mustermann", "erika@example.de"),
                                ("K-2", "Otto Normal", "otto@example.org")):
        master_data.master_record_save(actor=lead, tenant=lead.active_tenant, kind="customer", number=number,
                                       name=name, email=email)
    return {"dsb": member(Role.DATA_PROTECTION_OFFICER, username="dsb")}


def test_the_dsb_finds_a_person_reveals_a_pseudonym_and_erases_them(browser_page, people):
    page = browser_page
    log_in(page, "dsb")
    page.locator("#dsb-area-link").click()
    expect(page.locator("#public-key")).to_have_text(signing.public_key_b64())

    page.locator(".area-nav a").nth(1).click()  # the audit log
    page.locator("#id_subject").fill("erika@example.de")
    page.locator("form.filters button[type=submit]").click()
    rows = page.locator("#event-table tbody tr")
    expect(rows).to_have_count(1)
    expect(page.locator("#subject-note")).to_be_visible()
    assert AccessEvent.objects.filter(event_type="data_subject.searched").count() == 1

    rows.first.locator("a").first.click()
    expect(page.locator("#event-details")).to_contain_text("ps_")
    page.locator("select[name=purpose]").first.select_option("access_request")
    page.locator("input[name=reference]").first.fill("1")
    page.locator("input[name=reference]").first.press("Enter")
    expect(page.locator("#revealed-identifier")).to_have_text("K-1")

    page.goto(f"{page.base_url}/audit/requests/erasure/")
    page.locator("#id_identifier").fill("erika@example.de")
    page.locator("#preview-erasure").click()
    expect(page.locator("#erasure-report")).to_contain_text("K-1: Erika Mustermann")
    page.locator("#erasure-reason").fill("Art. 17(1)(a) DSGVO: Vertrag beendet")
    page.locator("#confirm-erasure").check()
    page.locator("#carry-out-erasure").click()
    expect(page.locator(".message-success")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/audit/requests/erasure/$"))
    assert not MasterRecord.objects.filter(number="K-1").exists()
    assert MasterRecord.objects.filter(number="K-2").exists()
