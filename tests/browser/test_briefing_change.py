"""A briefing change after a release, in real headless Chromium: the automation lead sees the warning on the
change request and decides that clerks need not confirm again; once it is live the clerk finds the notice on
the home page, sees what changed, marks it read and goes on to the next task without being locked out."""
import re

import pytest
from playwright.sync_api import expect

from automations.choices import ChangeKind, ChangeState
from automations.registry.services import changes
from reviews.models import BriefingNotice
from tests.automations.factories import go_live, make_use_case
from tests.browser.conftest import log_in
from tests.reviews.factories import clear
from tests.reviews.world import make_review_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
FALLBACK = "Beleg an die Poststelle geben und im DMS ablegen"


def test_the_clerk_is_told_of_a_briefing_change_and_keeps_working(browser_page, world):
    page, team, tenant = browser_page, world["team"], world["tenant"]
    use_case = make_use_case(tenant, team["automation_lead"], key="eingang", department_owner=team["department_owner"],
                             manual_fallback="Beleg manuell ablegen")
    go_live(use_case, team)
    clear(team["clerk"], use_case, team["automation_lead"])
    make_review_tasks(use_case, 2)
    cr = changes.change_request_create(
        actor=team["it_operator"], tenant=tenant, use_case=use_case, kind=ChangeKind.DOCUMENTATION,
        title="Rückfallverfahren", description="Neue Ablage.", payload={"changes": {"manual_fallback": FALLBACK}})
    changes.change_request_approve(actor=team["department_owner"], change_request=cr, role="department_owner")

    log_in(page, "automation_lead")
    page.goto(f"{page.base_url}/registry/changes/{cr.pk}/")
    expect(page.locator("#briefing-notice")).to_be_visible()
    page.locator('input[name="briefing_reconfirm"][value="no"]').check()
    page.locator(f"#decide-{cr.pk}").click()
    expect(page.locator("#briefing-decision")).to_be_visible()
    cr.refresh_from_db()
    assert cr.state == ChangeState.APPLIED and cr.briefing_reconfirm is False

    page.context.clear_cookies()
    log_in(page, "clerk")
    notice = BriefingNotice.objects.get(user=team["clerk"])
    link = page.locator(f'[data-briefing-notice="{notice.pk}"] a')
    expect(link).to_be_visible()
    link.click()
    change = page.locator("[data-briefing-change]")
    expect(change).to_contain_text(FALLBACK)
    expect(change).to_contain_text("Beleg manuell ablegen")
    expect(page.locator("#briefing-status")).to_have_attribute("data-confirmed", "true")  # no lock-out
    page.locator(f"#briefing-notice-read-{notice.pk}").click()
    page.wait_for_load_state()
    expect(page.locator("[data-briefing-notice]")).to_have_count(0)  # back home, nothing left to read
    notice.refresh_from_db()
    assert notice.read_at is not None

    queue = use_case.review_queues.get()
    page.goto(f"{page.base_url}/reviews/queues/{queue.pk}/")
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(r"/reviews/tasks/\d+/$"))
