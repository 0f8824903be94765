"""The registry in a real browser, as a new core team member would walk it: document a use case, create
versions, bundle a release, request production, and the right approvers — among them automation_lead_2 —
approve until it is live. Controls are found by their ids: the page speaks German, and its texts are
translated separately."""
import re

import pytest
from playwright.sync_api import expect

from automations.choices import UseCaseStatus
from automations.models import Release
from automations.registry import selectors
from tests.automations.factories import evaluate_release, make_team
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def switch_user(page, username):
    page.context.clear_cookies()
    log_in(page, username)


def approve_in_inbox(page, username, title):
    """Open the approval inbox as `username` and approve the request titled `title` in the role offered."""
    switch_user(page, username)
    page.get_by_role("navigation", name="Hauptnavigation").locator("a[href='/registry/inbox/']").click()
    request = page.locator("section.inbox-item", has_text=title)
    expect(request).to_be_visible()
    expect(request.locator("table.diff")).not_to_have_count(0)  # the difference is shown beside the decision
    request.locator("input[name=decision][value=approve]").check()
    request.locator("button[id^=decide-]").click()
    expect(page.locator(".message-success")).to_be_visible()


def test_core_team_takes_a_new_use_case_live(browser_page, member, tenant):
    page = browser_page
    team = make_team(member)
    log_in(page, "automation_lead")

    # Document a new use case (the repeating field rows work without JavaScript).
    page.goto(f"{page.base_url}/registry/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.locator("#document-use-case").click()
    page.locator("#id_key").fill("posteingang")
    page.locator("#id_title").fill("Posteingang sortieren")
    page.locator("#id_department").fill("Poststelle")
    page.locator("#id_purpose").fill("Eingehende Belege der richtigen Abteilung zuordnen.")
    page.locator("#id_department_owner").select_option("department_owner")
    page.locator("#id_input-0-name").fill("text")
    page.locator("#id_input-0-type").select_option("long_text")
    page.locator("#id_output-0-name").fill("document_class")
    page.locator("#id_output-0-type").select_option("category")
    page.locator("#id_output-0-choices").fill("invoice, reminder, other")
    page.locator("#save-use-case").click()
    expect(page).to_have_url(re.compile(r"/registry/posteingang/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Posteingang sortieren")

    # A prompt template version, saved as a draft and submitted from its page.
    page.locator("#new-prompt_template").click()
    page.locator("#id_template").fill("Ordne den Beleg ein: {{ text }}")
    page.locator("input[name=declared_fields][value=text]").check()
    page.locator("#id_output_field").select_option("document_class")
    page.locator("#save-version").click()
    expect(page.locator("#version-content")).to_contain_text("Ordne den Beleg ein")
    page.locator("#submit-version").click()
    expect(page.locator("#submit-version")).to_have_count(0)

    # Thresholds and an engine configuration, submitted at once.
    page.goto(f"{page.base_url}/registry/posteingang/threshold_set/new/")
    page.locator("#id_auto__document_class").fill("0.9")
    page.locator("#id_reject__document_class").fill("0.3")
    page.locator("#id_submit_now").check()
    page.locator("#save-version").click()
    page.goto(f"{page.base_url}/registry/posteingang/engine_config/new/")
    page.locator("#id_engine").select_option("rules")
    page.locator("input[name=fields_][value=document_class]").check()
    page.locator("#id_parameters").fill('{"field": "document_class", "default": "other", "rules": []}')
    page.locator("#id_submit_now").check()
    page.locator("#save-version").click()
    expect(page.locator("#version-content")).to_contain_text("document_class")

    # Bundle the release and request production.
    page.goto(f"{page.base_url}/registry/posteingang/")
    page.locator("#new-release").click()
    page.locator("#id_prompt_template").select_option("1")
    page.locator("input[name=engine_configs][value='1']").check()
    page.locator("#save-release").click()
    expect(page.locator("#release-parts")).to_contain_text("v1")
    # The production label needs a passing evaluation of exactly this release: a test case and its run,
    # as the evaluation pages and the worker make them (the evaluation flow has tests of its own).
    release = Release.objects.get(use_case__key="posteingang", number=1)
    evaluation = evaluate_release(release, team["automation_lead"], cases=[
        {"title": "Sonstiger Beleg", "payload": {"text": "Ein Schreiben ohne Rechnung"},
         "expected": {"document_class": "other"}}])
    assert evaluation.passed, evaluation.misses
    page.locator("#request-production").click()
    page.locator("#id_title").fill("R1 in Produktion")
    page.locator("#id_description").fill("Im Test mit 200 Belegen geprüft.")
    page.locator("#propose").click()
    expect(page.locator("#open-roles")).to_be_visible()
    page.screenshot(path="/tmp/ui-registry-change-request.png", full_page=True)

    # The author cannot decide their own request: no decision form for them.
    expect(page.locator("form.decision")).to_have_count(0)

    approve_in_inbox(page, "department_owner", "R1 in Produktion")
    approve_in_inbox(page, "automation_lead_2", "R1 in Produktion")
    use_case = selectors.use_case_get(tenant=tenant, key="posteingang")
    assert selectors.label_map(use_case=use_case)["production"].number == 1

    # With the label in place, the status change; the same approvers take it live.
    switch_user(page, "automation_lead")
    page.goto(f"{page.base_url}/registry/posteingang/")
    page.locator("#propose-status-change").click()
    page.locator("#id_to").select_option("production")
    page.locator("#id_title").fill("Posteingang produktiv")
    page.locator("#id_description").fill("Freigegeben nach Pilot.")
    page.locator("#propose").click()
    approve_in_inbox(page, "department_owner", "Posteingang produktiv")
    approve_in_inbox(page, "automation_lead_2", "Posteingang produktiv")

    use_case.refresh_from_db()
    assert use_case.status == UseCaseStatus.PRODUCTION
    page.goto(f"{page.base_url}/registry/posteingang/")
    expect(page.locator(".badge-status-production").first).to_be_visible()
    expect(page.locator("#label-production")).to_contain_text("R1")
    page.screenshot(path="/tmp/ui-registry-use-case.png", full_page=True)

    # The Verfahrensdokumentation names the approvers.
    page.goto(f"{page.base_url}/registry/posteingang/documentation/")
    expect(page.locator("main")).to_contain_text("automation_lead_2")
    expect(page.locator("main")).to_contain_text("department_owner")
