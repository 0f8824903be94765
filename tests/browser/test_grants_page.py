"""The grants page (Zuständigkeiten, /reviews/grants/) in real headless Chromium: the automation lead adds a
clerk to a department's team, sees the clerk listed with the team, takes the clerk out again with the row's
own button; each change is an audit event by the lead, and the clerk's queues follow. Elements are found by
ids and data attributes."""
import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from portal.choices import Role
from reviews import selectors
from tests.automations.factories import make_use_case
from tests.browser.conftest import log_in
from tests.reviews.world import make_review_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def departments(tenant, member):
    lead = member(Role.AUTOMATION_LEAD, username="automation_lead")
    clerk = member(Role.CLERK, username="clerk_kundenservice")
    tickets = make_use_case(tenant, lead, key="tickets", department="Kundenservice", data_subjects=["Kunden"])
    invoices = make_use_case(tenant, lead, key="rechnungen", department="Buchhaltung")
    make_review_tasks(tickets, 1)
    make_review_tasks(invoices, 1, start=5)
    return {"lead": lead, "clerk": clerk, "tickets": tickets}


def test_the_lead_grants_a_team_sees_it_listed_and_takes_it_away(browser_page, tenant, departments):
    page, lead, clerk = browser_page, departments["lead"], departments["clerk"]
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, "automation_lead")
    page.goto(f"{page.base_url}/reviews/grants/")
    expect(page.locator("h1")).to_have_text("Zuständigkeiten")
    team_row = page.locator('#team-table tr[data-team="Kundenservice"]')
    expect(team_row).to_contain_text("niemand")

    page.locator("#id_kind").select_option("team")
    page.locator("#id_target").fill("Kundenservice")
    page.locator("#id_user").select_option("clerk_kundenservice")
    page.locator("#id_action").select_option("grant")
    page.locator("#grant-submit").click()
    expect(page.locator(".messages")).to_contain_text("clerk_kundenservice zugeteilt.")
    expect(team_row).to_contain_text("clerk_kundenservice")
    expect(page.locator('#team-table tr[data-team="Buchhaltung"]')).not_to_contain_text("clerk_kundenservice")

    granted = AuditEvent.objects.get(event_type="review_team.granted", details__user_id=clerk.pk)
    assert granted.actor_user_id == lead.pk and granted.tenant_id == tenant.pk
    assert granted.details["personal_data"] is True  # Kundenservice's use case names its data subjects
    assert set(selectors.review_queue_list(tenant=tenant, user=clerk).values_list("team", flat=True)) \
        == {"Kundenservice"}

    team_row.get_by_role("button", name="Entziehen").click()
    expect(team_row).to_contain_text("niemand")
    expect(team_row).not_to_contain_text("clerk_kundenservice")
    revoked = AuditEvent.objects.get(event_type="review_team.revoked", details__user_id=clerk.pk)
    assert revoked.actor_user_id == lead.pk and revoked.pk > granted.pk
    assert not selectors.review_queue_list(tenant=tenant, user=clerk).exists()
    assert errors == []
