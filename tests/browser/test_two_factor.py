"""Two-factor sign-in in a real browser: set up from the demo note with the QR page, recovery codes shown
once, then a sign-in that asks for the code after the password — the code computed here from the secret the
page shows, as an authenticator app would (a step later than the enrolment's: a code is accepted once)."""
import re

import pytest
from playwright.sync_api import expect

from portal.choices import Role
from portal.models import TotpAuthenticator
from tests.browser.conftest import log_in
from tests.portal.totp import next_code, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_enrolment_and_sign_in_with_a_totp_code(browser_page, member):
    page = browser_page
    member(Role.AUTOMATION_LEAD, username="anna")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    log_in(page, "anna")
    expect(page.get_by_role("heading", level=1)).to_have_text("Willkommen, anna")
    note = page.get_by_role("note")
    expect(note).to_contain_text("Zwei-Faktor nicht erzwungen (Demo)")
    note.get_by_role("link", name="Jetzt einrichten").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Zwei-Faktor-Anmeldung einrichten")
    qr = page.locator("svg.qr-code")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150  # large enough to scan
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code aus der App").fill(totp_code(secret))
    page.get_by_role("button", name="Bestätigen und aktivieren").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Wiederherstellungscodes")
    codes = page.get_by_role("list", name="Wiederherstellungscodes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    first_code = codes.first.inner_text()
    assert re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", first_code)
    page.get_by_role("link", name="Fertig").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Willkommen, anna")
    expect(page.get_by_role("note")).to_have_count(0)  # set up: no demo note any more

    page.locator("summary", has_text="anna").click()
    page.get_by_role("button", name="Abmelden").click()
    log_in(page, "anna")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung bestätigen")
    page.goto(f"{page.base_url}/registry/")  # no page before the code
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung bestätigen")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Bestätigen").click()
    expect(page.get_by_text("Der Code wurde nicht angenommen.")).to_be_visible()
    page.wait_for_timeout(1100)  # django-otp lets the next try wait a second after a wrong code

    page.get_by_label("Code").fill(next_code(TotpAuthenticator.objects.get(user__username="anna")))
    page.get_by_role("button", name="Bestätigen").click()
    expect(page).to_have_url(f"{page.base_url}/registry/")
    # Chromium reports the refused code's 400 answer itself; nothing else may have gone wrong.
    assert [error for error in errors if "status of 400" not in error] == []
