"""The UI shell in a real browser: log-in per role, tenant switch, keyboard-only use."""
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from audit.actors import SYSTEM
from portal import services
from portal.choices import Role
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PANEL_TITLE = {
    Role.AUTOMATION_LEAD: "Automatisierungsregister",
    Role.DEPARTMENT_OWNER: "Automatisierungsregister",
    Role.IT_OPERATOR: "Automatisierungsregister",
    Role.SECURITY_OFFICER: "Automatisierungsregister",
    Role.CLERK: "Meine Warteschlangen",
    Role.DATA_PROTECTION_OFFICER: "Audit",
    Role.AUDITOR: "Audit",
    Role.WORKS_COUNCIL: "Was gemessen wird",
}


@pytest.mark.parametrize("role", Role.values)
def test_each_role_logs_in_and_lands_on_its_home_page_in_german(browser_page, member, role):
    page = browser_page
    member(role, username=role)
    log_in(page, role)

    expect(page).to_have_url(f"{page.base_url}/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Willkommen, {role}")
    expect(page.get_by_role("heading", level=2, name=PANEL_TITLE[role], exact=True)).to_be_visible()
    expect(page.get_by_text("Muster GmbH").first).to_be_visible()
    if role == Role.AUTOMATION_LEAD:
        page.screenshot(path="/tmp/ui-home.png", full_page=True)
    page.locator("summary", has_text=role).click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()

    page.get_by_role("button", name="Abmelden").click()
    expect(page).to_have_url(re.compile(r"/login/$"))


def test_user_in_two_tenants_switches_and_sees_only_the_chosen_tenants_members(
        browser_page, tenant, make_tenant, make_user):
    page = browser_page
    other = make_tenant("nord", "Nord AG")
    lead = make_user("zweifach", tenant=tenant, roles=[Role.AUTOMATION_LEAD])
    services.membership_create(actor=SYSTEM, tenant=other, user=lead, roles=[Role.AUTOMATION_LEAD])
    make_user("muster_person", tenant=tenant, roles=[Role.CLERK])
    make_user("nord_person", tenant=other, roles=[Role.CLERK])

    log_in(page, "zweifach")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mandant wählen")
    page.get_by_role("button", name="Nord AG").click()

    members = page.get_by_role("region", name="Automatisierungsregister")
    expect(page.get_by_text("Sie arbeiten jetzt in Nord AG.")).to_be_visible()
    expect(members.get_by_role("cell", name="nord_person", exact=True)).to_be_visible()
    expect(members.get_by_text("muster_person")).to_have_count(0)

    # Back to the first tenant through the switch in the top bar.
    page.get_by_label("Mandant wechseln").select_option(label="Muster GmbH")
    page.get_by_role("button", name="Wechseln", exact=True).click()
    expect(page.get_by_text("Sie arbeiten jetzt in Muster GmbH.")).to_be_visible()
    expect(members.get_by_role("cell", name="muster_person", exact=True)).to_be_visible()
    expect(members.get_by_text("nord_person")).to_have_count(0)

    page.get_by_role("link", name="Mitglieder und Rollen").click()
    expect(page.get_by_role("cell", name="muster_person", exact=True)).to_be_visible()
    expect(page.get_by_text("nord_person")).to_have_count(0)


def test_keyboard_only_login(browser_page, member):
    page = browser_page
    member(Role.CLERK, username="tastatur")
    page.goto(f"{page.base_url}/login/")

    username = page.get_by_label("Benutzername")
    for _ in range(10):  # the field has autofocus; otherwise Tab reaches it after the top bar
        if username.evaluate("element => element === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(username).to_be_focused()
    page.keyboard.type("tastatur")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Passwort")).to_be_focused()
    page.keyboard.type("Geheim-12345")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Willkommen, tastatur")
    expect(page.get_by_role("heading", level=2, name="Meine Warteschlangen")).to_be_visible()

    # On every page the first Tab reaches the skip link, shown only while focused.
    skip_link = page.get_by_role("link", name="Zum Inhalt springen")
    expect(skip_link).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_focus_is_visible(browser_page):
    page = browser_page
    page.goto(f"{page.base_url}/login/")
    username = page.get_by_label("Benutzername")
    username.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    outline = username.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline == "solid"


def test_api_token_is_shown_once_with_copy_button(browser_page, member):
    page = browser_page
    member(Role.IT_OPERATOR, username="betrieb")
    log_in(page, "betrieb")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="API-Tokens").click()
    page.get_by_role("link", name="Neues Token").click()
    page.get_by_label("Name").fill("Monitoring")
    page.get_by_role("button", name="Token erstellen").click()

    token = page.get_by_label("Token „Monitoring“")
    expect(token).to_have_value(re.compile(r"^lpk_[0-9a-f]{12}_"))
    plain = token.input_value()
    expect(page.get_by_role("button", name="Kopieren")).to_be_visible()  # shown where the clipboard works
    page.get_by_role("link", name="Fertig").click()
    expect(page.get_by_role("cell", name="Monitoring", exact=True)).to_be_visible()
    assert plain not in page.content()
    with pytest.raises(PlaywrightError, match="ERR_CACHE_MISS"):
        page.go_back()  # the result page is not cached: going back cannot show the token again
    expect(page.locator("body")).not_to_contain_text(plain)
